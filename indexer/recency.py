"""A newer article supersedes an older one: when two documents say nearly the same passage (most
of their words shared, e.g. an updated article beside the copy staff saved last month), the newer
one ranks first, and each says which of the two is newer. Dates: the published date, else the
date a synced page was fetched."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Protocol, TypeVar

from indexer.text import STOPWORDS, tokens

SAME_PASSAGE = 0.5  # share of distinct words two passages have in common (Jaccard)


class Dated(Protocol):
    doc_id: str
    title: str
    text: str
    published: str
    fetched: str
    score: float
    translation_of: str | None


R = TypeVar("R", bound=Dated)


@lru_cache(maxsize=4096)
def _words(text: str) -> frozenset[str]:
    return frozenset(w for w in tokens(text) if w not in STOPWORDS and len(w) > 1)


def same_passage(a: Dated, b: Dated) -> bool:
    if a.doc_id == b.doc_id or a.translation_of == b.doc_id or b.translation_of == a.doc_id:
        return False
    wa, wb = _words(a.text), _words(b.text)
    if not wa or not wb:
        return False
    return len(wa & wb) / len(wa | wb) >= SAME_PASSAGE


def date_key(r: Dated) -> tuple[str, str]:
    return (r.published or r.fetched[:10], r.fetched)


def label(r: Dated) -> str:
    date = r.published or r.fetched[:10]
    return f"{r.title} ({date})" if date else r.title


def newer_first(results: list[R]) -> list[R]:
    """The results with each newer near-duplicate moved ahead of the older one it supersedes,
    marked `newer_than` (the older's title and date) and the older marked `older_than`. Scores are
    handed out again in the new order, so they still fall down the list."""
    out = list(results)
    moved = True
    rounds = 0
    while moved and rounds < len(out):
        moved = False
        rounds += 1
        for j in range(1, len(out)):
            for i in range(j):
                if date_key(out[j]) > date_key(out[i]) and date_key(out[i])[0] and same_passage(out[i], out[j]):
                    out.insert(i, out.pop(j))
                    moved = True
                    break
    notes: dict[int, dict[str, str]] = {}
    for i in range(len(out)):
        for j in range(i + 1, len(out)):
            a, b = out[i], out[j]
            if date_key(a)[0] and date_key(b)[0] and date_key(a) != date_key(b) and same_passage(a, b):
                newer, older = (i, j) if date_key(a) > date_key(b) else (j, i)
                notes.setdefault(newer, {}).setdefault("newer_than", label(out[older]))
                notes.setdefault(older, {}).setdefault("older_than", label(out[newer]))
    scores = sorted((r.score for r in out), reverse=True)
    return [replace(r, score=s, **notes.get(i, {})) for i, (r, s) in enumerate(zip(out, scores, strict=True))]  # type: ignore[type-var]
