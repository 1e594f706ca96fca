"""Hybrid search: the one function the bot calls.

Dense similarity of the question to every passage (the generation's vectors are read from Chroma
once, when it is opened), BM25 over accent-folded tokens (the question's words plus the glossary's
other-language forms), dense scores normalised per document language (a small multilingual model
scores same-language text higher), fused by reciprocal rank. Passages of a document and of its
linked translation are one passage: it ranks once, and is shown in the asker's language when that
version exists.

A question costs about one pass of the embedding model: `embed_query` is the one place a question
is embedded (cached, and batched with the questions that arrive at the same moment). The glossary's
rendering of the question in the other language is embedded only when it adds something: when the
two best passages are a near tie, or one of the three best has no version in the asker's language
(its other-language forms reach BM25 for every question). On the dev and held-out sets this keeps
every recall figure of embedding it for every question, with and without the linked translations
(benchmarks/retrieval.py), at 1.1-1.5 model passes per question instead of 2. Everything that
depends only on the index generation (passage vectors, BM25, term sets, document frequencies,
sentences) is computed when the generation is opened, not per question.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from indexer.chunking import split_sentences
from indexer.embeddings import embed_queries, load_embeddings
from indexer.glossary import Expansion, Glossary
from indexer.lexical import LexicalIndex, analyse
from indexer.query_embedder import QueryEmbedder
from indexer.recency import newer_first
from indexer.settings import IndexSettings
from indexer.store import Manifest, Store
from indexer.text import content_terms

RRF_K = 30
DENSE_CANDIDATES = 64
RECENCY_POOL = 3  # extra candidates looked at, so a newer version just below the k-th can move up
# the glossary rendering of the question is embedded too when first place is open (the two best
# passages closer than one rank step at the top of one ranking) ...
TIE_MARGIN = 1.0 / (RRF_K + 1) - 1.0 / (RRF_K + 2)
# ... or when one of this many best passages exists only in the other language
OTHER_LANGUAGE_TOP = 3


@dataclass(frozen=True)
class TermStats:
    n_passages: int
    df: dict[str, int]
    idf: dict[str, float] = field(default_factory=dict)  # log(1 + n / (1 + df)) of every indexed term

    def idf_of(self, term: str) -> float:
        """log(1 + n / (1 + df)); a term no passage holds gets the highest weight."""
        got = self.idf.get(term)
        return got if got is not None else math.log(1 + self.n_passages)


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
    terms: frozenset[str] = field(default=frozenset())  # content terms of title, section and text

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
    vectors: np.ndarray  # (passages, dim) L2-normalised passage embeddings, in `ids` order
    terms: list[frozenset[str]]  # content terms of each passage's title, section and text
    sentences: list[tuple[tuple[str, frozenset[str]], ...]]  # each passage's sentences and their terms
    versions: dict[str, frozenset[str]]  # document (original's id) -> languages it exists in


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
        self._query_embedder: QueryEmbedder | None = None
        self._embedder_lock = threading.Lock()

    @property
    def model(self) -> Embeddings:
        """The embedding model itself (passages; questions go through `embed_query`)."""
        if self._embeddings is None:
            self._embeddings = load_embeddings(self.settings.embedding_model)
        return self._embeddings

    @property
    def embeddings(self) -> Embeddings:
        """The model behind LangChain's interface, its `embed_query` going through `embed_query`
        (so a caller that embeds the question again gets the cached vector)."""
        return _CachedQueries(self)

    # -- embedding questions ----------------------------------------------------------------------
    @property
    def query_embedder(self) -> QueryEmbedder:
        if self._query_embedder is None:
            with self._embedder_lock:
                if self._query_embedder is None:
                    model = self.model
                    self._query_embedder = QueryEmbedder(lambda texts: embed_queries(model, texts),
                                                         schedule=getattr(model, "schedule", None),
                                                         lanes=int(getattr(model, "lanes", 1)))
        return self._query_embedder

    def embed_query(self, text: str) -> np.ndarray:
        """The question's vector (float32, L2-normalised, read-only): one model pass per distinct
        text, shared by every caller and batched with concurrent questions. Blocks the calling
        thread: from the event loop use `embed_query_async`."""
        return self.query_embedder.embed(text)

    async def embed_query_async(self, text: str) -> np.ndarray:
        """`embed_query` for a coroutine: the event loop keeps running while the model works (and
        while it loads, the first time)."""
        embedder = self._query_embedder or await asyncio.to_thread(lambda: self.query_embedder)
        return await embedder.aembed(text)

    def close(self) -> None:
        """Stop the question-embedding thread (questions still queued fail, none waits forever)."""
        if self._query_embedder is not None:
            self._query_embedder.stop()

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
        chunks = [c for c in self.store.read_chunks(collection, with_embeddings=True)
                  if not c.metadata.get("injection")]
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
        terms = [frozenset(content_terms(_search_text(m, text))) for m, text in zip(metas, texts, strict=True)]
        df: dict[str, int] = defaultdict(int)
        for passage_terms in terms:
            for term in passage_terms:
                df[term] += 1
        idf = {term: math.log(1 + len(ids) / (1 + n)) for term, n in df.items()}
        sentences = [tuple((s, frozenset(content_terms(s))) for s in split_sentences(text)) for text in texts]
        versions: dict[str, set[str]] = defaultdict(set)
        for m in metas:
            versions[_document(m)].add(str(m.get("language", "en")))
        return _Snapshot(
            manifest=manifest, collection=collection, ids=ids, texts=texts, metas=metas,
            lexical=LexicalIndex([_search_text(m, t) for m, t in zip(metas, texts, strict=True)]),
            position=position, group_of=group_of, members=dict(members),
            languages=np.array([m.get("language", "en") for m in metas]), glossary=glossary,
            term_stats=TermStats(len(ids), dict(df), idf), vectors=_unit_rows(chunks),
            terms=terms, sentences=sentences, versions={d: frozenset(v) for d, v in versions.items()},
        )

    # -- searching --------------------------------------------------------------------------------
    def expand(self, query: str) -> Expansion:
        return self.snapshot().glossary.expand(query)

    def _dense(self, snap: _Snapshot, vector: np.ndarray) -> np.ndarray:
        """Cosine of a question vector to its DENSE_CANDIDATES nearest passages (-1 for the others)."""
        sims = np.full(len(snap.ids), -1.0, dtype=np.float32)
        if not len(snap.vectors):
            return sims
        cosine = snap.vectors @ vector
        n = min(len(snap.ids), max(DENSE_CANDIDATES, 1))
        nearest = np.argpartition(-cosine, n - 1)[:n] if n < len(snap.ids) else np.arange(len(snap.ids))
        sims[nearest] = cosine[nearest]
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

    def search(self, query: str, k: int = 5, language: str | None = None,
               settle_ties: bool = True) -> list[SearchResult]:
        """The k best passages for a question. `language` ("vi"/"en") picks which version of a
        translated passage is returned; without it, the original document's version.
        `settle_ties=False` leaves a tie at first place as it is, saving a model pass: the
        answering core reads units from all the top passages, so the order of two tied passages
        did not change one of its answers on the labelled sets."""
        snap = self.snapshot()
        query = (query or "").strip()[:2000]
        if not query or not snap.ids:
            return []
        expansion = snap.glossary.expand(query)
        lexical = snap.lexical.scores(analyse(query) + list(expansion.extra_tokens))
        dense = self._dense(snap, self.embed_query(query))
        ranked = self._rank(snap, dense, lexical)
        if expansion.other_language and (_other_language_near(snap, ranked, language)
                                         or (settle_ties and _undecided(ranked))):
            # the question's rendering in the other language is embedded too (one more model pass)
            # when a passage near the top is from a document with no version in the asker's language
            # (the model scores across languages less surely), or, for a caller that shows the first
            # place (`settle_ties`), when the two best passages are tied
            dense = np.maximum(dense, self._dense(snap, self.embed_query(expansion.other_language)))
            ranked = self._rank(snap, dense, lexical)
        ranked = ranked[:max(1, k) + RECENCY_POOL]
        results = []
        for group, score in ranked:
            if score <= 0:
                continue
            idx = snap.members[group]
            rep = self._representative(snap, idx, language)
            results.append(self._result(snap, rep, idx, score, float(dense[idx].max()),
                                        float(lexical[idx].max())))
        return newer_first(results)[:max(1, k)]

    def _rank(self, snap: _Snapshot, dense: np.ndarray, lexical: np.ndarray) -> list[tuple[str, float]]:
        """Passage groups by fused score (reciprocal rank of dense and BM25), best first."""
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
        return sorted(group_score.items(), key=lambda kv: (-kv[1], kv[0]))

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
            versions=tuple(snap.ids[j] for j in idx if j != i), terms=snap.terms[i],
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

    def passage_terms(self, chunk_ids: list[str]) -> dict[str, frozenset[str]]:
        """Content terms of the given passages' title, section and text (computed at open)."""
        snap = self.snapshot()
        return {cid: snap.terms[snap.position[cid]] for cid in chunk_ids if cid in snap.position}

    def sentences(self, chunk_id: str) -> tuple[tuple[str, frozenset[str]], ...]:
        """A passage's sentences (split_sentences) with the content terms of each (computed at open)."""
        snap = self.snapshot()
        i = snap.position.get(chunk_id)
        return snap.sentences[i] if i is not None else ()

    def manifest(self) -> Manifest:
        return self.snapshot().manifest


def _undecided(ranked: list[tuple[str, float]]) -> bool:
    """The first two passages are closer than one rank step at the top of one ranking."""
    return len(ranked) > 1 and ranked[0][1] - ranked[1][1] < TIE_MARGIN


def _document(meta: dict[str, Any]) -> str:
    """The document a passage belongs to, the same for a document and its translations."""
    return str(meta.get("translation_of") or meta.get("doc_id") or "")


def _other_language_near(snap: _Snapshot, ranked: list[tuple[str, float]], language: str | None) -> bool:
    """One of the OTHER_LANGUAGE_TOP best passages is from a document with no version in the
    asker's language (where it has one, the answer quotes that version anyway)."""
    if not language:
        return False
    return any(language not in snap.versions.get(_document(snap.metas[snap.members[group][0]]), frozenset())
               for group, _score in ranked[:OTHER_LANGUAGE_TOP])


def _unit_rows(chunks: list[Any]) -> np.ndarray:
    """The chunks' stored embeddings as an L2-normalised float32 matrix."""
    if not chunks:
        return np.zeros((0, 0), dtype=np.float32)
    m = np.asarray([c.embedding for c in chunks], dtype=np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms > 0, norms, 1.0)


class _CachedQueries(Embeddings):
    """LangChain's `Embeddings` over a SearchEngine: questions through its cache and batcher."""

    def __init__(self, engine: SearchEngine) -> None:
        self._engine = engine

    def embed_query(self, text: str) -> list[float]:
        return self._engine.embed_query(text).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._engine.model.embed_documents(texts)
