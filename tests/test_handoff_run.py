"""Acceptance: "Ask an officer" end to end, with `python -m bot run` as a real subprocess serving
Telegram (polling the fake Bot API), the Zalo Bot Platform (polling the fake) and a Zalo Official
Account (signed webhook events) at once, and a Telegram staff group (TELEGRAM_STAFF_CHAT_ID).

A refused question → consent → a case posted to the staff group → a staff member replies to the post
→ the reply reaches the person on Telegram, on Zalo Bot and on Zalo OA; a reply outside the Zalo OA
messaging window is kept, staff are told, and it goes out at the person's next message; a non-staff
user replying in the staff group or sending /cases is ignored; `/publish` → the same question is
answered from the new FAQ document without a restart; a case opened by another process sharing
DATA_DIR is posted and answered through this one. Also: rows older than DATA_RETENTION_DAYS are
purged at start, "xóa dữ liệu" deletes a Zalo user's data, and the database files are 0600.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import stat
import sys
import time
from pathlib import Path

import pytest

from bot.texts import t
from tests.conftest import KNOWLEDGE, ROOT
from tests.fake_telegram import FakeTelegram, parse_html
from tests.fake_zalo import FakeZalo
from tests.test_privacy import OPEN_CASE
from tests.test_run_zalo import BotProcess, bot_env, free_port

pytestmark = pytest.mark.slow

STAFF_GROUP = -1005001
ADMIN = 4242  # in TELEGRAM_ADMIN_IDS
MEMBER = 4343  # not an admin id, but a member of the staff group
OUTSIDER = 6666  # neither
PERSON = 5001  # Telegram user with a question
LATER = 5002  # asks the same question after it was published
REFUSED_EN = "Is there a one-stop shop for investors in the free trade zone?"
REFUSED_OA = "Which documents does HEZA need for an investment project in the free trade zone?"
VI_REQUEST = "gặp cán bộ: Giờ làm việc của bộ phận một cửa là mấy giờ?"
OFFICER_EN = ("Yes: investors in the free trade zone file their papers at the HEZA one-stop desk, which "
              "answers within five working days.")
OFFICER_VI = "Bộ phận một cửa làm việc từ thứ Hai đến thứ Sáu, sáng từ 7 giờ 30."
OFFICER_OA = "HEZA asks for the investment proposal, the investor's legal papers and the financial statements."
HEZA = "Hai Phong Economic Zone Authority (HEZA)"


def text_of(message: dict) -> str:
    return parse_html(message["text"]) if message.get("parse_mode") == "HTML" else message["text"]


def buttons(message: dict) -> list[str]:
    return [b["callback_data"] for b in FakeTelegram.buttons(message)]


def old_rows(db_path: Path) -> None:
    """Rows from 100 days ago (beyond DATA_RETENTION_DAYS=90) and from today."""
    conn = sqlite3.connect(db_path)
    old, now = time.time() - 100 * 86400, time.time()
    conn.executescript("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL,"
                       " channel TEXT NOT NULL, user_key TEXT NOT NULL, kind TEXT NOT NULL)")
    conn.execute("INSERT INTO events(ts, channel, user_key, kind) VALUES (?, 'telegram', 'telegram:old', 'start')",
                 (old,))
    conn.execute("INSERT INTO events(ts, channel, user_key, kind) VALUES (?, 'telegram', 'telegram:new', 'start')",
                 (now,))
    conn.commit()
    conn.close()


async def test_ask_an_officer_on_every_channel(data_dir: Path, tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    old_rows(data_dir / "bot.sqlite3")
    tg = await FakeTelegram(max_poll_wait=0.5).start()
    zalo = await FakeZalo().start()
    tg.members[STAFF_GROUP] = {MEMBER: "member", ADMIN: "administrator"}
    port = free_port()
    env = bot_env(data_dir, port, KNOWLEDGE_DIR=str(knowledge), RATE_LIMIT_PER_MINUTE="1000",
                  TELEGRAM_BOT_TOKEN=tg.token, TELEGRAM_API_BASE_URL=tg.base_url,
                  TELEGRAM_ADMIN_IDS=str(ADMIN), TELEGRAM_STAFF_CHAT_ID=str(STAFF_GROUP),
                  ZALO_BOT_TOKEN=zalo.bot_token, ZALO_BOT_API_BASE_URL=zalo.bot_api_base,
                  ZALO_OA_APP_ID=zalo.app_id, ZALO_OA_SECRET_KEY=zalo.oa_secret_key,
                  ZALO_APP_SECRET=zalo.app_secret, ZALO_OA_ACCESS_TOKEN=zalo.access_token,
                  ZALO_OA_REFRESH_TOKEN=zalo.refresh_token, ZALO_OA_API_BASE_URL=zalo.base_url,
                  ZALO_OAUTH_BASE_URL=zalo.base_url, DEFAULT_LANGUAGE="en")
    bot = BotProcess(env, port, tmp_path / "bot.log")
    oa_url = f"{bot.base}/zalo/oa/webhook"

    def staff_posts(after: int = 0) -> list[dict]:
        return tg.sent(STAFF_GROUP)[after:]

    async def staff_message(containing: str, within: float = 60) -> dict:
        await tg.wait_for(lambda: any(containing in text_of(m) for m in staff_posts()), within)
        return next(m for m in staff_posts() if containing in text_of(m))

    def post_of(case: int) -> int:
        post = next(m for m in tg.messages.values()
                    if m["chat"]["id"] == STAFF_GROUP and m["text"].startswith(f"📨 Case #{case} "))
        return int(post["message_id"])

    try:
        await bot.start()
        # -- retention at start: the 100-day-old row is gone, today's is kept
        conn = sqlite3.connect(data_dir / "bot.sqlite3")
        keys = {r[0] for r in conn.execute("SELECT user_key FROM events")}
        conn.close()
        assert "telegram:old" not in keys and "telegram:new" in keys

        # -- Telegram: refused → offer with a button → consent → case #1 posted to the staff group
        tg.send_text(PERSON, REFUSED_EN)
        [refusal] = await tg.wait_for_messages(PERSON, 1, within=90)
        shown = text_of(refusal)
        assert shown.startswith("Sorry") and t("handoff_offer", "en", how=t("handoff_how_button", "en")) in shown
        assert f"The office for this topic: {HEZA}" in shown  # the office that fits the topic
        offer = [d for d in buttons(refusal) if d.startswith("ho:")]
        assert len(offer) == 1 and any(d.startswith("v:") for d in buttons(refusal))
        tg.press_button(PERSON, offer[0])
        [opened] = await tg.wait_for_messages(PERSON, 1, after=1)
        assert text_of(opened) == t("case_opened", "en", case=1)
        post = await staff_message("Case #1 ")
        assert REFUSED_EN in text_of(post) and "English" in text_of(post) and "telegram" in text_of(post)
        assert str(PERSON) not in text_of(post)  # a pseudonymous id, not the chat id
        assert {d[:3] for d in buttons(post)} == {"cx:", "cp:", "cl:"}

        # -- a non-staff user who replies to the post, or sends /cases, is ignored
        before_group = len(staff_posts())
        tg.reply_in_group(OUTSIDER, STAFF_GROUP, post_of(1), "Nonsense answer from an outsider")
        tg.send_command(OUTSIDER, "/cases")
        tg.send_group_text(OUTSIDER, STAFF_GROUP, "/cases")
        await asyncio.sleep(3)

        # -- a staff-group member replies to the post → delivered to the person on Telegram
        tg.reply_in_group(MEMBER, STAFF_GROUP, post_of(1), OFFICER_EN)
        [officer] = await tg.wait_for_messages(PERSON, 1, after=2)
        assert text_of(officer) == t("officer_reply", "en", case=1, question=REFUSED_EN, reply=OFFICER_EN)
        await staff_message("✅ Case #1: delivered to p-")
        assert tg.sent(OUTSIDER) == []  # neither the reply nor /cases got an answer
        assert not any("Nonsense" in text_of(m) for m in tg.sent(PERSON))
        assert len(staff_posts()) == before_group + 1  # only the delivery note, nothing for the outsider

        # -- Zalo Bot: "gặp cán bộ: <question>" → offer → "có" → case #2 → admin replies → delivered
        zalo.queue_update(zalo.text_event(VI_REQUEST, user_id="zb-9"))
        assert await zalo.wait_for(lambda: any("«có»" in m.text for m in zalo.bot_sent), 90), bot.log()[-3000:]
        offer_vi = zalo.bot_sent[-1].text
        assert offer_vi.startswith(t("handoff_request", "vi", question="Giờ làm việc của bộ phận một cửa là mấy "
                                                                        "giờ?", how=t("handoff_how_word", "vi")))
        zalo.queue_update(zalo.text_event("Có", user_id="zb-9"))
        assert await zalo.wait_for(lambda: any("#2" in m.text for m in zalo.bot_sent), 60)
        assert zalo.bot_sent[-1].text == t("case_opened", "vi", case=2)
        post2 = await staff_message("Case #2 ")
        assert "Vietnamese" in text_of(post2) and "zalo_bot" in text_of(post2)
        assert t("reason_requested", "en") in text_of(post2)
        tg.reply_in_group(ADMIN, STAFF_GROUP, post_of(2), OFFICER_VI)
        assert await zalo.wait_for(lambda: any(OFFICER_VI in m.text for m in zalo.bot_sent), 60)
        delivered_vi = next(m for m in zalo.bot_sent if OFFICER_VI in m.text)
        assert delivered_vi.chat_id == "zb-9"
        assert delivered_vi.text.startswith("👤 Trả lời của cán bộ thành phố (hồ sơ #2)")

        # -- Zalo OA: refused → "yes" → case #3; the reply falls outside the messaging window
        status, _ = await zalo.post_oa_event(oa_url, zalo.oa_event(text=REFUSED_OA, user_id="oa-7"))
        assert status == 200
        assert await zalo.wait_for(lambda: any("Reply “yes”" in m.text for m in zalo.oa_sent), 90)
        await zalo.post_oa_event(oa_url, zalo.oa_event(text="yes", user_id="oa-7"))
        assert await zalo.wait_for(lambda: any("case #3" in m.text for m in zalo.oa_sent), 60)
        await staff_message("Case #3 ")
        zalo.close_window("oa-7")
        tg.reply_in_group(ADMIN, STAFF_GROUP, post_of(3), OFFICER_OA)
        note = await staff_message("⚠️ Case #3: could not be delivered")
        assert t("why_window", "en") in text_of(note) and "next writes" in text_of(note)
        assert any(r.get("error") == -213 for r in zalo.oa_rejected)
        assert not any(OFFICER_OA in m.text for m in zalo.oa_sent)
        before = len(staff_posts())
        tg.send_group_text(ADMIN, STAFF_GROUP, "/cases")
        await tg.wait_for(lambda: len(staff_posts()) > before, 30)
        listing = text_of(staff_posts()[before])
        assert listing.startswith("Open cases (1):") and "#3 · " in listing and "not delivered" in listing

        # -- the person writes again: the kept reply goes out first, staff are told
        sent_before = len(zalo.oa_sent)
        await zalo.post_oa_event(oa_url, zalo.oa_event(text="Thank you", user_id="oa-7"))
        assert await zalo.wait_for(lambda: any(OFFICER_OA in m.text for m in zalo.oa_sent), 60)
        late = [m for m in zalo.oa_sent[sent_before:] if m.chat_id == "oa-7"]
        assert OFFICER_OA in late[0].text and late[0].text.startswith("👤 Answer from a city officer (case #3)")
        await staff_message("✅ Case #3: delivered to p-")

        # -- another process sharing DATA_DIR opens a case: this bot posts it, and its reply is delivered
        other = await asyncio.create_subprocess_exec(sys.executable, "-c", OPEN_CASE, str(data_dir / "bot.sqlite3"),
                                                     "oa-8", cwd=str(ROOT), stdout=asyncio.subprocess.PIPE)
        out, _ = await asyncio.wait_for(other.communicate(), 60)
        assert out.decode().strip() == "4"
        await staff_message("Case #4 ", 30)
        tg.reply_in_group(ADMIN, STAFF_GROUP, post_of(4), "Xin chào, đây là câu trả lời.")
        assert await zalo.wait_for(lambda: any(m.chat_id == "oa-8" and "hồ sơ #4" in m.text for m in zalo.oa_sent), 60)

        # -- /publish → the same question is answered from the new FAQ document, no restart
        before = len(staff_posts())
        tg.send_group_text(ADMIN, STAFF_GROUP, f"/publish 1 {HEZA}")
        published = await staff_message("Case #1 published as knowledge/faq/case-1.en.md", 120)
        assert "Reply from" in text_of(published)
        faq = (knowledge / "faq" / "case-1.en.md").read_text(encoding="utf-8")
        assert "kind: faq" in faq and f"department: {HEZA}" in faq and OFFICER_EN in faq
        deadline = asyncio.get_running_loop().time() + 60
        answer = ""
        while asyncio.get_running_loop().time() < deadline:
            count = len(tg.sent(LATER))
            tg.send_text(LATER, REFUSED_EN)
            [reply] = await tg.wait_for_messages(LATER, 1, after=count, within=60)
            answer = text_of(reply)
            if "Reply from" in answer:
                break
            await asyncio.sleep(2)
        assert "HEZA one-stop desk" in answer and "[1]" in answer
        assert f"[1] Reply from {HEZA}, {time.strftime('%Y-%m-%d')}" in answer

        # -- "xóa dữ liệu" on Zalo deletes that person's data and confirms it
        zalo.queue_update(zalo.text_event("xóa dữ liệu", user_id="zb-9"))
        assert await zalo.wait_for(lambda: zalo.bot_sent[-1].text == t("forget_done", "vi"), 60)
        conn = sqlite3.connect(data_dir / "bot.sqlite3")
        left = [r for table in ("answers", "cases", "handoff_offers", "preferences", "rate", "memory")
                for r in conn.execute(f"SELECT * FROM {table}") if "zb-9" in " ".join(map(str, r))]
        conn.close()
        assert left == []
    finally:
        await bot.stop()
        await tg.stop()
        await zalo.stop()
    log = bot.log()
    assert "personal data deleted on request" in log and "zb-9" not in log
    # data files hold personal data: owner only
    for name in ("bot.sqlite3", "bot.sqlite3-wal", "bot.sqlite3-shm"):
        path = data_dir / name
        if path.exists():
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, name
