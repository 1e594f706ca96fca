"""Staff data is never lost: votes and the refused-question log survive restarts and a crash in the
middle of writing (the SQLite file stays whole and every committed write is still there)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from bot.config import Settings
from bot.conversation import Conversation, User
from bot.storage import Database
from bot.texts import t
from tests.conftest import ROOT

REFUSED = "What is the weather today?"
ANSWERED = "Do investors pay land rent in the free trade zone?"


async def test_votes_and_refused_questions_survive_a_restart(settings: Settings) -> None:
    first = Conversation.create(settings)
    alice, bob = User("telegram", "1", "1"), User("zalo_oa", "bob")
    refused = await first.ask(alice, REFUSED)
    assert refused.kind == "refusal" and refused.answer_id is not None
    answered = await first.ask(bob, ANSWERED)
    assert answered.kind == "answer" and answered.answer_id is not None
    await first.vote(alice, answered.answer_id, up=False)
    await first.vote(bob, answered.answer_id, up=True)
    first.db.close()

    again = Conversation.create(settings)  # a restart: a new process would open the same file
    try:
        rows = again.db.query("SELECT question, refused FROM answers ORDER BY id")
        assert [(r["question"], r["refused"]) for r in rows] == [(REFUSED, 1), (ANSWERED, 0)]
        votes = again.db.query("SELECT user_key, vote FROM votes WHERE answer_id=? ORDER BY user_key",
                               (answered.answer_id,))
        assert [(v["user_key"], v["vote"]) for v in votes] == [("telegram:1", -1), ("zalo_oa:bob", 1)]
        gaps = again.gaps_text("en")
        assert REFUSED in gaps and ANSWERED in gaps  # refused, and voted down
        usage = again.staff.usage()
        assert usage["questions"] == 2 and usage["refused"] == 1
        assert usage["up_votes"] == 1 and usage["down_votes"] == 1
        assert "weather" in again.gaps_text("vi")
    finally:
        again.db.close()


def test_database_is_in_wal_mode(tmp_path: Path) -> None:
    db = Database(tmp_path / "bot.sqlite3")
    try:
        assert db.query("PRAGMA journal_mode")[0][0] == "wal"
    finally:
        db.close()
    # the mode is a property of the file: a plain connection sees it too
    import sqlite3

    conn = sqlite3.connect(tmp_path / "bot.sqlite3")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from bot.answering.answer import Answer, Citation
    from bot.staff import StaffLog
    from bot.storage import Database

    db = Database(Path(sys.argv[1]))
    staff = StaffLog(db)
    cite = (Citation(1, "Resolution 226", "https://example.invalid/226", "2025-01-01", "passage " * 200),)
    n = 0
    while True:
        n += 1
        refused = n % 2 == 0
        answer = Answer(f"question {n} " + "x" * 500, "en", "text " * 300, refused, () if refused else cite)
        answer_id = staff.record_answer("telegram", f"telegram:{n % 7}", answer, 0.01)
        print(f"answer {answer_id} {int(refused)}", flush=True)
        staff.vote(answer_id, f"telegram:{n % 5}", n % 3 == 0)
        print(f"vote {answer_id} {1 if n % 3 == 0 else -1}", flush=True)
""")


def _run_and_kill(db_path: Path, committed: int) -> list[str]:
    """Start a writer, let it report `committed` commits, SIGKILL it mid-loop; its report lines."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db_path)], stdout=subprocess.PIPE, text=True,
                            env=env, cwd=ROOT)
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while len(lines) < committed and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.strip())
        os.kill(proc.pid, signal.SIGKILL)
        rest, _ = proc.communicate(timeout=30)
        # anything it printed before dying was committed before the print
        lines.extend(x.strip() for x in rest.splitlines() if x.strip())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return lines


def test_a_crash_mid_write_loses_nothing_committed(tmp_path: Path) -> None:
    db_path = tmp_path / "bot.sqlite3"
    reported: list[str] = []
    for round_ in range(3):  # three crashes at different points of the loop
        reported += _run_and_kill(db_path, committed=150 + 37 * round_)
    answers = {int(x.split()[1]): int(x.split()[2]) for x in reported if x.startswith("answer ")}
    votes = {int(x.split()[1]): int(x.split()[2]) for x in reported if x.startswith("vote ")}
    assert len(answers) >= 250 and len(votes) >= 250

    db = Database(db_path)  # what the restarted bot opens
    try:
        assert db.query("PRAGMA integrity_check")[0][0] == "ok"
        assert db.query("PRAGMA foreign_key_check") == []
        stored = {r["id"]: r["refused"] for r in db.query("SELECT id, refused FROM answers")}
        for answer_id, refused in answers.items():
            assert stored.get(answer_id) == refused, f"answer {answer_id} was reported committed but is gone"
        stored_votes = {r["answer_id"]: r["vote"] for r in db.query("SELECT answer_id, vote FROM votes")}
        for answer_id, vote in votes.items():
            assert stored_votes.get(answer_id) == vote, f"vote on {answer_id} was reported committed but is gone"
        refused_log = db.query("SELECT COUNT(*) FROM answers WHERE refused=1")[0][0]
        assert refused_log >= sum(answers.values())
        # the database still takes writes after the crashes
        with db.transaction() as conn:
            conn.execute("INSERT INTO events(ts, channel, user_key, kind) VALUES (?,?,?,?)",
                         (time.time(), "telegram", "telegram:1", "after-crash"))
        assert db.query("SELECT kind FROM events")[-1]["kind"] == "after-crash"
    finally:
        db.close()


async def test_two_processes_share_staff_data(settings: Settings) -> None:
    """A second bot process on the same DATA_DIR sees the first one's answers and votes at once."""
    a = Conversation.create(settings)
    b = Conversation.create(settings)
    try:
        user = User("telegram", "42", "42")
        reply = await a.ask(user, REFUSED)
        assert reply.answer_id is not None
        assert await b.vote(user, reply.answer_id, up=False) in (t("vote_thanks", "vi"), t("vote_thanks", "en"))
        assert REFUSED in a.gaps_text("en")
        assert b.staff.usage()["down_votes"] == 1
    finally:
        a.db.close()
        b.db.close()
