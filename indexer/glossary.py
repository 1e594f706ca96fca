"""Staff-editable bilingual glossary (knowledge/glossary.yaml) used to carry a question across
languages: the terms found in a question, matched with or without diacritics, are added in the
other language so lexical and dense search also reach documents written in that language."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from indexer.text import STOPWORDS, fold, tokens


@dataclass(frozen=True)
class Term:
    vi: tuple[str, ...]
    en: tuple[str, ...]


@dataclass(frozen=True)
class Expansion:
    """What the glossary found in a query."""

    matched: tuple[Term, ...]
    other_language: str  # the question carried into the other language (for dense search)
    extra_tokens: tuple[str, ...]  # folded tokens of the other-language forms (for BM25)
    # (the question's words that a term matched, the term's other-language forms as token tuples)
    links: tuple[tuple[tuple[str, ...], tuple[tuple[str, ...], ...]], ...] = ()


class Glossary:
    def __init__(self, terms: list[Term]) -> None:
        self.terms = terms
        # (folded phrase tokens, term, language of that form)
        forms: list[tuple[tuple[str, ...], Term, str]] = []
        for term in terms:
            for lang, values in (("vi", term.vi), ("en", term.en)):
                for value in values:
                    toks = tuple(tokens(value))
                    if toks:
                        forms.append((toks, term, lang))
        forms.sort(key=lambda f: -len(f[0]))  # longest match first
        self._forms = forms
        # the forms by their first word (still longest first): a question's word is compared only
        # with the forms that can start there
        self._by_first: dict[str, list[tuple[tuple[str, ...], Term, str]]] = {}
        for form in forms:
            self._by_first.setdefault(form[0][0], []).append(form)
        self.fingerprint = hashlib.sha256(
            repr([(t.vi, t.en) for t in terms]).encode("utf-8")).hexdigest()[:12]

    @classmethod
    def load(cls, path: Path) -> Glossary:
        if not path.exists():
            return cls([])
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        terms = []
        for i, entry in enumerate(data.get("terms") or []):
            if not isinstance(entry, dict) or not entry.get("vi") or not entry.get("en"):
                raise ValueError(f"{path.name}: entry {i + 1} needs both 'vi' and 'en' lists")
            vi = entry["vi"] if isinstance(entry["vi"], list) else [entry["vi"]]
            en = entry["en"] if isinstance(entry["en"], list) else [entry["en"]]
            terms.append(Term(tuple(str(v) for v in vi), tuple(str(v) for v in en)))
        return cls(terms)

    def expand(self, query: str) -> Expansion:
        """Find glossary terms in the query (longest first, no overlaps) and build the query as it
        would read in the other language: matched phrases replaced, other words (numbers, names,
        codes) kept."""
        toks = tokens(query)
        out: list[str] = []
        matched: list[Term] = []
        extra: list[str] = []
        links: list[tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]] = []
        i = 0
        while i < len(toks):
            hit = None
            for form, term, lang in self._by_first.get(toks[i], ()):
                if tuple(toks[i:i + len(form)]) == form:
                    hit = (form, term, lang)
                    break
            if hit is None:
                if toks[i] not in STOPWORDS:
                    out.append(toks[i])
                i += 1
                continue
            form, term, lang = hit
            targets = term.en if lang == "vi" else term.vi
            if term not in matched:
                matched.append(term)
            out.append(targets[0])
            for target in targets:
                extra.extend(tokens(target))
            links.append((form, tuple(tuple(tokens(t)) for t in targets)))
            i += len(form)
        other = " ".join(out) if matched else ""
        return Expansion(tuple(matched), other, tuple(extra), tuple(links))


def phrase_in(text: str, phrase: str) -> bool:
    """Whole-word, accent-insensitive containment."""
    return re.search(rf"(?<![0-9a-z]){re.escape(fold(phrase))}(?![0-9a-z])", fold(text)) is not None
