"""Staff data: every answered question with its answer and citations, votes on answers, and the
questions the assistant had to refuse, for review (/gaps, /stats)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from bot.answering.answer import Answer
from bot.storage import Database
from indexer.text import squash


@dataclass(frozen=True)
class Gap:
    question: str
    count: int
    refused: int
    down_votes: int
    users: tuple[str, ...] = ()  # user keys of the askers (show them only as pseudonyms)


class StaffLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record_answer(self, channel: str, user_key: str, answer: Answer, seconds: float) -> int:
        with self.db.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO answers(ts, channel, user_key, question, language, answer, refused, citations, seconds)"
                " VALUES (?,?,?,?,?,?,?,?,?)",
                (time.time(), channel, user_key, answer.question[:4000], answer.language, answer.text,
                 int(answer.refused), json.dumps([c.to_json() for c in answer.citations], ensure_ascii=False),
                 seconds),
            )
            return int(cur.lastrowid or 0)

    def vote(self, answer_id: int, user_key: str, up: bool) -> bool:
        """Record (or change) a user's vote; False when the answer is unknown."""
        if not self.db.query("SELECT 1 FROM answers WHERE id=?", (answer_id,)):
            return False
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO votes(answer_id, user_key, vote, ts) VALUES (?,?,?,?) "
                "ON CONFLICT(answer_id, user_key) DO UPDATE SET vote=excluded.vote, ts=excluded.ts",
                (answer_id, user_key, 1 if up else -1, time.time()),
            )
        return True

    def record_event(self, channel: str, user_key: str, kind: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO events(ts, channel, user_key, kind) VALUES (?,?,?,?)",
                         (time.time(), channel, user_key, kind))

    def gaps(self, days: float = 30, limit: int = 10) -> list[Gap]:
        """The most frequent recent questions that were refused or voted down."""
        since = time.time() - days * 86400
        rows = self.db.query(
            "SELECT a.question, a.user_key, a.refused, COALESCE(SUM(CASE WHEN v.vote < 0 THEN 1 ELSE 0 END), 0) AS down "
            "FROM answers a LEFT JOIN votes v ON v.answer_id = a.id WHERE a.ts >= ? "
            "GROUP BY a.id HAVING a.refused = 1 OR down > 0", (since,))
        grouped: dict[str, list[int]] = {}
        shown: dict[str, str] = {}
        users: dict[str, dict[str, None]] = {}
        for row in rows:
            key = squash(row["question"].lower())
            shown.setdefault(key, squash(row["question"])[:200])
            users.setdefault(key, {})[row["user_key"]] = None
            entry = grouped.setdefault(key, [0, 0, 0])
            entry[0] += 1
            entry[1] += int(row["refused"])
            entry[2] += int(row["down"])
        ranked = sorted(grouped.items(), key=lambda kv: (-kv[1][0], kv[0]))[:limit]
        return [Gap(shown[k], v[0], v[1], v[2], tuple(users[k])) for k, v in ranked]

    def usage(self, days: float = 7) -> dict[str, int]:
        since = time.time() - days * 86400
        row = self.db.query(
            "SELECT COUNT(*) AS questions, COALESCE(SUM(refused),0) AS refused, "
            "COUNT(DISTINCT user_key) AS users FROM answers WHERE ts >= ?", (since,))[0]
        votes = self.db.query(
            "SELECT COALESCE(SUM(CASE WHEN vote>0 THEN 1 ELSE 0 END),0) AS up, "
            "COALESCE(SUM(CASE WHEN vote<0 THEN 1 ELSE 0 END),0) AS down FROM votes WHERE ts >= ?", (since,))[0]
        return {"questions": int(row["questions"]), "refused": int(row["refused"]),
                "users": int(row["users"]), "up_votes": int(votes["up"]), "down_votes": int(votes["down"])}
