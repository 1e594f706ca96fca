"""Personal data (Decree 13/2023/NĐ-CP): deleting everything about a person leaves no row with
their id in any table; the retention purge removes old rows and keeps recent ones; a data-access
request is answered with `python -m bot data show|delete`; the database files are 0600; staff views
show pseudonyms and mask phone, ID and e-mail; bot processes sharing DATA_DIR see the same cases."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from bot.config import Settings
from bot.conversation import Conversation, User
from bot.privacy import RETAINED, USER_COLUMNS, purge
from bot.storage import Database
from bot.texts import t
from tests.conftest import ROOT, settings_env

REFUSED = "Is there a one-stop shop for investors in the free trade zone?"
ANSWERED = "Do investors pay land rent in the free trade zone?"
TG_ID = "987654321"  # long enough never to occur by chance in other rows
OA_ID = "8412345678901"

# Every table and the columns in it that can hold a person's id (or their words). A new table must
# be added here, and to bot/privacy.py, for the test to pass.
HOLDS_A_PERSON = {
    "answers": {"user_key", "question", "answer"},
    "votes": {"user_key"},
    "preferences": {"user_key"},
    "memory": {"chat_key", "question", "search_query"},
    "rate": {"user_key"},
    "events": {"user_key"},
    "cases": {"user_key", "chat_id", "question", "turns", "reply"},
    "handoff_offers": {"user_key", "chat_id", "question"},
    "zalo_oa_seen": {"event_key"},
}
NO_PERSON = {"meta", "sqlite_sequence", "telegram_seen"}  # telegram_seen: bot and update ids only


def rows_naming(db: Database, needle: str) -> list[tuple[str, str]]:
    """(table, column) of every cell, in every table, that contains `needle`."""
    found = []
    for (table,) in db.query("SELECT name FROM sqlite_master WHERE type='table'"):
        columns = [r["name"] for r in db.query(f"PRAGMA table_info({table})")]
        for row in db.query(f"SELECT * FROM {table}"):
            for column in columns:
                if needle in str(row[column]):
                    found.append((table, column))
    return found


async def fill(conversation: Conversation, user: User, question_tail: str = "") -> None:
    """A person uses every feature that stores something: questions, a vote, a language choice,
    an event, a hand-off case, chat memory and rate-limit entries."""
    conversation.set_language(user, "en")
    conversation.record_event(user, "start")
    answered = await conversation.ask(user, ANSWERED + question_tail)
    assert answered.answer_id is not None
    await conversation.vote(user, answered.answer_id, up=True)
    refused = await conversation.ask(user, REFUSED + question_tail)
    assert refused.kind == "refusal" and refused.offer_id is not None
    opened = await conversation.accept_handoff(user, refused.offer_id)
    assert opened.kind == "case_opened"
    await conversation.ask(user, "talk to an officer")  # a fresh offer is pending too


async def test_forget_leaves_no_row_with_the_persons_id_in_any_table(settings: Settings) -> None:
    from bot.channels.telegram import SEEN_TABLE as TELEGRAM_SEEN
    from bot.channels.zalo_oa import SEEN_TABLE as ZALO_OA_SEEN
    from bot.seen import SeenKeys

    conversation = Conversation.create(settings)
    try:
        SeenKeys(conversation.db, ZALO_OA_SEEN)
        SeenKeys(conversation.db, TELEGRAM_SEEN)  # update ids only: no person in it
        with conversation.db.transaction() as conn:
            conn.execute("INSERT INTO zalo_oa_seen(event_key, ts) VALUES (?, ?)", (f"follow:{OA_ID}:1700", time.time()))
        tables = {r["name"] for r in conversation.db.query("SELECT name FROM sqlite_master WHERE type='table'")}
        assert tables - NO_PERSON == set(HOLDS_A_PERSON), "a table was added: list it here and in bot/privacy.py"
        for table, columns in HOLDS_A_PERSON.items():
            present = {r["name"] for r in conversation.db.query(f"PRAGMA table_info({table})")}
            assert columns <= present, table
        assert set(USER_COLUMNS) | {"zalo_oa_seen"} == set(HOLDS_A_PERSON)

        person = User("telegram", TG_ID, TG_ID)
        other = User("telegram", "123123123", "123123123")
        oa_person = User("zalo_oa", OA_ID, OA_ID)
        await fill(conversation, person, " (asked by the person)")
        await fill(conversation, other)
        await conversation.ask(oa_person, ANSWERED)
        await conversation.vote(other, 1, up=False)  # someone else voted on the person's answer
        before = {table for table, _ in rows_naming(conversation.db, TG_ID)}
        assert before >= {"answers", "votes", "preferences", "memory", "rate", "events", "cases", "handoff_offers"}

        confirmation = await conversation.forget(person)
        assert confirmation == t("forget_done", "en")
        assert rows_naming(conversation.db, TG_ID) == []
        assert rows_naming(conversation.db, "asked by the person") == []  # their words are gone too
        # everyone else's data stays
        assert {table for table, _ in rows_naming(conversation.db, "123123123")} >= {"answers", "cases", "votes"}
        assert rows_naming(conversation.db, OA_ID)
        await conversation.forget(oa_person)
        assert rows_naming(conversation.db, OA_ID) == []  # including the Zalo OA de-duplication key
    finally:
        conversation.db.close()


def test_retention_purge_removes_old_rows_and_keeps_recent_ones(tmp_path: Path) -> None:
    db = Database(tmp_path / "bot.sqlite3")
    now = time.time()
    old, recent = now - 91 * 86400, now - 89 * 86400
    try:
        with db.transaction() as conn:
            for ts, who in ((old, "telegram:old"), (recent, "telegram:recent")):
                cur = conn.execute("INSERT INTO answers(ts, channel, user_key, question, language, answer, refused,"
                                   " citations) VALUES (?,?,?,?,?,?,?,?)", (ts, "telegram", who, "q", "en", "a", 1, "[]"))
                conn.execute("INSERT INTO votes(answer_id, user_key, vote, ts) VALUES (?,?,?,?)",
                             (cur.lastrowid, who, 1, ts))
                conn.execute("INSERT INTO preferences(user_key, language, ts) VALUES (?,?,?)", (who, "en", ts))
                conn.execute("INSERT INTO memory(chat_key, ts, question, search_query, language) VALUES (?,?,?,?,?)",
                             (who, ts, "q", "q", "en"))
                conn.execute("INSERT INTO rate(user_key, ts) VALUES (?,?)", (who, ts))
                conn.execute("INSERT INTO events(ts, channel, user_key, kind) VALUES (?,?,?,?)",
                             (ts, "telegram", who, "start"))
                conn.execute("INSERT INTO handoff_offers(ts, user_key, chat_id, language, question, reason)"
                             " VALUES (?,?,?,?,?,?)", (ts, who, "1", "en", "q", "refused"))
                conn.execute("INSERT INTO cases(ts, updated, channel, user_key, chat_id, language, question, turns,"
                             " reason) VALUES (?,?,?,?,?,?,?,?,?)", (ts, ts, "telegram", who, "1", "en", "q", "[]",
                                                                     "refused"))
        counts = purge(db, 90, now=now)
        assert set(counts) == set(RETAINED) and all(n == 1 for n in counts.values()), counts
        assert rows_naming(db, "telegram:old") == []
        kept = {table for table, _ in rows_naming(db, "telegram:recent")}
        assert kept == set(RETAINED)
    finally:
        db.close()


def test_database_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # a usual umask: files would be 0644 unless created private
    try:
        db = Database(tmp_path / "data" / "bot.sqlite3")
        with db.transaction() as conn:
            conn.execute("INSERT INTO rate(user_key, ts) VALUES ('telegram:1', 1)")
        names = sorted(p.name for p in (tmp_path / "data").iterdir())
        assert names == ["bot.sqlite3", "bot.sqlite3-shm", "bot.sqlite3-wal"]
        for name in names:
            assert stat.S_IMODE(os.stat(tmp_path / "data" / name).st_mode) == 0o600, name
        db.close()
        # an existing file left 0644 by an older version is made private on open
        os.chmod(tmp_path / "data" / "bot.sqlite3", 0o644)
        Database(tmp_path / "data" / "bot.sqlite3").close()
        assert stat.S_IMODE(os.stat(tmp_path / "data" / "bot.sqlite3").st_mode) == 0o600
    finally:
        os.umask(previous)


async def test_gaps_show_pseudonyms_and_mask_phone_id_and_email(settings: Settings) -> None:
    conversation = Conversation.create(settings)
    try:
        user = User("telegram", TG_ID, TG_ID)
        leaky = ("My CCCD is 001203004567, phone 0912 345 678, mail le.van@example.vn: may I get a "
                 "temporary residence card in the free trade zone?")
        assert (await conversation.ask(user, leaky)).kind == "refusal"
        await conversation.ask(User("zalo_bot", "zb-1", "zb-1"), "What is the weather today?")
        gaps = conversation.gaps_text("en")
        assert "001203004567" not in gaps and "0912 345 678" not in gaps and "le.van@example.vn" not in gaps
        assert "[id number]" in gaps and "[phone]" in gaps and "[email]" in gaps
        assert TG_ID not in gaps and "zb-1" not in gaps
        assert conversation.who(f"telegram:{TG_ID}") in gaps
        # grouped by topic: the residence-card question under the office for the free trade zone
        heza = gaps.index("Hai Phong Economic Zone Authority (HEZA) (1):")
        assert heza < gaps.index("temporary residence card") and "Other topics (1):" in gaps
    finally:
        conversation.db.close()


def run_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings_env(data_dir)}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


async def test_data_show_and_delete_answer_a_persons_request(settings: Settings) -> None:
    conversation = Conversation.create(settings)
    try:
        await fill(conversation, User("zalo_oa", OA_ID, OA_ID))
        await fill(conversation, User("telegram", TG_ID, TG_ID))
    finally:
        conversation.db.close()
    shown = run_cli("data", "show", "--user", f"zalo_oa:{OA_ID}", data_dir=settings.data_dir)
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    assert report["user"] == f"zalo_oa:{OA_ID}" and report["retention_days"] == 90
    assert [r["question"] for r in report["tables"]["answers"]] == [ANSWERED, REFUSED]
    assert report["tables"]["cases"][0]["question"] == REFUSED and report["tables"]["votes"]
    assert TG_ID not in shown.stdout  # only that person's rows
    deleted = run_cli("data", "delete", "--user", f"zalo_oa:{OA_ID}", data_dir=settings.data_dir)
    assert deleted.returncode == 0 and json.loads(deleted.stdout)["deleted"]["answers"] == 2
    again = json.loads(run_cli("data", "show", "--user", f"zalo_oa:{OA_ID}", data_dir=settings.data_dir).stdout)
    assert all(rows == [] for rows in again["tables"].values())
    bad = run_cli("data", "show", "--user", "nobody", data_dir=settings.data_dir)
    assert bad.returncode == 2 and "CHANNEL:ID" in bad.stderr


OPEN_CASE = textwrap.dedent("""
    import sys
    from pathlib import Path
    from bot.cases import CaseStore
    from bot.storage import Database

    db = Database(Path(sys.argv[1]))
    store = CaseStore(db)
    case = store.open("zalo_oa", "zalo_oa:" + sys.argv[2], sys.argv[2], "vi", "Câu hỏi của " + sys.argv[2], [],
                      "refused", "")
    print(case.id)
    db.close()
""")


def test_two_processes_sharing_data_dir_see_the_same_cases(tmp_path: Path) -> None:
    db_path = tmp_path / "bot.sqlite3"
    procs = [subprocess.Popen([sys.executable, "-c", OPEN_CASE, str(db_path), f"user-{i}"], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True) for i in range(2)]
    ids = sorted(int(p.communicate(timeout=60)[0]) for p in procs)
    assert ids == [1, 2]
    from bot.cases import CaseStore

    db = Database(db_path)
    try:
        cases = CaseStore(db).open_cases()
        assert sorted(c.question for c in cases) == ["Câu hỏi của user-0", "Câu hỏi của user-1"]
        answered = CaseStore(db).answer(1, "Trả lời")
        assert answered is not None and answered.status == "answered"
    finally:
        db.close()
    check = subprocess.run([sys.executable, "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); "
                            "print(c.execute('SELECT status FROM cases WHERE id=1').fetchone()[0])", str(db_path)],
                           capture_output=True, text=True, timeout=60)
    assert check.stdout.strip() == "answered"
