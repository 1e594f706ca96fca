"""Answer units: the pieces of a document an answer can quote, following the document's structure.

A chunk is what retrieval ranks; a unit is what an answer quotes. Units are read from the chunks
of one document in order, so a list that a chunk boundary cuts stays whole:
- `sentence`: one sentence of a paragraph;
- `list`: a numbered or bulleted list with the sentence that introduces it ("... the following key
  contents:", "gồm:", "including"), or with its section heading when nothing introduces it;
- `item`: one item of such a list (so a question about one item can quote just that item).
Each unit keeps the structure label the document gives it (Article 11, Điều 3, item 2, mục 2) and
its section. Text about the document itself ("This fact sheet gathers ...") is marked, so it is
never quoted as an answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from indexer.chunking import split_sentences
from indexer.text import fold

_ITEM = re.compile(r"^\s*(?:(?P<bullet>[-*•+])|(?P<num>\d{1,3}|[a-zđ])[.)])\s+(?P<body>.+)$", re.IGNORECASE)
# "... the following key contents:", "gồm các nội dung sau:", "including:", "as follows:"
_INTRO_CUES = ("the following", "as follows", "including", "include", "includes", "consist of", "consists of",
               "sau", "gom", "bao gom", "nhu sau", "cu the")
# Legal and plan structure in a heading or at the start of a line.
_LEGAL = re.compile(
    r"\b(?P<word>article|chapter|clause|point|section|dieu|chuong|khoan|diem|muc)\s+"
    r"(?P<ref>[0-9]{1,3}[a-z]?|[ivxlc]{1,6}\b|[a-z]\b)", re.IGNORECASE)
_LEGAL_WORDS = {"article": "Article", "chapter": "Chapter", "clause": "Clause", "point": "Point",
                "section": "Section", "dieu": "Điều", "chuong": "Chương", "khoan": "Khoản", "diem": "Điểm",
                "muc": "Mục"}
# Sentences that describe the document itself, not the policy (folded text).
_ABOUT_DOCUMENT = re.compile(
    r"^(this|the present|the following) (fact ?sheet|document|page|article|summary|compilation|note|overview|"
    r"report)\b"
    r"|^(ban tom tat|tai lieu|bai viet|trang|ban tin|van ban tong hop|bang tom tat) nay\b"
    r"|^(each|every) (fact|item|entry|line) (names|gives|cites|states)\b"
    r"|^(moi|tung) (thong tin|muc|dong) (ghi|neu)\b"
    r"|\"(official text|press)\" means\b|\"(van ban chinh thuc|bao chi)\" la\b"
    r"|should be checked against the official text|can doi chieu voi van ban chinh thuc")


@dataclass(frozen=True)
class Unit:
    uid: str  # "<doc_id>@<n>"
    doc_id: str
    chunk_id: str  # the chunk the unit starts in
    kind: str  # sentence | list | item | intro (the sentence that introduces a list)
    text: str  # what an answer quotes (a list: its introduction, then one item a line)
    section: str
    label: str  # "Article 11", "item 3", "Điều 11, mục 2" or ""
    order: int  # reading order in the document
    items: tuple[str, ...] = ()
    intro: str = ""
    about_document: bool = False
    numbered: bool = False  # a list whose items the document numbers
    chunk_ids: tuple[str, ...] = field(default=())  # every chunk the unit draws on

    def embedding_text(self, title: str) -> str:
        head = title if not self.section else f"{title} — {self.section}"
        return f"{head}\n{self.text}"


@dataclass(frozen=True)
class _Line:
    chunk_id: str
    section: str
    text: str


def legal_label(text: str, language: str) -> str:
    """The structure label a heading or line gives: 'Article 11', 'Điều 3', or ''."""
    found = []
    for match in _LEGAL.finditer(fold(text)):
        word = match.group("word").lower()
        if word == "muc" and language != "vi":
            continue
        if word == "section" and not match.group("ref")[0].isdigit():
            continue
        ref = match.group("ref")
        found.append(f"{_LEGAL_WORDS[word]} {ref if ref[0].isdigit() else ref.upper()}")
    return ", ".join(dict.fromkeys(found))


def about_document(sentence: str) -> bool:
    return _ABOUT_DOCUMENT.search(fold(sentence).strip()) is not None


def introduces_list(sentence: str) -> bool:
    s = sentence.rstrip()
    if not s.endswith(":"):
        return False
    folded = fold(s)
    return True if len(folded) < 200 else any(cue in folded for cue in _INTRO_CUES)


def _item_label(number: str | None, language: str) -> str:
    """A numbered item's own label ("item 3", "mục 3", "item b"); a bullet has none."""
    if not number:
        return ""
    return f"mục {number}" if language == "vi" else f"item {number}"


def _join(*labels: str) -> str:
    return ", ".join(label for label in labels if label)


def document_units(doc_id: str, chunks: Iterable[tuple[str, str, str]], language: str) -> list[Unit]:
    """Units of one document from its chunks in order: (chunk_id, section, text) each."""
    lines = [_Line(cid, section, ln.strip()) for cid, section, text in chunks
             for ln in text.split("\n") if ln.strip()]
    units: list[Unit] = []

    def add(kind: str, text: str, line: _Line, label: str, *, items: tuple[str, ...] = (), intro: str = "",
            numbered: bool = False, chunk_ids: tuple[str, ...] = ()) -> None:
        units.append(Unit(f"{doc_id}@{len(units)}", doc_id, line.chunk_id, kind, text, line.section, label,
                          len(units), items, intro, about_document(intro or text), numbered,
                          chunk_ids or (line.chunk_id,)))

    i = 0
    while i < len(lines):
        line = lines[i]
        section_label = legal_label(line.section, language)
        if _ITEM.match(line.text):
            j = i
            run: list[_Line] = []
            while j < len(lines) and _ITEM.match(lines[j].text) and lines[j].section == line.section:
                run.append(lines[j])
                j += 1
            bodies = []
            numbered = False
            for item_line in run:
                m = _ITEM.match(item_line.text)
                assert m is not None
                body = m.group("body").strip()
                bodies.append(body)
                numbered = numbered or bool(m.group("num"))
                add("item", body, item_line, _join(section_label, _item_label(m.group("num"), language)))
            intro_unit = units[-len(run) - 1] if len(units) > len(run) else None
            intro = ""
            if (intro_unit is not None and intro_unit.kind == "sentence" and introduces_list(intro_unit.text)
                    and intro_unit.section == line.section):
                intro = intro_unit.text
                units[intro_unit.order] = replace(intro_unit, kind="intro")
            elif line.section:
                intro = line.section
            if len(run) > 1:
                text = "\n".join([intro, *(f"{n}. {b}" for n, b in enumerate(bodies, 1))] if intro else
                                 [f"{n}. {b}" for n, b in enumerate(bodies, 1)])
                add("list", text, line, section_label, items=tuple(bodies), intro=intro, numbered=numbered,
                    chunk_ids=tuple(dict.fromkeys(r.chunk_id for r in run)))
            i = j
            continue
        legal = legal_label(line.text[:40], language) if _LEGAL.match(fold(line.text)) else ""
        for sentence in split_sentences(line.text):
            add("sentence", sentence, line, _join(section_label, legal))
        i += 1
    return units


def inline_items(sentence: str) -> int:
    """How many items a sentence enumerates after a colon ("The pilot mechanisms cover: a; b; and
    c"): 0 when it enumerates nothing."""
    if ":" not in sentence:
        return 0
    body = sentence.split(":", 1)[1]
    parts = [p for p in body.split(";") if p.strip()]
    if len(parts) < 3:
        parts = [p for p in re.split(r",|\band\b|\bvà\b", body) if p.strip()]
    return len(parts) if len(parts) >= 3 else 0
