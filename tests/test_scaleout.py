"""Scale-out, for real: a Chroma server (`chroma run`), the index built into it by `python -m indexer
refresh` with CHROMA_URL, and TWO `python -m bot run` processes serving the Zalo OA webhook, sharing
the index through CHROMA_URL and the bot's SQLite database through one DATA_DIR (one host).

A new document added to the knowledge folder and refreshed is answered by both processes without a
restart, and their /readyz report the new document count. Chat memory, rate limits and webhook
redelivery checks are shared: what a user did through one process counts in the other.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.texts import t
from tests.conftest import KNOWLEDGE, ROOT
from tests.fake_zalo import FakeZalo, Sent
from tests.processes import terminate

pytestmark = pytest.mark.slow

START_DEADLINE = 180.0
CHANNEL_VARS = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET",
                "ZALO_BOT_TOKEN", "ZALO_BOT_API_BASE_URL", "ZALO_BOT_WEBHOOK_URL", "ZALO_BOT_WEBHOOK_SECRET",
                "ZALO_OA_APP_ID", "ZALO_OA_SECRET_KEY", "ZALO_APP_SECRET", "ZALO_OA_ACCESS_TOKEN",
                "ZALO_OA_REFRESH_TOKEN", "ZALO_OA_API_BASE_URL", "ZALO_OAUTH_BASE_URL", "LLM_BASE_URL", "LLM_MODEL",
                "CHROMA_URL", "EMBEDDING_MODEL", "CHUNK_CHARS")
RATE_LIMIT = 3
NEW_DOC = "blue-lotus-startup-grant.en.md"
NEW_TITLE = "Blue Lotus Startup Grant 2026 (test notice)"
NEW_TEXT = f"""---
title: "{NEW_TITLE}"
url: "https://example.invalid/blue-lotus-grant"
published: 2026-11-20
language: en
source: "Test notice added by the scale-out test"
kind: notice
---

# Blue Lotus Startup Grant 2026

The Blue Lotus Startup Grant gives each selected startup 750 million VND in its first year in Hai Phong.

Startups registered in Hai Phong with at least 30 percent foreign capital can apply for the Blue Lotus Startup Grant.

Applications for the Blue Lotus Startup Grant close on 15 March 2027.
"""
QUESTION = "How much does the Blue Lotus Startup Grant give each startup?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def chroma_executable() -> str:
    beside = Path(sys.executable).parent / "chroma"
    found = str(beside) if beside.exists() else shutil.which("chroma")
    if not found:
        pytest.fail("the `chroma` command (installed with the chromadb package) is not available")
    return found


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CHANNEL_VARS and not k.startswith("PYTEST")}
    env.update({"LOG_FORMAT": "json", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


async def get_json(url: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, session.get(url, timeout=aiohttp.ClientTimeout(total=10)) as r:
        return r.status, await r.json(content_type=None)


async def poll(what: str, check, deadline: float, log: str = "") -> None:  # type: ignore[no-untyped-def]
    """Wait until the async `check()` is true, failing with `what` at the deadline."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while loop.time() < end:
        try:
            if await check():
                return
        except (aiohttp.ClientError, TimeoutError, ValueError):
            pass
        await asyncio.sleep(0.25)
    pytest.fail(f"{what} within {deadline:.0f} s\n{log}")


@dataclass
class Proc:
    name: str
    proc: asyncio.subprocess.Process
    log_path: Path
    port: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    async def stop(self) -> None:
        await terminate(self.proc, 20)


async def spawn(name: str, argv: list[str], env: dict[str, str], log_path: Path, port: int = 0) -> Proc:
    with log_path.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(*argv, cwd=str(ROOT), env=env, stdin=asyncio.subprocess.DEVNULL,
                                                    stdout=out, stderr=asyncio.subprocess.STDOUT)
    return Proc(name, proc, log_path, port)


def refresh(env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-m", "indexer", "refresh", "--json"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@dataclass
class Cluster:
    fake: FakeZalo
    bots: list[Proc]
    env: dict[str, str]
    data_dir: Path
    knowledge: Path

    def url(self, bot: int) -> str:
        return f"{self.bots[bot].base}/zalo/oa/webhook"

    async def ask(self, bot: int, user: str, text: str) -> Sent:
        """Send `text` as `user` through bot process `bot`; the reply that reaches the fake OA API."""
        before = len([m for m in self.fake.oa_sent if m.chat_id == user])
        status, answer = await self.fake.post_oa_event(self.url(bot), self.fake.oa_event(text=text, user_id=user))
        assert (status, answer) == (200, {"ok": True})
        arrived = await self.fake.wait_for(lambda: len([m for m in self.fake.oa_sent if m.chat_id == user]) > before,
                                           120)
        assert arrived, self.bots[bot].log()
        return [m for m in self.fake.oa_sent if m.chat_id == user][before]

    async def documents(self, bot: int) -> str:
        _, ready = await get_json(self.bots[bot].base + "/readyz")
        return str(ready.get("checks", {}).get("index", ""))


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    data_dir = tmp_path / "data"  # shared by both bot processes (SQLite in WAL mode)
    chroma_port = free_port()
    chroma = await spawn("chroma", [chroma_executable(), "run", "--host", "127.0.0.1", "--port", str(chroma_port),
                                    "--path", str(tmp_path / "chroma")], base_env(), tmp_path / "chroma.log")
    fake = await FakeZalo().start()
    bots: list[Proc] = []
    try:
        async def heartbeat() -> bool:
            status, body = await get_json(f"http://127.0.0.1:{chroma_port}/api/v2/heartbeat")
            return status == 200 and "nanosecond heartbeat" in body

        await poll("the Chroma server did not answer its heartbeat", heartbeat, 60, chroma.log())
        env = base_env(CHROMA_URL=f"http://127.0.0.1:{chroma_port}", DATA_DIR=str(data_dir),
                       KNOWLEDGE_DIR=str(knowledge), RATE_LIMIT_PER_MINUTE=str(RATE_LIMIT))
        summary = await asyncio.to_thread(refresh, env)
        assert summary["added"] > 0 and summary["embedded_chunks"] == summary["chunks"]
        assert not (data_dir / "index" / "chroma").exists()  # the index lives in the server, not DATA_DIR

        for name in ("a", "b"):
            port = free_port()
            bot_env = {**env, "WEBHOOK_HOST": "127.0.0.1", "WEBHOOK_PORT": str(port),
                       "ZALO_OA_APP_ID": fake.app_id, "ZALO_OA_SECRET_KEY": fake.oa_secret_key,
                       "ZALO_APP_SECRET": fake.app_secret, "ZALO_OA_ACCESS_TOKEN": fake.access_token,
                       "ZALO_OA_REFRESH_TOKEN": fake.refresh_token, "ZALO_OA_API_BASE_URL": fake.base_url,
                       "ZALO_OAUTH_BASE_URL": fake.base_url}
            bots.append(await spawn(f"bot-{name}", [sys.executable, "-m", "bot", "run"], bot_env,
                                    tmp_path / f"bot-{name}.log", port))
        for bot in bots:
            async def ready(bot: Proc = bot) -> bool:
                if bot.proc.returncode is not None:
                    pytest.fail(f"{bot.name} exited with {bot.proc.returncode}:\n{bot.log()}")
                return (await get_json(bot.base + "/readyz"))[0] == 200

            await poll(f"{bot.name} was not ready", ready, START_DEADLINE, bot.log())
        yield Cluster(fake, bots, env, data_dir, knowledge)
    finally:
        for bot in bots:
            await bot.stop()
        await fake.stop()
        await chroma.stop()


async def test_two_bot_processes_share_one_index_and_one_database(cluster: Cluster) -> None:
    documents = len([p for p in cluster.knowledge.iterdir() if p.suffix == ".md"])
    for bot in (0, 1):
        assert (await cluster.documents(bot)).startswith(f"{documents} documents")

    # the fact is not known yet
    before = await cluster.ask(0, "early", QUESTION)
    assert "750" not in before.text and "Blue Lotus" not in before.text

    # a new document, refreshed into the shared Chroma server by the indexer, no restart
    (cluster.knowledge / NEW_DOC).write_text(NEW_TEXT, encoding="utf-8")
    summary = await asyncio.to_thread(refresh, cluster.env)
    assert summary["added"] == 1 and summary["embedded_chunks"] < summary["chunks"]
    for bot in (0, 1):
        async def sees_new_document(bot: int = bot) -> bool:
            return (await cluster.documents(bot)).startswith(f"{documents + 1} documents")

        await poll(f"bot {bot} /readyz did not show the new document", sees_new_document, 60,
                   cluster.bots[bot].log())

    for bot, user in ((0, "asker-a"), (1, "asker-b")):
        reply = await cluster.ask(bot, user, QUESTION)
        assert "750 million VND" in reply.text, reply.text
        assert NEW_TITLE in reply.text  # cited in the sources list
        assert "[1]" in reply.text

    # chat memory is shared: a follow-up through B leans on the question asked through A
    await cluster.ask(0, "memory-user", "Tell me about the Blue Lotus Startup Grant")
    follow_up = await cluster.ask(1, "memory-user", "And how much is it?")
    assert "750 million VND" in follow_up.text, follow_up.text
    alone = await cluster.ask(1, "fresh-user", "And how much is it?")  # the same words without history
    assert "750" not in alone.text

    # the rate limit is shared: the budget used through A is spent for B too
    for _ in range(RATE_LIMIT):
        reply = await cluster.ask(0, "busy-user", QUESTION)
        assert "750 million VND" in reply.text
    limited = await cluster.ask(1, "busy-user", QUESTION)
    assert limited.text == t("rate_limited", "en")

    # a redelivered event is answered once, whichever process it reaches
    event = cluster.fake.oa_event(text=QUESTION, user_id="redelivered")
    assert await cluster.fake.post_oa_event(cluster.url(0), event) == (200, {"ok": True})
    assert await cluster.fake.post_oa_event(cluster.url(1), event) == (200, {"ok": True, "duplicate": True})

    # both processes wrote their staff data into the one database
    assert await cluster.fake.wait_for(lambda: any(m.chat_id == "redelivered" for m in cluster.fake.oa_sent), 60)
    for bot in cluster.bots:
        await bot.stop()
    conn = sqlite3.connect(cluster.data_dir / "bot.sqlite3")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        users = {row[0]: row[1] for row in conn.execute("SELECT user_key, MAX(refused) FROM answers GROUP BY user_key")}
    finally:
        conn.close()
    assert users["zalo_oa:early"] == 1  # the refused question is in the staff log
    assert users["zalo_oa:asker-a"] == 0 and users["zalo_oa:asker-b"] == 0
    assert len([m for m in cluster.fake.oa_sent if m.chat_id == "redelivered"]) == 1
