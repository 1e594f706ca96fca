"""The answer units of one index generation, with their vectors and term sets.

Built once when a generation is opened (and warmed by `refresh`, so a bot opening a new generation
finds the vectors ready): every document's chunks become units (`indexer.units`), each unit is
embedded as a passage, and its terms are analysed the way questions are (synonyms, stemming), so
reading a question costs a matrix product and set lookups, not a model pass per passage.

Unit vectors are cached on disk by model and text under DATA_DIR/index/unit-vectors/, so an
unchanged unit is never embedded twice, in a refresh or at the start of a bot.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import re
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from indexer.fileio import write_atomic
from indexer.phrases import PhraseMap, load_synonyms
from indexer.text import STOPWORDS, fold, folded_words, name_runs, tokens_with_parts
from indexer.units import Unit, document_units

log = logging.getLogger("indexer.unit_index")
_EMBED_BATCH = 16


def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


_STEM = _stemmer()
_stem_lock = threading.Lock()


# British spellings read as the American ones the documents may use ("recognised", "organisation",
# "labour", "centre", "programme"), on both sides of every match
_BRITISH_IZE = re.compile(r"(?<=[a-z]{3})is(e|es|ed|ing|ation|ations|er|ers)$")
_BRITISH_OUR = re.compile(r"^(lab|fav|col|hon|neighb|behavi|harb|endeav|rum|vig|savi)our")
_BRITISH_WORDS = {"centre": "center", "centres": "centers", "metre": "meter", "metres": "meters",
                  "programme": "program", "programmes": "programs", "licence": "license", "licences": "licenses",
                  "defence": "defense", "offence": "offense", "catalogue": "catalog", "dialogue": "dialog",
                  "analyse": "analyze", "analysed": "analyzed", "travelled": "traveled", "cheque": "check"}


def american(word: str) -> str:
    """A word in the American spelling (the stemmer keeps "recognis" and "recogn" apart)."""
    word = _BRITISH_WORDS.get(word, word)
    return _BRITISH_OUR.sub(r"\1or", _BRITISH_IZE.sub(r"iz\1", word))


def stem(word: str) -> str:
    if len(word) <= 3 or not word.isalpha():
        return word
    with _stem_lock:  # PyStemmer objects are not thread-safe
        return str(_STEM.stemWord(american(word)))


def analyse(text: str, synonyms: PhraseMap) -> list[str]:
    """Content terms of a text after the synonyms: folded, stemmed words (no stop words) and adjacent
    pairs joined by '_' (most Vietnamese words are two syllables)."""
    text = synonyms.rewrite(text)
    out: list[str] = []
    pairs: list[str] = []
    for segment in re.split(r"\n+|[.;:!?]+(?:\s|$)", text):
        words = [stem(w) for w in tokens_with_parts(segment) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
        out.extend(words)
        pairs.extend(f"{a}_{b}" for a, b in zip(words, words[1:], strict=False))
    return out + pairs


class VectorCache:
    """Passage vectors by (model, text), kept in one .npz file per model."""

    def __init__(self, folder: Path, model: str) -> None:
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", model)[:80]
        self.path = folder / f"{slug}.npz"
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._load()

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def _load(self) -> None:
        try:
            with np.load(self.path, allow_pickle=False) as data:
                keys = [str(k) for k in data["keys"]]
                matrix = np.asarray(data["vectors"], dtype=np.float32)
            if len(keys) == len(matrix):
                self._vectors = dict(zip(keys, matrix, strict=True))
        except (OSError, KeyError, ValueError):
            self._vectors = {}  # no cache yet, or a damaged one: vectors are embedded again

    def vectors(self, texts: list[str], model: Embeddings, *, save: bool = True) -> np.ndarray:
        keys = [self.key(t) for t in texts]
        with self._lock:
            missing = list(dict.fromkeys(k for k in keys if k not in self._vectors))
        if missing:
            by_key = dict(zip(keys, texts, strict=True))
            for start in range(0, len(missing), _EMBED_BATCH):
                part = missing[start:start + _EMBED_BATCH]
                got = model.embed_documents([by_key[k] for k in part])
                with self._lock:
                    for k, v in zip(part, got, strict=True):
                        self._vectors[k] = np.asarray(v, dtype=np.float32)
            if save:
                self.save(keep=set(keys))
        with self._lock:
            rows = [self._vectors[k] for k in keys]
        return np.vstack(rows) if rows else np.zeros((0, 1), dtype=np.float32)

    def save(self, keep: set[str] | None = None) -> None:
        with self._lock:
            items = [(k, v) for k, v in self._vectors.items() if keep is None or k in keep]
        buf = io.BytesIO()
        np.savez(buf, keys=np.array([k for k, _ in items]),
                 vectors=np.vstack([v for _, v in items]) if items else np.zeros((0, 1), dtype=np.float32))
        try:
            write_atomic(self.path, buf.getvalue())
        except OSError as exc:  # a read-only data folder still answers, it just embeds at start
            log.warning("unit vector cache not saved", extra={"reason": str(exc)[:200]})


# words that open a capitalised date, not a name, when a number follows ("March 27", "Ngày 13")
_DATE_WORDS = {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
               "november", "december", "ngay", "nam", "thang", "so", "vnd", "gom", "entering", "phase"}


_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10, "xi": 11,
          "xii": 12, "xiii": 13, "xiv": 14, "xv": 15, "xvi": 16, "xvii": 17, "xviii": 18, "xix": 19, "xx": 20}


def edition_number(word: str) -> str:
    """A meeting's number written after its series' name ("3", "III", "3rd"), as "#3"; else ""."""
    word = word.lower()
    digits = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?", word)
    if digits:
        return f"#{int(digits.group(1))}"
    return f"#{_ROMAN[word]}" if word in _ROMAN else ""


@dataclass
class UnitIndex:
    units: list[Unit]
    meta: list[dict[str, Any]]  # the chunk metadata of each unit's first chunk
    vectors: np.ndarray  # unit-normalised rows
    terms: list[frozenset[str]]  # terms of the unit's text
    context_terms: list[frozenset[str]]  # terms of its title and section
    by_chunk: dict[str, list[int]]
    df: dict[str, int]
    n_passages: int
    synonyms: PhraseMap
    chunk_terms: dict[str, frozenset[str]] = field(default_factory=dict)  # title, section and text
    chunk_text: dict[str, str] = field(default_factory=dict)
    _pairs: frozenset[str] | None = field(default=None, repr=False)
    _names: tuple[tuple[str, ...], str, str] | None = field(default=None, repr=False)
    _editions: dict[str, set[str]] | None = field(default=None, repr=False)
    _marked: frozenset[str] | None = field(default=None, repr=False)

    def folded_pairs(self) -> frozenset[str]:
        """Every two adjacent words of the passages, folded, stop words included ("co quan" for
        "cơ quan"): how a question typed without marks is matched word pair by word pair."""
        if self._pairs is None:
            out: set[str] = set()
            for text in self.chunk_text.values():
                words = re.findall(r"\w+", fold(text))
                out.update(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))
            self._pairs = frozenset(out)
        return self._pairs

    def marked_words(self) -> frozenset[str]:
        """Every word of the passages as written, lower-cased, marks kept ("bậc" and "bắc" apart)."""
        if self._marked is None:
            self._marked = frozenset(w for text in self.chunk_text.values() for w in re.findall(r"\w+", text.lower()))
        return self._marked

    def editions(self) -> dict[str, set[str]]:
        """The years the passages write right after a capitalised name ("Techfest 2022",
        "Conference 2025"), by the name's last word: what editions of a yearly event they report;
        and the numbers written after an acronym ("ABAC 3", "ABAC III"), as "#3": which meeting of a
        series they report."""
        if self._editions is None:
            found: dict[str, set[str]] = defaultdict(set)
            for text in self.chunk_text.values():
                for _start, run in name_runs(text):
                    words = re.findall(r"[0-9a-z]+", run)
                    if len(words) < 2 or words[-2].isdigit() or words[-2] in STOPWORDS or words[-2] in _DATE_WORDS:
                        continue
                    if re.fullmatch(r"(?:19|20)\d\d", words[-1]):
                        found[words[-2]].add(words[-1])
                    elif (number := edition_number(words[-1])) and len(words[-2]) >= 3 \
                            and re.search(rf"\b{re.escape(words[-2].upper())}\b", text):
                        found[words[-2]].add(number)
            self._editions = dict(found)
        return self._editions

    def names_in(self, folded_question: str) -> tuple[str, ...]:
        """The proper names of the passages a folded question writes: the longest parts of the
        passages' runs of capitalised words ("techfest 2022" of "Hai Phong Innovation Week
        Techfest 2022", "lach huyen", "abac iii") of two words or more, or one acronym or word with
        a number. A part the passages also write in lower case is no name ("Lao Động", the
        newspaper, is also "lao động", labour), nor a date ("Ngày 13")."""
        if self._names is None:
            runs: list[str] = []
            for text in self.chunk_text.values():
                for start, run in name_runs(text):
                    words = re.findall(r"[0-9a-z]+", run)
                    acronym = text[start:start + 3].isupper() and len(words[0]) >= 3 if words else False
                    runs.append((" * " if acronym else " ") + " ".join(words) + " ")
            folded = " ".join(f" {' '.join(folded_words(t))} " for t in self.chunk_text.values())
            self._names = (tuple(runs), folded, "".join(runs))
        runs, folded, all_runs = self._names
        words = re.findall(r"[0-9a-z]+", folded_question)
        found: list[str] = []
        for size in range(min(5, len(words)), 0, -1):
            for i in range(len(words) - size + 1):
                part = words[i:i + size]
                name = f" {' '.join(part)} "
                if part[0] in STOPWORDS or part[-1] in STOPWORDS or part[0].isdigit() or (
                        part[0] in _DATE_WORDS and (size == 1 or part[1].isdigit())):
                    continue
                if name not in all_runs or any(name in f for f in found):
                    continue
                if size == 1 and not any(c.isdigit() for c in part[0]) \
                        and not any(r.startswith(" *" + name) for r in runs):
                    continue
                inside = sum(r.count(name) for r in runs)
                if inside and folded.count(name) <= inside:
                    found.append(name)
        return tuple(n.strip() for n in found)

    def idf(self, term: str) -> float:
        return math.log(1 + self.n_passages / (1 + self.df.get(term, 0)))

    def units_of(self, chunk_ids: Iterable[str]) -> list[int]:
        out: list[int] = []
        for cid in chunk_ids:
            out.extend(self.by_chunk.get(cid, ()))
        return list(dict.fromkeys(out))


def build_unit_index(ids: list[str], texts: list[str], metas: list[dict[str, Any]], model: Embeddings,
                     cache: VectorCache, synonyms_path: Path) -> UnitIndex:
    synonyms = load_synonyms(synonyms_path)
    by_doc: dict[str, list[int]] = defaultdict(list)
    for i, m in enumerate(metas):
        by_doc[str(m.get("doc_id", ""))].append(i)
    position = {cid: i for i, cid in enumerate(ids)}
    units: list[Unit] = []
    for doc_id, idx in sorted(by_doc.items()):
        idx.sort(key=lambda i: int(metas[i].get("position", 0)))
        language = str(metas[idx[0]].get("language", "en"))
        units.extend(document_units(doc_id, [(ids[i], str(metas[i].get("section") or ""), texts[i]) for i in idx],
                                    language))
    meta = [metas[position[u.chunk_id]] for u in units]
    raw = cache.vectors([u.embedding_text(str(m.get("title", ""))) for u, m in zip(units, meta, strict=True)],
                        model)
    if len(units):
        raw = raw / (np.linalg.norm(raw, axis=1, keepdims=True) + 1e-9)
    by_chunk: dict[str, list[int]] = defaultdict(list)
    for n, u in enumerate(units):
        for cid in u.chunk_ids:
            by_chunk[cid].append(n)
    df: dict[str, int] = defaultdict(int)
    chunk_terms: dict[str, frozenset[str]] = {}
    for cid, m, text in zip(ids, metas, texts, strict=True):
        terms = frozenset(analyse(f"{m.get('title', '')}\n{m.get('section', '')}\n{text}", synonyms))
        chunk_terms[cid] = terms
        for term in terms:
            df[term] += 1
    return UnitIndex(
        units=units, meta=meta, vectors=raw.astype(np.float32),
        terms=[frozenset(analyse(u.text, synonyms)) for u in units],
        context_terms=[frozenset(analyse(f"{m.get('title', '')}\n{u.section}", synonyms))
                       for u, m in zip(units, meta, strict=True)],
        by_chunk=dict(by_chunk), df=dict(df), n_passages=len(ids), synonyms=synonyms,
        chunk_terms=chunk_terms, chunk_text=dict(zip(ids, texts, strict=True)),
    )
