"""Hybrid search: the one function the bot calls.

Dense vectors from Chroma (the question and its glossary rendering in the other language), BM25
over accent-folded tokens (the question's words plus the glossary's other-language forms), dense
scores normalised per document language (a small multilingual model scores same-language text
higher), fused by reciprocal rank. Passages of a document and of its linked translation are one
passage: it ranks once, and is shown in the asker's language when that version exists.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from indexer.embeddings import load_embeddings
from indexer.glossary import Expansion, Glossary
from indexer.lexical import LexicalIndex, analyse
from indexer.recency import newer_first
from indexer.settings import IndexSettings
from indexer.store import Manifest, Store
from indexer.text import content_terms

RRF_K = 30
DENSE_CANDIDATES = 64
RECENCY_POOL = 3  # extra candidates looked at, so a newer version just below the k-th can move up


@dataclass(frozen=True)
class TermStats:
    n_passages: int
    df: dict[str, int]


class IndexNotReady(RuntimeError):
    """There is no index yet: staff must run `python -m indexer build`."""


class ModelMismatch(RuntimeError):
    """The index was built with another embedding model than the one configured."""


@dataclass(frozen=True)
class SearchResult:
    text: str
    title: str
    url: str
    published: str
    language: str
    score: float
    doc_id: str
    chunk_id: str
    section: str = ""
    source: str = ""
    kind: str = ""
    position: int = 0
    unofficial_translation: bool = False
    translation_of: str | None = None
    dense: float = 0.0  # best cosine similarity of the question (or its rendering) to this passage
    lexical: float = 0.0  # BM25 score of the question's words (and glossary forms)
    versions: tuple[str, ...] = field(default=())  # chunk ids of the same passage in other languages
    fetched: str = ""  # when a synced page was fetched (ISO time); empty for documents saved by hand
    newer_than: str = ""  # "title (date)" of an older document saying nearly the same (recency.py)
    older_than: str = ""  # "title (date)" of a newer document saying nearly the same

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text, "title": self.title, "url": self.url, "published": self.published,
            "language": self.language, "score": round(self.score, 6), "doc_id": self.doc_id,
            "chunk_id": self.chunk_id, "source": self.source,
            "unofficial_translation": self.unofficial_translation, "fetched": self.fetched,
            "newer_than": self.newer_than, "older_than": self.older_than,
        }


@dataclass
class _Snapshot:
    manifest: Manifest
    collection: Any
    ids: list[str]
    texts: list[str]
    metas: list[dict[str, Any]]
    lexical: LexicalIndex
    position: dict[str, int]
    group_of: list[str]
    members: dict[str, list[int]]
    languages: np.ndarray
    glossary: Glossary
    term_stats: TermStats


def _search_text(meta: dict[str, Any], text: str) -> str:
    section = meta.get("section") or ""
    title = meta.get("title") or ""
    return f"{title}\n{section}\n{text}"


class SearchEngine:
    """Holds the active index generation and follows refreshes without a restart."""

    def __init__(self, settings: IndexSettings, embeddings: Embeddings | None = None,
                 store: Store | None = None) -> None:
        self.settings = settings
        self._embeddings = embeddings
        self.store = store or Store(settings)
        self._snapshot: _Snapshot | None = None
        self._version: str | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    @property
    def embeddings(self) -> Embeddings:
        if self._embeddings is None:
            self._embeddings = load_embeddings(self.settings.embedding_model)
        return self._embeddings

    # -- following refreshes ----------------------------------------------------------------------
    def snapshot(self) -> _Snapshot:
        now = time.monotonic()
        current = self._snapshot
        if current is not None and now - self._checked < self.settings.reload_seconds:
            return current
        with self._lock:
            if self._snapshot is not None and time.monotonic() - self._checked < self.settings.reload_seconds:
                return self._snapshot
            version = self.store.manifest_version()
            if self._snapshot is None or version != self._version:
                try:
                    self._snapshot = self._load()
                    self._version = version
                except IndexNotReady:
                    if self._snapshot is None:
                        raise
                except ModelMismatch:
                    raise
                except Exception:
                    if self._snapshot is None:
                        raise
                    # the new generation could not be opened: keep serving the one we have
            self._checked = time.monotonic()
            return self._snapshot

    def _load(self) -> _Snapshot:
        manifest = self.store.read_manifest()
        if manifest is None:
            raise IndexNotReady(
                f"No index at {self.store.location}. Build it with: python -m indexer build")
        if manifest.model != self.settings.embedding_model:
            raise ModelMismatch(
                f"The index was built with {manifest.model!r} but EMBEDDING_MODEL is "
                f"{self.settings.embedding_model!r}. Searching it with another model would give wrong "
                "results: rebuild it with `python -m indexer build` (or set EMBEDDING_MODEL back).")
        collection = self.store.open_generation(manifest.collection)
        # passages flagged at indexing time (instructions to the reader or the assistant) are never returned
        chunks = [c for c in self.store.read_chunks(collection) if not c.metadata.get("injection")]
        chunks.sort(key=lambda c: (c.metadata.get("doc_id", ""), int(c.metadata.get("position", 0))))
        ids = [c.chunk_id for c in chunks]
        metas = [c.metadata for c in chunks]
        texts = [c.text for c in chunks]
        position = {cid: i for i, cid in enumerate(ids)}
        group_of = [str(m.get("group") or cid) for cid, m in zip(ids, metas, strict=True)]
        members: dict[str, list[int]] = defaultdict(list)
        for i, g in enumerate(group_of):
            members[g].append(i)
        glossary = Glossary.load(self.settings.glossary_path)
        df: dict[str, int] = defaultdict(int)
        for m, text in zip(metas, texts, strict=True):
            for term in set(content_terms(_search_text(m, text))):
                df[term] += 1
        return _Snapshot(
            manifest=manifest, collection=collection, ids=ids, texts=texts, metas=metas,
            lexical=LexicalIndex([_search_text(m, t) for m, t in zip(metas, texts, strict=True)]),
            position=position, group_of=group_of, members=dict(members),
            languages=np.array([m.get("language", "en") for m in metas]), glossary=glossary,
            term_stats=TermStats(len(ids), dict(df)),
        )

    # -- searching --------------------------------------------------------------------------------
    def expand(self, query: str) -> Expansion:
        return self.snapshot().glossary.expand(query)

    def _dense(self, snap: _Snapshot, query: str, expansion: Expansion) -> np.ndarray:
        """Best cosine per chunk over the question and its other-language rendering."""
        vectors = [self.embeddings.embed_query(query)]
        if expansion.other_language:
            vectors.append(self.embeddings.embed_query(expansion.other_language))
        n = min(len(snap.ids), max(DENSE_CANDIDATES, 1))
        got = snap.collection.query(query_embeddings=vectors, n_results=n, include=["distances"])
        sims = np.full(len(snap.ids), -1.0, dtype=np.float32)
        for ids, dists in zip(got["ids"], got["distances"], strict=True):
            for cid, dist in zip(ids, dists, strict=True):
                i = snap.position.get(cid)
                if i is not None:
                    sims[i] = max(sims[i], 1.0 - float(dist))
        return sims

    @staticmethod
    def _per_language_z(sims: np.ndarray, languages: np.ndarray) -> np.ndarray:
        z = np.full_like(sims, -10.0)
        for lang in np.unique(languages):
            mask = (languages == lang) & (sims > -1.0)
            if mask.sum() == 0:
                continue
            values = sims[mask]
            std = float(values.std()) or 1.0
            z[mask] = (values - float(values.mean())) / std
        return z

    def search(self, query: str, k: int = 5, language: str | None = None) -> list[SearchResult]:
        """The k best passages for a question. `language` ("vi"/"en") picks which version of a
        translated passage is returned; without it, the original document's version."""
        snap = self.snapshot()
        query = (query or "").strip()[:2000]
        if not query or not snap.ids:
            return []
        expansion = snap.glossary.expand(query)
        dense = self._dense(snap, query, expansion)
        lexical = snap.lexical.scores(analyse(query) + list(expansion.extra_tokens))

        fused = np.zeros(len(snap.ids), dtype=np.float64)
        dense_z = self._per_language_z(dense, snap.languages)
        for rank, i in enumerate(np.argsort(-dense_z, kind="stable")):
            if dense[i] > -1.0:
                fused[i] += 1.0 / (RRF_K + rank + 1)
        for rank, i in enumerate(np.argsort(-lexical, kind="stable")):
            if lexical[i] <= 0:
                break
            fused[i] += 1.0 / (RRF_K + rank + 1)

        group_score: dict[str, float] = {}
        for i, g in enumerate(snap.group_of):
            group_score[g] = max(group_score.get(g, 0.0), float(fused[i]))
        ranked = sorted(group_score.items(), key=lambda kv: (-kv[1], kv[0]))[:max(1, k) + RECENCY_POOL]
        results = []
        for group, score in ranked:
            if score <= 0:
                continue
            idx = snap.members[group]
            rep = self._representative(snap, idx, language)
            results.append(self._result(snap, rep, idx, score, float(dense[idx].max()),
                                        float(lexical[idx].max())))
        return newer_first(results)[:max(1, k)]

    @staticmethod
    def _representative(snap: _Snapshot, idx: list[int], language: str | None) -> int:
        if language:
            for i in idx:
                if snap.metas[i].get("language") == language:
                    return i
        for i in idx:
            if not snap.metas[i].get("translation_of"):
                return i
        return idx[0]

    @staticmethod
    def _result(snap: _Snapshot, i: int, idx: list[int], score: float, dense: float,
                lexical: float) -> SearchResult:
        m = snap.metas[i]
        return SearchResult(
            text=snap.texts[i], title=str(m.get("title", "")), url=str(m.get("url", "")),
            published=str(m.get("published", "")), language=str(m.get("language", "")),
            score=score, doc_id=str(m.get("doc_id", "")), chunk_id=snap.ids[i],
            section=str(m.get("section", "")), source=str(m.get("source", "")),
            kind=str(m.get("kind", "")), position=int(m.get("position", 0)),
            unofficial_translation=bool(m.get("unofficial_translation", False)),
            translation_of=str(m.get("translation_of") or "") or None,
            dense=dense, lexical=lexical, fetched=str(m.get("fetched") or ""),
            versions=tuple(snap.ids[j] for j in idx if j != i),
        )

    # -- what the index holds ---------------------------------------------------------------------
    def documents(self) -> list[dict[str, Any]]:
        """One entry per document: title, url, published, language, kind, source, chunks."""
        snap = self.snapshot()
        docs: dict[str, dict[str, Any]] = {}
        for m in snap.metas:
            d = docs.setdefault(str(m.get("doc_id")), {
                "doc_id": m.get("doc_id"), "title": m.get("title", ""), "url": m.get("url", ""),
                "published": m.get("published", ""), "language": m.get("language", ""),
                "kind": m.get("kind", ""), "source": m.get("source", ""),
                "translation_of": m.get("translation_of") or None,
                "unofficial_translation": bool(m.get("unofficial_translation", False)), "chunks": 0})
            d["chunks"] += 1
        return sorted(docs.values(), key=lambda d: (str(d["published"]), str(d["doc_id"])), reverse=True)

    def term_stats(self) -> TermStats:
        """How many passages hold each content term (for IDF weights)."""
        return self.snapshot().term_stats

    def texts(self, chunk_ids: list[str]) -> dict[str, str]:
        """Title, section and text of the given passages (any language version)."""
        snap = self.snapshot()
        out = {}
        for cid in chunk_ids:
            i = snap.position.get(cid)
            if i is not None:
                out[cid] = _search_text(snap.metas[i], snap.texts[i])
        return out

    def manifest(self) -> Manifest:
        return self.snapshot().manifest
