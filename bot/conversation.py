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
from bot.answering.assistant import Assistant
from bot.cases import Case, CaseStore
from bot.config import Settings
from bot.faq import write_faq
from bot.handoff import DELIVERED, HandOff, is_consent, officer_request
from bot.language import detect, other
from bot.memory import ChatMemory
from bot.offices import Office, Offices
from bot.privacy import forget, mask, pseudonym, purge
from bot.ratelimit import RateLimiter
from bot.staff import Gap, StaffLog
from bot.storage import Database
from bot.syncing import Syncer
from bot.texts import COMMANDS, EXAMPLES, STAFF_COMMANDS, t
from bot.workers import WorkerPool
from indexer.refresh import RefreshSummary, refresh
from indexer.search import IndexNotReady
from indexer.text import squash

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
    kind: str  # answer | refusal | handoff_offer | case_opened | rate_limited | invalid | error
    offer_id: int | None = None  # set when the person may forward the question to an officer
    office: Office | None = None  # the office that fits the question's topic (with an offer)


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
        self.syncer = Syncer(settings.index)
        self.cases = CaseStore(db)
        self.offices = Offices(settings.index.knowledge_dir)
        self.handoff = HandOff(db, self.cases, self.offices)
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
        await self.deliver_waiting(user)
        handed = await self._handoff_step(user, text, lang)
        if handed is not None:
            return handed
        started = time.perf_counter()
        try:
            # the question's analysis on a worker, then its vector awaited here: the model embeds it
            # together with the questions arriving with it, and no worker waits for the model
            search_text = await self.workers.run(self.assistant.prepare, text,
                                                 language=self.preferred_language(user), chat_key=user.chat_key)
            await self.assistant.engine.embed_query_async(search_text)
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
        log.info("answered", extra={"channel": user.channel, "language": answer.language,
                                    "refused": answer.refused, "citations": len(answer.citations),
                                    "seconds": round(seconds, 4), "composer": answer.composer})
        if answer.refused:
            metrics.REFUSALS.labels(user.channel, answer.language).inc()
            offer_id = await asyncio.to_thread(self.handoff.offer, user.key, user.chat_id or user.user_id,
                                               answer.language, text, "refused")
            return Reply(answer, answer_id, "refusal", offer_id,
                         self.offices.office_for(text, answer.language))
        return Reply(answer, answer_id, "answer")

    # -- hand-off to an officer ------------------------------------------------------------------
    async def _handoff_step(self, user: User, text: str, lang: str) -> Reply | None:
        """A consent to a pending offer opens a case; a request for an officer makes an offer."""
        if is_consent(text) and await asyncio.to_thread(self.handoff.has_offer, user.key):
            return await self.accept_handoff(user)
        request = officer_request(text)
        if request is None:
            return None
        if request:
            question, qlang = request, detect(request, lang) if not self.preferred_language(user) else lang
        else:
            last = await asyncio.to_thread(self.handoff.last_question, user.key)
            if last is None:
                return self._notice(text, lang, "handoff_need_question", "invalid")
            question, qlang = last[0], last[1]
        offer_id = await asyncio.to_thread(self.handoff.offer, user.key, user.chat_id or user.user_id, qlang,
                                           question, "requested")
        office = self.offices.office_for(question, qlang)
        body = t("handoff_request", qlang, question=question[:300], how="{how}")
        return Reply(Answer(question, qlang, body, True, (), "notice"), None, "handoff_offer", offer_id, office)

    def offer_text(self, reply: Reply, words: bool) -> str:
        """The hand-off offer that goes with a reply: press a button, or (Zalo) answer "yes"."""
        lang = reply.answer.language
        how = t("handoff_how_word" if words else "handoff_how_button", lang)
        if reply.kind == "handoff_offer":
            text = reply.answer.text.replace("{how}", how)
        else:
            text = t("handoff_offer", lang, how=how)
        if reply.office is not None and reply.office.name not in text:  # a refusal names it already
            text += "\n" + t("handoff_office", lang, office=reply.office.line(lang))
        return text

    async def accept_handoff(self, user: User, offer_id: int | None = None) -> Reply:
        """The person agreed: open the case, tell staff, and say so with the case number."""
        case = await asyncio.to_thread(self.handoff.accept, user.channel, user.key, offer_id)
        lang = self.language(user)
        if case is None:
            return self._notice("", lang, "handoff_expired", "invalid")
        await self.handoff.tell_staff("new", case)
        text = t("case_opened", case.language, case=case.id)
        return Reply(Answer(case.question, case.language, text, False, (), "notice"), None, "case_opened")

    async def deliver_waiting(self, user: User) -> None:
        """Officer replies (or closing notes) the person has not received yet go out now."""
        waiting = await asyncio.to_thread(self.cases.waiting_for, user.key)
        for case in waiting:
            if await self.handoff.deliver(case, self.person_text(case)) == DELIVERED:
                fresh = await asyncio.to_thread(self.cases.get, case.id)
                await self.handoff.tell_staff("delivered_late", fresh or case)

    @staticmethod
    def person_text(case: Case) -> str:
        if case.status == "closed":
            return t("case_closed_person", case.language, case=case.id, question=case.question[:200],
                     reason=case.close_reason)
        return t("officer_reply", case.language, case=case.id, question=case.question[:300], reply=case.reply)

    async def staff_answer(self, case_id: int, reply: str) -> tuple[Case | None, str]:
        """An officer answered: store it and deliver it; (case, delivery status)."""
        case = await asyncio.to_thread(self.cases.answer, case_id, reply)
        if case is None:
            return None, ""
        status = await self.handoff.deliver(case, self.person_text(case))
        return await asyncio.to_thread(self.cases.get, case_id), status

    async def staff_close(self, case_id: int, reason: str) -> tuple[Case | None, str]:
        case = await asyncio.to_thread(self.cases.close, case_id, reason)
        if case is None:
            return None, ""
        status = await self.handoff.deliver(case, self.person_text(case))
        return await asyncio.to_thread(self.cases.get, case_id), status

    def who(self, user_key: str) -> str:
        """The pseudonymous id staff see instead of a chat id."""
        return pseudonym(self.db, user_key)

    def cases_text(self, lang: str) -> str:
        cases = self.cases.open_cases()
        if not cases:
            return t("cases_none", lang)
        lines = [t("cases_head", lang, count=len(cases))]
        now = time.time()
        for c in cases:
            flag = f" ⚠️ {t('cases_undelivered', lang)}" if c.delivery == "undelivered" else ""
            lines.append(f"#{c.id} · {c.age(now)} · {c.language} · {c.channel} · {self.who(c.user_key)}{flag}: "
                         f"{mask(c.question)[:160]}")
        return "\n".join(lines)

    # -- personal data ---------------------------------------------------------------------------
    def privacy(self, lang: str) -> str:
        return t("privacy", lang, days=self.settings.data_retention_days)

    async def forget(self, user: User, lang: str | None = None) -> str:
        """Delete everything about the person (every table); the confirmation in their language."""
        lang = lang or self.language(user)
        await asyncio.to_thread(forget, self.db, user.channel, user.user_id)
        return t("forget_done", lang)

    async def publish(self, case_id: int, department: str, lang: str) -> str:
        """Write the case's answer as a Q&A document under knowledge/faq/ and refresh the index."""
        case = await asyncio.to_thread(self.cases.get, case_id)
        if case is None:
            return t("case_unknown", lang, case=case_id)
        if not case.reply:
            return t("publish_unanswered", lang, case=case_id)
        department = department.strip() or case.department or case.office or (
            "cán bộ thành phố" if case.language == "vi" else "city staff")
        knowledge = self.settings.index.knowledge_dir
        path = await asyncio.to_thread(write_faq, knowledge, case, department)
        relative = path.relative_to(knowledge).as_posix()
        await asyncio.to_thread(self.cases.published_as, case_id, relative, department)
        summary = await self.reindex(lang)
        log.info("case published", extra={"case": case_id, "path": relative})
        return t("published", lang, case=case_id, path=f"knowledge/{relative}", department=department,
                 date=time.strftime("%Y-%m-%d"), summary=summary)

    def purge_old(self) -> dict[str, int]:
        return purge(self.db, self.settings.data_retention_days)

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
        """The greeting, the personal-data paragraph, then the invitation to ask (examples follow)."""
        greeting, _, invitation = t("welcome", lang).rpartition("\n\n")
        return f"{greeting}\n\n{self.privacy(lang)}\n\n{invitation}"

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
        return t("stats", lang, **index, **usage) + "\n" + self.syncer.last_text(lang)

    async def sync(self, lang: str) -> str:
        """Sync the portals (staff's /sync); the bot keeps answering meanwhile."""
        return self.syncer.report(await self.syncer.run(), lang)

    def gaps(self, lang: str, limit: int = 10) -> list[Gap]:
        return self.staff.gaps(limit=limit)

    def gaps_text(self, lang: str, limit: int = 10) -> str:
        """Refused or down-voted questions and open cases, grouped by topic (the office that fits),
        askers shown by pseudonym, phone/ID numbers and e-mail addresses masked."""
        gaps = self.gaps(lang, limit)
        cases = [c for c in self.cases.open_cases() if c.status == "open"]
        if not gaps and not cases:
            return t("gaps_none", lang)
        names = {o.id: o.name for o in self.offices.offices(lang)}
        groups: dict[str, list[str]] = {}
        for g in gaps:
            who = ", ".join(self.who(u) for u in g.users[:3]) + (" …" if len(g.users) > 3 else "")
            counts = (f"×{g.count} (refused {g.refused}, 👎 {g.down_votes})" if lang == "en"
                      else f"×{g.count} (từ chối {g.refused}, 👎 {g.down_votes})")
            topic = names.get(self.offices.topic(g.question) or "", t("gaps_topic_other", lang))
            groups.setdefault(topic, []).append(f"• {mask(g.question)} — {counts} [{who}]")
        for c in cases:
            topic = names.get(self.offices.topic(c.question) or "", t("gaps_topic_other", lang))
            groups.setdefault(topic, []).append(
                f"• {mask(squash(c.question))[:200]} — {t('gaps_open_cases', lang)} #{c.id} [{self.who(c.user_key)}]")
        lines = [t("gaps_head", lang)]
        for topic in sorted(groups, key=lambda k: (-len(groups[k]), k)):
            lines.append(f"\n{topic} ({len(groups[topic])}):")
            lines.extend(groups[topic])
        return "\n".join(lines)
