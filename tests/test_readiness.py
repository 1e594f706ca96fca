"""`python -m bot run` warms up before it says it is ready: /readyz is 503 while the model, the
index and a first answer load (with /healthz already up), 200 after; a webhook event that arrives
during the warm-up waits and is answered, not lost."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from tests.fake_zalo import FakeZalo
from tests.processes import terminate
from tests.test_run_zalo import ROOT, START_DEADLINE, bot_env, free_port

pytestmark = pytest.mark.slow


async def _get(session: aiohttp.ClientSession, url: str) -> tuple[int, dict] | None:
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as r:
            return r.status, await r.json()
    except (aiohttp.ClientError, TimeoutError):
        return None


async def test_readyz_is_503_until_the_warm_up_is_done_then_200(data_dir: Path, tmp_path: Path) -> None:
    fake = await FakeZalo().start()
    port = free_port()
    env = bot_env(data_dir, port, ZALO_OA_APP_ID=fake.app_id, ZALO_OA_SECRET_KEY=fake.oa_secret_key,
                  ZALO_APP_SECRET=fake.app_secret, ZALO_OA_ACCESS_TOKEN=fake.access_token,
                  ZALO_OA_REFRESH_TOKEN=fake.refresh_token, ZALO_OA_API_BASE_URL=fake.base_url,
                  ZALO_OAUTH_BASE_URL=fake.base_url)
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "bot.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=str(ROOT), env=env,
                                                    stdin=asyncio.subprocess.DEVNULL, stdout=out,
                                                    stderr=asyncio.subprocess.STDOUT)
    early: asyncio.Task | None = None
    try:
        statuses: list[tuple[int, dict]] = []
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + START_DEADLINE
            while time.monotonic() < deadline:  # the port opens before the warm-up starts
                assert proc.returncode is None, log.read_text(errors="replace")[-3000:]
                if await _get(session, base + "/healthz") is not None:
                    break
                await asyncio.sleep(0.01)
            first = await _get(session, base + "/readyz")
            assert first is not None
            statuses.append(first)
            # a question while warming up: held, then answered
            event = fake.oa_event(text="Who signed Resolution 226/2025/QH15?", user_id="early-user")
            early = asyncio.create_task(fake.post_oa_event(f"{base}/zalo/oa/webhook", event))
            while time.monotonic() < deadline:
                got = await _get(session, base + "/readyz")
                if got is not None:
                    statuses.append(got)
                    if got[0] == 200:
                        break
                await asyncio.sleep(0.05)
        status, body = statuses[0]
        assert status == 503, body
        assert body["checks"]["warm-up"] == "not ready: warming up"
        assert statuses[-1][0] == 200, statuses[-1]
        assert statuses[-1][1]["checks"]["warm-up"].startswith("warmed up in")
        assert all(s == 503 for s, _ in statuses[:-1])  # never ready before the warm-up ended
        assert await asyncio.wait_for(early, 60) == (200, {"ok": True})
        assert await fake.wait_for(lambda: any(m.chat_id == "early-user" for m in fake.oa_sent), 60), \
            log.read_text(errors="replace")[-3000:]
        reply = "\n".join(m.text for m in fake.oa_sent if m.chat_id == "early-user")
        assert "Tran Thanh Man" in reply
    finally:
        if early is not None and not early.done():
            early.cancel()
        await terminate(proc, 20)
        await fake.stop()
