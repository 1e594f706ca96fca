"""The one HTTP server for every webhook: Telegram at /telegram/webhook, Zalo Bot at
/zalo/bot/webhook, Zalo OA at /zalo/oa/webhook, plus /healthz, /readyz and /metrics.

Channels register their handlers; this module owns the server, the body-size limit, malformed JSON
(400, also for nesting deeper than MAX_JSON_DEPTH or integers longer than MAX_INT_DIGITS), oversized
bodies (413), bodies that arrive too slowly (408) and unknown paths (404), and keeps serving whatever
a handler does. Connection limits (cap, head and idle timeouts) are in connections.py.
While the bot warms up (`hold_webhooks`), /healthz answers, /readyz says 503, and webhook requests
wait until `open_webhooks` before they reach their handler.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot import lograte, metrics
from bot.channels.connections import ConnectionLimits, ConnectionPool

log = logging.getLogger("bot.webhook")

MAX_BODY_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32  # Telegram and Zalo updates nest a few levels; nothing real needs more
MAX_INT_DIGITS = 40  # ids and timestamps are far shorter; longer integers are refused, not converted

# A handler gets the raw body, the parsed JSON and the request (for headers); it returns a response.
Handler = Callable[[bytes, Any, web.Request], Awaitable[web.StreamResponse]]
ReadinessCheck = Callable[[], Awaitable[tuple[bool, str]]]


def json_response(payload: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(payload, status=status)


class BadJSON(ValueError):
    """A body that is not acceptable JSON; the message is safe to send back."""


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise BadJSON(f"number longer than {MAX_INT_DIGITS} digits")
    return int(text)


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def parse_json(body: bytes) -> Any:
    """The body as JSON; BadJSON for anything malformed, too deep or with absurd numbers."""
    try:
        payload = json.loads(body.decode("utf-8"), parse_int=_bounded_int)
    except BadJSON:
        raise
    except RecursionError as exc:
        raise BadJSON("JSON nested too deeply") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadJSON("malformed JSON") from exc
    if _depth(payload) > MAX_JSON_DEPTH:
        raise BadJSON("JSON nested too deeply")
    return payload


class WebhookServer:
    def __init__(self, host: str, port: int, max_body: int = MAX_BODY_BYTES,
                 limits: ConnectionLimits | None = None) -> None:
        self.host = host
        self.port = port
        self.max_body = max_body
        self.limits = limits or ConnectionLimits()
        self._routes: dict[str, Handler] = {}
        self._checks: dict[str, ReadinessCheck] = {}
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None
        self.connections: ConnectionPool | None = None
        self.bound_port: int | None = None
        self._open: asyncio.Event | None = None  # None: webhooks are handled at once

    def hold_webhooks(self) -> None:
        """Webhook requests wait (they are not refused) until `open_webhooks`."""
        self._open = asyncio.Event()

    def open_webhooks(self) -> None:
        if self._open is not None:
            self._open.set()

    def add_webhook(self, path: str, handler: Handler) -> None:
        self._routes[path] = handler

    def add_readiness_check(self, name: str, check: ReadinessCheck) -> None:
        self._checks[name] = check

    @property
    def has_webhooks(self) -> bool:
        return bool(self._routes)

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=self.max_body, middlewares=[self._track])
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        for path in self._routes:
            app.router.add_post(path, self._dispatch)
        return app

    async def start(self) -> None:
        lograte.install((*lograte.CONNECTION_LOGGERS, "bot.webhook.connections"))
        self._runner = web.AppRunner(self.build_app(), access_log=None, handle_signals=False,
                                     keepalive_timeout=self.limits.idle_timeout)
        await self._runner.setup()
        assert self._runner.server is not None
        self.connections = ConnectionPool(self._runner.server, self.limits)
        try:
            self._listener = await asyncio.get_running_loop().create_server(
                self.connections, self.host, self.port, backlog=1024, reuse_address=True)
        except BaseException:
            await self._runner.cleanup()
            self._runner = None
            raise
        sockets = self._listener.sockets or []
        self.bound_port = sockets[0].getsockname()[1] if sockets else self.port
        log.info("webhook server listening", extra={"host": self.host, "port": self.bound_port,
                                                    "paths": sorted(self._routes),
                                                    "max_connections": self.connections.max_connections})

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.connections is not None:
            self.connections.close_all()

    @web.middleware
    async def _track(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                     ) -> web.StreamResponse:
        """Marks the connection busy while a handler runs (so neither timeouts nor the cap close it)."""
        conn = self.connections.for_transport(request.transport) if self.connections else None
        if conn is not None:
            conn.request_started()
        try:
            return await handler(request)
        finally:
            if conn is not None:
                conn.request_finished()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        handler = self._routes.get(request.path)
        if handler is None:
            raise web.HTTPNotFound()
        if request.content_length is not None and request.content_length > self.max_body:
            return json_response({"ok": False, "error": "body too large"}, 413)
        conn = self.connections.for_transport(request.transport) if self.connections else None
        if conn is not None:
            conn.body_started()
        try:
            async with asyncio.timeout(self.limits.body_timeout):
                body = await request.read()
            if conn is not None:
                conn.body_finished()
        except web.HTTPRequestEntityTooLarge:
            return json_response({"ok": False, "error": "body too large"}, 413)
        except TimeoutError:
            slow = json_response({"ok": False, "error": "body not received in time"}, 408)
            slow.force_close()  # a slow client is not kept
            return slow
        if len(body) > self.max_body:
            return json_response({"ok": False, "error": "body too large"}, 413)
        try:
            payload = parse_json(body)
        except BadJSON as exc:
            return json_response({"ok": False, "error": str(exc)}, 400)
        if not isinstance(payload, dict):
            return json_response({"ok": False, "error": "expected a JSON object"}, 400)
        if self._open is not None and not self._open.is_set():
            await self._open.wait()
        try:
            return await handler(body, payload, request)
        except web.HTTPException:
            raise
        except Exception:
            log.exception("webhook handler failed", extra={"path": request.path})
            return json_response({"ok": False, "error": "internal error"}, 500)

    async def _healthz(self, request: web.Request) -> web.Response:
        return json_response({"status": "ok"})

    async def _readyz(self, request: web.Request) -> web.Response:
        results: dict[str, str] = {}
        ready = True
        for name, check in self._checks.items():
            try:
                ok, detail = await check()
            except Exception as exc:
                ok, detail = False, f"check failed: {type(exc).__name__}"
            ready = ready and ok
            results[name] = detail if ok else f"not ready: {detail}"
        return json_response({"status": "ready" if ready else "not ready", "checks": results},
                             200 if ready else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        body = await asyncio.to_thread(metrics.render)
        return web.Response(body=body, headers={"Content-Type": metrics.CONTENT_TYPE,
                                                "X-Content-Type-Options": "nosniff"})
