"""Text normalisation shared by lexical search, glossary matching and language detection."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Words so common in both languages' questions and documents that they only add noise.
# English function words
EN_STOPWORDS = frozenset([
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "and", "or", "is", "are", "was", "were", "be",
    "been", "by", "with", "as", "from", "that", "this", "these", "those", "it", "its", "what", "which", "who",
    "whom", "how", "when", "where", "why", "do", "does", "did", "can", "could", "should", "would", "will",
    "about", "into", "than", "then", "there", "their", "them", "they", "we", "you", "your", "i", "me", "my",
    "our", "us", "has", "have", "had", "not", "no", "yes", "any", "some", "also", "many", "much"
])
# Vietnamese function words, folded ("do" and "the" are in both lists)
VI_STOPWORDS = frozenset([
    "la", "cua", "va", "cac", "nhung", "mot", "cho", "voi", "trong", "tai", "thi", "ma", "nay", "do", "duoc",
    "khong", "co", "gi", "nao", "sao", "the", "nhu", "ve", "den", "tu", "ra", "vao", "len", "di", "bi", "boi",
    "hay", "hoac", "con", "khi", "luc", "vay", "roi", "nua", "bao", "nhieu", "ai"
])
STOPWORDS = EN_STOPWORDS | VI_STOPWORDS

_TOKEN = re.compile(r"[0-9a-z]+(?:[./-][0-9a-z]+)*")
_SPACES = re.compile(r"\s+")
_PARTS = re.compile(r"[./-]")
_DECIMAL = re.compile(r"^\d+[.,]\d+$")


def fold(text: str) -> str:
    """Lower-case and strip Vietnamese diacritics (đ -> d), so 'Nghị quyết' == 'nghi quyet'.
    Words and short phrases, folded over and over while questions are read, are remembered."""
    return _fold_short(text) if len(text) <= 64 else _fold(text)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.lower())
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return text.replace("đ", "d").replace("ð", "d")


_fold_short = lru_cache(maxsize=65536)(_fold)


def name_runs(text: str) -> list[tuple[int, str]]:
    """Each run of capitalised words ("Lạch Huyện", "ABAC III", "Techfest 2022": a number after
    a capitalised word belongs to it), as where it starts and its folded words."""
    runs: list[tuple[int, str]] = []
    start, words = -1, []
    for match in re.finditer(r"\w+|[^\w\s]+", text):
        word = match.group(0)
        if word[:1].isupper() or (words and word.isdigit()):
            if not words:
                start = match.start()
            words.append(word)
        elif not (word == "-" and words):  # "Đình Vũ - Cát Hải" is one name
            if words:
                runs.append((start, fold(" ".join(words))))
            words = []
    if words:
        runs.append((start, fold(" ".join(words))))
    return runs


_WORDS = re.compile(r"[0-9a-z]+")


def folded_words(text: str) -> list[str]:
    """The folded words of a text, a code split at its punctuation ("226/2025/QH15" -> 226, 2025,
    qh15): how a phrase is matched word by word, whatever its spacing and punctuation."""
    return _WORDS.findall(fold(text))


# a number written with thousands separators: "6,292", "2.923", "4.600" (not "0,8", "93.51", "489,2")
_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?:[.,]\d{3})+(?![.,]?\d)")


def _joined_numbers(folded: str) -> str:
    """"6,292 ha" and "2.923 ha" as "6292 ha" and "2923 ha": one token whichever separator the
    document or the asker used, or none."""
    return _THOUSANDS.sub(lambda m: re.sub(r"[.,]", "", m.group(0)), folded)


def tokens(text: str) -> list[str]:
    """Accent-folded lower-case word tokens; keeps numbers and codes such as 217-kh/tu whole."""
    return _TOKEN.findall(_joined_numbers(fold(text)))


def tokens_with_parts(text: str) -> list[str]:
    """tokens(), each code such as 226/2025/qh15 followed by its parts, so that "Resolution 226"
    is seen in "Resolution 226/2025/QH15"."""
    out: list[str] = []
    for token in _TOKEN.findall(_joined_numbers(fold(text))):
        out.append(token)
        if not _DECIMAL.match(token) and any(sep in token for sep in "./-"):
            out.extend(p for p in _PARTS.split(token) if p)
    return out


def squash(text: str) -> str:
    """Collapse runs of white space."""
    return _SPACES.sub(" ", text).strip()


def has_vietnamese_marks(text: str) -> bool:
    """True when the text carries letters only Vietnamese uses (ă â đ ê ô ơ ư or tone marks)."""
    for ch in unicodedata.normalize("NFD", text.lower()):
        if ch in "đ" or (unicodedata.category(ch) == "Mn" and ch != "\u0327"):
            return True
    return False


def content_terms(text: str) -> list[str]:
    """Content words (no stop words) plus adjacent pairs joined by '_' (most Vietnamese words are
    two syllables, so 'bong_da' says far more than 'bong' or 'da')."""
    out: list[str] = []
    pairs: list[str] = []
    for segment in re.split(r"\n+|[.;:!?]+(?:\s|$)", text):
        words = [w for w in tokens_with_parts(segment) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
        out.extend(words)
        pairs.extend(f"{a}_{b}" for a, b in zip(words, words[1:], strict=False))
    return out + pairs
