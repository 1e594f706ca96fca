"""Connection-flood benchmark for the webhook server, everything on 127.0.0.1.

`python -m bot run` runs as a subprocess with the Zalo OA channel pointed at the fake OA API in this
process (as in webhook_load.py). While 200 users each ask questions over signed webhook events:

- 1,000 idle connections are held open: each opens a connection and sends nothing; when the server
  closes it, it waits a second and opens another, until the users are done;
- 100 slow clients send a request head one byte a second, reconnecting the same way;
- /healthz is probed every 100 ms on a fresh connection, from a separate process (so the flood's own
  work in this process does not count as server latency).

Then reconnecting stops and the open connections are given the idle timeout (+2 s) to be closed by
the server. Prints /healthz latency, questions answered, how long the server let idle and slow
connections live, and the number of lines the bot logged during the whole run.

    python benchmarks/connections.py [--idle 1000] [--slow 100] [--users 200] [--questions 1]
                                     [--idle-timeout 15] [--header-timeout 10] [--data-dir DIR]

The issue's targets: /healthz p99 under 100 ms, every question answered, every idle connection
closed by the server within the idle timeout, under 100 log lines (LOG_LEVEL=WARNING, as in
webhook_load.py: at INFO the bot logs one line per answer by design).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from dataclasses import dataclass, field

import aiohttp
from _common import ROOT, percentile, table
from webhook_load import TimedFakeZalo, bot_env, free_port, prepare_data, user_session, wait_ready

from tests.processes import terminate

PROBE_MAX_S = 1800.0
SLACK_S = 2.0  # allowed beyond a timeout: timer granularity and a loaded machine
SLOW_HEAD = (b"POST /zalo/oa/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
             + b"X-Padding: " + b"a" * 4000)


@dataclass
class Flood:
    lifetimes: list[float] = field(default_factory=list)  # seconds until the server closed it
    still_open: int = 0  # not closed by the server by the end
    refused: int = 0  # could not connect at all
    opened: int = 0


async def _closed_by_server(reader: asyncio.StreamReader) -> None:
    try:
        while await reader.read(4096):
            pass
    except (ConnectionError, OSError):
        pass


async def hold(port: int, flood: Flood, stop_reopen: asyncio.Event, give_up: asyncio.Event, slow: bool) -> None:
    """One attacker slot: a connection held open (or fed one byte a second) until the server closes it."""
    while not stop_reopen.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            flood.refused += 1
            await asyncio.sleep(1.0)
            continue
        flood.opened += 1
        opened = time.perf_counter()
        closed = asyncio.ensure_future(_closed_by_server(reader))
        feeder = asyncio.ensure_future(_trickle(writer)) if slow else None
        stopper = asyncio.ensure_future(give_up.wait())
        await asyncio.wait({closed, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if closed.done():
            flood.lifetimes.append(time.perf_counter() - opened)
        else:
            flood.still_open += 1
        for task in (closed, stopper, feeder):
            if task is not None:
                task.cancel()
        writer.close()
        if give_up.is_set():
            return
        await asyncio.sleep(1.0)


async def _trickle(writer: asyncio.StreamWriter) -> None:
    for byte in SLOW_HEAD:  # bounded: the head is never finished, but it is not endless either
        try:
            writer.write(bytes([byte]))
            await writer.drain()
        except (ConnectionError, OSError):
            return
        await asyncio.sleep(1.0)


async def probe(base: str, stop: asyncio.Event, latencies: list[float], failures: list[str]) -> None:
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True), timeout=timeout) as session:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                async with session.get(base + "/healthz") as resp:
                    await resp.read()
                    if resp.status != 200:
                        failures.append(f"HTTP {resp.status}")
                    else:
                        latencies.append(time.perf_counter() - started)
            except (aiohttp.ClientError, TimeoutError) as exc:
                failures.append(type(exc).__name__)
            await asyncio.sleep(0.1)


async def probe_process(base: str) -> None:
    """The /healthz prober as its own process (so the flood in this process does not slow the
    measurement down): probes until its stdin closes (at most PROBE_MAX_S), then prints JSON."""
    stop = asyncio.Event()
    latencies: list[float] = []
    failures: list[str] = []
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    async def until_eof() -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(PROBE_MAX_S):
                await reader.read()
        stop.set()

    await asyncio.gather(until_eof(), probe(base, stop, latencies, failures))
    print(json.dumps({"latencies": latencies, "failures": failures}))


async def run(args: argparse.Namespace) -> None:
    data = prepare_data(args.data_dir)
    fake = await TimedFakeZalo().start()
    port = free_port()
    env = bot_env(fake, data, port, args.log_level)
    env.update({"WEBHOOK_IDLE_TIMEOUT": str(args.idle_timeout), "WEBHOOK_HEADER_TIMEOUT": str(args.header_timeout)})
    if args.max_connections:
        env["WEBHOOK_MAX_CONNECTIONS"] = str(args.max_connections)
    log_path = data.parent / "bot.log"
    with log_path.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=str(ROOT), env=env,
                                                    stdin=asyncio.subprocess.DEVNULL, stdout=out,
                                                    stderr=asyncio.subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    idle, slow = Flood(), Flood()
    health: list[float] = []
    health_failures: list[str] = []
    latencies: list[float] = []
    lost: list[str] = []
    try:
        await wait_ready(base, proc)
        log_before = len(log_path.read_bytes().splitlines())
        stop_reopen, give_up = asyncio.Event(), asyncio.Event()
        attackers = [asyncio.ensure_future(hold(port, idle, stop_reopen, give_up, slow=False))
                     for _ in range(args.idle)]
        attackers += [asyncio.ensure_future(hold(port, slow, stop_reopen, give_up, slow=True))
                      for _ in range(args.slow)]
        await asyncio.sleep(2.0)  # the flood is in place before the users come
        prober = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--probe", base, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE)
        started = time.perf_counter()
        connector = aiohttp.TCPConnector(limit=args.connections)
        async with aiohttp.ClientSession(connector=connector) as session:
            await asyncio.gather(*(user_session(n, args.questions, fake, session, f"{base}/zalo/oa/webhook",
                                                latencies, lost, args.ramp) for n in range(args.users)))
        elapsed = time.perf_counter() - started
        stop_reopen.set()
        await asyncio.sleep(max(args.idle_timeout, args.header_timeout) + SLACK_S)
        give_up.set()
        assert prober.stdin is not None
        prober.stdin.close()
        out, _ = await prober.communicate()
        probed = json.loads(out.decode() or "{}")
        health.extend(probed.get("latencies", []))
        health_failures.extend(probed.get("failures", []))
        await asyncio.gather(*attackers, return_exceptions=True)
    finally:
        await terminate(proc, 30)
        await fake.stop()
    log_lines = len(log_path.read_bytes().splitlines())

    def flood_row(name: str, flood: Flood, limit: float) -> list[object]:
        late = sum(1 for s in flood.lifetimes if s > limit + SLACK_S)
        return [name, flood.opened, len(flood.lifetimes), flood.still_open + late, flood.refused,
                f"{percentile(flood.lifetimes, 50):.1f}", f"{max(flood.lifetimes, default=float('nan')):.1f}",
                f"{limit:.0f}"]

    print(table(["connections", "opened", "closed by server", "kept too long", "refused", "life p50 s",
                 "life max s", "timeout s"],
                [flood_row(f"{args.idle} idle", idle, args.idle_timeout),
                 flood_row(f"{args.slow} one byte/s", slow, args.header_timeout)]))
    print()
    p99_ms = percentile(health, 99) * 1000
    print(table(["/healthz probes", "failed", "p50 ms", "p99 ms", "max ms", "users", "questions", "answered",
                 "lost", "answer p50 s", "answer p99 s", "log lines (run)", "log lines (start)"],
                [[len(health), len(health_failures), f"{percentile(health, 50) * 1000:.1f}", f"{p99_ms:.1f}",
                  f"{max(health, default=float('nan')) * 1000:.1f}", args.users, args.users * args.questions,
                  len(latencies), len(lost), f"{percentile(latencies, 50):.2f}", f"{percentile(latencies, 99):.2f}",
                  log_lines - log_before, log_before]]))
    print(f"\nusers' wall time {elapsed:.1f} s; LOG_LEVEL={args.log_level}; "
          "targets: /healthz p99 < 100 ms, 0 lost, idle connections closed within the timeout, < 100 log lines.")
    for line in (lost + health_failures)[:10]:
        print("problem:", line)
    kept = idle.still_open + slow.still_open + sum(1 for s in idle.lifetimes if s > args.idle_timeout + SLACK_S)
    ok = p99_ms < 100 and not lost and not health_failures and kept == 0 and log_lines < 100
    print("RESULT:", "PASS" if ok else "FAIL")
    if not ok:
        print(f"bot log: {log_path}")
        raise SystemExit(1)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--probe":
        asyncio.run(probe_process(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--idle", type=int, default=1000, help="idle connections held open")
    parser.add_argument("--slow", type=int, default=100, help="clients sending one byte a second")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--questions", type=int, default=1, help="questions per user, one after another")
    parser.add_argument("--ramp", type=float, default=5.0, help="seconds over which users start")
    parser.add_argument("--connections", type=int, default=100, help="users' HTTP connections at most")
    parser.add_argument("--idle-timeout", type=float, default=15.0, help="WEBHOOK_IDLE_TIMEOUT for the bot")
    parser.add_argument("--header-timeout", type=float, default=10.0, help="WEBHOOK_HEADER_TIMEOUT for the bot")
    parser.add_argument("--max-connections", type=int, default=0, help="WEBHOOK_MAX_CONNECTIONS (default: the bot's)")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--data-dir", help="an existing DATA_DIR with the index (copied, not changed)")
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
