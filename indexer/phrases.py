"""Phrase maps: find known phrases in a text (ignoring case and diacritics, whole words, longest
first) and rewrite them to one form.

Two uses: the staff-editable synonyms file (`knowledge/synonyms.yaml`), which reads "FTZ",
"tax breaks" or "came into force" as the documents' own "free trade zone", "incentives", "take
effect"; and restoring diacritics of glossary terms in a question typed without them ("nghi quyet"
-> "nghị quyết"), which the embedding model reads far better.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from indexer.text import fold, has_vietnamese_marks

# words as text.tokens() reads them (a code such as 01/ctr-ubnd is one token, never a phrase's word)
_TOKEN = re.compile(r"[0-9a-z]+(?:[./-][0-9a-z]+)*(?:['’][a-z]+)?")
_MAX_FORM_TOKENS = 8
_POSSESSIVE = re.compile(r"['’]s$")


def fold_aligned(text: str) -> str:
    """fold(), one output character per input character, so positions carry over."""
    return "".join(fold(ch)[:1] or ch for ch in text)


def _form_tokens(form: str) -> tuple[str, ...]:
    return tuple(_TOKEN.findall(fold(form)))


@dataclass(frozen=True)
class Match:
    start: int  # character span in the original text
    end: int
    replacement: str
    group: int  # which entry of the map matched


class PhraseMap:
    def __init__(self, entries: list[tuple[list[str], str]], *, only_unmarked: bool = False) -> None:
        """`entries`: (forms, replacement) pairs; a form found in a text is rewritten to the replacement.
        With `only_unmarked`, a match is rewritten only where the text carries no diacritics (to
        restore them, never to change a word typed with its own)."""
        self.only_unmarked = only_unmarked
        self._forms: dict[tuple[str, ...], tuple[str, int]] = {}
        for group, (forms, replacement) in enumerate(entries):
            for form in forms:
                toks = _form_tokens(form)
                if toks and len(toks) <= _MAX_FORM_TOKENS and toks not in self._forms:
                    self._forms[toks] = (replacement, group)
        self._longest = max((len(k) for k in self._forms), default=0)
        self.size = len(entries)

    def matches(self, text: str) -> list[Match]:
        folded = fold_aligned(text)
        spans = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(folded)]
        words = [s[2] for s in spans]
        # a possessive is its word: "FTZ's" is read as "free trade zone" (the "'s" goes with the rewrite)
        bare = [_POSSESSIVE.sub("", w) for w in words]
        out: list[Match] = []
        i = 0
        while i < len(words):
            for n in range(min(self._longest, len(words) - i), 0, -1):
                hit = self._forms.get(tuple(words[i:i + n]))
                if hit is None and bare[i + n - 1] != words[i + n - 1]:
                    hit = self._forms.get((*words[i:i + n - 1], bare[i + n - 1]))
                if hit is not None and self.only_unmarked and has_vietnamese_marks(
                        text[spans[i][0]:spans[i + n - 1][1]]):
                    hit = None
                if hit is not None:
                    out.append(Match(spans[i][0], spans[i + n - 1][1], hit[0], hit[1]))
                    i += n
                    break
            else:
                i += 1
        return out

    def rewrite(self, text: str) -> str:
        pieces: list[str] = []
        last = 0
        for m in self.matches(text):
            pieces.append(text[last:m.start])
            pieces.append(m.replacement)
            last = m.end
        pieces.append(text[last:])
        return "".join(pieces)


def load_synonyms(path: Path) -> PhraseMap:
    """The synonyms file: `groups:` of equivalent forms, the first being the documents' own. A
    missing file is an empty map; a malformed one raises ValueError naming the entry."""
    if not path.exists():
        return PhraseMap([])
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path.name}: expected a mapping with a 'groups' list")
    entries = []
    for i, group in enumerate(data.get("groups") or []):
        if not isinstance(group, list) or len(group) < 2 or not all(isinstance(f, str) and f.strip() for f in group):
            raise ValueError(f"{path.name}: group {i + 1} must be a list of at least two forms")
        entries.append(([str(f) for f in group], str(group[0])))
    return PhraseMap(entries)
