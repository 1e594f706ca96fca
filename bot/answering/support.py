"""Is every sentence of an LLM answer supported by the passages it cites? Used by llm.py after its
format checks; a sentence that fails makes the whole LLM answer fall back to the extractive one.

For each sentence, against the passages its [n] markers name (English and Vietnamese, with or
without diacritics):

1. numbers: every number in the sentence is a whole number of a cited passage (0 is not in 10%);
2. wording: most of the sentence's content words are in the cited passages (SUPPORT_MIN_SHARE);
3. negation: the sentence and the cited sentence it is closest to agree on negation ("no exemption
   applies" against "exempt for the whole lease term" fails; "không được miễn" against "được miễn");
4. advice and instructions ("pay the rent in cash to the zone officer", "hãy nộp tiền mặt cho cán
   bộ", "you should...") pass only when every content word of them is in a cited passage: the
   assistant never adds advice of its own.
"""

from __future__ import annotations

import re

from indexer.chunking import split_sentences
from indexer.text import STOPWORDS, fold, tokens_with_parts

MARKER = re.compile(r"\[(\d{1,2})\]")
SUPPORT_MIN_SHARE = 0.6
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
# negation is compared clause by clause: "(press: ...; the exceptions were not verified)" is not
# part of "exempt for the whole lease term"
_CLAUSE = re.compile(r"[;()\[\]—]|\bbut\b|\bnhưng\b|\bnhung\b")

# negation cues on lower-cased text; "No. 226" is a number sign, "hàng không" is aviation
_NEGATION = re.compile(
    r"\b(?:not|never|none|nor|neither|without|cannot|nothing|nobody|no(?!\.?\s*\d))\b|n't\b"
    r"|(?<!hàng )(?<!hang )\b(?:không|khong)\b(?! gian| khí| khi| quân| quan)"
    r"|\b(?:chưa|chẳng|đừng|cấm)\b")

_ADVICE = [re.compile(p) for p in (
    r"^(?:please\s+|kindly\s+)?(?:pay|call|phone|send|contact|visit|submit|go|transfer|wire|bring|apply|register|"
    r"email|deposit|give|ask|make sure|remember|do not|don't|never|avoid|use|bring)\b",
    r"\b(?:you|investors?|applicants?|visitors?|users?|they)\s+(?:should|must|need to|have to|ought to|"
    r"are advised to|had better)\b",
    r"\bwe (?:recommend|advise|suggest)\b|\bit is (?:best|advisable|recommended)\b|\bbe sure to\b",
    r"^(?:hay|xin|vui long|nen|dung|can phai)\b",
    r"\b(?:ban|quy vi|nha dau tu|anh chi|quy khach|doanh nghiep)\s+(?:nen|can|phai|hay|vui long)\b",
    r"\b(?:chung toi|toi)\s+(?:khuyen|de nghi|goi y)\b|\bkhuyen (?:ban|nghi)\b",
)]


def _content(text: str) -> set[str]:
    return {t for t in tokens_with_parts(text) if t not in STOPWORDS and not t.isdigit() and len(t) > 1}


def _numbers(text: str) -> list[str]:
    return _NUMBER.findall(text)


def _has_number(number: str, text: str) -> bool:
    for form in {number, number.replace(",", "."), number.replace(".", ",")}:
        if re.search(rf"(?<![\d.,]){re.escape(form)}(?![\d]|[.,]\d)", text):
            return True
    return False


def negated(text: str) -> bool:
    return bool(_NEGATION.search(text.lower()))


def is_advice(sentence: str) -> bool:
    folded = fold(sentence).strip().lstrip("-*• ").strip()
    return any(p.search(folded) for p in _ADVICE)


def _clauses(text: str) -> list[str]:
    return [c.strip() for c in _CLAUSE.split(text) if len(_content(c)) >= 2]


def _negation_differs(sentence: str, cited: list[str]) -> bool:
    """True when a clause of the sentence and the cited clause closest to it disagree on negation."""
    source = [clause for c in cited for s in split_sentences(c) for clause in _clauses(s)]
    for clause in _clauses(sentence) or [sentence]:
        words = _content(clause)
        closest = max(source, key=lambda s: len(_content(s) & words), default="")
        if negated(clause) != negated(closest):
            return True
    return False


def sentences(answer: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(answer) if len(s.strip()) > 2 and not MARKER.fullmatch(s.strip())]


def unsupported(answer: str, passages: list[str]) -> str | None:
    """Why a sentence of `answer` is not supported by the passages it cites, or None when all are.
    `passages` are the texts behind markers [1], [2]... in order."""
    for sentence in sentences(answer):
        cited = [passages[int(m) - 1] for m in MARKER.findall(sentence) if 1 <= int(m) <= len(passages)]
        if not cited:
            continue  # the format check (llm.check) deals with uncited sentences
        plain = MARKER.sub(" ", sentence).strip()
        source = "\n".join(cited)
        for number in _numbers(plain):
            if not _has_number(number, source):
                return f"number {number} is not in the passage cited by {plain[:60]!r}"
        words = _content(plain)
        source_words = _content(source)
        if words:
            share = len(words & source_words) / len(words)
            if share < SUPPORT_MIN_SHARE:
                return f"{plain[:60]!r} is not worded like its cited passage ({share:.0%} of its words)"
        if _negation_differs(plain, cited):
            return f"{plain[:60]!r} contradicts its cited passage (negation differs)"
        if is_advice(plain) and not words <= source_words:
            missing = ", ".join(sorted(words - source_words)[:5])
            return f"advice no cited passage gives: {plain[:60]!r} (not in the passage: {missing})"
    return None
