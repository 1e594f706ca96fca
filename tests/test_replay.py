"""Replayed and stale webhook events (issue 13, finding 4) and readiness after a token failure
(finding 6), end to end over real HTTP with the fake Zalo and Telegram servers and the real
database under DATA_DIR."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from bot.channels.webhook import WebhookServer
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo
from tests.test_telegram import LINKED_QUESTION, running
from tests.test_zalo_oa import Running, start_oa, stop_oa, to_user

pytestmark = pytest.mark.slow

Y2020_MS = "1577836800000"
Y2100_MS = "4102444800000"


@pytest.fixture
async def oa(make_settings, data_dir):  # type: ignore[no-untyped-def]
    fake = await FakeZalo().start()
    running_oa = await start_oa(make_settings, fake)
    yield running_oa
    await stop_oa(running_oa)
    await fake.stop()


async def test_validly_signed_events_from_2020_or_2100_are_refused_and_not_answered(oa: Running) -> None:
    fake = oa.fake
    for stamp in (Y2020_MS, Y2100_MS, "not-a-time"):
        event = fake.oa_event(text="help", user_id="time-traveller", timestamp=stamp)
        status, answer = await fake.post_oa_event(oa.url, event)  # a correct signature over that timestamp
        assert (status, answer) == (400, {"ok": False, "error": "stale event"})
    fresh = fake.oa_event(text="help", user_id="time-traveller")
    assert (await fake.post_oa_event(oa.url, fresh))[0] == 200
    assert await fake.wait_for(lambda: to_user(fake, "time-traveller"), 60)
    await asyncio.sleep(0.5)
    assert len(to_user(fake, "time-traveller")) == 1  # only the fresh event was answered


async def test_a_signed_event_without_msg_id_replayed_three_times_gets_one_reply(oa: Running, make_settings) -> None:  # type: ignore[no-untyped-def]
    fake = oa.fake
    event = fake.oa_event(text="about", user_id="replayer")
    del event["message"]["msg_id"]
    results = [await fake.post_oa_event(oa.url, event) for _ in range(2)]
    other = await start_oa(make_settings, fake)  # a second process on the same DATA_DIR
    try:
        results.append(await fake.post_oa_event(other.url, event))
    finally:
        await stop_oa(other)
    assert [status for status, _ in results] == [200, 200, 200]
    assert [answer.get("duplicate", False) for _, answer in results] == [False, True, True]
    assert await fake.wait_for(lambda: to_user(fake, "replayer"), 60)
    await asyncio.sleep(1.0)
    assert len(to_user(fake, "replayer")) == 1


async def test_readyz_is_ready_again_once_messages_are_delivered_after_a_failed_refresh(oa: Running) -> None:
    fake = oa.fake
    oa.server.add_readiness_check("zalo_oa", oa.channel.ready)
    readyz = f"http://127.0.0.1:{oa.server.bound_port}/readyz"
    fake.access_token = "AT-issued-elsewhere"
    fake.refresh_token = "RT-someone-else-used"
    assert await oa.channel.send_text("r-1", "hello") is False  # rejected token, refresh rejected
    async with aiohttp.ClientSession() as session:
        async with session.get(readyz) as resp:
            assert resp.status == 503
        fake.access_token = "AT-0"  # Zalo accepts our token again: messages go through
        assert await oa.channel.send_text("r-1", "hello again") is True
        async with session.get(readyz) as resp:
            body = await resp.json()
            assert resp.status == 200, body
            assert body["checks"]["zalo_oa"].startswith("webhook")


async def test_telegram_redelivery_is_answered_once_across_processes_and_restarts(make_settings) -> None:  # type: ignore[no-untyped-def]
    secret = "s3cret_Webhook-token"
    async with FakeTelegram(max_poll_wait=1.0) as fake:
        settings = make_settings(TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_API_BASE_URL=fake.base_url,
                                 RATE_LIMIT_PER_MINUTE="1000", TELEGRAM_WEBHOOK_SECRET=secret,
                                 TELEGRAM_WEBHOOK_URL="https://bot.example.org/telegram/webhook")
        update = fake.update_for("message", fake.text_message(1701, LINKED_QUESTION))
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret, "Content-Type": "application/json"}
        for _process in range(2):  # the same update reaches one process, then another (or a restart)
            server = WebhookServer("127.0.0.1", 0)
            async with running(settings, server):
                url = f"http://127.0.0.1:{server.bound_port}/telegram/webhook"
                async with aiohttp.ClientSession() as http, http.post(url, data=json.dumps(update),
                                                                     headers=headers) as resp:
                    assert resp.status == 200
                await fake.wait_for_messages(1701, 1)
                await asyncio.sleep(1.0)
        assert len(fake.sent(1701)) == 1
