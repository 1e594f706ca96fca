"""The running bot and the portal sync: staff's /sync over Telegram (a fake Bot API on loopback),
the last sync in /stats, the SYNC_INTERVAL schedule, a failed sync told to staff while the previous
index keeps serving, and answers from the synced pages without a restart. Portals are real HTTP
servers on 127.0.0.1 (tests/portal_server.py)."""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.app import serve
from bot.channels.telegram import TelegramChannel
from bot.channels.webhook import WebhookServer
from bot.config import Settings
from bot.conversation import Conversation
from bot.texts import t
from tests.conftest import KNOWLEDGE, settings_env
from tests.fake_telegram import FakeTelegram, parse_html
from tests.portal_sites import EN_ARTICLES, Sites, build_sites, sources_yaml

pytestmark = pytest.mark.slow

STAFF = 4242
USER = 1001
QUESTION = ("How many working days does the free trade zone investor service centre take to issue "
            "an investment registration certificate?")
FTZ = EN_ARTICLES[0]


@pytest.fixture
def sites() -> Iterator[Sites]:
    s = build_sites()
    yield s
    s.stop()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(max_poll_wait=1.0) as tg:
        yield tg


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, folder)
    return folder


def make(data_dir: Path, knowledge: Path, fake: FakeTelegram, **extra: str) -> Settings:
    env = settings_env(data_dir, knowledge, TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_API_BASE_URL=fake.base_url,
                       RATE_LIMIT_PER_MINUTE="1000", TELEGRAM_ADMIN_IDS=str(STAFF), SYNC_DELAY_S="0.02",
                       SYNC_TIMEOUT_S="2", MEMORY_TURNS="0", **extra)
    return Settings.from_env(env)


async def say(fake: FakeTelegram, user: int, text: str, count: int = 1) -> list[str]:
    before = len(fake.sent(user))
    fake.send_text(user, text)
    sent = await fake.wait_for_messages(user, count, after=before, within=120)
    return [parse_html(m["text"]) if m.get("parse_mode") == "HTML" else m["text"] for m in sent]


async def test_staff_sync_from_telegram_and_answers_from_synced_pages_without_restart(
        sites: Sites, fake: FakeTelegram, data_dir: Path, knowledge: Path) -> None:
    (knowledge / "sources.yaml").write_text(sources_yaml(sites), encoding="utf-8")
    settings = make(data_dir, knowledge, fake)
    conversation = Conversation.create(settings)
    server = WebhookServer("127.0.0.1", 0)
    channel = TelegramChannel(settings, conversation, server)
    await server.start()
    await channel.start()
    try:
        [before] = await say(fake, USER, QUESTION)
        assert "three working days" not in before

        [refused] = await say(fake, USER, "/sync")
        assert refused == t("staff_only", "vi")
        assert sites.en.requests() == []  # a user cannot make the bot fetch anything

        [stats] = await say(fake, STAFF, "/stats")
        assert t("sync_never", "vi") in stats

        started, report = await say(fake, STAFF, "/sync", count=2)
        assert started == t("sync_started", "vi")
        assert report.startswith(t("sync_done", "vi", fetched=5, new=5, changed=0, unchanged=0, gone=0, failed=0))

        [stats] = await say(fake, STAFF, "/stats")
        assert "Lần đồng bộ gần nhất" in stats and "mới 5" in stats

        await asyncio.sleep(settings.index.reload_seconds + 0.5)  # the running bot notices the new index
        [after] = await say(fake, USER, QUESTION)
        assert "three working days" in after
        assert FTZ.title in after and FTZ.published in after  # cited with its published date
        sent = fake.sent(USER)[-1]["text"]
        assert f'href="{sites.en.base_url}{FTZ.path}"' in sent
    finally:
        await channel.stop()
        await server.stop()
        conversation.db.close()


async def test_scheduled_sync_failure_is_told_to_staff_and_the_old_index_keeps_serving(
        sites: Sites, fake: FakeTelegram, data_dir: Path, knowledge: Path) -> None:
    sources = knowledge / "sources.yaml"
    sources.write_text("sources:\n  - name: en-portal\n    type: crawler\n", encoding="utf-8")
    with socket.socket() as probe:  # a free port for /healthz
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = make(data_dir, knowledge, fake, SYNC_INTERVAL="1s", WEBHOOK_PORT=str(port))
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop))
    try:
        await fake.wait_for(lambda: any(m["text"].startswith("⚠️") for m in fake.sent(STAFF)), within=120)
        notice = next(m["text"] for m in fake.sent(STAFF) if m["text"].startswith("⚠️"))
        assert notice.startswith(t("sync_scheduled_problem", "vi", report=""))
        assert "'type' must be one of" in notice and "kho tài liệu cũ vẫn đang phục vụ" in notice
        assert fake.sent(USER) == []  # only staff hear of it

        [still] = await say(fake, USER, "Who signed Resolution 226/2025/QH15?")
        assert "Tran Thanh Man" in still  # the previous index keeps serving

        sources.write_text(sources_yaml(sites), encoding="utf-8")  # staff fix sources.yaml
        await fake.wait_for(lambda: any(h.path == FTZ.path for h in sites.en.requests()), within=60)
        for _ in range(60):
            [after] = await say(fake, USER, QUESTION)
            if "three working days" in after:
                break
            await asyncio.sleep(1)
        assert "three working days" in after
        assert not task.done()
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
