"""Conversation memory per chat: the last few turns, bounded and expiring, kept in the shared
database so every bot process sees the same history. A short follow-up ("and what about
logistics?", "còn logistics thì sao?") is searched together with the previous question's topic."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from bot.storage import Database
from indexer.text import fold, tokens

MAX_STORED_CHARS = 500
# Openings and words that mark a message as leaning on the previous one.
_FOLLOW_UP = re.compile(
    r"^(and|also|what about|how about|and what about|what of|then|so|con|vay con|the con|"
    r"con ve|the|vay|thi sao|and how|and when|and where|and who)\b"
    r"|\b(thi sao|the nao|ra sao|nua|too|as well|about it|about that|it|its|that one|they|them|do|"
    r"nay|kia|đó|do)\s*\??$"
)


@dataclass(frozen=True)
class Turn:
    question: str
    search_query: str
    language: str


def looks_like_follow_up(question: str) -> bool:
    folded = fold(question).strip()
    words = tokens(question)
    return bool(words) and len(words) <= 8 and bool(_FOLLOW_UP.search(folded))


class ChatMemory:
    def __init__(self, db: Database, turns: int = 4, ttl_seconds: int = 1800) -> None:
        self.db = db
        self.turns = turns
        self.ttl = ttl_seconds

    def recent(self, chat_key: str) -> list[Turn]:
        if self.turns <= 0:
            return []
        rows = self.db.query(
            "SELECT question, search_query, language FROM memory WHERE chat_key=? AND ts>=? "
            "ORDER BY id DESC LIMIT ?", (chat_key, time.time() - self.ttl, self.turns))
        return [Turn(r["question"], r["search_query"], r["language"]) for r in reversed(rows)]

    def remember(self, chat_key: str, question: str, search_query: str, language: str) -> None:
        if self.turns <= 0:
            return
        now = time.time()
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO memory(chat_key, ts, question, search_query, language) VALUES (?,?,?,?,?)",
                         (chat_key, now, question[:MAX_STORED_CHARS], search_query[:MAX_STORED_CHARS], language))
            conn.execute("DELETE FROM memory WHERE chat_key=? AND id NOT IN "
                         "(SELECT id FROM memory WHERE chat_key=? ORDER BY id DESC LIMIT ?)",
                         (chat_key, chat_key, self.turns))
            conn.execute("DELETE FROM memory WHERE ts < ?", (now - self.ttl,))

    def forget(self, chat_key: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM memory WHERE chat_key=?", (chat_key,))

    def contextual_query(self, chat_key: str | None, question: str) -> str:
        """The text to search for: the question, joined with the last topic when it is a follow-up."""
        if not chat_key:
            return question
        history = self.recent(chat_key)
        if not history or not looks_like_follow_up(question):
            return question
        return f"{question}\n{history[-1].search_query}"
