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

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, "title": self.title, "url": self.url, "published": self.published,
                "text": self.text, "source": self.source,
                "unofficial_translation": self.unofficial_translation, "label": self.label}


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
