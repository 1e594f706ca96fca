"""BM25 over lower-cased, accent-folded Vietnamese/English tokens (bm25s)."""

from __future__ import annotations

import logging

import bm25s
import numpy as np

from indexer.text import STOPWORDS, tokens

# bm25s sets its own logger to DEBUG when imported; its progress lines are noise in our logs
logging.getLogger("bm25s").setLevel(logging.WARNING)


def analyse(text: str) -> list[str]:
    return [t for t in tokens(text) if t not in STOPWORDS]


class LexicalIndex:
    def __init__(self, texts: list[str]) -> None:
        self.size = len(texts)
        corpus = [analyse(t) or ["_empty_"] for t in texts]
        self._vocab = {tok for doc in corpus for tok in doc}
        self._bm25 = bm25s.BM25(k1=1.2, b=0.75)
        if corpus:
            self._bm25.index(corpus, show_progress=False)

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every indexed text (0 where no query word occurs)."""
        known = [t for t in query_tokens if t in self._vocab]
        if not known or not self.size:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

    def knows(self, token: str) -> bool:
        return token in self._vocab
