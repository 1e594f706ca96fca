"""Zalo Bot Platform channel, end to end: the real channel and Conversation over the fixture index,
talking real HTTP to a fake Bot API on 127.0.0.1 (polling) or receiving webhook calls."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

from bot.channels.webhook import WebhookServer
from bot.channels.zalo_bot import WEBHOOK_PATH, ZaloBotChannel
from bot.channels.zalo_common import TEXT_LIMIT, pieces
from bot.conversation import Conversation
from bot.texts import t
from tests.fake_zalo import FakeZalo, Sent

pytestmark = pytest.mark.slow

QUESTION_EN = "Do investors pay land rent in the free trade zone?"
QUESTION_VI = "Khu thương mại tự do Hải Phòng do cơ quan nào quản lý?"
SECRET = "webhook-secret-123"


@dataclass
class Running:
    fake: FakeZalo
    channel: ZaloBotChannel
    server: WebhookServer
    conversation: Conversation

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.server.bound_port}{WEBHOOK_PATH}"


@pytest.fixture
async def fake() -> AsyncIterator[FakeZalo]:
    server = await FakeZalo().start()
    yield server
    await server.stop()


async def _run(make_settings, fake: FakeZalo, **extra: str) -> Running:  # type: ignore[no-untyped-def]
    settings = make_settings(ZALO_BOT_TOKEN=fake.bot_token, ZALO_BOT_API_BASE_URL=fake.bot_api_base, **extra)
    conversation = Conversation.create(settings)
    server = WebhookServer("127.0.0.1", 0)
    channel = ZaloBotChannel(settings, conversation, server)
    await server.start()
    await channel.start()
    return Running(fake, channel, server, conversation)


async def _close(running: Running) -> None:
    await running.channel.stop()
    await running.server.stop()
    running.conversation.db.close()


@pytest.fixture
async def polling(make_settings, fake: FakeZalo) -> AsyncIterator[Running]:  # type: ignore[no-untyped-def]
    running = await _run(make_settings, fake, ZALO_ADMIN_IDS="staff-1")
    yield running
    await _close(running)


@pytest.fixture
async def webhook(make_settings, fake: FakeZalo) -> AsyncIterator[Running]:  # type: ignore[no-untyped-def]
    running = await _run(make_settings, fake, ZALO_BOT_WEBHOOK_URL="https://bot.example.org/zalo/bot/webhook",
                         ZALO_BOT_WEBHOOK_SECRET=SECRET)
    yield running
    await _close(running)


def to_chat(fake: FakeZalo, chat_id: str) -> list[Sent]:
    return [m for m in fake.bot_sent if m.chat_id == chat_id]


async def say(running: Running, text: str, user: str) -> str:
    """Send one text as `user` through getUpdates and return the bot's reply (all its pieces)."""
    fake = running.fake
    before = len(to_chat(fake, user))
    fake.queue_update(fake.text_event(text, user_id=user))
    assert await fake.wait_for(lambda: len(to_chat(fake, user)) > before, 60), f"no reply to {text!r}"
    return "\n".join(m.text for m in to_chat(fake, user)[before:])


def assert_plain_cited(messages: list[Sent], label: str) -> None:
    text = "\n".join(m.text for m in messages)
    assert all(1 <= len(m.text) <= TEXT_LIMIT for m in messages)
    assert not re.search(r"</?(b|a|i)\b", text), "Zalo shows no HTML"
    assert f"{label}:" in text
    assert re.search(r"^\[1\] ", text, re.MULTILINE), "sources are numbered"
    assert "[1]" in text.split(f"{label}:")[0], "the answer points at its sources"


async def test_polling_answers_a_question_with_numbered_plain_sources(polling: Running) -> None:
    fake = polling.fake
    fake.queue_update(fake.text_event(QUESTION_EN, user_id="u-1"))
    assert await fake.wait_for(lambda: any("Sources:" in m.text for m in fake.bot_sent), 60)
    assert_plain_cited(to_chat(fake, "u-1"), "Sources")
    methods = fake.methods()
    assert "deleteWebhook" in methods  # polling and a webhook are exclusive
    polls = [body for name, body in fake.calls if name == "getUpdates"]
    assert polls and all(body.get("timeout") == polling.channel.poll_timeout for body in polls)
    assert ("sendChatAction", {"chat_id": "u-1", "action": "typing"}) in fake.calls
    assert await polling.channel.ready() == (True, "polling")


async def test_polling_answers_vietnamese_in_vietnamese_and_a_list_of_events(polling: Running) -> None:
    fake = polling.fake
    fake.queue_update([fake.text_event(QUESTION_VI, user_id="vi-1"),
                       fake.text_event("What is the weather today?", user_id="en-1")])
    assert await fake.wait_for(lambda: to_chat(fake, "vi-1") and to_chat(fake, "en-1"), 60)
    assert_plain_cited(to_chat(fake, "vi-1"), "Nguồn")
    refusal = to_chat(fake, "en-1")[0].text
    assert refusal.startswith("Sorry") and "Sources:" not in refusal


async def test_group_mention_is_answered_in_the_group(polling: Running) -> None:
    fake = polling.fake
    fake.queue_update(fake.text_event(QUESTION_EN, user_id="member-1", chat_id="group-9", chat_type="GROUP"))
    assert await fake.wait_for(lambda: to_chat(fake, "group-9"), 60)
    assert not to_chat(fake, "member-1")
    assert_plain_cited(to_chat(fake, "group-9"), "Sources")


async def test_staff_words_in_a_group_do_not_show_other_peoples_questions(polling: Running) -> None:
    fake = polling.fake
    await say(polling, "My phone is 0912345678: what is the weather today?", "asker-1")
    fake.queue_update(fake.text_event("gaps", user_id="staff-1", chat_id="group-7", chat_type="GROUP"))
    assert await fake.wait_for(lambda: to_chat(fake, "group-7"), 60)
    assert [m.text for m in to_chat(fake, "group-7")] == [t("staff_private", "vi")]
    private = await say(polling, "gaps", "staff-1")
    assert "weather today" in private and "[phone]" in private and "0912345678" not in private


async def test_images_stickers_and_unsupported_get_a_short_text_hint(polling: Running) -> None:
    fake = polling.fake
    for n, event in enumerate(("message.image.received", "message.sticker.received",
                               "message.unsupported.received")):
        fake.queue_update(fake.text_event("", user_id=f"media-{n}", event_name=event))
    assert await fake.wait_for(lambda: all(to_chat(fake, f"media-{n}") for n in range(3)), 30)
    for n in range(3):
        assert [m.text for m in to_chat(fake, f"media-{n}")] == [t("non_text", "vi")]


async def test_word_commands_in_both_languages(polling: Running) -> None:
    assert "Commands:" in (reply := await say(polling, "help", "c-en")) and "sources —" in reply
    assert "reindex" not in reply  # staff commands are not shown to everyone
    assert "Lệnh:" in (reply := await say(polling, "Trợ giúp", "c-vi")) and "nguồn —" in reply
    assert "Commands:" in await say(polling, "/HELP", "c-slash")
    assert await say(polling, "English", "c-vi") == t("language_set", "en")
    english = await say(polling, QUESTION_VI, "c-vi")  # a Vietnamese question, answered in English
    assert "Sources:" in english and "Nguồn:" not in english
    assert await say(polling, "tiếng việt", "c-vi") == t("language_set", "vi")
    assert await say(polling, "TIENG VIET", "c-en") == t("language_set", "vi")
    assert (await say(polling, "nguồn", "c-src")).startswith(t("sources_head", "vi"))
    assert (await say(polling, "Sources", "c-src2")).startswith(t("sources_head", "en"))
    assert (await say(polling, "Giới thiệu", "c-about")).startswith("Trợ lý chính sách Hải Phòng")
    welcome = await say(polling, "start", "c-start")
    assert welcome.startswith("Hello!") and "• What is special about Resolution 226?" in welcome
    assert t("privacy", "en", days=90) in welcome  # what is stored, why, how long, how to delete it
    assert await say(polling, "privacy", "c-start") == t("privacy", "en", days=90)
    assert (await say(polling, "Bắt đầu", "c-start-vi")).startswith("Xin chào!")
    assert await say(polling, "stats", "c-en") == t("staff_only", "vi")  # c-en chose Vietnamese above
    staff = await say(polling, "stats", "staff-1")
    assert "Index:" in staff or "Kho tài liệu:" in staff
    assert "reindex —" in await say(polling, "help", "staff-1")


async def test_setwebhook_at_start_and_wrapped_or_bare_events_answered(webhook: Running) -> None:
    fake = webhook.fake
    assert fake.webhook == {"url": "https://bot.example.org/zalo/bot/webhook", "secret_token": SECRET}
    assert "getUpdates" not in fake.methods()
    wrapped = {"ok": True, "result": fake.text_event(QUESTION_EN, user_id="w-1")}
    bare = fake.text_event("Trợ giúp", user_id="w-2")
    async with aiohttp.ClientSession() as session:
        for body in (wrapped, bare):
            async with session.post(webhook.webhook_url, json=body, headers={"X-Bot-Api-Secret-Token": SECRET}) as r:
                assert r.status == 200
    assert await fake.wait_for(lambda: to_chat(fake, "w-1") and to_chat(fake, "w-2"), 60)
    assert_plain_cited(to_chat(fake, "w-1"), "Sources")
    assert "Lệnh:" in to_chat(fake, "w-2")[0].text
    assert await webhook.channel.ready() == (True, "webhook set")


async def test_webhook_rejects_a_wrong_or_missing_secret(webhook: Running) -> None:
    fake = webhook.fake
    async with aiohttp.ClientSession() as session:
        for headers in ({"X-Bot-Api-Secret-Token": "not-the-secret"}, {}):
            event = fake.text_event(QUESTION_EN, user_id="intruder")
            async with session.post(webhook.webhook_url, json=event, headers=headers) as r:
                assert r.status == 403
        event = fake.text_event("help", user_id="friend")
        async with session.post(webhook.webhook_url, json=event, headers={"X-Bot-Api-Secret-Token": SECRET}) as r:
            assert r.status == 200
    assert await fake.wait_for(lambda: to_chat(fake, "friend"), 30)
    assert to_chat(fake, "intruder") == []


async def test_a_redelivered_event_is_answered_once(polling: Running) -> None:
    fake = polling.fake
    event = fake.text_event("about", user_id="again")
    fake.queue_update(event)
    fake.queue_update(event)
    fake.queue_update(fake.text_event("help", user_id="again"))
    assert await fake.wait_for(lambda: len(to_chat(fake, "again")) >= 2, 30)
    texts = [m.text for m in to_chat(fake, "again")]
    assert texts[0].startswith("The Hai Phong policy assistant") and "Commands:" in texts[1]
    assert len(texts) == 2


def test_long_answers_are_cut_at_paragraphs_under_the_limit() -> None:
    paragraphs = [f"Paragraph {n}. " + "word " * 150 for n in range(12)]
    text = "\n\n".join(paragraphs)
    parts = pieces(text)
    assert len(parts) > 1
    assert all(1 <= len(p) <= TEXT_LIMIT for p in parts)
    assert all(p.startswith("Paragraph") for p in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())
