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
import re
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from bot.answering.offdomain import OFF_DOMAIN_EXAMPLES
from indexer.chunking import split_sentences
from indexer.glossary import Expansion
from indexer.search import SearchEngine, SearchResult
from indexer.text import content_terms, fold, tokens

# Calibrated on the dev set, then checked on held-out questions (tests/test_answers.py).
MIN_COVERAGE = 0.55  # dev set: off-topic <= 0.25, answerable >= 0.89; a margin toward recall
MIN_DENSE = 0.80
MIN_OFFDOMAIN_MARGIN = 0.05  # midpoint between the dev set's answerable (<= 0.03) and off-topic (>= 0.08)
ENTITY_OVERRIDE_COVERAGE = 0.95
STRONG_COVERAGE = 0.7
SENTENCE_KEEP_RATIO = 0.6
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


_WH = {
    "when": ("when", "what date", "which date", "what period", "which period", "what year", "khi nao", "ngay nao",
             "bao gio", "luc nao", "nam nao", "thang nao", "giai doan nao", "thoi gian nao", "thoi han"),
    "number": ("how many", "how much", "how large", "how big", "how long", "bao nhieu", "may", "rong bao"),
    "where": ("where", "o dau", "tai dau", "noi nao"),
}
_DATE = re.compile(r"\b(19|20)\d\d\b|\b(january|february|march|april|may|june|july|august|september|october|"
                   r"november|december|thang \d{1,2}|ngay \d{1,2})\b|\b\d{1,2}/\d{1,2}/\d{4}\b")
_NUMBER = re.compile(r"\d")
_PLACE = re.compile(r"\b(at|in) the [A-Z]|\btai [a-z]|\b(center|centre|trung tam|hall|island|dao)\b")


def unknown_names(question: str, df: dict[str, int], expansion: Expansion) -> list[str]:
    """Proper names in the question (capitalised inside a sentence, or acronyms) that no passage
    contains: a question about Singapore's tax rate is not answered with Hai Phong's."""
    translated = set(expansion.extra_tokens)
    names = []
    words = question.split()
    for i, raw in enumerate(words):
        word = raw.strip("\"'“”‘’()[]{},.;:!?¿¡")
        if i == 0 or words[i - 1].endswith((".", "!", "?", ":")) or len(word) < 3:
            continue
        if not (word[0].isupper() and any(c.isalpha() for c in word)):
            continue
        folded = tokens(word)
        if folded and all(df.get(t, 0) == 0 and t not in translated for t in folded):
            names.append(word)
    return names


def question_kind(question: str) -> str | None:
    folded = " " + fold(question) + " "
    for kind, cues in _WH.items():
        if any(f" {cue} " in folded or folded.strip().startswith(cue) for cue in cues):
            return kind
    return None


def _kind_bonus(kind: str | None, sentence: str) -> float:
    if kind == "when":
        return 1.0 if _DATE.search(fold(sentence)) else 0.0
    if kind == "number":
        return 1.0 if _NUMBER.search(sentence) else 0.0
    if kind == "where":
        return 1.0 if _PLACE.search(sentence) or _PLACE.search(fold(sentence)) else 0.0
    return 0.0


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
            # a question word the glossary translated counts as found when its translation is there
            for words, forms in expansion.links:
                if any(form and all(w in have for w in form) for form in forms):
                    have |= set(words) | {f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)}
            total = 0.0
            got = 0.0
            for term in dict.fromkeys(q_terms):
                if "_" in term and df.get(term, 0) == 0 and term not in have:
                    continue  # two neighbouring words that never occur together: not a compound
                weight = self._idf(term, n_docs, df) * (1.5 if "_" in term else 1.0)
                if term.isdigit() and len(term) <= 2:
                    weight *= 0.5
                total += weight
                if term in have:
                    got += weight
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
        unknown = unknown_names(question, df, expansion)
        if unknown and best_cov < ENTITY_OVERRIDE_COVERAGE:
            return Evidence(False, (), best_cov, top_dense, offdomain,
                            f"asks about {', '.join(unknown)}, which no document mentions", signals)

        sentences = self._sentences(q_terms, alt_terms, scored, n_docs, df, question_kind(question))
        if not sentences:
            return Evidence(False, (), best_cov, top_dense, offdomain, "no sentence answers", signals)
        return Evidence(True, tuple(sentences), best_cov, top_dense, offdomain, "", signals)

    def _sentences(self, q_terms: list[str], alt_terms: set[str], scored: list[tuple[float, SearchResult]],
                   n_docs: int, df: dict[str, int], kind: str | None) -> list[tuple[str, SearchResult]]:
        """Rank the sentences of the best passages by the question's wording they share
        (IDF-weighted, favouring dense matches over long sentences, with a nudge for the kind of
        answer asked for: a date, a number, a place); keep the few that score close to the best."""
        wanted = set(q_terms) | alt_terms
        passages = [(c, r) for c, r in scored if c >= MIN_COVERAGE][:MAX_PASSAGES]
        candidates: list[tuple[float, int, int, str, SearchResult]] = []
        # the best passage's title and section name the question's topic; the sentence that
        # answers is the one that also shares the question's other words
        topic = set(_terms(f"{passages[0][1].title} {passages[0][1].section}")) if passages else set()
        # a word found in most retrieved passages marks the subject, not the answer
        retrieved = [set(_terms(r.text)) for _c, r in scored]
        spread = {t: sum(t in p for p in retrieved) / len(retrieved) for t in wanted}
        for rank, (_cov, result) in enumerate(passages):
            for order, sentence in enumerate(split_sentences(result.text)):
                terms = set(_terms(sentence))
                score = sum(self._idf(t, n_docs, df) * (1.5 if "_" in t else 1.0) * (0.3 if t in topic else 1.0)
                            * (1.0 - 0.7 * spread[t]) for t in wanted & terms)
                if score <= 0:
                    continue
                # a long sentence matches many words by chance: prefer dense matches
                score /= 1.0 + 0.25 * math.log1p(len(terms) / 12)
                score *= 1.0 + 0.35 * _kind_bonus(kind, sentence)
                score /= 1.0 + 0.3 * rank  # retrieval order is evidence too
                candidates.append((score, rank, order, sentence, result))
        if not candidates:
            return []
        top = max(c[0] for c in candidates)
        kept = sorted((c for c in candidates if c[0] >= SENTENCE_KEEP_RATIO * top), key=lambda c: -c[0])
        kept = kept[:MAX_SENTENCES]
        kept.sort(key=lambda c: (c[1], c[2]))  # passage order, then reading order
        return [(c[3], c[4]) for c in kept]
