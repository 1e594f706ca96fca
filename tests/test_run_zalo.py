"""Acceptance: `python -m bot run` as a real subprocess serves Zalo.

(a) With only ZALO_BOT_TOKEN and ZALO_BOT_API_BASE_URL (pointing at the fake on 127.0.0.1) it
answers questions it long-polls from the fake Bot API.
(b) With only the ZALO_OA_* settings (+ ZALO_APP_SECRET and the two base URLs) and WEBHOOK_PORT it
answers signed webhook events through /v3.0/oa/message/cs and refuses forged ones (403, nothing sent).
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import settings_env
from tests.fake_zalo import FakeZalo
from tests.processes import terminate

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
START_DEADLINE = 180.0  # seconds for the bot to load the index and open its port
# every channel variable, blanked so that nothing from the outer environment turns on another channel
CHANNEL_VARS = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET", "ZALO_BOT_TOKEN",
                "ZALO_BOT_API_BASE_URL", "ZALO_BOT_WEBHOOK_URL", "ZALO_BOT_WEBHOOK_SECRET", "ZALO_OA_APP_ID",
                "ZALO_OA_SECRET_KEY", "ZALO_APP_SECRET", "ZALO_OA_ACCESS_TOKEN", "ZALO_OA_REFRESH_TOKEN",
                "ZALO_OA_API_BASE_URL", "ZALO_OAUTH_BASE_URL", "LLM_BASE_URL", "LLM_MODEL")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bot_env(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CHANNEL_VARS and not k.startswith("PYTEST")}
    env.update({name: "" for name in CHANNEL_VARS})
    env.update(settings_env(data_dir, WEBHOOK_HOST="127.0.0.1", WEBHOOK_PORT=str(port), **extra))
    env["PYTHONUNBUFFERED"] = "1"
    return env


class BotProcess:
    def __init__(self, env: dict[str, str], port: int, log_path: Path) -> None:
        self.env = env
        self.port = port
        self.log_path = log_path
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def start(self) -> None:
        with self.log_path.open("wb") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=str(ROOT), env=self.env,
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT)
        await self._wait_for("/healthz")
        await self._wait_for("/readyz")  # the channels are started too

    async def _wait_for(self, path: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_DEADLINE
        async with aiohttp.ClientSession() as session:
            while loop.time() < deadline:
                assert self.proc is not None
                if self.proc.returncode is not None:
                    pytest.fail(f"bot exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
                try:
                    async with session.get(self.base + path, timeout=aiohttp.ClientTimeout(total=2)) as r:
                        if r.status == 200:
                            return
                except (aiohttp.ClientError, TimeoutError):
                    pass
                await asyncio.sleep(0.25)
        pytest.fail(f"{path} not ready within {START_DEADLINE:.0f} s:\n{self.log()[-3000:]}")

    async def stop(self) -> None:
        if self.proc is not None:
            await terminate(self.proc, 20)


@pytest.fixture
async def fake(data_dir: Path) -> AsyncIterator[FakeZalo]:
    server = await FakeZalo().start()
    yield server
    await server.stop()


async def test_run_answers_zalo_bot_questions_by_long_polling(fake: FakeZalo, data_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    env = bot_env(data_dir, port, ZALO_BOT_TOKEN=fake.bot_token, ZALO_BOT_API_BASE_URL=fake.bot_api_base)
    bot = BotProcess(env, port, tmp_path / "bot.log")
    try:
        await bot.start()
        fake.queue_update(fake.text_event("Do investors pay land rent in the free trade zone?", user_id="zb-1"))
        fake.queue_update(fake.text_event("Khu thương mại tự do Hải Phòng do cơ quan nào quản lý?", user_id="zb-2"))
        assert await fake.wait_for(lambda: {m.chat_id for m in fake.bot_sent} >= {"zb-1", "zb-2"}, 120), bot.log()[-3000:]
    finally:
        await bot.stop()
    english = "\n".join(m.text for m in fake.bot_sent if m.chat_id == "zb-1")
    vietnamese = "\n".join(m.text for m in fake.bot_sent if m.chat_id == "zb-2")
    assert "Sources:" in english and "\n[1] " in english
    assert "Nguồn:" in vietnamese and "\n[1] " in vietnamese
    assert all(1 <= len(m.text) <= 2000 for m in fake.bot_sent)
    assert "getUpdates" in fake.methods() and "deleteWebhook" in fake.methods()
    assert fake.bot_token not in bot.log() and fake.bot_token.split(":")[1] not in bot.log()


async def test_run_answers_signed_oa_webhook_events_and_refuses_forged_ones(
        fake: FakeZalo, data_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    env = bot_env(data_dir, port, ZALO_OA_APP_ID=fake.app_id, ZALO_OA_SECRET_KEY=fake.oa_secret_key,
                  ZALO_APP_SECRET=fake.app_secret, ZALO_OA_ACCESS_TOKEN=fake.access_token,
                  ZALO_OA_REFRESH_TOKEN=fake.refresh_token, ZALO_OA_API_BASE_URL=fake.base_url,
                  ZALO_OAUTH_BASE_URL=fake.base_url)
    bot = BotProcess(env, port, tmp_path / "bot.log")
    url = f"{bot.base}/zalo/oa/webhook"
    try:
        await bot.start()
        forged = fake.oa_event(text="Do investors pay land rent in the free trade zone?", user_id="mallory")
        assert (await fake.post_oa_event(url, forged, secret_key="guessed"))[0] == 403
        assert (await fake.post_oa_event(url, forged, signed=False))[0] == 403
        question = fake.oa_event(text="Do investors pay land rent in the free trade zone?", user_id="oa-1")
        assert await fake.post_oa_event(url, question) == (200, {"ok": True})
        assert await fake.wait_for(lambda: any("Sources:" in m.text for m in fake.oa_sent), 120), bot.log()[-3000:]
    finally:
        await bot.stop()
    answer = [m for m in fake.oa_sent if m.chat_id == "oa-1"]
    assert answer and all(m.token == "AT-0" for m in answer)
    assert "\n[1] " in "\n".join(m.text for m in answer)
    assert [m for m in fake.oa_sent if m.chat_id == "mallory"] == []
    assert "AT-0" not in bot.log() and fake.oa_secret_key not in bot.log()
