"""Handing a question to a person: the offer after a refusal or when someone asks for an officer,
the consent that opens a case, and delivering the officer's reply (or the closing reason) back to
the person on their own channel. Channel-neutral: channels register how to deliver a text to a chat
(`Deliver`) and who tells staff about cases (`StaffListener`)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable

from bot.cases import Case, CaseStore
from bot.offices import Offices
from bot.storage import Database
from indexer.text import fold

log = logging.getLogger("bot.handoff")

OFFER_SECONDS = 3600.0  # an offer can be accepted for an hour
LAST_QUESTION_SECONDS = 3600.0  # "talk to an officer" forwards a question asked within the hour
TURNS = 4  # earlier exchanges stored with a case
DELIVERED, WINDOW, FAILED = "delivered", "window", "failed"

# (chat id, text) -> DELIVERED | WINDOW (outside a channel's messaging window) | FAILED
Deliver = Callable[[str, str], Awaitable[str]]
# (event, case): event is new | delivered_late
StaffListener = Callable[[str, Case], Awaitable[None]]

_REQUEST = re.compile(
    r"^\s*(?:i\s+(?:want|would\s+like)\s+to\s+|can\s+i\s+|please\s+|xin\s+|cho\s+(?:toi|minh|em)\s+|toi\s+muon\s+|muon\s+)?"
    r"(?:talk|speak|chat)\s+(?:to|with)\s+(?:an?\s+|the\s+)?(?:officer|official|person|human|staff(?:\s+member)?)"
    r"|^\s*(?:i\s+(?:want|would\s+like)\s+to\s+|can\s+i\s+|please\s+)?ask\s+(?:an?\s+|the\s+)?(?:officer|official|person|human)"
    r"|^\s*(?:xin\s+|cho\s+(?:toi|minh|em)\s+|toi\s+muon\s+|muon\s+)?"
    r"(?:gap|hoi|noi\s+chuyen\s+voi|lien\s+he|chuyen\s+cho|chuyen\s+toi)\s+(?:voi\s+)?(?:can\s+bo|nguoi\s+that|nhan\s+vien)",
)
_CONSENT = frozenset({"yes", "y", "ok", "okay", "sure", "forward", "forward it", "yes please", "please do",
                      "co", "dong y", "gui", "gui di", "chuyen", "chuyen di", "vang", "u", "uh", "da", "dong y gui",
                      "co gui", "co chuyen"})
_EDGE = re.compile(r"^[\s/#!.,?\"'«»“”:;-]+|[\s!.,?\"'«»“”:;-]+$")


def _folded(text: str) -> str:
    return " ".join(_EDGE.sub("", fold(text or "")).split())


def officer_request(text: str) -> str | None:
    """None when `text` does not ask for a person; else the question that came with the request
    ("" when the request stands alone)."""
    folded = fold(text or "")
    m = _REQUEST.match(folded)
    if not m:
        return None
    rest = (text or "")[m.end():]
    rest = re.sub(r"^[\s:,.;!?-]+", "", rest).strip()
    rest = re.sub(r"^(?:about|ve|rang|la)\s+", "", rest, flags=re.IGNORECASE)
    return rest if len(rest) >= 8 else ""


def is_consent(text: str) -> bool:
    return len(text or "") <= 30 and _folded(text) in _CONSENT


class HandOff:
    def __init__(self, db: Database, cases: CaseStore, offices: Offices) -> None:
        self.db = db
        self.cases = cases
        self.offices = offices
        self.deliverers: dict[str, Deliver] = {}
        self.listeners: list[StaffListener] = []

    # -- the person's side -----------------------------------------------------------------------
    def offer(self, user_key: str, chat_id: str, lang: str, question: str, reason: str) -> int:
        now = time.time()
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM handoff_offers WHERE user_key=? OR ts < ?", (user_key, now - OFFER_SECONDS))
            cur = conn.execute("INSERT INTO handoff_offers(ts, user_key, chat_id, language, question, reason)"
                               " VALUES (?,?,?,?,?,?)", (now, user_key, chat_id, lang, question[:4000], reason))
            return int(cur.lastrowid or 0)

    def has_offer(self, user_key: str) -> bool:
        return bool(self.db.query("SELECT 1 FROM handoff_offers WHERE user_key=? AND ts >= ?",
                                  (user_key, time.time() - OFFER_SECONDS)))

    def last_question(self, user_key: str) -> tuple[str, str, bool] | None:
        """(question, language, refused) of the person's latest question within the hour."""
        rows = self.db.query("SELECT question, language, refused FROM answers WHERE user_key=? AND ts >= ? "
                             "ORDER BY id DESC LIMIT 1", (user_key, time.time() - LAST_QUESTION_SECONDS))
        return (rows[0]["question"], rows[0]["language"], bool(rows[0]["refused"])) if rows else None

    def _turns(self, user_key: str, question: str) -> list[dict[str, object]]:
        rows = self.db.query("SELECT ts, question, answer, refused FROM answers WHERE user_key=? "
                             "ORDER BY id DESC LIMIT ?", (user_key, TURNS + 1))
        turns = [{"question": r["question"], "answer": r["answer"][:600], "refused": bool(r["refused"])}
                 for r in reversed(rows)]
        return [t for t in turns if t["question"] != question][-TURNS:]

    def accept(self, channel: str, user_key: str, offer_id: int | None = None) -> Case | None:
        """Open a case from the person's pending offer (the given one, or the latest)."""
        since = time.time() - OFFER_SECONDS
        if offer_id is None:
            rows = self.db.query("SELECT * FROM handoff_offers WHERE user_key=? AND ts >= ? ORDER BY id DESC LIMIT 1",
                                 (user_key, since))
        else:
            rows = self.db.query("SELECT * FROM handoff_offers WHERE id=? AND user_key=? AND ts >= ?",
                                 (offer_id, user_key, since))
        if not rows:
            return None
        offer = rows[0]
        with self.db.transaction() as conn:
            taken = conn.execute("DELETE FROM handoff_offers WHERE id=?", (offer["id"],)).rowcount
        if not taken:  # pressed twice, or taken by another process
            return None
        office = self.offices.office_for(offer["question"], offer["language"])
        case = self.cases.open(channel, user_key, offer["chat_id"], offer["language"], offer["question"],
                               self._turns(user_key, offer["question"]), offer["reason"],
                               office.name if office else "")
        log.info("case opened", extra={"case": case.id, "channel": channel, "language": case.language,
                                       "reason": case.reason})
        return case

    # -- delivering to the person ----------------------------------------------------------------
    async def deliver(self, case: Case, text: str) -> str:
        deliver = self.deliverers.get(case.channel)
        if deliver is None:
            status = FAILED
            why = f"the {case.channel} channel is not running in this process"
        else:
            try:
                status = await deliver(case.chat_id, text)
            except Exception as exc:
                log.exception("case delivery failed", extra={"case": case.id})
                status = FAILED
                why = type(exc).__name__
            else:
                why = "outside the messaging window" if status == WINDOW else "the channel refused the message"
        if status == DELIVERED:
            await asyncio.to_thread(self.cases.delivered, case.id)
        else:
            await asyncio.to_thread(self.cases.undelivered, case.id, why)
        log.info("case reply delivery", extra={"case": case.id, "channel": case.channel, "status": status})
        return status

    async def tell_staff(self, event: str, case: Case) -> None:
        for listener in list(self.listeners):
            try:
                await listener(event, case)
            except Exception:
                log.exception("could not tell staff about a case", extra={"case": case.id, "event": event})


