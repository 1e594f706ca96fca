"""Cases: questions handed to city staff. A case remembers who asked (channel, user, chat), in which
language, the question, the last turns and why it was handed over; then the staff post it was
announced in, the officer's reply or the reason it was closed, and whether the person received it.
Stored in the shared SQLite database, so every bot process sharing DATA_DIR sees the same cases."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from bot.storage import Database

OPEN, ANSWERED, CLOSED = "open", "answered", "closed"
# delivery of the reply (or the closing reason) to the person
PENDING, DELIVERED, UNDELIVERED = "pending", "delivered", "undelivered"


@dataclass(frozen=True)
class Case:
    id: int
    ts: float
    updated: float
    channel: str
    user_key: str
    chat_id: str
    language: str
    question: str
    turns: tuple[dict[str, Any], ...]
    reason: str  # refused | requested
    office: str
    status: str
    staff_chat_id: str
    staff_message_id: int | None
    reply: str
    department: str
    close_reason: str
    delivery: str
    delivery_error: str
    published: str

    @property
    def user_id(self) -> str:
        return self.user_key.partition(":")[2]

    def age(self, now: float | None = None) -> str:
        seconds = max(0, int((now or time.time()) - self.ts))
        days, rest = divmod(seconds, 86400)
        hours, rest = divmod(rest, 3600)
        minutes = rest // 60
        if days:
            return f"{days}d {hours}h"
        if hours:
            return f"{hours}h {minutes}m"
        return f"{minutes}m"


def _case(row: Any) -> Case:
    data = dict(row)
    data["turns"] = tuple(json.loads(data["turns"] or "[]"))
    return Case(**data)


class CaseStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def open(self, channel: str, user_key: str, chat_id: str, language: str, question: str,
             turns: list[dict[str, Any]], reason: str, office: str) -> Case:
        now = time.time()
        with self.db.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO cases(ts, updated, channel, user_key, chat_id, language, question, turns, reason,"
                " office) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (now, now, channel, user_key, chat_id, language, question[:4000],
                 json.dumps(turns, ensure_ascii=False), reason, office))
            case_id = int(cur.lastrowid or 0)
        case = self.get(case_id)
        assert case is not None
        return case

    def get(self, case_id: int) -> Case | None:
        rows = self.db.query("SELECT * FROM cases WHERE id=?", (case_id,))
        return _case(rows[0]) if rows else None

    def open_cases(self) -> list[Case]:
        """Cases still waiting for staff, and answered ones the person has not received yet."""
        rows = self.db.query("SELECT * FROM cases WHERE status=? OR delivery=? ORDER BY ts",
                             (OPEN, UNDELIVERED))
        return [_case(r) for r in rows]

    def by_post(self, staff_chat_id: int | str, message_id: int) -> Case | None:
        rows = self.db.query("SELECT * FROM cases WHERE staff_chat_id=? AND staff_message_id=?",
                             (str(staff_chat_id), message_id))
        return _case(rows[0]) if rows else None

    def unposted(self) -> list[Case]:
        rows = self.db.query("SELECT * FROM cases WHERE status=? AND staff_message_id IS NULL ORDER BY ts", (OPEN,))
        return [_case(r) for r in rows]

    def _update(self, case_id: int, **values: object) -> Case | None:
        values["updated"] = time.time()
        columns = ", ".join(f"{k}=?" for k in values)
        with self.db.transaction() as conn:
            conn.execute(f"UPDATE cases SET {columns} WHERE id=?", (*values.values(), case_id))
        return self.get(case_id)

    def claim_post(self, case_id: int) -> bool:
        """Take the job of announcing a case to staff; False when another process (or task) has it."""
        with self.db.transaction() as conn:
            return conn.execute("UPDATE cases SET staff_message_id=0 WHERE id=? AND staff_message_id IS NULL",
                                (case_id,)).rowcount == 1

    def unclaim_post(self, case_id: int) -> None:
        """The announcement failed: let the next try have it."""
        with self.db.transaction() as conn:
            conn.execute("UPDATE cases SET staff_message_id=NULL WHERE id=? AND staff_message_id=0", (case_id,))

    def posted(self, case_id: int, staff_chat_id: int | str, message_id: int) -> None:
        self._update(case_id, staff_chat_id=str(staff_chat_id), staff_message_id=message_id)

    def answer(self, case_id: int, reply: str) -> Case | None:
        return self._update(case_id, status=ANSWERED, reply=reply[:4000], delivery=PENDING, delivery_error="")

    def close(self, case_id: int, reason: str) -> Case | None:
        return self._update(case_id, status=CLOSED, close_reason=reason[:1000], delivery=PENDING,
                            delivery_error="")

    def delivered(self, case_id: int) -> Case | None:
        return self._update(case_id, delivery=DELIVERED, delivery_error="")

    def undelivered(self, case_id: int, error: str) -> Case | None:
        return self._update(case_id, delivery=UNDELIVERED, delivery_error=error[:300])

    def waiting_for(self, user_key: str) -> list[Case]:
        """Replies and closing notes not yet received by this person (delivered at their next message)."""
        rows = self.db.query("SELECT * FROM cases WHERE user_key=? AND delivery IN (?, ?) ORDER BY updated",
                             (user_key, PENDING, UNDELIVERED))
        return [_case(r) for r in rows]

    def published_as(self, case_id: int, path: str, department: str) -> Case | None:
        return self._update(case_id, published=path, department=department)
