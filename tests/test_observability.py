"""Operations view of a running bot: /healthz, /readyz and /metrics on the webhook server, JSON log
lines (one per answered question, with its timing), and no token or secret in any log line, even when
an HTTP error message quotes a URL that carries the token."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import shutil
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from bot.app import serve
from bot.config import Settings
from bot.logging_setup import register_secret, setup_logging
from indexer.refresh import refresh
from indexer.store import Store
from tests.conftest import KNOWLEDGE, ROOT, settings_env
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo
from tests.processes import terminate

pytestmark = pytest.mark.slow

START_DEADLINE = 180.0
QUESTION_EN = "Do investors pay land rent in the free trade zone?"
QUESTION_VI = "Khu thương mại tự do Hải Phòng do cơ quan nào quản lý?"
REFUSED = "What is the weather today?"
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"
CHANNEL_VARS = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET",
                "ZALO_BOT_TOKEN", "ZALO_BOT_API_BASE_URL", "ZALO_BOT_WEBHOOK_URL", "ZALO_BOT_WEBHOOK_SECRET",
                "ZALO_OA_APP_ID", "ZALO_OA_SECRET_KEY", "ZALO_APP_SECRET", "ZALO_OA_ACCESS_TOKEN",
                "ZALO_OA_REFRESH_TOKEN", "ZALO_OA_API_BASE_URL", "ZALO_OAUTH_BASE_URL", "LLM_BASE_URL", "LLM_MODEL",
                "CHROMA_URL", "LOG_FORMAT")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.get(url, timeout=aiohttp.ClientTimeout(total=10)) as r:
        return r.status, r.headers.get("Content-Type", ""), await r.text()


async def scrape(base: str) -> Samples:
    status, content_type, text = await get(base + "/metrics")
    assert status == 200
    assert content_type == METRICS_TYPE
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def wait_ready(base: str, deadline: float = START_DEADLINE) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    last: Any = None
    while loop.time() < end:
        try:
            status, _, text = await get(base + "/readyz")
            last = (status, text)
            if status == 200:
                return json.loads(text)
        except (aiohttp.ClientError, TimeoutError):
            pass
        await asyncio.sleep(0.25)
    pytest.fail(f"/readyz not ready within {deadline:.0f} s: {last}")


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def test_health_ready_and_metrics_follow_what_users_do(make_settings) -> None:  # type: ignore[no-untyped-def]
    async with FakeTelegram() as tg:
        port = free_port()
        settings = make_settings(TELEGRAM_BOT_TOKEN=tg.token, TELEGRAM_API_BASE_URL=tg.base_url,
                                 WEBHOOK_PORT=str(port))
        base = f"http://127.0.0.1:{port}"
        async with running(settings):
            ready = await wait_ready(base)
            manifest = Store(settings.index).read_manifest()
            assert manifest is not None
            assert ready["status"] == "ready"
            assert ready["checks"]["index"] == f"{manifest.documents} documents, {manifest.chunks} passages"
            assert "@hp_policy_bot" in ready["checks"]["telegram"]
            status, _, body = await get(base + "/healthz")
            assert (status, json.loads(body)) == (200, {"status": "ok"})

            before = await scrape(base)
            assert value(before, "assistant_index_documents") == manifest.documents
            assert value(before, "assistant_index_chunks") == manifest.chunks

            tg.send_text(101, QUESTION_EN)
            tg.send_text(102, QUESTION_VI)
            tg.send_text(103, REFUSED)
            for chat in (101, 102, 103):
                await tg.wait_for_messages(chat, 1, within=90)
            vote = next(b for b in FakeTelegram.buttons(tg.sent(101)[-1]) if b["callback_data"].endswith(":u"))
            tg.press_button(101, vote["callback_data"])
            await tg.wait_for(lambda: bool(tg.calls_to("answerCallbackQuery")), within=30)
            after = await scrape(base)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("assistant_questions_total", channel="telegram", language="en") == 2
    assert delta("assistant_questions_total", channel="telegram", language="vi") == 1
    assert delta("assistant_refusals_total", channel="telegram", language="en") == 1
    assert delta("assistant_refusals_total", channel="telegram", language="vi") == 0
    assert delta("assistant_votes_total", vote="up") == 1
    assert delta("assistant_answer_seconds_count") == 3
    assert delta("assistant_answer_seconds_sum") > 0
    assert value(after, "assistant_answer_seconds_bucket", le="+Inf") == value(after, "assistant_answer_seconds_count")


async def test_readyz_waits_for_the_index_and_follows_a_refresh(tmp_path: Path) -> None:
    """Started before any index exists: alive (/healthz) but not ready (/readyz 503); once the index
    is built, ready and the index gauges show its size, without a restart."""
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    for name in ("resolution-226-factsheet.en.md", "glossary.yaml"):
        shutil.copy(KNOWLEDGE / name, knowledge / name)
    fake = await FakeZalo().start()
    try:
        port = free_port()
        env = settings_env(tmp_path / "data", knowledge, WEBHOOK_PORT=str(port), ZALO_OA_APP_ID=fake.app_id,
                           ZALO_OA_SECRET_KEY=fake.oa_secret_key, ZALO_APP_SECRET=fake.app_secret,
                           ZALO_OA_ACCESS_TOKEN=fake.access_token, ZALO_OA_REFRESH_TOKEN=fake.refresh_token,
                           ZALO_OA_API_BASE_URL=fake.base_url, ZALO_OAUTH_BASE_URL=fake.base_url)
        settings = Settings.from_env(env)
        base = f"http://127.0.0.1:{port}"
        async with running(settings):
            loop = asyncio.get_running_loop()
            end = loop.time() + START_DEADLINE
            while loop.time() < end:
                try:
                    status, _, body = await get(base + "/healthz")
                    break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.25)
            assert status == 200
            status, _, body = await get(base + "/readyz")
            assert status == 503
            answer = json.loads(body)
            assert answer["status"] == "not ready"
            assert answer["checks"]["index"].startswith("not ready")
            assert answer["checks"]["zalo_oa"].startswith("webhook")

            summary = await asyncio.to_thread(refresh, settings.index)
            ready = await wait_ready(base, 60)
            assert ready["checks"]["index"] == f"1 documents, {summary.chunks} passages"
            samples = await scrape(base)
            assert value(samples, "assistant_index_documents") == 1
            assert value(samples, "assistant_index_chunks") == summary.chunks
    finally:
        await fake.stop()


# -- logs ----------------------------------------------------------------------------------------


class EchoingApi:
    """A broken upstream API that answers every call with HTTP 500 and an error message quoting the
    full request URL, the way many HTTP errors do; for a bot token that means the token."""

    def __init__(self) -> None:
        self.calls = 0
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def _handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        message = f"Internal error while handling {request.url} (path {request.path})"
        if request.path.endswith(("/getMe", "/getUpdates", "/deleteWebhook")) and "zalo" in request.query:
            return web.json_response({"ok": False, "error_code": 500, "description": message}, status=500)
        return web.Response(status=500, text=message)

    async def start(self) -> EchoingApi:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


class JsonApi(EchoingApi):
    """The same, but the error is a JSON API answer whose description quotes the URL."""

    async def _handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        message = f"Internal error while handling {request.url}"
        return web.json_response({"ok": False, "error_code": 500, "description": message}, status=500)


def bot_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CHANNEL_VARS and not k.startswith("PYTEST")}
    env.update({name: "" for name in CHANNEL_VARS})
    env.update(settings_env(data_dir, **extra))
    env.pop("LOG_FORMAT")  # auto: JSON, since the output is not a terminal
    env["PYTHONUNBUFFERED"] = "1"
    return env


def json_lines(text: str) -> list[dict[str, Any]]:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert lines
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pytest.fail(f"a log line is not JSON: {line[:300]!r}")
    return parsed


def assert_no_secret(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text
        for piece in secret.split(":"):  # Bot API tokens are <bot id>:<secret part>
            if len(piece) >= 12:
                assert piece not in text


async def test_json_logs_time_each_answer_and_never_show_a_token(data_dir: Path, tmp_path: Path) -> None:
    """`python -m bot run` with a Zalo Bot token whose API fails quoting the URL (token inside), and a
    working Zalo OA: every line is JSON, each answer has its timing line, no secret appears."""
    broken = await JsonApi().start()
    fake = await FakeZalo(access_token="AccessTokenValue-0123456789", refresh_token="RefreshTokenValue-0123456789",
                          oa_secret_key="OaSecretKeyValue-0123456789", app_secret="AppSecretValue-0123456789").start()
    bot_token = "2093847561:ZaloBotSecretPart-9f8e7d6c5b4a"
    port = free_port()
    env = bot_env(data_dir, WEBHOOK_PORT=str(port), ZALO_BOT_TOKEN=bot_token,
                  ZALO_BOT_API_BASE_URL=f"http://127.0.0.1:{broken.port}/bot",
                  ZALO_OA_APP_ID=fake.app_id, ZALO_OA_SECRET_KEY=fake.oa_secret_key, ZALO_APP_SECRET=fake.app_secret,
                  ZALO_OA_ACCESS_TOKEN=fake.access_token, ZALO_OA_REFRESH_TOKEN=fake.refresh_token,
                  ZALO_OA_API_BASE_URL=fake.base_url, ZALO_OAUTH_BASE_URL=fake.base_url)
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=str(ROOT), env=env,
                                                    stdin=asyncio.subprocess.DEVNULL, stdout=out,
                                                    stderr=asyncio.subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        loop = asyncio.get_running_loop()
        end = loop.time() + START_DEADLINE
        while loop.time() < end and proc.returncode is None:
            try:
                if (await get(base + "/healthz"))[0] == 200:
                    break
            except (aiohttp.ClientError, TimeoutError):
                await asyncio.sleep(0.25)
        url = f"{base}/zalo/oa/webhook"
        for i, text in enumerate((QUESTION_EN, QUESTION_VI, REFUSED)):
            assert (await fake.post_oa_event(url, fake.oa_event(text=text, user_id=f"u{i}")))[0] == 200
        assert await fake.wait_for(lambda: {m.chat_id for m in fake.oa_sent} >= {"u0", "u1", "u2"}, 120)
        assert await fake.wait_for(lambda: broken.calls >= 2, 30)
    finally:
        await terminate(proc, 30)
        await fake.stop()
        await broken.stop()

    text = log_path.read_text(errors="replace")
    records = json_lines(text)
    answered = [r for r in records if r["msg"] == "answered"]
    assert len(answered) == 3
    assert {(r["channel"], r["language"], r["refused"]) for r in answered} == {
        ("zalo_oa", "en", False), ("zalo_oa", "vi", False), ("zalo_oa", "en", True)}
    assert all(isinstance(r["seconds"], float) and r["seconds"] > 0 for r in answered)
    assert all(r["level"] == "info" and r["ts"].endswith("Z") for r in answered)
    failures = [r for r in records if r["logger"] == "bot.zalo_bot" and r["level"] in ("warning", "error")]
    assert failures, "the failing Zalo Bot API should have been reported"
    assert any("Internal error while handling" in json.dumps(r) for r in failures)  # the message is kept...
    assert_no_secret(text, bot_token, fake.access_token, fake.refresh_token, fake.oa_secret_key,
                     fake.app_secret)  # ...without the token


async def test_a_crash_is_logged_as_json_without_the_token(data_dir: Path, tmp_path: Path) -> None:
    """Telegram answering garbage that quotes the URL: the bot gives up starting and exits; the
    library's error lines and the final error are JSON lines with the token masked."""
    broken = await EchoingApi().start()
    token = "7612398450:AAFtelegramSecretPart_Zx81Qw"
    env = bot_env(data_dir, WEBHOOK_PORT=str(free_port()), TELEGRAM_BOT_TOKEN=token,
                  TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{broken.port}/bot")
    try:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=str(ROOT), env=env,
                                                    stdin=asyncio.subprocess.DEVNULL,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        try:
            output, _ = await asyncio.wait_for(proc.communicate(), START_DEADLINE)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    finally:
        await broken.stop()
    text = output.decode(errors="replace")
    assert proc.returncode not in (0, None)
    assert broken.calls >= 2
    records = json_lines(text)
    assert records[-1]["level"] == "critical" and "exception" in records[-1]
    assert any("/bot***/getMe" in json.dumps(r) for r in records)  # the URL was there, masked
    assert_no_secret(text, token)


def test_redaction_in_process() -> None:
    """The filter itself: extras, messages, exceptions and secrets learnt at run time are masked."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, sys.excepthook)
    token = "5550001111:AAE-secret_value_for_test"
    try:
        setup_logging("INFO", "json", [token], stream=stream)
        log = logging.getLogger("bot.test")
        log.info("calling https://api.telegram.org/bot%s/getMe", token)
        log.warning("failed", extra={"url": f"https://api.telegram.org/bot{token}/sendMessage",
                                     "body": "access_token=OAtok123456&x=1"})
        try:
            raise RuntimeError(f"Server error '502 Bad Gateway' for url 'https://api.telegram.org/bot{token}/getMe'")
        except RuntimeError:
            log.exception("request failed")
        register_secret("RefreshedAccessToken-77777")
        log.error("sending with header access_token: %s", "RefreshedAccessToken-77777")
        log.error("plain mention RefreshedAccessToken-77777 in text")
        try:
            raise ValueError(f"bad {token}")
        except ValueError:
            sys.excepthook(*sys.exc_info())  # type: ignore[arg-type]
    finally:
        handlers, level, hook = saved
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in handlers:
            root.addHandler(h)
        root.setLevel(level)
        sys.excepthook = hook
    text = stream.getvalue()
    records = json_lines(text)
    assert len(records) == 6
    assert records[-1]["level"] == "critical" and "ValueError" in records[-1]["exception"]
    assert_no_secret(text, token, "OAtok123456", "RefreshedAccessToken-77777")
    assert "bot***/getMe" in text
