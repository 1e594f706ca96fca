"""Refresh: bring the index in line with the knowledge folder, safely.

Unchanged documents keep their vectors (copied from the active generation), changed and new ones
are chunked and embedded, removed files leave. Everything goes into a new generation that becomes
active only once complete; on any failure the previous generation keeps serving. Refreshes in one
data folder take a file lock, so two at once run one after the other.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from filelock import FileLock, Timeout
from langchain_core.embeddings import Embeddings

from indexer.chunking import Chunk, chunk_document
from indexer.documents import Document, Skipped, load_all
from indexer.embeddings import new_embeddings
from indexer.glossary import Glossary
from indexer.injection import detect as detect_injection
from indexer.settings import IndexSettings
from indexer.store import Manifest, Store, StoredChunk, new_generation_name

# A translated passage joins its original's passage when they are each other's best match, or when
# the match is this close (cosine) even if not mutual.
ALIGN_MIN_MUTUAL = 0.75
ALIGN_MIN_ONE_WAY = 0.90


class RefreshBusy(RuntimeError):
    """Another refresh holds the lock for too long."""


@dataclass(frozen=True)
class Flagged:
    """A passage that speaks to the reader or the assistant (see injection.py): indexed, never quoted."""
    path: str
    chunk_id: str
    rule: str
    passage: str


@dataclass
class RefreshSummary:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    flagged: list[Flagged] = field(default_factory=list)
    seconds: float = 0.0
    chunks: int = 0
    embedded_chunks: int = 0
    collection: str = ""

    def line(self) -> str:
        return (f"added {self.added}, updated {self.updated}, removed {self.removed}, "
                f"unchanged {self.unchanged}, skipped {len(self.skipped)}, {self.seconds:.1f} s"
                + (f"; {len(self.flagged)} passage(s) flagged and not quoted" if self.flagged else ""))

    def to_json(self) -> dict[str, Any]:
        return {
            "added": self.added, "updated": self.updated, "removed": self.removed,
            "unchanged": self.unchanged, "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "warnings": self.warnings,
            "flagged": [{"path": f.path, "chunk_id": f.chunk_id, "rule": f.rule, "passage": f.passage}
                        for f in self.flagged],
            "seconds": round(self.seconds, 2), "chunks": self.chunks,
            "embedded_chunks": self.embedded_chunks, "collection": self.collection,
        }


Progress = Callable[[int, int], None]


def _tty_progress(total: int) -> Callable[[int], None] | None:
    if total == 0 or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar = tqdm(total=total, unit="chunk", desc="Embedding", file=sys.stderr, leave=False)
    return bar.update


def chunk_metadata(doc: Document, chunk: Chunk) -> dict[str, Any]:
    return {
        "doc_id": doc.doc_id, "doc_hash": doc.content_hash, "title": doc.title, "url": doc.url,
        "published": doc.published, "fetched": doc.fetched, "language": doc.language, "source": doc.source, "kind": doc.kind,
        "translation_of": doc.translation_of or "", "unofficial_translation": doc.unofficial_translation,
        "position": chunk.position, "section": chunk.section, "char_start": chunk.char_start,
        "char_end": chunk.char_end, "group": chunk.chunk_id,
    }


def flag_injections(chunks: list[StoredChunk]) -> list[Flagged]:
    """Mark every passage that breaks an injection rule (metadata `injection` = the rule, "" when
    clean); run on kept passages too, so a rule change reaches the whole index."""
    flagged = []
    for c in chunks:
        finding = detect_injection(c.text)
        c.metadata["injection"] = finding.rule if finding else ""
        if finding:
            flagged.append(Flagged(str(c.metadata.get("doc_id", "")), c.chunk_id, finding.rule,
                                   " ".join(c.text.split())[:300]))
    return flagged


def _align_translations(chunks: list[StoredChunk]) -> None:
    """Point each passage of a translation at the passage of its original that says the same."""
    by_doc: dict[str, list[StoredChunk]] = defaultdict(list)
    for c in chunks:
        by_doc[c.metadata["doc_id"]].append(c)
    for translated in by_doc.values():
        original_id = translated[0].metadata.get("translation_of")
        for c in translated:
            c.metadata["group"] = c.chunk_id
        if not original_id or original_id not in by_doc:
            continue
        originals = by_doc[original_id]
        a = np.array([c.embedding for c in translated], dtype=np.float32)
        b = np.array([c.embedding for c in originals], dtype=np.float32)
        a /= np.linalg.norm(a, axis=1, keepdims=True) + 1e-9
        b /= np.linalg.norm(b, axis=1, keepdims=True) + 1e-9
        sims = a @ b.T
        best_b = sims.argmax(axis=1)
        best_a = sims.argmax(axis=0)
        for i, j in enumerate(best_b):
            sim = float(sims[i, j])
            if (best_a[j] == i and sim >= ALIGN_MIN_MUTUAL) or sim >= ALIGN_MIN_ONE_WAY:
                translated[i].metadata["group"] = originals[j].chunk_id


class _LazyModel(Embeddings):
    """The embedding model, loaded only if some text really needs embedding."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._model: Embeddings | None = None

    def _get(self) -> Embeddings:
        if self._model is None:
            self._model = new_embeddings(self.name)
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._get().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._get().embed_query(text)


def _embed_units(settings: IndexSettings, chunks: list[StoredChunk], embeddings: Embeddings | None,
                 summary: RefreshSummary) -> None:
    """Embed the answer units of the new generation now (into the unit-vector cache), so a bot that
    opens it finds them ready. Only new unit text is embedded; a failure here is a warning, as the
    bot embeds what is missing itself."""
    from indexer.unit_index import VectorCache, build_unit_index

    served = [c for c in chunks if not c.metadata.get("injection")]
    try:
        build_unit_index([c.chunk_id for c in served], [c.text for c in served], [c.metadata for c in served],
                         embeddings or _LazyModel(settings.embedding_model),
                         VectorCache(settings.index_dir / "unit-vectors", settings.embedding_model),
                         settings.knowledge_dir / "synonyms.yaml")
    except Exception as exc:
        summary.warnings.append(f"answer units not embedded ahead: {type(exc).__name__}: {str(exc)[:200]}")


def refresh(settings: IndexSettings, *, rebuild: bool = False, embeddings: Embeddings | None = None,
            store: Store | None = None, lock_timeout: float = 600.0) -> RefreshSummary:
    """Run one refresh (or a full rebuild) and return its summary. Raises on failure, with the
    previous index still active."""
    started = time.monotonic()
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(settings.index_dir / "refresh.lock"))
    try:
        lock.acquire(timeout=lock_timeout)
    except Timeout as exc:
        raise RefreshBusy("Another refresh is still running; try again when it has finished.") from exc
    try:
        return _refresh_locked(settings, rebuild, embeddings, store or Store(settings), started)
    finally:
        lock.release()


def _refresh_locked(settings: IndexSettings, rebuild: bool, embeddings: Embeddings | None,
                    store: Store, started: float) -> RefreshSummary:
    summary = RefreshSummary()
    loaded = load_all(settings.knowledge_dir)
    summary.skipped = loaded.skipped
    summary.warnings = loaded.warnings
    glossary = Glossary.load(settings.glossary_path)  # fail early on a broken glossary

    previous = store.read_manifest()
    reuse_ok = (previous is not None and not rebuild and previous.model == settings.embedding_model
                and previous.chunk_chars == settings.chunk_chars)
    old: dict[str, list[StoredChunk]] = defaultdict(list)
    old_docs: set[str] = set()
    if previous is not None:
        try:
            old_collection = store.open_generation(previous.collection)
            for c in store.read_chunks(old_collection, with_embeddings=reuse_ok):
                old[c.metadata["doc_id"]].append(c)
        except Exception:
            old.clear()
            reuse_ok = False
        old_docs = set(old)

    keep: list[StoredChunk] = []
    to_embed: list[tuple[Document, Chunk]] = []
    for doc in loaded.documents:
        prior = old.get(doc.doc_id)
        if prior and reuse_ok and prior[0].metadata.get("doc_hash") == doc.content_hash:
            summary.unchanged += 1
            keep.extend(prior)
            continue
        if doc.doc_id in old_docs:
            summary.updated += 1
        else:
            summary.added += 1
        to_embed.extend((doc, chunk) for chunk in chunk_document(doc, settings.chunk_chars))
    summary.removed = len(old_docs - {d.doc_id for d in loaded.documents})

    model: Embeddings | None = embeddings
    if to_embed:
        model = model or new_embeddings(settings.embedding_model)
        tick = _tty_progress(len(to_embed))
        batch = 16
        for start in range(0, len(to_embed), batch):
            part = to_embed[start:start + batch]
            vectors = model.embed_documents([c.embedding_text(d.title) for d, c in part])
            if len(vectors) != len(part):
                raise RuntimeError("the embedding model returned a wrong number of vectors")
            for (doc, chunk), vector in zip(part, vectors, strict=True):
                keep.append(StoredChunk(chunk.chunk_id, chunk.text, chunk_metadata(doc, chunk), list(vector)))
            if tick:
                tick(len(part))
        summary.embedded_chunks = len(to_embed)

    _align_translations(keep)
    summary.flagged = flag_injections(keep)
    dimension = len(keep[0].embedding or []) if keep else (previous.dimension if previous else 0)
    name = new_generation_name()
    collection = store.create_generation(name)
    try:
        store.add_chunks(collection, keep)
        if collection.count() != len(keep):
            raise RuntimeError(f"the new index holds {collection.count()} chunks, expected {len(keep)}")
        manifest = Manifest(
            collection=name, model=settings.embedding_model, dimension=dimension,
            refreshed_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            documents=len(loaded.documents), chunks=len(keep),
            languages=dict(Counter(d.language for d in loaded.documents)),
            chunk_chars=settings.chunk_chars, glossary_hash=glossary.fingerprint,
            previous=previous.collection if previous else None,
        )
        _embed_units(settings, keep, model, summary)
        store.write_manifest(manifest)
    except BaseException:
        store.drop_generation(name)
        raise
    keep_names = {name} | ({previous.collection} if previous else set())
    store.prune(keep_names, exclusive=settings.chroma_url is None)
    summary.chunks = len(keep)
    summary.collection = name
    summary.seconds = time.monotonic() - started
    return summary
