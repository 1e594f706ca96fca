"""Chroma storage: one collection per index generation, and a manifest naming the active one.

A refresh writes a complete new generation, then switches the manifest in one atomic step, so a
failed or killed refresh leaves the previous generation serving. Embedded mode (default) keeps a
`PersistentClient` under DATA_DIR/index/chroma and the manifest in DATA_DIR/index/manifest.json
(replaced atomically). Server mode (CHROMA_URL) keeps the manifest in a small collection of the
same server, so every bot process and the indexer agree on it.

Chroma's documented limits shape this: a persistent path is not safe for two writing processes
(refreshes take a lock, and bots only read), and a reader may not see vectors written after it
opened a collection (generations are never written after the switch; readers open the new one).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
from chromadb.config import Settings as ChromaSettings

from indexer.fileio import write_atomic
from indexer.settings import IndexSettings

GENERATION_PREFIX = "kb-"
MANIFEST_COLLECTION = "kb_manifest"
_ADD_BATCH = 256


@dataclass
class Manifest:
    collection: str
    model: str
    dimension: int
    refreshed_at: str
    documents: int
    chunks: int
    languages: dict[str, int] = field(default_factory=dict)
    chunk_chars: int = 700
    glossary_hash: str = ""
    previous: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class StoredChunk:
    chunk_id: str
    text: str
    metadata: dict[str, Any]
    embedding: list[float] | None = None


def new_generation_name() -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
    return f"{GENERATION_PREFIX}{stamp}-{secrets.token_hex(3)}"


class Store:
    """Chroma client plus the manifest, for embedded and server modes alike."""

    def __init__(self, settings: IndexSettings) -> None:
        self.settings = settings
        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            self.client = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        else:
            settings.index_dir.mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(path=str(settings.index_dir / "chroma"),
                                                    settings=chroma_settings)

    @property
    def location(self) -> str:
        return self.settings.chroma_url or str(self.settings.index_dir / "chroma")

    # -- manifest -------------------------------------------------------------------------------
    @property
    def _manifest_path(self) -> Path:
        return self.settings.index_dir / "manifest.json"

    def read_manifest(self) -> Manifest | None:
        if self.settings.chroma_url:
            try:
                col = self.client.get_collection(MANIFEST_COLLECTION)
            except Exception:  # chromadb raises NotFoundError/ValueError depending on version
                return None
            got = col.get(ids=["active"], include=["documents"])
            docs = got.get("documents") or []
            return Manifest.from_json(docs[0]) if docs and docs[0] else None
        try:
            return Manifest.from_json(self._manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def manifest_version(self) -> str | None:
        """A cheap token that changes when the manifest changes."""
        if self.settings.chroma_url:
            manifest = self.read_manifest()
            return manifest.collection if manifest else None
        try:
            stat = self._manifest_path.stat()
        except FileNotFoundError:
            return None
        return f"{stat.st_mtime_ns}:{stat.st_size}"

    def write_manifest(self, manifest: Manifest) -> None:
        """Switch the active generation in one step."""
        if self.settings.chroma_url:
            col = self.client.get_or_create_collection(MANIFEST_COLLECTION, embedding_function=None)
            col.upsert(ids=["active"], documents=[manifest.to_json()], embeddings=[[0.0]])
            return
        write_atomic(self._manifest_path, manifest.to_json().encode("utf-8"))

    # -- generations ----------------------------------------------------------------------------
    def create_generation(self, name: str) -> Any:
        return self.client.create_collection(name, metadata={"hnsw:space": "cosine"},
                                             embedding_function=None)

    def open_generation(self, name: str) -> Any:
        return self.client.get_collection(name, embedding_function=None)

    def add_chunks(self, collection: Any, chunks: list[StoredChunk]) -> None:
        for i in range(0, len(chunks), _ADD_BATCH):
            batch = chunks[i:i + _ADD_BATCH]
            collection.add(
                ids=[c.chunk_id for c in batch],
                documents=[c.text for c in batch],
                metadatas=[c.metadata for c in batch],
                embeddings=[c.embedding for c in batch],
            )

    def read_chunks(self, collection: Any, with_embeddings: bool = False) -> Iterator[StoredChunk]:
        include = ["documents", "metadatas"] + (["embeddings"] if with_embeddings else [])
        total = collection.count()
        for offset in range(0, total, 1000):
            got = collection.get(include=include, limit=1000, offset=offset)
            embeddings = got.get("embeddings") if with_embeddings else None
            for i, chunk_id in enumerate(got["ids"]):
                vector = None
                if embeddings is not None:
                    vector = [float(x) for x in embeddings[i]]
                yield StoredChunk(chunk_id, got["documents"][i], dict(got["metadatas"][i]), vector)

    def generations(self) -> list[str]:
        names = [c if isinstance(c, str) else c.name for c in self.client.list_collections()]
        return sorted(n for n in names if n.startswith(GENERATION_PREFIX))

    def drop_generation(self, name: str) -> None:
        try:
            self.client.delete_collection(name)
        except Exception:  # already gone: nothing to do
            pass

    def prune(self, keep: set[str], exclusive: bool) -> list[str]:
        """Drop generations that are not kept. With `exclusive` (this process holds the refresh
        lock) every other one is an orphan; otherwise a newer one may be another refresh under way,
        so only those older than the oldest kept one, or stale for hours, are dropped."""
        if not keep:
            return []
        oldest_kept = min(keep)
        stale = GENERATION_PREFIX + (dt.datetime.now(dt.UTC) - dt.timedelta(hours=6)).strftime("%Y%m%d%H%M%S")
        dropped = [n for n in self.generations()
                   if n not in keep and (exclusive or n < oldest_kept or n < stale)]
        for name in dropped:
            self.drop_generation(name)
        return dropped
