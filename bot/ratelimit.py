"""Per-user rate limit over a sliding minute, in the shared database (works across processes)."""

from __future__ import annotations

import time

from bot.storage import Database


class RateLimiter:
    def __init__(self, db: Database, per_minute: int) -> None:
        self.db = db
        self.per_minute = per_minute

    def allow(self, user_key: str) -> bool:
        now = time.time()
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM rate WHERE ts < ?", (now - 60,))
            used = conn.execute("SELECT COUNT(*) FROM rate WHERE user_key=?", (user_key,)).fetchone()[0]
            if used >= self.per_minute:
                return False
            conn.execute("INSERT INTO rate(user_key, ts) VALUES (?,?)", (user_key, now))
            return True
