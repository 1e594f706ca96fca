"""Where a document becomes chunks: whole sentences, the title carried along, positions recorded."""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.documents import Document

# Abbreviations after which a full stop does not end a sentence (folded to lower case).
_ABBREVIATIONS = {
    "no", "nos", "mr", "mrs", "ms", "dr", "prof", "st", "vs", "etc", "e.g", "i.e", "jan", "feb", "mar",
    "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "co", "ltd", "inc", "corp", "art",
    "tp", "q", "p", "ths", "ts", "pgs", "gs", "km", "ha", "approx", "vol", "fig",
}
_BOUNDARY = re.compile(r'(?<=[.!?…])(["”’)\]]*)\s+(?=["“‘(\[]?[A-ZÀ-Ỹ0-9Đ])')
_LIST_ITEM = re.compile(r"^\s*(?:[-*•+]|\d{1,3}[.)])\s+")
_HEADING = re.compile(r"^\s*#{1,6}\s+(.*)$")


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    position: int
    section: str
    text: str
    char_start: int
    char_end: int

    def embedding_text(self, title: str) -> str:
        """What is embedded and matched lexically: the title and section carried into the passage."""
        head = title if not self.section or self.section == title else f"{title} — {self.section}"
        return f"{head}\n{self.text}"


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences without breaking numbers (93.51%), codes (No. 226) or abbreviations."""
    sentences: list[str] = []
    for line in re.split(r"\n+", text):
        line = line.strip()
        if not line:
            continue
        start = 0
        for match in _BOUNDARY.finditer(line):
            candidate = line[start:match.end(1)].rstrip()
            last_word = re.findall(r"([\w.]+)[.!?…]*[\"”’)\]]*$", candidate)
            if last_word and last_word[-1].lower().rstrip(".") in _ABBREVIATIONS and candidate.endswith("."):
                continue
            if len(candidate) < 3:
                continue
            sentences.append(candidate)
            start = match.end()
        tail = line[start:].strip()
        if tail:
            sentences.append(tail)
    return sentences


@dataclass
class _Block:
    text: str
    section: str
    start: int
    end: int


def _blocks(text: str, title: str) -> list[_Block]:
    """Paragraphs and list items, each tagged with the heading above it and its character span."""
    blocks: list[_Block] = []
    section = ""
    current: list[str] = []
    cur_start = 0
    offset = 0

    def flush(end: int) -> None:
        if current:
            body = " ".join(s.strip() for s in current).strip()
            if body:
                blocks.append(_Block(body, section, cur_start, end))
            current.clear()

    for raw in text.splitlines(keepends=True):
        line = raw.rstrip("\n")
        heading = _HEADING.match(line)
        if heading:
            flush(offset)
            heading_text = heading.group(1).strip()
            section = "" if heading_text == title else heading_text
        elif not line.strip():
            flush(offset)
        elif _LIST_ITEM.match(line):
            flush(offset)
            current.append(line.strip())
            cur_start = offset
        else:
            if not current:
                cur_start = offset
            current.append(line)
        offset += len(raw)
    flush(offset)
    return blocks


def chunk_document(doc: Document, max_chars: int = 700) -> list[Chunk]:
    """Pack consecutive paragraphs of one section into chunks of at most max_chars (a longer
    paragraph is cut between sentences, never inside one)."""
    pieces: list[_Block] = []
    for block in _blocks(doc.text, doc.title):
        if len(block.text) <= max_chars:
            pieces.append(block)
            continue
        buf: list[str] = []
        for sentence in split_sentences(block.text):
            if buf and len(" ".join([*buf, sentence])) > max_chars:
                pieces.append(_Block(" ".join(buf), block.section, block.start, block.end))
                buf = []
            buf.append(sentence)
        if buf:
            pieces.append(_Block(" ".join(buf), block.section, block.start, block.end))

    chunks: list[Chunk] = []
    group: list[_Block] = []

    def emit() -> None:
        if not group:
            return
        body = "\n".join(b.text for b in group)
        position = len(chunks)
        chunks.append(Chunk(f"{doc.doc_id}#{position}", doc.doc_id, position, group[0].section, body,
                            group[0].start, group[-1].end))
        group.clear()

    for piece in pieces:
        if group and (piece.section != group[0].section
                      or len("\n".join(b.text for b in group)) + len(piece.text) + 1 > max_chars):
            emit()
        group.append(piece)
    emit()
    return chunks
