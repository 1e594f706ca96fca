"""Which retrieved passages and sentences really answer the question, and whether anything does.

One similarity score cannot separate answerable questions from off-topic ones (a small multilingual
model finds "weather" close to everything), so the decision weighs three kinds of evidence:
- coverage: how much of the question's distinctive wording (IDF-weighted words, and for Vietnamese
  two-syllable words) the best passage shares, directly or through the bilingual glossary;
- dense similarity of the question to the best passage;
- whether the question is closer to off-domain example questions (weather, sport, coding, prices,
  personal paperwork...) than to the knowledge base.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from bot.offdomain import OFF_DOMAIN_EXAMPLES
from indexer.chunking import split_sentences
from indexer.glossary import Expansion
from indexer.search import SearchEngine, SearchResult
from indexer.text import content_terms

# Calibrated on the dev set, then checked on held-out questions (tests/test_answers.py).
MIN_COVERAGE = 0.34
MIN_DENSE = 0.80
MIN_OFFDOMAIN_MARGIN = 0.0
STRONG_COVERAGE = 0.6
SENTENCE_KEEP_RATIO = 0.5
MAX_SENTENCES = 3
MAX_PASSAGES = 3


@dataclass(frozen=True)
class Evidence:
    answerable: bool
    sentences: tuple[tuple[str, SearchResult], ...]  # (sentence, passage it came from)
    coverage: float
    dense: float
    offdomain: float
    reason: str = ""
    signals: dict[str, float] = field(default_factory=dict)


_terms = content_terms


def _passage_terms(text: str) -> set[str]:
    return set(content_terms(text))


class EvidenceJudge:
    def __init__(self, engine: SearchEngine) -> None:
        self.engine = engine

    @cached_property
    def _offdomain_vectors(self) -> np.ndarray:
        vectors = [self.engine.embeddings.embed_query(q) for q in OFF_DOMAIN_EXAMPLES]
        m = np.asarray(vectors, dtype=np.float32)
        return m / (np.linalg.norm(m, axis=1, keepdims=True) + 1e-9)

    def _idf(self, term: str, n_docs: int, df: dict[str, int]) -> float:
        return math.log(1 + n_docs / (1 + df.get(term, 0)))

    def judge(self, question: str, results: list[SearchResult], expansion: Expansion,
              texts_by_chunk: dict[str, str]) -> Evidence:
        """`texts_by_chunk` gives the text of every version of the retrieved passages (both
        languages), so coverage counts a match in the translation as well."""
        q_vec = np.asarray(self.engine.embeddings.embed_query(question), dtype=np.float32)
        q_vec /= float(np.linalg.norm(q_vec)) + 1e-9
        offdomain = float((self._offdomain_vectors @ q_vec).max()) if len(OFF_DOMAIN_EXAMPLES) else 0.0
        if not results:
            return Evidence(False, (), 0.0, 0.0, offdomain, "nothing retrieved")

        q_terms = _terms(question)
        alt_terms = set(_terms(" ".join(expansion.extra_tokens))) if expansion.extra_tokens else set()
        stats = self.engine.term_stats()
        n_docs, df = stats.n_passages, stats.df

        def coverage_of(result: SearchResult) -> float:
            texts = [result.title + " " + result.section + " " + result.text]
            texts += [texts_by_chunk[v] for v in result.versions if v in texts_by_chunk]
            have = set().union(*(_passage_terms(t) for t in texts))
            total = 0.0
            got = 0.0
            for term in dict.fromkeys(q_terms):
                weight = self._idf(term, n_docs, df) * (1.5 if "_" in term else 1.0)
                if term.isdigit() and len(term) <= 2:
                    weight *= 0.5
                total += weight
                if term in have:
                    got += weight
            # glossary renderings count for the words they translate
            if alt_terms:
                bonus = sum(self._idf(t, n_docs, df) for t in alt_terms if t in have and "_" not in t)
                got = min(total, got + 0.5 * bonus)
            return got / total if total else 0.0

        scored = [(coverage_of(r), r) for r in results]
        best_cov, _best = max(scored, key=lambda x: (x[0], x[1].score))
        top_dense = max(r.dense for r in results)
        signals = {"coverage": best_cov, "dense": top_dense, "offdomain": offdomain}

        if best_cov < MIN_COVERAGE:
            return Evidence(False, (), best_cov, top_dense, offdomain, "question's words not in documents", signals)
        if top_dense < MIN_DENSE and best_cov < STRONG_COVERAGE:
            return Evidence(False, (), best_cov, top_dense, offdomain, "passages not similar enough", signals)
        if offdomain - top_dense > MIN_OFFDOMAIN_MARGIN and best_cov < STRONG_COVERAGE:
            return Evidence(False, (), best_cov, top_dense, offdomain, "closer to off-domain questions", signals)

        sentences = self._sentences(q_terms, alt_terms, scored, n_docs, df)
        if not sentences:
            return Evidence(False, (), best_cov, top_dense, offdomain, "no sentence answers", signals)
        return Evidence(True, tuple(sentences), best_cov, top_dense, offdomain, "", signals)

    def _sentences(self, q_terms: list[str], alt_terms: set[str], scored: list[tuple[float, SearchResult]],
                   n_docs: int, df: dict[str, int]) -> list[tuple[str, SearchResult]]:
        wanted = set(q_terms) | alt_terms
        best_cov = max(c for c, _ in scored)
        candidates: list[tuple[float, int, int, str, SearchResult]] = []
        passages = [(c, r) for c, r in scored if c >= max(MIN_COVERAGE, 0.6 * best_cov)][:MAX_PASSAGES]
        for rank, (_cov, result) in enumerate(passages):
            for order, sentence in enumerate(split_sentences(result.text)):
                terms = set(_terms(sentence))
                score = sum(self._idf(t, n_docs, df) * (1.5 if "_" in t else 1.0) for t in wanted & terms)
                score *= 1.0 / (1 + 0.15 * rank)
                if score > 0:
                    candidates.append((score, rank, order, sentence, result))
        if not candidates:
            return []
        top = max(c[0] for c in candidates)
        kept = sorted((c for c in candidates if c[0] >= SENTENCE_KEEP_RATIO * top), key=lambda c: -c[0])
        kept = kept[:MAX_SENTENCES]
        kept.sort(key=lambda c: (c[1], c[2]))  # passage order, then reading order
        return [(c[3], c[4]) for c in kept]
