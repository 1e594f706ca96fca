"""Webhook de-duplication shared by every bot process through the SQLite database under DATA_DIR:
a key (Telegram update id, Zalo msg_id or a digest of a signed body) is taken in once, whichever
process receives it, and remembered for KEEP_DAYS (longer than any platform redelivers)."""

from __future__ import annotations

import re
import time

from bot.storage import Database

KEEP_DAYS = 3.0
PRUNE_EVERY = 3600.0
_TABLE_NAME = re.compile(r"^[a-z_]{1,40}$")


class SeenKeys:
    """One table of keys already taken in (created on first use)."""

    def __init__(self, db: Database, table: str, keep_days: float = KEEP_DAYS) -> None:
        if not _TABLE_NAME.match(table):
            raise ValueError(f"bad table name {table!r}")
        self.db = db
        self.table = table
        self.keep_seconds = keep_days * 86400
        self._last_prune = 0.0
        with db.transaction() as conn:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {table} (event_key TEXT PRIMARY KEY, ts REAL NOT NULL)")
            conn.execute(f"CREATE INDEX IF NOT EXISTS {table}_ts ON {table}(ts)")

    def first(self, key: str) -> bool:
        """Record `key`; False when it was recorded before (by any process sharing DATA_DIR)."""
        now = time.time()
        with self.db.transaction() as conn:
            cur = conn.execute(f"INSERT OR IGNORE INTO {self.table}(event_key, ts) VALUES (?, ?)", (key, now))
            first = cur.rowcount == 1
        if now - self._last_prune > PRUNE_EVERY:
            self.prune()
        return first

    def prune(self) -> None:
        self._last_prune = time.time()
        with self.db.transaction() as conn:
            conn.execute(f"DELETE FROM {self.table} WHERE ts < ?", (self._last_prune - self.keep_seconds,))
