"""The conversation layer between channels and the answering core.

Channels hand over who is talking and what they sent; this layer applies the per-user language
choice, the rate limit and input checks, asks the Assistant, records the exchange for staff, and
hands back a Reply for the channel to render. It knows nothing of Telegram or Zalo.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from bot import metrics
from bot.answering.answer import Answer
from bot.answering.assistant import MAX_QUESTION_CHARS, Assistant
from bot.config import Settings
from bot.language import detect, other
from bot.memory import ChatMemory, looks_like_follow_up
from bot.ratelimit import RateLimiter
from bot.staff import Gap, StaffLog
from bot.storage import Database
from bot.texts import COMMANDS, EXAMPLES, STAFF_COMMANDS, t
from bot.workers import WorkerPool
from indexer.refresh import RefreshSummary, refresh
from indexer.search import IndexNotReady

log = logging.getLogger("bot.conversation")


@dataclass(frozen=True)
class User:
    """Who is talking, channel-neutral. `chat_id` keys the conversation memory."""

    channel: str  # telegram | zalo_bot | zalo_oa | console
    user_id: str
    chat_id: str = ""

    @property
    def key(self) -> str:
        return f"{self.channel}:{self.user_id}"

    @property
    def chat_key(self) -> str:
        return f"{self.channel}:{self.chat_id or self.user_id}"


@dataclass(frozen=True)
class Reply:
    answer: Answer
    answer_id: int | None  # set when the reply is an answer that can be voted on
    kind: str  # answer | refusal | rate_limited | invalid | error


@dataclass(frozen=True)
class SourceItem:
    title: str
    url: str
    published: str
    language: str
    kind: str
    source: str
    unofficial_translation: bool


class Conversation:
    def __init__(self, settings: Settings, assistant: Assistant, db: Database) -> None:
        self.settings = settings
        self.assistant = assistant
        self.db = db
        self.staff = StaffLog(db)
        self.limiter = RateLimiter(db, settings.rate_limit_per_minute)
        self._refresh_lock = asyncio.Lock()
        self.workers = WorkerPool()  # CPU work (answers) off the event loop, one thread per core

    @classmethod
    def create(cls, settings: Settings) -> Conversation:
        db = Database(settings.data_dir / "bot.sqlite3")
        memory = ChatMemory(db, settings.memory_turns, settings.memory_ttl_seconds)
        return cls(settings, Assistant(settings, memory=memory), db)

    # -- language --------------------------------------------------------------------------------
    def preferred_language(self, user: User) -> str | None:
        rows = self.db.query("SELECT language FROM preferences WHERE user_key=?", (user.key,))
        return rows[0]["language"] if rows else None

    def language(self, user: User, text: str | None = None) -> str:
        """The user's chosen language, else the language of `text`, else the default."""
        chosen = self.preferred_language(user)
        if chosen:
            return chosen
        return detect(text, self.settings.default_language) if text else self.settings.default_language

    def set_language(self, user: User, lang: str) -> str:
        lang = "en" if lang == "en" else "vi"
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO preferences(user_key, language, ts) VALUES (?,?,?) "
                         "ON CONFLICT(user_key) DO UPDATE SET language=excluded.language, ts=excluded.ts",
                         (user.key, lang, time.time()))
        return t("language_set", lang)

    def toggle_language(self, user: User, text: str | None = None) -> str:
        """Switch to the other language; returns the confirmation, in the new language."""
        return self.set_language(user, other(self.language(user, text)))

    # -- questions -------------------------------------------------------------------------------
    def _notice(self, question: str, lang: str, key: str, kind: str, **values: object) -> Reply:
        return Reply(Answer(question, lang, t(key, lang, **values), True, (), "notice"), None, kind)

    async def ask(self, user: User, text: str | None) -> Reply:
        """Answer one message. Never raises: failures become a polite reply."""
        text = (text or "").replace("\x00", "").strip()
        lang = self.language(user, text[:500])
        if not text:
            return self._notice("", lang, "empty", "invalid")
        if len(text) > self.settings.max_question_chars:
            return self._notice(text[:200], lang, "too_long", "invalid", chars=len(text),
                                limit=self.settings.max_question_chars)
        if not self.limiter.allow(user.key):
            metrics.RATE_LIMITED.labels(user.channel).inc()
            return self._notice(text, lang, "rate_limited", "rate_limited")
        started = time.perf_counter()
        if not looks_like_follow_up(text):  # a follow-up is searched with the previous topic
            # embedding starts now, batched with the questions that arrive with it; the answer finds it
            self.assistant.engine.prefetch_query(text[:MAX_QUESTION_CHARS])
        try:
            answer, seconds, answer_id = await self.workers.run(self._answer_and_record, user, text, started)
        except IndexNotReady:
            log.error("question while the index is not built", extra={"channel": user.channel})
            return self._notice(text, lang, "not_ready", "error")
        except Exception:
            metrics.ERRORS.labels(user.channel).inc()
            log.exception("answering failed", extra={"channel": user.channel})
            return self._notice(text, lang, "error", "error")
        metrics.ANSWER_SECONDS.observe(seconds)
        metrics.QUESTIONS.labels(user.channel, answer.language).inc()
        if answer.refused:
            metrics.REFUSALS.labels(user.channel, answer.language).inc()
        log.info("answered", extra={"channel": user.channel, "language": answer.language,
                                    "refused": answer.refused, "citations": len(answer.citations),
                                    "seconds": round(seconds, 4), "composer": answer.composer})
        return Reply(answer, answer_id, "refusal" if answer.refused else "answer")

    def _answer_and_record(self, user: User, text: str, started: float) -> tuple[Answer, float, int]:
        """Answer and store the exchange in one worker job: under a burst of questions, recording an
        answer then does not queue behind every other question's answering."""
        answer = self.assistant.answer(text, language=self.preferred_language(user), chat_key=user.chat_key)
        seconds = time.perf_counter() - started
        return answer, seconds, self.staff.record_answer(user.channel, user.key, answer, seconds)

    async def vote(self, user: User, answer_id: int, up: bool) -> str:
        ok = await asyncio.to_thread(self.staff.vote, answer_id, user.key, up)
        # thank in the user's chosen language, else in the language of the answer voted on
        lang = self.preferred_language(user) or self._answer_language(answer_id) or self.language(user)
        if ok:
            metrics.VOTES.labels("up" if up else "down").inc()
        return t("vote_thanks" if ok else "vote_unknown", lang)

    def _answer_language(self, answer_id: int) -> str | None:
        rows = self.db.query("SELECT language FROM answers WHERE id=?", (answer_id,))
        return str(rows[0]["language"]) if rows else None

    # -- fixed texts -----------------------------------------------------------------------------
    def welcome(self, lang: str) -> str:
        return t("welcome", lang)

    def examples(self, lang: str) -> list[str]:
        return list(EXAMPLES.get(lang, EXAMPLES["en"]))

    def help(self, lang: str, prefix: str = "/", staff: bool = False) -> str:
        entries = dict(COMMANDS)
        if staff:
            entries.update(STAFF_COMMANDS)
        commands = "\n".join(f"{prefix}{name} — {desc[lang]}" for name, desc in entries.items())
        return t("help", lang, commands=commands)

    def about(self, lang: str) -> str:
        try:
            manifest = self.assistant.engine.manifest()
            return t("about", lang, documents=manifest.documents, chunks=manifest.chunks,
                     refreshed=manifest.refreshed_at)
        except Exception:
            return t("about", lang, documents="?", chunks="?", refreshed="?")

    def sources(self, lang: str) -> list[SourceItem]:
        """What the knowledge base holds, newest first; translations shown in the asker's language."""
        docs = self.assistant.engine.documents()
        originals = {d["doc_id"]: d for d in docs if not d["translation_of"]}
        chosen: dict[str, dict[str, Any]] = dict(originals)
        for d in docs:
            target = d["translation_of"]
            if target and target in chosen and d["language"] == lang:
                chosen[target] = d
            elif target and target not in originals:
                chosen[d["doc_id"]] = d
        items = [SourceItem(str(d["title"]), str(d["url"]), str(d["published"]), str(d["language"]),
                            str(d["kind"]), str(d["source"]), bool(d["unofficial_translation"]))
                 for d in chosen.values()]
        return sorted(items, key=lambda s: (s.published, s.title), reverse=True)

    def non_text(self, lang: str) -> str:
        return t("non_text", lang)

    def unknown_command(self, lang: str) -> str:
        return t("unknown_command", lang)

    def staff_only(self, lang: str) -> str:
        return t("staff_only", lang)

    def record_event(self, user: User, kind: str) -> None:
        self.staff.record_event(user.channel, user.key, kind)

    # -- staff -----------------------------------------------------------------------------------
    async def reindex(self, lang: str) -> str:
        """Run a refresh in a worker thread; the bot keeps answering from the current index."""
        async with self._refresh_lock:
            try:
                summary: RefreshSummary = await asyncio.to_thread(refresh, self.settings.index)
            except Exception as exc:
                log.exception("refresh failed")
                return t("reindex_failed", lang, error=str(exc)[:300])
        return t("reindex_done", lang, added=summary.added, updated=summary.updated,
                 removed=summary.removed, unchanged=summary.unchanged, skipped=len(summary.skipped),
                 seconds=summary.seconds)

    def stats(self, lang: str) -> str:
        usage = self.staff.usage()
        try:
            m = self.assistant.engine.manifest()
            index = {"documents": m.documents, "chunks": m.chunks, "model": m.model,
                     "refreshed": m.refreshed_at,
                     "languages": ", ".join(f"{k}: {v}" for k, v in sorted(m.languages.items()))}
        except Exception:
            index = {"documents": "?", "chunks": "?", "model": "?", "refreshed": "?", "languages": "?"}
        return t("stats", lang, **index, **usage)

    def gaps(self, lang: str, limit: int = 10) -> list[Gap]:
        return self.staff.gaps(limit=limit)

    def gaps_text(self, lang: str, limit: int = 10) -> str:
        gaps = self.gaps(lang, limit)
        if not gaps:
            return t("gaps_none", lang)
        lines = [t("gaps_head", lang)]
        for g in gaps:
            lines.append(f"• {g.question} — ×{g.count} (refused {g.refused}, 👎 {g.down_votes})"
                         if lang == "en" else f"• {g.question} — ×{g.count} (từ chối {g.refused}, 👎 {g.down_votes})")
        return "\n".join(lines)
