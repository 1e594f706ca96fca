"""Telegram load: several users send questions at the same moment; how long until each answer?

    python benchmarks/telegram_load.py [--users 5 --questions 30]

The bot runs as in production (`python -m bot run` in a subprocess, long polling) against the fake
Bot API from tests/fake_telegram.py on 127.0.0.1. All questions (English, Vietnamese, and
Vietnamese typed without diacritics, about Resolution 226, the free trade zone, the economic
diplomacy action plan and the 2025 external relations conference) are queued at once, spread over
the users; the time from queueing a question to its answer reaching the API is measured.
Before that, each user's first question is already waiting when the bot starts (sent during the
restart): it arrives the moment polling starts, and the time from the bot's first getUpdates to
each of these answers is measured too (the bot warms up before it polls; target p95 <= 1 s).
Uses the index in DATA_DIR when there is one, else builds one into a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from indexer.refresh import refresh  # noqa: E402
from indexer.store import Store  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402
from tests.processes import terminate  # noqa: E402

QUESTIONS = [
    "What is special about Resolution 226?",
    "Nghị quyết 226 có những cơ chế đặc thù nào cho Hải Phòng?",
    "nghi quyet 226 co co che dac thu gi cho hai phong",
    "What tax incentives apply in the free trade zone?",
    "Ưu đãi thuế trong khu thương mại tự do Hải Phòng là gì?",
    "uu dai dau tu trong khu thuong mai tu do hai phong",
    "What does the economic diplomacy action plan cover?",
    "Chương trình hành động ngoại giao kinh tế của Hải Phòng gồm những nội dung gì?",
    "chuong trinh hanh dong ngoai giao kinh te den nam 2030",
    "What did the 2025 external relations conference review?",
    "Hội nghị tổng kết công tác đối ngoại năm 2025 của Hải Phòng đánh giá những gì?",
    "hoi nghi tong ket cong tac doi ngoai nam 2025",
    "Do investors pay land rent in the free trade zone?",
    "Khu thương mại tự do Hải Phòng do cơ quan nào quản lý?",
    "khu thuong mai tu do hai phong do co quan nao quan ly",
]


FIRST_QUESTIONS = [
    "What does Resolution 226 allow Hai Phong to do?",
    "Khu thương mại tự do Hải Phòng do cơ quan nào quản lý?",
    "uu dai dau tu trong khu thuong mai tu do hai phong",
    "Who signed Resolution 226/2025/QH15?",
    "Hội nghị tổng kết công tác đối ngoại năm 2025 của Hải Phòng đánh giá những gì?",
]


def answers(tg: FakeTelegram, chat: int) -> list:  # type: ignore[type-arg]
    """The bot's accepted sendMessage calls to a chat, in order."""
    return [c for c in tg.calls_to("sendMessage") if c.status == 200 and c.params["chat_id"] == chat]


def answer_count(tg: FakeTelegram, chat: int) -> int:
    return len(answers(tg, chat))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_index(env: dict[str, str]) -> dict[str, str]:
    """DATA_DIR with a built index: the one configured, or a new one in a temporary folder."""
    env = dict(env)
    env.setdefault("KNOWLEDGE_DIR", str(ROOT / "knowledge"))
    if env.get("DATA_DIR") and Store(Settings.from_env(env, dotenv=None).index).read_manifest() is not None:
        return env
    env["DATA_DIR"] = tempfile.mkdtemp(prefix="bench-telegram-")
    print(f"building an index of {env['KNOWLEDGE_DIR']} in {env['DATA_DIR']} …", flush=True)
    refresh(Settings.from_env(env, dotenv=None).index)
    return env


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def table(headers: list[str], row: list[str]) -> str:
    widths = [max(len(h), len(c)) for h, c in zip(headers, row, strict=True)]
    line = "+".join("-" * (w + 2) for w in widths)
    return "\n".join(["| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |",
                      "|" + line + "|",
                      "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"])


async def run(env: dict[str, str], users: int, questions: int, wait_seconds: float, rate_limit: int,
              log_level: str) -> int:
    async with FakeTelegram(max_poll_wait=10.0) as tg:
        env.update({"TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_BASE_URL": tg.base_url,
                    "WEBHOOK_HOST": "127.0.0.1", "WEBHOOK_PORT": str(free_port()),
                    "RATE_LIMIT_PER_MINUTE": str(rate_limit), "LOG_LEVEL": log_level, "LOG_FORMAT": "text"})
        log = tempfile.NamedTemporaryFile(prefix="bench-telegram-bot-", suffix=".log", delete=False)  # noqa: SIM115
        chats = [900_000 + u for u in range(users)]
        for u, chat in enumerate(chats):  # sent while the bot restarts: there at its first poll
            tg.send_text(chat, FIRST_QUESTIONS[u % len(FIRST_QUESTIONS)])
        started = time.perf_counter()
        # an empty working folder: no .env or local modules of the caller's folder get picked up
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", env=env,
                                                    cwd=tempfile.mkdtemp(prefix="bench-cwd-"), stdout=log,
                                                    stderr=subprocess.STDOUT)
        try:
            polling = asyncio.create_task(tg.wait_for(lambda: bool(tg.calls_to("getUpdates")), 180))
            exited = asyncio.create_task(proc.wait())
            await asyncio.wait({polling, exited}, return_when=asyncio.FIRST_COMPLETED)
            for task in (polling, exited):
                task.cancel()
            await asyncio.gather(polling, exited, return_exceptions=True)
            if proc.returncode is not None or not tg.calls_to("getUpdates"):
                print(f"the bot did not start polling; its log: {log.name}")
                return 1
            print(f"bot polling after {time.perf_counter() - started:.1f} s "
                  f"(python -m bot run, pid {proc.pid}, {os.cpu_count()} CPUs)", flush=True)
            polling_started = tg.calls_to("getUpdates")[0].ts
            try:
                await tg.wait_for(lambda: all(answer_count(tg, c) >= 1 for c in chats), wait_seconds)
            except TimeoutError:
                pass
            first_latencies = [answers(tg, c)[0].ts - polling_started for c in chats if answers(tg, c)]
            base = {c: answer_count(tg, c) for c in chats}

            expected = dict(base)
            t0 = time.monotonic()
            for i in range(questions):
                chat = chats[i % users]
                tg.send_text(chat, QUESTIONS[i % len(QUESTIONS)])
                expected[chat] += 1
            try:
                await tg.wait_for(lambda: all(len(tg.sent(c)) >= n for c, n in expected.items()), wait_seconds)
            except TimeoutError:
                pass
            latencies: list[float] = []
            cited = 0
            for chat, n in expected.items():
                calls = answers(tg, chat)[base[chat]:n]
                latencies += [c.ts - t0 for c in calls]
                cited += sum("[1]" in c.params["text"] for c in calls)
        finally:
            await terminate(proc, 30)
    print()
    first_stats = ([f"{statistics.median(first_latencies):.3f}", f"{percentile(first_latencies, 95):.3f}",
                    f"{max(first_latencies):.3f}"] if first_latencies else ["-", "-", "-"])
    print("first questions, waiting when polling starts (from the first getUpdates to the answer):")
    print(table(["users", "answered", "p50 s", "p95 s", "max s"],
                [str(users), str(len(first_latencies)), *first_stats]))
    answered = len(latencies)
    headers = ["users", "questions", "answered", "lost", "p50 s", "p95 s", "max s", "with sources"]
    if latencies:
        stats = [f"{statistics.median(latencies):.3f}", f"{percentile(latencies, 95):.3f}", f"{max(latencies):.3f}"]
    else:
        stats = ["-", "-", "-"]
    print()
    print(table(headers, [str(users), str(questions), str(answered), str(questions - answered), *stats, str(cited)]))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nall {questions} questions queued at once; target p95 < 2 s. Load average during the run: {load} "
          f"on {os.cpu_count()} CPUs. Bot log: {log.name}")
    first_ok = len(first_latencies) == users and percentile(first_latencies, 95) <= 1.0
    print(f"first questions at polling start: target p95 <= 1 s: {'PASS' if first_ok else 'FAIL'}")
    return 0 if answered == questions and len(first_latencies) == users else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument("--questions", type=int, default=30, help="in all, spread over the users")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the answers")
    parser.add_argument("--rate-limit", type=int, default=1000,
                        help="RATE_LIMIT_PER_MINUTE for the bot (high, so the answers are measured)")
    parser.add_argument("--log-level", default="WARNING", help="LOG_LEVEL of the bot (its log goes to a file)")
    args = parser.parse_args()
    env = ensure_index({k: v for k, v in os.environ.items()
                        if not k.startswith(("TELEGRAM_", "ZALO_", "WEBHOOK_"))})
    return asyncio.run(run(env, args.users, args.questions, args.timeout, args.rate_limit,
                           args.log_level.upper()))


if __name__ == "__main__":
    raise SystemExit(main())
