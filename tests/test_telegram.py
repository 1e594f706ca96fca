"""End to end: the Telegram channel against a fake Bot API server over real loopback HTTP, with a
real index of knowledge/ and a real Conversation. Nothing of ours is mocked: the fake stands in
for api.telegram.org, and the bot is configured to talk to it through TELEGRAM_API_BASE_URL."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from telegram import Bot

from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_send import Sender
from bot.channels.webhook import WebhookServer
from bot.config import Settings
from bot.conversation import Conversation
from bot.texts import COMMANDS, EXAMPLES, STAFF_COMMANDS, t
from tests.conftest import KNOWLEDGE
from tests.fake_telegram import FakeTelegram, parse_html

pytestmark = pytest.mark.slow

STAFF = 4242
LINKED_QUESTION = "What does the economic diplomacy action plan cover?"  # cites a document with a URL
VI_QUESTION = "Khu thương mại tự do Hải Phòng do cơ quan nào quản lý?"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(max_poll_wait=1.0) as tg:
        yield tg


@pytest.fixture
def bot_settings(make_settings, fake: FakeTelegram):  # type: ignore[no-untyped-def]
    def make(**extra: str) -> Settings:
        env = {"TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url,
               "RATE_LIMIT_PER_MINUTE": "1000", "TELEGRAM_ADMIN_IDS": str(STAFF)}
        env.update(extra)
        return make_settings(**env)
    return make


@asynccontextmanager
async def running(settings: Settings, server: WebhookServer | None = None) -> AsyncIterator[TelegramChannel]:
    """The channel as `python -m bot run` starts it: webhook server first, then the channel."""
    conversation = Conversation.create(settings)
    server = server or WebhookServer("127.0.0.1", 0)
    channel = TelegramChannel(settings, conversation, server)
    await server.start()
    await channel.start()
    try:
        yield channel
    finally:
        await channel.stop()
        await server.stop()
        conversation.db.close()


@pytest.fixture
async def bot(bot_settings) -> AsyncIterator[TelegramChannel]:  # type: ignore[no-untyped-def]
    async with running(bot_settings()) as channel:
        yield channel


async def say(fake: FakeTelegram, user: int, text: str, count: int = 1) -> list[dict]:
    """The user sends `text`; returns the `count` messages the bot sends back."""
    before = len(fake.sent(user))
    fake.send_text(user, text)
    return await fake.wait_for_messages(user, count, after=before)


def visible(message: dict) -> str:
    return parse_html(message["text"]) if message.get("parse_mode") == "HTML" else message["text"]


# -- answering -----------------------------------------------------------------------------------
async def test_polling_answers_with_html_sources_and_vote_buttons(fake, bot):
    [answer] = await say(fake, 1001, LINKED_QUESTION)
    assert answer["parse_mode"] == "HTML"
    assert "[1]" in answer["text"]
    assert '<a href="https://' in answer["text"]
    assert f"<b>{t('sources_label', 'en')}:</b>" in answer["text"]
    data = [b["callback_data"] for b in fake.buttons(answer)]
    assert len(data) == 2 and data[0].endswith(":u") and data[1].endswith(":d")
    assert data[0].split(":")[1] == data[1].split(":")[1]
    # typing was shown in that chat before the answer went out
    methods = [(c.method, c.params.get("chat_id")) for c in fake.calls]
    assert ("sendChatAction", 1001) in methods
    assert methods.index(("sendChatAction", 1001)) < methods.index(("sendMessage", 1001))
    assert fake.calls_to("sendChatAction")[0].params["action"] == "typing"
    # polling mode: the webhook was removed and updates were fetched with getUpdates
    assert fake.calls_to("deleteWebhook") and fake.calls_to("getUpdates")
    assert await bot.ready() == (True, "polling as @hp_policy_bot")


async def test_vote_is_stored_with_question_answer_and_citations(fake, bot):
    [answer] = await say(fake, 1002, LINKED_QUESTION)
    down = fake.buttons(answer)[1]["callback_data"]
    fake.press_button(1002, down)
    await fake.wait_for(lambda: fake.calls_to("answerCallbackQuery"))
    assert fake.calls_to("answerCallbackQuery")[0].params["text"] == t("vote_thanks", "en")
    rows = bot.conversation.db.query(
        "SELECT v.vote, v.user_key, a.question, a.answer, a.citations FROM votes v "
        "JOIN answers a ON a.id = v.answer_id")
    assert len(rows) == 1
    assert rows[0]["vote"] == -1 and rows[0]["user_key"] == "telegram:1002"
    assert rows[0]["question"] == LINKED_QUESTION
    assert rows[0]["answer"] and json.loads(rows[0]["citations"])[0]["url"].startswith("https://")
    # the buttons now show the choice
    await fake.wait_for(lambda: fake.calls_to("editMessageReplyMarkup"))
    labels = [b["text"] for b in fake.buttons(fake.calls_to("editMessageReplyMarkup")[0].params)]
    assert labels == ["👍", "👎 ✓"]


async def test_lang_switch_changes_the_answer_language(fake, bot):
    [first] = await say(fake, 1003, VI_QUESTION)
    assert t("frame_same", "vi") in first["text"]
    [switched] = await say(fake, 1003, "/lang")
    assert switched["text"] == t("language_set", "en")
    [second] = await say(fake, 1003, VI_QUESTION)
    assert "According to the documents" in second["text"]
    assert t("frame_same", "vi") not in second["text"]
    [back] = await say(fake, 1003, "/lang")
    assert back["text"] == t("language_set", "vi")


async def test_example_button_asks_that_question(fake, bot):
    [welcome] = await say(fake, 1004, "/start")
    buttons = fake.buttons(welcome)
    assert [b["text"] for b in buttons] == [*EXAMPLES["vi"], t("officer_button", "vi")]
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)
    fake.press_button(1004, buttons[0]["callback_data"])
    [answer] = await fake.wait_for_messages(1004, 1, after=1)
    assert EXAMPLES["vi"][0] in visible(answer)
    assert t("sources_label", "vi") in answer["text"]
    assert len(fake.buttons(answer)) == 2  # votable like any answer
    # the last button asks for an officer: the question just asked is offered for forwarding
    fake.press_button(1004, buttons[-1]["callback_data"], message_id=None)
    [offer] = await fake.wait_for_messages(1004, 1, after=2)
    assert EXAMPLES["vi"][0] in offer["text"] and fake.buttons(offer)[0]["callback_data"].startswith("ho:")


async def test_edited_message_is_answered_as_a_new_question(fake, bot):
    original = fake.send_text(1005, "What is the weather today?")
    [refusal] = await fake.wait_for_messages(1005, 1)
    assert "Sorry" in refusal["text"]
    fake.edit_text(original, LINKED_QUESTION)
    [answer] = await fake.wait_for_messages(1005, 1, after=1)
    assert '<a href="https://' in answer["text"]


async def test_too_long_message_gets_a_polite_reply(fake, bot):
    text = ("What are the investment incentives in the free trade zone? " * 80)[:4100]
    [reply] = await say(fake, 1006, text)
    assert reply["text"] == t("too_long", "en", chars=len(text.strip()), limit=2000)


@pytest.mark.parametrize("send", ["send_sticker", "send_photo", "send_voice", "send_document"])
async def test_non_text_messages_get_the_non_text_reply(fake, bot, send):
    getattr(fake, send)(1007)
    [reply] = await fake.wait_for_messages(1007, 1)
    assert reply["text"] == t("non_text", "vi")


async def test_group_answers_only_when_mentioned_or_replied_to(fake, bot):
    group = -100500
    fake.send_group_text(1008, group, "What does the economic diplomacy plan say about Japan?")
    fake.send_group_text(1008, group, f"@{fake.username} {LINKED_QUESTION}")
    [answer] = await fake.wait_for_messages(group, 1)
    assert '<a href="https://' in answer["text"]
    mentioned = fake.sent(group)[0]
    assert mentioned["reply_parameters"]["message_id"]  # quotes the question it answers
    fake.send_group_text(1009, group, "What is the weather today?", reply_to_bot=True)
    [refusal] = await fake.wait_for_messages(group, 1, after=1)
    assert "Sorry" in refusal["text"]
    fake.send_group_text(1009, group, f"@{fake.username}")
    [empty] = await fake.wait_for_messages(group, 1, after=2)
    assert empty["text"] == t("empty", "vi")
    questions = [r["question"] for r in bot.conversation.db.query("SELECT question FROM answers")]
    assert questions == [LINKED_QUESTION, "What is the weather today?"]  # mention stripped, others ignored
    fake.send_sticker(1010)  # still answering in private chats
    await fake.wait_for_messages(1010, 1)
    assert len(fake.sent(group)) == 3


# -- commands ------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["vi", "en"])
async def test_commands_in_both_languages(fake, bot, lang):
    user = 1100 if lang == "vi" else 1101
    if lang == "en":
        [switched] = await say(fake, user, "/lang")
        assert switched["text"] == t("language_set", "en")
    [welcome] = await say(fake, user, "/start")
    assert welcome["text"] == bot.conversation.welcome(lang)
    # what is stored, why, for how long and how to delete it, in one paragraph of the welcome
    assert t("privacy", lang, days=90) in welcome["text"] and "/forget" in welcome["text"]
    assert [b["callback_data"] for b in fake.buttons(welcome)] == [*(f"ex:{lang}:{i}" for i in range(3)), f"ao:{lang}"]
    [help_] = await say(fake, user, "/help")
    for name, description in COMMANDS.items():
        assert f"/{name} — {description[lang]}" in help_["text"]
    assert "/reindex" not in help_["text"]  # staff commands are not shown to everyone
    [sources] = await say(fake, user, "/sources")
    assert visible(sources).startswith(t("sources_head", lang))
    assert '<a href="https://' in sources["text"] and "2026-" in sources["text"]
    [about] = await say(fake, user, "/about")
    assert about["text"].split(" ")[:3] == t("about", lang).split(" ")[:3]
    assert "?" not in about["text"].split("(")[0]  # document count filled in from the index
    [unknown] = await say(fake, user, "/frobnicate")
    assert unknown["text"] == t("unknown_command", lang)


@pytest.mark.parametrize("command", ["/stats", "/reindex", "/gaps"])
async def test_staff_commands_refused_to_other_users(fake, bot, command):
    [reply] = await say(fake, 1200, command)
    assert reply["text"] == t("staff_only", "vi")


async def test_staff_stats_and_gaps(fake, bot):
    await say(fake, 1201, "What is the weather today?")
    [stats] = await say(fake, STAFF, "/stats")
    assert stats["text"].startswith("Kho tài liệu:") and "1 câu hỏi" in stats["text"]
    [gaps] = await say(fake, STAFF, "/gaps")
    assert gaps["text"].startswith(t("gaps_head", "vi")) and "What is the weather today?" in gaps["text"]
    [help_] = await say(fake, STAFF, "/help")
    assert "/reindex" in help_["text"]


async def test_staff_commands_answer_only_in_private_or_in_the_staff_group(fake, bot_settings):
    """An admin's /gaps in an ordinary group must not post other people's questions there; in a
    private chat or the staff group it shows them with pseudonyms and masked numbers and e-mails."""
    staff_group, other_group = -100777, -100888
    async with running(bot_settings(TELEGRAM_STAFF_CHAT_ID=str(staff_group))) as channel:
        leaky = "My phone is 0912345678 and my ID card 001203004567; is there a one-stop shop for investors?"
        await say(fake, 1301, leaky)
        for command in ("/gaps", "/stats", "/cases"):
            before = len(fake.sent(other_group))
            fake.send_group_text(STAFF, other_group, command)
            [reply] = await fake.wait_for_messages(other_group, 1, after=before)
            assert reply["text"] == t("staff_private", "vi")
        assert not any("0912345678" in m["text"] or "one-stop" in m["text"] for m in fake.sent(other_group))
        [private] = await say(fake, STAFF, "/gaps")
        fake.send_group_text(STAFF, staff_group, "/gaps")
        [in_staff_group] = await fake.wait_for_messages(staff_group, 1)
        for reply in (private, in_staff_group):
            assert "one-stop shop" in reply["text"] and "[phone]" in reply["text"] and "[id number]" in reply["text"]
            assert "0912345678" not in reply["text"] and "001203004567" not in reply["text"]
            assert "1301" not in reply["text"] and channel.conversation.who("telegram:1301") in reply["text"]


async def test_a_case_closed_without_an_answer_tells_the_person_the_reason(fake, bot_settings):
    staff_group = -100999
    async with running(bot_settings(TELEGRAM_STAFF_CHAT_ID=str(staff_group), DEFAULT_LANGUAGE="en")):
        [refusal] = await say(fake, 1501, "Is there a one-stop shop for investors in the free trade zone?")
        [offer] = [b["callback_data"] for b in fake.buttons(refusal) if b["callback_data"].startswith("ho:")]
        fake.press_button(1501, offer)
        [opened] = await fake.wait_for_messages(1501, 1, after=1)
        assert opened["text"] == t("case_opened", "en", case=1)
        [post] = await fake.wait_for_messages(staff_group, 1)
        assert post["text"].startswith("📨 Case #1 · English · telegram · p-")
        fake.press_button(1501, offer)  # pressed again: no second case
        [again] = await fake.wait_for_messages(1501, 1, after=2)
        assert again["text"] == t("handoff_expired", "en")
        fake.send_group_text(1502, staff_group, "/close 1 not staff")  # not staff: ignored
        [usage] = await say(fake, STAFF, "/close 1")
        assert usage["text"] == t("close_usage", "en")
        [closed] = await say(fake, STAFF, "/close 1 The free trade zone has no one-stop desk yet.")
        assert closed["text"].startswith(t("staff_closed", "en", case=1))
        [told] = await fake.wait_for_messages(1501, 1, after=3)
        assert told["text"] == t("case_closed_person", "en", case=1,
                                 question="Is there a one-stop shop for investors in the free trade zone?",
                                 reason="The free trade zone has no one-stop desk yet.")
        [cases] = await say(fake, STAFF, "/cases")
        assert cases["text"] == t("cases_none", "en")
        assert fake.sent(1502) == [] and len(fake.sent(staff_group)) == 1


async def test_privacy_and_forget_commands(fake, bot):
    await say(fake, 1401, "Do investors pay land rent in the free trade zone?")
    [privacy] = await say(fake, 1401, "/privacy")
    assert privacy["text"] == t("privacy", "vi", days=90)
    [done] = await say(fake, 1401, "/forget")
    assert done["text"] == t("forget_done", "vi")
    db = bot.conversation.db
    assert db.query("SELECT COUNT(*) FROM answers WHERE user_key='telegram:1401'")[0][0] == 0
    assert db.query("SELECT COUNT(*) FROM memory WHERE chat_key='telegram:1401'")[0][0] == 0


@pytest.fixture
def knowledge_with_notices(tmp_path: Path) -> Path:
    """knowledge/ plus 60 short notices: enough documents for /sources to need several messages."""
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    for i in range(60):
        (knowledge / f"notice-{i:02d}.en.md").write_text(
            f'---\ntitle: "Hai Phong investment procedures notice number {i} for the free trade zone and the '
            f'coastal economic zone"\nurl: "https://example.org/notices/{i}?lang=en&part=1"\n'
            f"published: 2025-03-{i % 28 + 1:02d}\nlanguage: en\nsource: \"Test notices\"\nkind: article\n---\n\n"
            f"# Notice {i}\n\nThe procedure notice number {i} lists the documents an investor files.\n",
            encoding="utf-8")
    return knowledge


async def test_staff_reindex_and_a_long_sources_list_split(fake, bot_settings, knowledge_with_notices):
    """/reindex picks up new documents; a /sources list longer than one Telegram message then
    arrives as several valid messages."""
    async with running(bot_settings(KNOWLEDGE_DIR=str(knowledge_with_notices))) as channel:
        [started] = await say(fake, STAFF, "/reindex")
        assert started["text"] == t("reindex_started", "vi")
        [done] = await fake.wait_for_messages(STAFF, 1, after=1, within=120)
        assert done["text"].startswith("Đã cập nhật: thêm 60, sửa 0, xóa 0")
        # the engine follows the new index generation
        async with asyncio.timeout(20):
            while len(channel.conversation.sources("vi")) < 60:  # noqa: ASYNC110 - the index reloads itself
                await asyncio.sleep(0.2)
        before = len(fake.sent(STAFF))
        fake.send_text(STAFF, "/sources")

        def listed() -> str:
            return "\n".join(visible(m) for m in fake.sent(STAFF)[before:])

        await fake.wait_for(lambda: all(f"notice number {i} for" in listed() for i in range(60)))
        pieces = fake.sent(STAFF)[before:]
    assert len(pieces) >= 2
    assert all(len(visible(p)) <= 4096 for p in pieces)
    assert visible(pieces[0]).startswith(t("sources_head", "vi"))
    assert "https://example.org/notices/7?lang=en&amp;part=1" in "".join(p["text"] for p in pieces)


# -- robustness ----------------------------------------------------------------------------------
async def test_one_slow_chat_does_not_hold_up_other_users(fake, bot):
    fake.hold(1700)  # the answer to this user is stuck on its way out
    fake.send_text(1700, LINKED_QUESTION)
    await fake.wait_for(lambda: any(c.params.get("chat_id") == 1700 for c in fake.calls_to("sendMessage")))
    [other] = await say(fake, 1701, VI_QUESTION)
    assert t("frame_same", "vi") in other["text"]
    assert fake.sent(1700) == []
    fake.release(1700)
    [late] = await fake.wait_for_messages(1700, 1)
    assert "[1]" in late["text"]


async def test_typing_indicator_is_renewed_while_an_answer_takes_long(fake):
    def actions() -> int:
        return len([c for c in fake.calls_to("sendChatAction") if c.params["chat_id"] == 1800])

    async with Bot(fake.token, base_url=fake.base_url) as tg_bot:
        sender = Sender(tg_bot, typing_interval=0.05)
        async with sender.typing(1800):
            await fake.wait_for(lambda: actions() >= 3)
        shown = actions()
        await sender.send_text(1800, "Done <at last> & more")
        [message] = await fake.wait_for_messages(1800, 1)
    assert actions() == shown  # the indicator stops with the answer
    assert visible(message) == "Done <at last> & more"


async def test_rate_limited_send_is_retried(fake, bot):
    fake.rate_limit_next_send(retry_after=1)
    [answer] = await say(fake, 1400, LINKED_QUESTION)
    assert '<a href="https://' in answer["text"]
    statuses = [c.status for c in fake.calls_to("sendMessage") if c.params["chat_id"] == 1400]
    assert statuses == [429, 200]


async def test_network_error_on_send_is_retried(fake, bot):
    fake.fail_next("sendMessage", 502, "Bad Gateway")
    [answer] = await say(fake, 1401, LINKED_QUESTION)
    assert "[1]" in answer["text"]
    statuses = [c.status for c in fake.calls_to("sendMessage") if c.params["chat_id"] == 1401]
    assert statuses == [502, 200]


def our_log_lines(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(f"{r.getMessage()} {r.__dict__} {r.exc_text or ''}" for r in caplog.records
                     if r.name.startswith("bot"))


async def test_a_failing_update_tells_the_user_to_try_again(fake, bot, caplog):
    caplog.set_level("DEBUG")
    fake.fail_next("sendMessage", 400, "Bad Request: chat not found")
    [reply] = await say(fake, 1402, LINKED_QUESTION)
    assert reply["text"] == t("error", "en")
    assert "telegram update failed" in our_log_lines(caplog)
    assert fake.token not in our_log_lines(caplog)
    [answer] = await say(fake, 1402, LINKED_QUESTION)  # and the bot carries on
    assert "[1]" in answer["text"]


@pytest.mark.parametrize("status", [400, 404])
async def test_rejected_optional_methods_do_not_stop_the_bot(fake, bot_settings, status):
    fake.reject("sendChatAction", status)
    fake.reject("setMyCommands", status)
    async with running(bot_settings()) as channel:
        [answer] = await say(fake, 1500, LINKED_QUESTION)
        assert "[1]" in answer["text"]
        [welcome] = await say(fake, 1500, "/start")
        assert welcome["text"] == channel.conversation.welcome("vi")
        assert await channel.ready() == (True, "polling as @hp_policy_bot")
    assert {c.status for c in fake.calls_to("sendChatAction")} == {status}
    assert {c.status for c in fake.calls_to("setMyCommands")} == {status}


async def test_command_menu_registered_in_both_languages(fake, bot):
    default = fake.commands[('{"type": "default"}', "")]
    vietnamese = fake.commands[('{"type": "default"}', "vi")]
    assert [c["command"] for c in default] == list(COMMANDS)
    assert [c["description"] for c in default] == [d["en"] for d in COMMANDS.values()]
    assert [c["description"] for c in vietnamese] == [d["vi"] for d in COMMANDS.values()]
    staff = fake.commands[(json.dumps({"chat_id": STAFF, "type": "chat"}, sort_keys=True), "vi")]
    assert [c["command"] for c in staff] == [*COMMANDS, *STAFF_COMMANDS]


async def test_wrong_token_fails_at_start_without_showing_it(fake, make_settings, caplog):
    caplog.set_level("DEBUG")
    settings = make_settings(TELEGRAM_BOT_TOKEN="999:wrong-secret-token", TELEGRAM_API_BASE_URL=fake.base_url)
    conversation = Conversation.create(settings)
    channel = TelegramChannel(settings, conversation, WebhookServer("127.0.0.1", 0))
    with pytest.raises(RuntimeError) as info:
        await channel.start()
    assert "wrong-secret-token" not in str(info.value)
    assert "wrong-secret-token" not in our_log_lines(caplog)
    assert await channel.ready() == (False, "not started")
    await channel.stop()
    conversation.db.close()


# -- webhook mode --------------------------------------------------------------------------------
async def test_webhook_mode_checks_the_secret(fake, bot_settings):
    secret = "s3cret_Webhook-token"
    settings = bot_settings(TELEGRAM_WEBHOOK_URL="https://bot.example.org/telegram/webhook",
                            TELEGRAM_WEBHOOK_SECRET=secret)
    server = WebhookServer("127.0.0.1", 0)
    async with running(settings, server) as channel:
        assert fake.webhook["url"] == "https://bot.example.org/telegram/webhook"
        assert fake.webhook["secret_token"] == secret
        assert set(fake.webhook["allowed_updates"]) >= {"message", "callback_query"}
        url = f"http://127.0.0.1:{server.bound_port}/telegram/webhook"

        def update(user: int) -> dict:
            return fake.update_for("message", fake.text_message(user, LINKED_QUESTION))

        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
            for headers in ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {},
                            {"X-Telegram-Bot-Api-Secret-Token": secret + "x"}):
                async with http.post(url, json=update(1600), headers=headers) as resp:
                    assert resp.status == 403
            good = update(1601)
            async with http.post(url, json=good, headers={"X-Telegram-Bot-Api-Secret-Token": secret}) as resp:
                assert resp.status == 200
            [answer] = await fake.wait_for_messages(1601, 1)
            assert '<a href="https://' in answer["text"] and len(fake.buttons(answer)) == 2
            # Telegram redelivering the same update does not get a second answer
            async with http.post(url, json=good, headers={"X-Telegram-Bot-Api-Secret-Token": secret}) as resp:
                assert resp.status == 200
            async with http.post(url, json=update(1602),
                                 headers={"X-Telegram-Bot-Api-Secret-Token": secret}) as resp:
                assert resp.status == 200
            await fake.wait_for_messages(1602, 1)
        assert await channel.ready() == (True, "webhook as @hp_policy_bot")
    assert fake.sent(1600) == []
    assert len(fake.sent(1601)) == 1
    assert not fake.calls_to("getUpdates")
