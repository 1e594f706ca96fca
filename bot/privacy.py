"""Personal data (Decree 13/2023/NĐ-CP): what the bot keeps about a person, for how long, and how it
is shown or deleted on request.

- `pseudonym(user_key)`: the short id staff views and exports show instead of a raw chat id.
- `mask(text)`: phone numbers, ID-card/passport numbers and e-mail addresses hidden in questions
  shown to staff.
- `forget(db, ...)`: every row about one person, in every table, deleted in one transaction.
- `purge(db, days)`: rows older than DATA_RETENTION_DAYS deleted (at start and daily).
- `show(db, ...)`: every row about one person, for a data-access request.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import sqlite3
import time
from typing import Any

from bot.storage import Database

log = logging.getLogger("bot.privacy")

# table -> the column that holds the person's key (channel:user id); memory is keyed by chat.
USER_COLUMNS: dict[str, str] = {
    "answers": "user_key", "votes": "user_key", "preferences": "user_key", "rate": "user_key",
    "events": "user_key", "cases": "user_key", "handoff_offers": "user_key", "memory": "chat_key",
}
# tables whose rows expire after DATA_RETENTION_DAYS, with their time column
RETAINED: dict[str, str] = {
    "votes": "ts", "answers": "ts", "preferences": "ts", "memory": "ts", "rate": "ts", "events": "ts",
    "handoff_offers": "ts", "cases": "updated",
}

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w+])(?:\+?84|0)(?:[\s.-]?\d){8,10}(?!\w)")
_NUMBER = re.compile(r"(?<![\w+])(?:[A-Za-z]\d{7,8}|\d(?:[\s.-]?\d){7,})(?!\w)")


def mask(text: str) -> str:
    """`text` with e-mail addresses, phone numbers and ID/passport-like numbers replaced."""
    text = _EMAIL.sub("[email]", text)
    text = _PHONE.sub("[phone]", text)
    return _NUMBER.sub("[id number]", text)


def _salt(db: Database) -> bytes:
    rows = db.query("SELECT value FROM meta WHERE key='pseudonym_salt'")
    if not rows:
        with db.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('pseudonym_salt', ?)",
                         (secrets.token_hex(16),))
        rows = db.query("SELECT value FROM meta WHERE key='pseudonym_salt'")
    return bytes.fromhex(rows[0]["value"])


def pseudonym(db: Database, user_key: str) -> str:
    """A short stable id for a person (keyed hash: not reversible without the database's salt)."""
    digest = hmac.new(_salt(db), user_key.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"p-{digest[:8]}"


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _dedup_patterns(user_id: str) -> list[str]:
    """Zalo OA de-duplication keys that name the person (follow/unfollow events)."""
    return [f"follow:{user_id}:%", f"unfollow:{user_id}:%"]


def forget(db: Database, channel: str, user_id: str, chat_ids: tuple[str, ...] = ()) -> dict[str, int]:
    """Delete everything about one person; the number of rows deleted per table. Logs only that a
    deletion happened."""
    key = f"{channel}:{user_id}"
    chat_keys = {key} | {f"{channel}:{c}" for c in chat_ids if c}
    counts: dict[str, int] = {}
    with db.transaction() as conn:
        tables = _tables(conn)
        counts["votes"] = conn.execute(
            "DELETE FROM votes WHERE user_key=? OR answer_id IN (SELECT id FROM answers WHERE user_key=?)",
            (key, key)).rowcount
        for table, column in USER_COLUMNS.items():
            if table == "votes" or table not in tables:
                continue
            values = sorted(chat_keys) if column == "chat_key" else [key]
            marks = ",".join("?" * len(values))
            counts[table] = conn.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", values).rowcount
        # any other table keyed by user_key (added later) is covered too
        for table in sorted(tables - USER_COLUMNS.keys()):
            columns = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
            if "user_key" in columns:
                counts[table] = conn.execute(f"DELETE FROM {table} WHERE user_key=?", (key,)).rowcount
        if "zalo_oa_seen" in tables and channel == "zalo_oa":
            n = 0
            for pattern in _dedup_patterns(user_id):
                n += conn.execute("DELETE FROM zalo_oa_seen WHERE event_key LIKE ?", (pattern,)).rowcount
            counts["zalo_oa_seen"] = n
    log.info("personal data deleted on request", extra={"channel": channel, "rows": sum(counts.values())})
    return counts


def show(db: Database, channel: str, user_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every row about one person, per table (for a request to see one's data)."""
    key = f"{channel}:{user_id}"
    out: dict[str, list[dict[str, Any]]] = {}
    existing = {r["name"] for r in db.query("SELECT name FROM sqlite_master WHERE type='table'")}
    for table, column in USER_COLUMNS.items():
        if table in existing:
            out[table] = [dict(r) for r in db.query(f"SELECT * FROM {table} WHERE {column}=? ORDER BY rowid",
                                                    (key,))]
    if "zalo_oa_seen" in existing and channel == "zalo_oa":
        out["zalo_oa_seen"] = [dict(r) for p in _dedup_patterns(user_id)
                               for r in db.query("SELECT * FROM zalo_oa_seen WHERE event_key LIKE ?", (p,))]
    return out


def purge(db: Database, days: int, now: float | None = None) -> dict[str, int]:
    """Delete rows older than `days`; the number deleted per table."""
    cutoff = (now or time.time()) - days * 86400
    counts: dict[str, int] = {}
    with db.transaction() as conn:
        tables = _tables(conn)
        counts["votes"] = conn.execute(
            "DELETE FROM votes WHERE ts < ? OR answer_id IN (SELECT id FROM answers WHERE ts < ?)",
            (cutoff, cutoff)).rowcount
        for table, column in RETAINED.items():
            if table != "votes" and table in tables:
                counts[table] = conn.execute(f"DELETE FROM {table} WHERE {column} < ?", (cutoff,)).rowcount
    removed = sum(counts.values())
    if removed:
        log.info("retention purge", extra={"days": days, "rows": removed})
    return counts
