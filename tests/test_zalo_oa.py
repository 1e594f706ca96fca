"""Zalo Official Account channel, end to end: signed webhook events posted over real HTTP to the
shared server, answers sent to a fake OA API / OAuth server on 127.0.0.1, the real Conversation
over the fixture index, and the real token file under DATA_DIR."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.channels.webhook import WebhookServer
from bot.channels.zalo_oa import WEBHOOK_PATH, ZaloOAChannel, signature
from bot.conversation import Conversation
from bot.texts import t
from bot.zalo_tokens import TOKEN_FILE, OATokenStore
from tests.fake_zalo import FakeZalo, Sent

pytestmark = pytest.mark.slow

QUESTION_EN = "Do investors pay land rent in the free trade zone?"
QUESTION_VI = "Khu thương mại tự do Hải Phòng do cơ quan nào quản lý?"


@dataclass
class Running:
    fake: FakeZalo
    channel: ZaloOAChannel
    server: WebhookServer
    conversation: Conversation

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.bound_port}{WEBHOOK_PATH}"


@pytest.fixture
async def fake(data_dir: Path) -> AsyncIterator[FakeZalo]:
    server = await FakeZalo(token_file=data_dir / TOKEN_FILE).start()
    yield server
    await server.stop()


def oa_env(fake: FakeZalo, **extra: str) -> dict[str, str]:
    env = {"ZALO_OA_APP_ID": fake.app_id, "ZALO_OA_SECRET_KEY": fake.oa_secret_key,
           "ZALO_APP_SECRET": fake.app_secret, "ZALO_OA_ACCESS_TOKEN": fake.access_token,
           "ZALO_OA_REFRESH_TOKEN": fake.refresh_token, "ZALO_OA_API_BASE_URL": fake.base_url,
           "ZALO_OAUTH_BASE_URL": fake.base_url}
    env.update(extra)
    return env


async def start_oa(make_settings, fake: FakeZalo, **extra: str) -> Running:  # type: ignore[no-untyped-def]
    settings = make_settings(**oa_env(fake, **extra))
    conversation = Conversation.create(settings)
    server = WebhookServer("127.0.0.1", 0)
    channel = ZaloOAChannel(settings, conversation, server)
    await server.start()
    await channel.start()
    return Running(fake, channel, server, conversation)


async def stop_oa(running: Running) -> None:
    await running.channel.stop()
    await running.server.stop()
    running.conversation.db.close()


@pytest.fixture
async def oa(make_settings, fake: FakeZalo) -> AsyncIterator[Running]:  # type: ignore[no-untyped-def]
    running = await start_oa(make_settings, fake)
    yield running
    await stop_oa(running)


def to_user(fake: FakeZalo, user: str) -> list[Sent]:
    return [m for m in fake.oa_sent if m.chat_id == user]


async def say(oa: Running, text: str, user: str) -> str:
    fake = oa.fake
    before = len(to_user(fake, user))
    status, _ = await fake.post_oa_event(oa.url, fake.oa_event(text=text, user_id=user))
    assert status == 200
    assert await fake.wait_for(lambda: len(to_user(fake, user)) > before, 60), f"no reply to {text!r}"
    return "\n".join(m.text for m in to_user(fake, user)[before:])


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every captured record with its structured fields (the bot logs details as extras)."""
    return "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)


def saved_tokens(data_dir: Path) -> dict[str, object]:
    return json.loads((data_dir / TOKEN_FILE).read_text())


async def test_signed_event_is_acknowledged_then_answered_through_message_cs(oa: Running) -> None:
    fake = oa.fake
    status, answer = await fake.post_oa_event(oa.url, fake.oa_event(text=QUESTION_EN, user_id="u-1"))
    assert (status, answer) == (200, {"ok": True})
    assert fake.oa_sent == []  # acknowledged before the answer was composed
    assert await fake.wait_for(lambda: any("Sources:" in m.text for m in to_user(fake, "u-1")), 60)
    sent = to_user(fake, "u-1")
    assert all(m.token == "AT-0" for m in sent)  # the access_token header, as Zalo wants it
    assert all(1 <= len(m.text) <= 2000 for m in sent)
    text = "\n".join(m.text for m in sent)
    assert "<a " not in text and "[1]" in text.split("Sources:")[0] and "\n[1] " in text
    assert fake.refreshes == 0
    assert await oa.channel.ready() == (True, f"webhook {WEBHOOK_PATH}, token from environment")


async def test_vietnamese_question_answered_in_vietnamese(oa: Running) -> None:
    reply = await say(oa, QUESTION_VI, "vi-1")
    assert "Nguồn:" in reply and "[1]" in reply


async def test_forged_or_unsigned_events_get_403_and_no_answer(oa: Running) -> None:
    fake = oa.fake
    forged = fake.oa_event(text=QUESTION_EN, user_id="mallory")
    assert (await fake.post_oa_event(oa.url, forged, secret_key="guessed-secret"))[0] == 403
    assert (await fake.post_oa_event(oa.url, fake.oa_event(text=QUESTION_EN, user_id="mallory"), signed=False))[0] == 403
    # a genuine signature over a different body
    genuine = fake.oa_event(text="help", user_id="mallory")
    raw = json.dumps(genuine).encode()
    tampered = json.dumps({**genuine, "message": {**genuine["message"], "text": "stats"}}).encode()
    headers = {"X-ZEvent-Signature": fake.sign(raw, genuine["timestamp"]), "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session, session.post(oa.url, data=tampered, headers=headers) as r:
        assert r.status == 403
    assert "Commands:" in await say(oa, "help", "alice")  # the channel is alive and answering
    assert to_user(fake, "mallory") == []


def test_signature_is_plain_sha256_of_app_id_body_timestamp_and_key() -> None:
    # sha256("app" + '{"a":1}' + "123" + "key"), computed independently
    import hashlib

    expected = hashlib.sha256(b'app{"a":1}123key').hexdigest()
    assert signature("app", b'{"a":1}', "123", "key") == f"mac={expected}"


async def test_redelivered_event_is_answered_once_even_by_another_process(oa: Running, make_settings) -> None:  # type: ignore[no-untyped-def]
    fake = oa.fake
    event = fake.oa_event(text="about", user_id="dup", msg_id="msg-same")
    assert (await fake.post_oa_event(oa.url, event))[0] == 200
    assert (await fake.post_oa_event(oa.url, event))[0] == 200  # Zalo's retry after 30 s
    other = await start_oa(make_settings, fake)  # a second bot process on the same DATA_DIR
    try:
        assert (await fake.post_oa_event(other.url, event))[0] == 200
    finally:
        await stop_oa(other)
    assert "Commands:" in await say(oa, "help", "dup")  # answered after (same user, in order)
    texts = [m.text for m in to_user(fake, "dup")]
    assert len(texts) == 2 and texts[0].startswith("The Hai Phong policy assistant")


async def test_invalid_token_is_refreshed_once_persisted_before_use_and_message_delivered(
        oa: Running, data_dir: Path) -> None:
    fake = oa.fake
    fake.access_token = "AT-issued-elsewhere"  # the environment's AT-0 has expired at Zalo
    reply = await say(oa, "help", "u-2")
    assert "Commands:" in reply
    assert fake.refreshes == 1 and fake.refresh_rejections == 0
    assert [r["error"] for r in fake.oa_rejected] == [-216]
    saved = saved_tokens(data_dir)
    assert (saved["access_token"], saved["refresh_token"]) == ("AT-1", "RT-1")
    assert 89000 < float(saved["expires_at"]) - time.time() <= 90000  # type: ignore[arg-type]
    sent = to_user(fake, "u-2")
    assert [m.token for m in sent] == ["AT-1"] and all(m.token_was_saved for m in sent)
    oauth = [body for name, body in fake.calls if name == "oauth"]
    assert oauth == [{"app_id": fake.app_id, "grant_type": "refresh_token"}]  # refresh_token is checked by the fake
    # the next message uses the new token straight away
    await say(oa, "about", "u-2")
    assert fake.refreshes == 1 and to_user(fake, "u-2")[-1].token == "AT-1"


async def test_saved_pair_wins_over_the_environment_and_expiry_triggers_a_refresh(
        make_settings, fake: FakeZalo, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    (data_dir / TOKEN_FILE).write_text(json.dumps({"access_token": "AT-0", "refresh_token": "RT-0",
                                                   "expires_at": time.time() - 10}))
    # the environment still holds the first, long spent pair
    running = await start_oa(make_settings, fake, ZALO_OA_ACCESS_TOKEN="AT-spent", ZALO_OA_REFRESH_TOKEN="RT-spent")
    try:
        assert "Commands:" in await say(running, "help", "u-3")
    finally:
        await stop_oa(running)
    assert fake.refreshes == 1 and fake.refresh_rejections == 0
    assert fake.oa_rejected == []  # refreshed before sending: the recorded expiry had passed
    assert saved_tokens(data_dir)["refresh_token"] == "RT-1"
    assert [m.token for m in to_user(fake, "u-3")] == ["AT-1"]


async def test_two_concurrent_sends_with_an_invalid_token_cause_one_refresh(oa: Running) -> None:
    fake = oa.fake
    fake.access_token = "AT-issued-elsewhere"
    fake.refresh_waits_for_rejections = 2  # both sends are rejected before the refresh answers
    events = [fake.oa_event(text="help", user_id="p-1"), fake.oa_event(text="trợ giúp", user_id="p-2")]
    results = await asyncio.gather(*(fake.post_oa_event(oa.url, e) for e in events))
    assert [status for status, _ in results] == [200, 200]
    assert await fake.wait_for(lambda: to_user(fake, "p-1") and to_user(fake, "p-2"), 60)
    assert len(fake.oa_rejected) == 2
    assert fake.refreshes == 1 and fake.refresh_rejections == 0
    assert {m.token for m in fake.oa_sent} == {"AT-1"}


async def test_two_processes_refreshing_at_once_spend_the_refresh_token_once(fake: FakeZalo, data_dir: Path) -> None:
    stores = [OATokenStore(data_dir, fake.app_id, fake.app_secret, fake.base_url, "AT-0", "RT-0") for _ in range(2)]
    async with aiohttp.ClientSession() as session:
        tokens = await asyncio.gather(*(store.refresh(session, stale="AT-0") for store in stores))
    assert tokens == ["AT-1", "AT-1"]
    assert fake.refreshes == 1 and fake.refresh_rejections == 0
    assert sum(store.refreshes for store in stores) == 1


async def test_transient_errors_are_retried(oa: Running, caplog: pytest.LogCaptureFixture) -> None:
    fake = oa.fake
    fake.fail_next_sends(2)  # {"error": -100} with HTTP 200, twice
    with caplog.at_level(logging.WARNING, logger="bot.zalo_oa"):
        assert await oa.channel.send_text("r-1", "hello") is True
    assert [body["token"] for name, body in fake.calls if name == "oa/message/cs"] == ["AT-0"] * 3
    assert [m.text for m in to_user(fake, "r-1")] == ["hello"]
    assert "Zalo error -100" in logged(caplog)
    fake.fail_next_sends(1, status=503)
    assert await oa.channel.send_text("r-1", "again") is True
    assert [m.text for m in to_user(fake, "r-1")] == ["hello", "again"]


async def test_permanent_errors_are_logged_not_retried(oa: Running, caplog: pytest.LogCaptureFixture) -> None:
    fake = oa.fake
    fake.permanent_error = -213  # user is not a follower / outside the reply window
    with caplog.at_level(logging.WARNING, logger="bot.zalo_oa"):
        assert await oa.channel.send_text("gone", "hello") is False
    assert len([name for name, _ in fake.calls if name == "oa/message/cs"]) == 1
    text = logged(caplog)
    assert "-213" in text and "not delivered" in text
    assert "AT-0" not in text  # the token is never logged
    assert fake.oa_sent == []


async def test_refresh_rejected_is_reported_not_retried_forever(oa: Running) -> None:
    fake = oa.fake
    fake.access_token = "AT-issued-elsewhere"
    fake.refresh_token = "RT-someone-else-used"  # our RT-0 was spent by another installation
    assert await oa.channel.send_text("x-1", "hello") is False
    assert fake.refresh_rejections == 1 and fake.oa_sent == []
    ready, detail = await oa.channel.ready()
    assert not ready and "refresh rejected" in detail


async def test_images_stickers_and_files_get_a_short_hint(oa: Running) -> None:
    fake = oa.fake
    for n, event in enumerate(("user_send_image", "user_send_sticker", "user_send_file", "user_send_location")):
        assert (await fake.post_oa_event(oa.url, fake.oa_event(event, user_id=f"m-{n}")))[0] == 200
    assert await fake.wait_for(lambda: all(to_user(fake, f"m-{n}") for n in range(4)), 30)
    assert {m.text for m in fake.oa_sent} == {t("non_text", "vi")}


async def test_follow_gets_the_welcome_and_unfollow_is_recorded_silently(oa: Running) -> None:
    fake = oa.fake
    assert (await fake.post_oa_event(oa.url, fake.oa_event("follow", user_id="f-1")))[0] == 200
    assert await fake.wait_for(lambda: to_user(fake, "f-1"), 30)
    welcome = to_user(fake, "f-1")[0].text
    assert welcome.startswith("Xin chào!") and "• Nghị quyết 226 có gì đặc biệt?" in welcome
    assert t("privacy", "vi", days=90) in welcome and "«xóa dữ liệu»" in welcome
    assert (await fake.post_oa_event(oa.url, fake.oa_event("unfollow", user_id="f-1")))[0] == 200
    assert (await fake.post_oa_event(oa.url, fake.oa_event("user_seen_message", user_id="f-1")))[0] == 200
    assert "Commands:" in await say(oa, "help", "f-1")  # handled after the unfollow (same user, in order)
    assert len(to_user(fake, "f-1")) == 2
    kinds = [r["kind"] for r in oa.conversation.db.query(
        "SELECT kind FROM events WHERE user_key=? ORDER BY id", ("zalo_oa:f-1",))]
    assert kinds == ["follow", "unfollow"]


async def test_word_commands_in_both_languages(oa: Running) -> None:
    assert "Lệnh:" in await say(oa, "trợ giúp", "w-1")
    assert await say(oa, "english", "w-1") == t("language_set", "en")
    assert (await say(oa, "nguồn", "w-1")).startswith(t("sources_head", "en"))  # English chosen
    assert await say(oa, "Tiếng Việt", "w-1") == t("language_set", "vi")
    assert (await say(oa, "about", "w-1")).startswith("Trợ lý chính sách Hải Phòng")
    assert (await say(oa, "Giới thiệu", "w-2")).startswith("Trợ lý")
    assert (await say(oa, "START", "w-3")).startswith("Hello!")
    assert await say(oa, "/unknown", "w-3") == t("unknown_command", "vi")
