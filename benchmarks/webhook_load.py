"""Load benchmark: many users at once over the Zalo OA webhook, everything on loopback.

`python -m bot run` runs as a subprocess with the Zalo OA channel pointed at the fake OA API
(tests/fake_zalo.py) in this process. Each simulated user sends a few signed events (questions in
English and Vietnamese, one off-topic) one after another, waiting for each reply; the time from the
POST to the reply reaching the fake OA API is the latency. Prints users, messages, answered, lost,
latency percentiles and the bot's peak resident memory (VmHWM from /proc/<pid>/status).

    python benchmarks/webhook_load.py [--users 200] [--questions 3] [--data-dir DIR]

Without --data-dir the index of knowledge/ is built first into a temporary DATA_DIR.
The issue's targets: no message lost, and the bot process under 1 GiB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import aiohttp
from _common import ROOT, percentile, table

from tests.fake_zalo import FakeZalo
from tests.processes import terminate

QUESTIONS = [
    "Do investors pay land rent in the free trade zone?",
    "Khu thương mại tự do Hải Phòng do cơ quan nào quản lý?",
    "What does Resolution 226 allow Hai Phong to do?",
    "Nghị quyết 226 được Quốc hội thông qua khi nào?",
    "What are the targets of the 2023 economic diplomacy action program?",
    "Hải Phòng thu hút bao nhiêu vốn FDI năm 2025?",
    "What is the weather today?",
]
START_DEADLINE = 300.0
REPLY_DEADLINE = 600.0
CHANNEL_VARS = ("TELEGRAM_BOT_TOKEN", "ZALO_BOT_TOKEN", "CHROMA_URL", "LLM_BASE_URL", "LLM_MODEL")


class TimedFakeZalo(FakeZalo):
    """The fake OA API, noting when each reply arrives, per user."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.arrivals: dict[str, list[float]] = defaultdict(list)
        self.arrived: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self._counted = 0

    async def _notify(self) -> None:
        now = time.perf_counter()
        while self._counted < len(self.oa_sent):
            user = self.oa_sent[self._counted].chat_id
            self._counted += 1
            self.arrivals[user].append(now)
            self.arrived[user].set()
        await super()._notify()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_rss_mib(pid: int) -> tuple[float, float]:
    """(VmHWM, VmRSS) of a process in MiB, from /proc."""
    values = {"VmHWM": float("nan"), "VmRSS": float("nan")}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in values:
                values[key] = int(rest.split()[0]) / 1024
    except OSError:
        pass
    return values["VmHWM"], values["VmRSS"]


def prepare_data(data_dir: str | None) -> Path:
    target = Path(tempfile.mkdtemp(prefix="bench-load-")) / "data"
    if data_dir:
        shutil.copytree(data_dir, target)
        return target
    env = {**os.environ, "DATA_DIR": str(target), "KNOWLEDGE_DIR": str(ROOT / "knowledge")}
    env.pop("CHROMA_URL", None)
    print("building the index ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "indexer", "refresh"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return target


async def wait_ready(base: str, proc: asyncio.subprocess.Process) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + START_DEADLINE
    async with aiohttp.ClientSession() as session:
        while loop.time() < end:
            if proc.returncode is not None:
                raise SystemExit(f"the bot exited with {proc.returncode}")
            try:
                async with session.get(base + "/readyz", timeout=aiohttp.ClientTimeout(total=5)) as resp:
                    if resp.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.5)
    raise SystemExit("the bot was not ready in time")


async def user_session(n: int, questions: int, fake: TimedFakeZalo, session: aiohttp.ClientSession, url: str,
                       latencies: list[float], lost: list[str], ramp: float) -> None:
    user = f"load-{n}"
    rng = random.Random(n)
    await asyncio.sleep(rng.uniform(0, ramp))
    for i in range(questions):
        text = QUESTIONS[(n + i) % len(QUESTIONS)]
        event = fake.oa_event(text=text, user_id=user)
        raw = json.dumps(event, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json",
                   "X-ZEvent-Signature": fake.sign(raw, str(event["timestamp"]))}
        before = len(fake.arrivals[user])
        fake.arrived[user].clear()
        started = time.perf_counter()
        try:
            async with session.post(url, data=raw, headers=headers) as resp:
                if resp.status != 200:
                    lost.append(f"{user}#{i}: HTTP {resp.status}")
                    continue
        except aiohttp.ClientError as exc:
            lost.append(f"{user}#{i}: {type(exc).__name__}")
            continue
        deadline = started + REPLY_DEADLINE
        while len(fake.arrivals[user]) <= before and time.perf_counter() < deadline:
            try:
                await asyncio.wait_for(fake.arrived[user].wait(), max(0.01, deadline - time.perf_counter()))
            except TimeoutError:
                break
            fake.arrived[user].clear()
        if len(fake.arrivals[user]) > before:
            latencies.append(fake.arrivals[user][before] - started)
            # a long answer may come in several messages: let them all arrive before the next question
            await asyncio.sleep(0.05)
        else:
            lost.append(f"{user}#{i}: no reply")


def bot_env(fake: TimedFakeZalo, data: Path, port: int, log_level: str = "WARNING") -> dict[str, str]:
    """The environment of a `python -m bot run` serving the Zalo OA webhook on `port`, with the
    Zalo APIs pointed at `fake` and no other channel configured."""
    env = {k: v for k, v in os.environ.items() if k not in CHANNEL_VARS}
    env.update({"DATA_DIR": str(data), "KNOWLEDGE_DIR": str(ROOT / "knowledge"), "WEBHOOK_HOST": "127.0.0.1",
                "WEBHOOK_PORT": str(port), "RATE_LIMIT_PER_MINUTE": "10000", "LOG_LEVEL": log_level,
                "LOG_FORMAT": "json", "ZALO_OA_APP_ID": fake.app_id, "ZALO_OA_SECRET_KEY": fake.oa_secret_key,
                "ZALO_APP_SECRET": fake.app_secret, "ZALO_OA_ACCESS_TOKEN": fake.access_token,
                "ZALO_OA_REFRESH_TOKEN": fake.refresh_token, "ZALO_OA_API_BASE_URL": fake.base_url,
                "ZALO_OAUTH_BASE_URL": fake.base_url})
    return env


async def run(args: argparse.Namespace) -> None:
    data = prepare_data(args.data_dir)
    fake = await TimedFakeZalo().start()
    port = free_port()
    env = bot_env(fake, data, port)
    log_path = data.parent / "bot.log"
    with log_path.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=str(ROOT), env=env,
                                                    stdin=asyncio.subprocess.DEVNULL, stdout=out,
                                                    stderr=asyncio.subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(base, proc)
        idle_hwm, idle_rss = peak_rss_mib(proc.pid)
        latencies: list[float] = []
        lost: list[str] = []
        connector = aiohttp.TCPConnector(limit=args.connections)
        started = time.perf_counter()
        async with aiohttp.ClientSession(connector=connector) as session:
            await asyncio.gather(*(user_session(n, args.questions, fake, session, f"{base}/zalo/oa/webhook",
                                                latencies, lost, args.ramp) for n in range(args.users)))
        elapsed = time.perf_counter() - started
        hwm, rss = peak_rss_mib(proc.pid)
    finally:
        await terminate(proc, 30)
        await fake.stop()

    sent = args.users * args.questions
    replies = len(fake.oa_sent)
    print(table(
        ["users", "messages", "answered", "lost", "replies", "p50 s", "p95 s", "p99 s", "max s", "msg/s",
         "peak RSS MiB", "idle RSS MiB"],
        [[args.users, sent, len(latencies), len(lost), replies, f"{percentile(latencies, 50):.2f}",
          f"{percentile(latencies, 95):.2f}", f"{percentile(latencies, 99):.2f}",
          f"{max(latencies, default=float('nan')):.2f}", f"{sent / elapsed:.1f}", f"{hwm:.0f}",
          f"{idle_rss:.0f}"]]))
    print(f"\nwall time {elapsed:.1f} s; peak RSS before the load {idle_hwm:.0f} MiB, after {hwm:.0f} MiB "
          f"(current {rss:.0f} MiB); target: 0 lost, under 1024 MiB.")
    for line in lost[:10]:
        print("lost:", line)
    ok = not lost and hwm < 1024
    print("RESULT:", "PASS" if ok else "FAIL")
    if not ok:
        print(f"bot log: {log_path}")
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--questions", type=int, default=3, help="questions per user, one after another")
    parser.add_argument("--ramp", type=float, default=2.0, help="seconds over which users start")
    parser.add_argument("--connections", type=int, default=100, help="HTTP connections to the bot at most")
    parser.add_argument("--data-dir", help="an existing DATA_DIR with the index (copied, not changed)")
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
