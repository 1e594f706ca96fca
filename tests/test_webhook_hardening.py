"""The webhook server against an attacker's connections and bodies (issue 13, findings 3 and 8):
idle and slow connections are closed by the server, a flood of connections never locks /healthz
out, the log says so once rather than once per connection, and hostile JSON gets a clean 400."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.channels.connections import ConnectionLimits
from bot.channels.webhook import WebhookServer, json_response

LIMITS = ConnectionLimits(max_connections=20, header_timeout=0.6, body_timeout=0.6, idle_timeout=1.0)


async def echo(raw: bytes, payload: Any, request: web.Request) -> web.StreamResponse:
    return json_response({"ok": True, "keys": sorted(payload)})


@pytest.fixture
async def server() -> AsyncIterator[WebhookServer]:
    srv = WebhookServer("127.0.0.1", 0, limits=LIMITS)
    srv.add_webhook("/hook", echo)
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
async def default_server() -> AsyncIterator[WebhookServer]:
    srv = WebhookServer("127.0.0.1", 0)
    srv.add_webhook("/hook", echo)
    await srv.start()
    yield srv
    await srv.stop()


async def healthz(srv: WebhookServer) -> float:
    started = time.monotonic()
    timeout = aiohttp.ClientTimeout(total=3)
    async with aiohttp.ClientSession(timeout=timeout) as session, \
            session.get(f"http://127.0.0.1:{srv.bound_port}/healthz") as resp:
        assert resp.status == 200
    return time.monotonic() - started


async def closed_by_server_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    """True when the server closes the connection (EOF or reset) before `seconds`."""
    try:
        async with asyncio.timeout(seconds):
            while True:
                data = await reader.read(1024)
                if not data:
                    return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


async def test_an_idle_connection_is_closed_by_the_server(server: WebhookServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
    started = time.monotonic()
    assert await closed_by_server_within(reader, 5.0)
    assert time.monotonic() - started < LIMITS.idle_timeout + 1.0
    writer.close()


async def test_a_keep_alive_connection_is_closed_after_the_idle_timeout(server: WebhookServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert await closed_by_server_within(reader, 5.0)
    writer.close()


async def test_a_client_sending_one_byte_at_a_time_is_cut_off(server: WebhookServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
    request = b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + b"X-Pad: " + b"a" * 200
    started = time.monotonic()
    cut = False
    for byte in request:
        try:
            writer.write(bytes([byte]))
            await writer.drain()
        except (ConnectionResetError, BrokenPipeError):
            cut = True
            break
        if reader.at_eof() or writer.transport.is_closing():
            cut = True
            break
        await asyncio.sleep(0.05)
        if time.monotonic() - started > 5:
            break
    cut = cut or await closed_by_server_within(reader, 0.5)
    assert cut, "a client that never finishes its request head kept its connection"
    assert time.monotonic() - started < LIMITS.header_timeout + 1.5
    writer.close()


async def test_a_body_sent_too_slowly_gets_408(server: WebhookServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
    writer.write(b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
    await writer.drain()
    async with asyncio.timeout(5):
        head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    writer.close()


async def test_a_flood_of_idle_connections_does_not_lock_out_healthz_or_users(
        server: WebhookServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    idle = [await asyncio.open_connection("127.0.0.1", server.bound_port) for _ in range(60)]
    await asyncio.sleep(0.1)
    assert server.connections is not None and len(server.connections) <= LIMITS.max_connections
    for _ in range(5):
        assert await healthz(server) < 1.0
    async with aiohttp.ClientSession() as session, session.post(
            f"http://127.0.0.1:{server.bound_port}/hook", data=b'{"q": 1}') as resp:
        assert resp.status == 200 and (await resp.json())["keys"] == ["q"]
    # the flood is in the log once (per kind), not once per connection
    flood_lines = [r for r in caplog.records if r.name.startswith(("bot.webhook", "asyncio", "aiohttp"))]
    assert 1 <= len(flood_lines) <= 3, [r.getMessage() for r in flood_lines]
    for _reader, writer in idle:
        writer.close()


async def test_clients_stalling_in_their_bodies_do_not_lock_out_healthz(server: WebhookServer) -> None:
    stalled = []
    for _ in range(40):  # twice the cap, each with a complete head and a body that never comes
        _reader, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
        writer.write(b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
        await writer.drain()
        stalled.append(writer)
    await asyncio.sleep(0.2)
    assert await healthz(server) < 1.0
    for writer in stalled:
        writer.close()


async def test_deeply_nested_json_gets_a_clean_400(default_server: WebhookServer,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    url = f"http://127.0.0.1:{default_server.bound_port}/hook"
    async with aiohttp.ClientSession() as session:
        for body in (b'{"a": ' + b"[" * 2048 + b"]" * 2048 + b"}", b'{"a": ' + b'{"b": ' * 300 + b"1" + b"}" * 301):
            async with session.post(url, data=body) as resp:
                assert resp.status == 400
                assert (await resp.json())["error"] == "JSON nested too deeply"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_a_five_thousand_digit_number_gets_a_clean_400(default_server: WebhookServer,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    url = f"http://127.0.0.1:{default_server.bound_port}/hook"
    async with aiohttp.ClientSession() as session:
        for body in (b'{"update_id": ' + b"9" * 5000 + b"}", b'{"n": -' + b"1" * 41 + b"}"):
            async with session.post(url, data=body) as resp:
                assert resp.status == 400 and (await resp.json())["ok"] is False
        async with session.post(url, data=json.dumps({"update_id": 10 ** 15}).encode()) as resp:
            assert resp.status == 200
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def test_the_connection_cap_stays_below_a_low_open_file_limit() -> None:
    """With `ulimit -n 256` the server caps itself well below the limit instead of failing accept()."""
    import subprocess
    import sys

    code = ("import resource; soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE); "
            "resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard)); "
            "from bot.channels.connections import ConnectionLimits; print(ConnectionLimits(1000).effective_max())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert 8 <= int(out.stdout) <= 256 - 64
