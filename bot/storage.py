"""The bot's SQLite database under DATA_DIR: staff data (answers, votes, refused questions), user
preferences, chat memory, rate-limit windows and the cases handed to city staff. WAL mode and short
transactions make it safe to share between several bot processes on one host and keep it whole
through a crash mid-write. It holds personal data, so the file and its WAL/SHM companions are
readable by their owner only (0600)."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tenacity import retry, retry_if_exception, stop_after_delay, wait_random

SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    channel TEXT NOT NULL,
    user_key TEXT NOT NULL,
    question TEXT NOT NULL,
    language TEXT NOT NULL,
    answer TEXT NOT NULL,
    refused INTEGER NOT NULL,
    citations TEXT NOT NULL,
    seconds REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS answers_ts ON answers(ts);
CREATE TABLE IF NOT EXISTS votes (
    answer_id INTEGER NOT NULL REFERENCES answers(id),
    user_key TEXT NOT NULL,
    vote INTEGER NOT NULL,
    ts REAL NOT NULL,
    PRIMARY KEY (answer_id, user_key)
);
CREATE TABLE IF NOT EXISTS preferences (
    user_key TEXT PRIMARY KEY,
    language TEXT NOT NULL,
    ts REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS memory (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_key TEXT NOT NULL,
    ts REAL NOT NULL,
    question TEXT NOT NULL,
    search_query TEXT NOT NULL,
    language TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS memory_chat ON memory(chat_key, ts);
CREATE TABLE IF NOT EXISTS rate (
    user_key TEXT NOT NULL,
    ts REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS rate_user ON rate(user_key, ts);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    channel TEXT NOT NULL,
    user_key TEXT NOT NULL,
    kind TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    updated REAL NOT NULL,
    channel TEXT NOT NULL,
    user_key TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    language TEXT NOT NULL,
    question TEXT NOT NULL,
    turns TEXT NOT NULL,
    reason TEXT NOT NULL,
    office TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open',
    staff_chat_id TEXT NOT NULL DEFAULT '',
    staff_message_id INTEGER,
    reply TEXT NOT NULL DEFAULT '',
    department TEXT NOT NULL DEFAULT '',
    close_reason TEXT NOT NULL DEFAULT '',
    delivery TEXT NOT NULL DEFAULT '',
    delivery_error TEXT NOT NULL DEFAULT '',
    published TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS cases_user ON cases(user_key, status);
CREATE INDEX IF NOT EXISTS cases_post ON cases(staff_chat_id, staff_message_id);
CREATE TABLE IF NOT EXISTS handoff_offers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    user_key TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    language TEXT NOT NULL,
    question TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS handoff_offers_user ON handoff_offers(user_key, ts);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""
PRIVATE = 0o600  # data files: owner read/write only


def _private_file(path: Path) -> None:
    """Create `path` 0600 if it is missing, or bring an existing one to 0600 (best effort)."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE)
        os.close(fd)
        os.chmod(path, PRIVATE)
    except OSError:
        pass


@retry(retry=retry_if_exception(lambda e: isinstance(e, sqlite3.OperationalError) and "locked" in str(e)),
       stop=stop_after_delay(30), wait=wait_random(0.01, 0.1), reraise=True)
def _switch_to_wal(conn: sqlite3.Connection) -> None:
    """Two processes opening a new database together: the one switching it to WAL can find it
    locked by the other, and SQLite does not wait for that lock here, so the switch is retried."""
    conn.execute("PRAGMA journal_mode=WAL")


# columns added after a table was first released: a database written by an older version gains them
_ADDED_COLUMNS = (("memory", "subject", "TEXT NOT NULL DEFAULT ''"),)


def _add_columns(conn: sqlite3.Connection) -> None:
    for table, column, declaration in _ADDED_COLUMNS:
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")


class Database:
    """One connection per process, serialised by a lock; every write is one transaction."""

    def __init__(self, path: Path) -> None:
        if not path.parent.exists():
            path.parent.mkdir(parents=True, mode=0o700)
        self.path = path
        # SQLite gives the WAL and SHM files the database file's permissions: create it private first
        _private_file(path)
        self._conn = sqlite3.connect(str(path), timeout=30.0, check_same_thread=False,
                                     isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        with self._lock:
            _switch_to_wal(self._conn)
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA busy_timeout=30000")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.executescript(SCHEMA)
            _add_columns(self._conn)
        for suffix in ("-wal", "-shm"):
            companion = path.with_name(path.name + suffix)
            if companion.exists():
                _private_file(companion)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()
