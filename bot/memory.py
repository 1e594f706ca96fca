"""Conversation memory per chat: the last few turns, bounded and expiring, kept in the shared
database so every bot process sees the same history. A short follow-up ("and what about
logistics?", "còn logistics thì sao?") is searched together with the previous question's topic."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.storage import Database
from indexer.text import STOPWORDS, fold, tokens

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
    subject: str = ""  # the person the answer named, whom "he" / "ông ấy" then stands for


# ... a question that ends pointing back ("when was that?", "ai ký văn bản đó?")
_POINTS_BACK = re.compile(r"\b(that|this|there|then|those|these|do|nay|ay|kia|van ban do|no)\s*\??$")
# words that only ask (what, when, how many, bao giờ, ở đâu ...): a question made of little else
# names no subject of its own ("Áp dụng đến bao giờ?")
_ASKING = frozenset(["when", "where", "who", "whom", "what", "which", "how", "many", "much", "long", "date", "year", "is", "are", "was", "were", "does", "do", "did", "can", "will", "the", "a", "an", "of", "to", "for", "in", "on", "at", "it", "by", "from", "until", "bao", "gio", "nao", "khi", "dau", "ai", "gi", "nhieu", "may", "sao", "la", "co", "duoc", "khong", "den", "tu", "the", "o", "tai", "luc", "ngay", "nam", "thang", "ra", "hom", "vay", "nhi"])
MAX_BARE_CONTENT = 2  # content words at most, for a question to lean on the previous one
MAX_BARE_SYLLABLES_VI = 4  # ... in Vietnamese, content syllables (two words: "áp dụng cho giai đoạn nào?")
# a pronoun anywhere in a short question stands for the previous subject ("which decision set it
# up?", "how long does its pilot last?", "ai ký nó?"); the Vietnamese ones only with their marks
# (folded, "no" and "do" are other words)
_PRONOUN = re.compile(r"\b(it|its|they|their|them|he|him|his|she|her)\b")
_VI_PRONOUN = re.compile(r"(?<!\w)(nó|đó|ấy|họ)(?!\w)")
# ... typed without marks, "ông ấy", "bà ấy", "anh ấy", "chị ấy" are still unmistakable, as are "nó"
# opening a question before its verb ("no duoc to chuc ..."), "của nó" ("giai doan 2 cua no ...") and
# "that/this X" ("cong do", "hoi nghi nay")
_VI_PRONOUN_FOLDED = re.compile(r"\b(ong|ba|anh|chi) ay\b")
_VI_POINTS_FOLDED = re.compile(r"^no (duoc|co|la|do|nam|ap|thuoc|bat|ket|ra|se|da|con)\b|\bcua no\b"
                               r"|\b(cai|cong|van ban|chuong trinh|hoi nghi|su kien|nghi quyet|ke hoach|chi thi) (do|nay|ay)\b")
# ... pronouns that stand for a person (typed with or without marks)
_PERSON_PRONOUN = re.compile(r"(?<!\w)(?:he|him|his|she|her|(?:ông|bà|anh|chị|ong|ba|chi) (?:ấy|ay|ta))(?!\w)",
                             re.IGNORECASE)
# ... and, once a person is meant, "ông" / "bà" with no name after it ("Ông còn đề nghị ...", "thì ông yêu
# cầu gì?"); typed without marks, only "ong" opening the question ("ba" is also "three")
_BARE_HONORIFIC = re.compile(r"(?<!\w)(?:ông|bà|Ông|Bà)(?!\w)(?!\s+[A-ZĐÀ-Ỹ])|^(?:ong|Ong)(?=\s+[a-z])")
MAX_SUBJECT_CHARS = 80
_BOTH = re.compile(r"\b(in both cases|both of them|ca hai)\b")
# "for priority ones", "the latter": words that stand for what the previous turn named
_REFERS = re.compile(r"\b(ones|the latter|the former|this one|that one|the other one)\b")
MAX_FOLLOW_UP_WORDS = 12  # a message opening or ending as a follow-up ("thế còn ... thì sao?") may run this long


def looks_like_follow_up(question: str, language: str = "", known_pair: Callable[[str], bool] | None = None) -> bool:
    """`known_pair`: whether two folded syllables ("giai doan") are a pair the documents hold."""
    folded = fold(question).strip()
    words = tokens(question)
    if not words or len(words) > MAX_FOLLOW_UP_WORDS:
        return False
    if _FOLLOW_UP.search(folded) or _POINTS_BACK.search(folded) or _BOTH.search(folded) or _REFERS.search(folded) \
            or (language == "vi" and _VI_POINTS_FOLDED.search(folded)):
        return True  # "thế còn các giai đoạn triển khai thì sao?", "... in both cases?"
    if len(words) > 8:
        return False
    if _PRONOUN.search(folded) or _VI_PRONOUN.search(question.lower()) or _VI_PRONOUN_FOLDED.search(folded):
        return True
    if any(any(c.isdigit() for c in w) for w in words) or any(w[:1].isupper() for w in question.split()[1:]):
        return False  # a number or a name: the question names its own subject
    if language == "vi":  # syllables, and function words ("cho", "với") name nothing
        content = [w for w in words if w not in _ASKING and w not in STOPWORDS]
        if len(content) <= MAX_BARE_CONTENT:
            return len(content) < len(words)
        # three or four syllables lean on the previous turn when they are words of the documents
        # ("áp dụng cho giai đoạn nào?"), not a new subject ("làm sao để giảm cân nhanh?")
        pairs = [f"{a} {b}" for a, b in zip(words, words[1:], strict=False) if a in content and b in content]
        return (len(content) <= MAX_BARE_SYLLABLES_VI and bool(pairs) and known_pair is not None
                and all(known_pair(p) for p in pairs))
    content = [w for w in words if w not in _ASKING]
    return len(words) <= 6 and len(content) <= MAX_BARE_CONTENT and len(content) < len(words)


class ChatMemory:
    def __init__(self, db: Database, turns: int = 4, ttl_seconds: int = 1800) -> None:
        self.db = db
        self.turns = turns
        self.ttl = ttl_seconds

    def recent(self, chat_key: str) -> list[Turn]:
        if self.turns <= 0:
            return []
        rows = self.db.query(
            "SELECT question, search_query, language, subject FROM memory WHERE chat_key=? AND ts>=? "
            "ORDER BY id DESC LIMIT ?", (chat_key, time.time() - self.ttl, self.turns))
        return [Turn(r["question"], r["search_query"], r["language"], r["subject"]) for r in reversed(rows)]

    def with_person(self, chat_key: str | None, question: str,
                    history: list[Turn] | None = None) -> tuple[str, str]:
        """The question with "he" / "his" / "ông ấy" ... put as the person the previous answer named
        ("which sectors did he want investment in?" -> "... did Ngo Le Van want ..."), and that
        person; as asked, and "", when it has no such pronoun or the previous answer named no one.
        `history`: the chat's `recent` turns, when the caller has read them already."""
        if not chat_key:
            return question, ""
        history = self.recent(chat_key) if history is None else history
        name = history[-1].subject if history else ""
        if not name:
            return question, ""

        def put(m: re.Match[str]) -> str:
            return f"{name}'s" if m.group(0).lower() == "his" else name

        for pronoun in (_PERSON_PRONOUN, _BARE_HONORIFIC):
            if pronoun.search(question):
                return pronoun.sub(put, question, count=1), name
        return question, ""

    def remember(self, chat_key: str, question: str, search_query: str, language: str, subject: str = "") -> None:
        if self.turns <= 0:
            return
        now = time.time()
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO memory(chat_key, ts, question, search_query, language, subject) "
                         "VALUES (?,?,?,?,?,?)",
                         (chat_key, now, question[:MAX_STORED_CHARS], search_query[:MAX_STORED_CHARS], language,
                          subject[:MAX_SUBJECT_CHARS]))
            conn.execute("DELETE FROM memory WHERE chat_key=? AND id NOT IN "
                         "(SELECT id FROM memory WHERE chat_key=? ORDER BY id DESC LIMIT ?)",
                         (chat_key, chat_key, self.turns))
            conn.execute("DELETE FROM memory WHERE ts < ?", (now - self.ttl,))

    def forget(self, chat_key: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM memory WHERE chat_key=?", (chat_key,))

    def contextual_query(self, chat_key: str | None, question: str, language: str = "",
                         known_pair: Callable[[str], bool] | None = None, history: list[Turn] | None = None) -> str:
        """The text to search for: the question, joined with the last topic when it is a follow-up."""
        if not chat_key:
            return question
        history = self.recent(chat_key) if history is None else history
        if not history or not looks_like_follow_up(question, language, known_pair):
            return question
        return f"{question}\n{history[-1].search_query}"
