"""The value every channel renders: an answer, its language, whether it refused, its citations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Citation:
    n: int
    title: str
    url: str
    published: str
    text: str  # the cited passage
    source: str = ""
    language: str = ""
    unofficial_translation: bool = False
    doc_id: str = ""
    chunk_id: str = ""
    label: str = ""  # the structure label of what is quoted ("Article 11", "item 3"), or ""
    fetched: str = ""  # when a synced page was fetched; shown when it states no published date
    newer_than: str = ""  # "title (date)" of an older document this one supersedes
    older_than: str = ""  # "title (date)" of a newer document that supersedes this one

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"n": self.n, "title": self.title, "url": self.url, "published": self.published,
                               "text": self.text, "source": self.source,
                               "unofficial_translation": self.unofficial_translation, "label": self.label}
        for key in ("fetched", "newer_than", "older_than"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out


@dataclass(frozen=True)
class Answer:
    question: str
    language: str  # "vi" | "en"
    text: str  # the answer body; sentences carry [n] markers that point into citations
    refused: bool
    citations: tuple[Citation, ...] = field(default=())
    composer: str = "extractive"  # "extractive" | "llm" | "notice"

    def to_json(self) -> dict[str, Any]:
        return {"question": self.question, "language": self.language, "answer": self.text,
                "refused": self.refused, "citations": [c.to_json() for c in self.citations]}
