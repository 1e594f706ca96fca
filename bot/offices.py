"""The right office for a question: read from the staff-editable contacts documents
knowledge/offices.<lang>.yaml (one per language, only sourced facts) and chosen by topic words.

`office_for(question, lang)` is what the refusal and the hand-off use to name where to ask.
The files are read again when they change, so staff edits need no restart.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from indexer.text import fold

log = logging.getLogger("bot.offices")


@dataclass(frozen=True)
class Office:
    id: str
    name: str
    about: str
    contact: str
    source: str
    topics: tuple[str, ...]
    default: bool = False

    def line(self, lang: str) -> str:
        """One line for a message: the name, what it does, the contact when known, the source."""
        parts = [self.name]
        if self.about:
            parts.append(self.about.rstrip("."))
        if self.contact:
            parts.append(self.contact.rstrip("."))
        source = "nguồn" if lang == "vi" else "source"
        return ". ".join(parts) + (f" ({source}: {self.source})." if self.source else ".")


def _singular(word: str) -> str:
    """A crude English singular (embassies -> embassy, delegations -> delegation); Vietnamese words
    do not inflect and are short, so they pass unchanged."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@lru_cache(maxsize=4096)
def _words(text: str) -> str:
    """Folded, singular words separated by single spaces (punctuation dropped)."""
    return " ".join(_singular(w) for w in re.sub(r"[^\w]+", " ", fold(text or "")).split())


def _load(path: Path) -> list[Office]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("offices") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{path.name}: expected a list under 'offices'")
    offices = []
    for e in entries:
        if not isinstance(e, dict) or not e.get("id") or not e.get("name"):
            raise ValueError(f"{path.name}: every office needs an id and a name")
        topics = tuple(fold(str(x)).strip() for x in (e.get("topics") or []) if str(x).strip())
        offices.append(Office(str(e["id"]), str(e["name"]).strip(), str(e.get("about") or "").strip(),
                              str(e.get("contact") or "").strip(), str(e.get("source") or "").strip(),
                              topics, bool(e.get("default", False))))
    return offices


class Offices:
    """The offices of every language, reloaded when a file changes; a broken file keeps the last good one."""

    def __init__(self, knowledge_dir: Path) -> None:
        self.knowledge_dir = knowledge_dir
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, list[Office]]] = {}

    def offices(self, lang: str) -> list[Office]:
        path = self.knowledge_dir / f"offices.{lang}.yaml"
        with self._lock:
            cached = self._cache.get(lang)
            try:
                mtime = path.stat().st_mtime
            except OSError:
                return cached[1] if cached else []
            if cached and cached[0] == mtime:
                return cached[1]
            try:
                offices = _load(path)
            except (OSError, ValueError, yaml.YAMLError) as exc:
                log.error("contacts document unreadable; keeping the previous one",
                          extra={"file": path.name, "error": str(exc)[:200]})
                return cached[1] if cached else []
            self._cache[lang] = (mtime, offices)
            return offices

    def _topics(self) -> dict[str, set[str]]:
        """Topic words per office id, from every language (a question may mix languages)."""
        topics: dict[str, set[str]] = {}
        for lang in ("en", "vi"):
            for office in self.offices(lang):
                topics.setdefault(office.id, set()).update(office.topics)
        return topics

    def topic(self, question: str) -> str | None:
        """The id of the office whose topic words the question matches most (longer phrases weigh
        more), or None."""
        text = f" {_words(question)} "
        best, best_score = None, 0
        for office_id, phrases in self._topics().items():
            score = sum(len(p.split()) for p in (_words(w) for w in phrases) if p and f" {p} " in text)
            if score > best_score:
                best, best_score = office_id, score
        return best

    def office_for(self, question: str, lang: str) -> Office | None:
        """The office to name for `question`, in `lang` (the default office when no topic matches)."""
        offices = self.offices(lang) or self.offices("en" if lang == "vi" else "vi")
        if not offices:
            return None
        chosen = self.topic(question)
        for office in offices:
            if office.id == chosen:
                return office
        return next((o for o in offices if o.default), offices[0])


_SHARED: dict[Path, Offices] = {}


def shared_offices(knowledge_dir: Path) -> Offices:
    """One shared Offices per knowledge folder."""
    offices = _SHARED.get(knowledge_dir)
    if offices is None:
        offices = _SHARED.setdefault(knowledge_dir, Offices(knowledge_dir))
    return offices


def office_for(question: str, lang: str, knowledge_dir: Path) -> Office | None:
    """Module-level shortcut over one shared Offices per knowledge folder."""
    return shared_offices(knowledge_dir).office_for(question, lang)
