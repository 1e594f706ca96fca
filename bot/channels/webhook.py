"""The one HTTP server for every webhook: Telegram at /telegram/webhook, Zalo Bot at
/zalo/bot/webhook, Zalo OA at /zalo/oa/webhook, plus /healthz, /readyz and /metrics.

Channels register their handlers; this module owns the server, the body-size limit, malformed JSON
(400), oversized bodies (413) and unknown paths (404), and keeps serving whatever a handler does.
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

from bot import metrics

log = logging.getLogger("bot.webhook")

MAX_BODY_BYTES = 1024 * 1024

# A handler gets the raw body, the parsed JSON and the request (for headers); it returns a response.
Handler = Callable[[bytes, Any, web.Request], Awaitable[web.StreamResponse]]
ReadinessCheck = Callable[[], Awaitable[tuple[bool, str]]]


def json_response(payload: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(payload, status=status)


class WebhookServer:
    def __init__(self, host: str, port: int, max_body: int = MAX_BODY_BYTES) -> None:
        self.host = host
        self.port = port
        self.max_body = max_body
        self._routes: dict[str, Handler] = {}
        self._checks: dict[str, ReadinessCheck] = {}
        self._runner: web.AppRunner | None = None
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
        app = web.Application(client_max_size=self.max_body)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        for path in self._routes:
            app.router.add_post(path, self._dispatch)
        return app

    async def start(self) -> None:
        self._runner = web.AppRunner(self.build_app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        self.bound_port = sockets[0].getsockname()[1] if sockets else self.port
        log.info("webhook server listening", extra={"host": self.host, "port": self.bound_port,
                                                    "paths": sorted(self._routes)})

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        handler = self._routes.get(request.path)
        if handler is None:
            raise web.HTTPNotFound()
        if request.content_length is not None and request.content_length > self.max_body:
            return json_response({"ok": False, "error": "body too large"}, 413)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return json_response({"ok": False, "error": "body too large"}, 413)
        if len(body) > self.max_body:
            return json_response({"ok": False, "error": "body too large"}, 413)
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return json_response({"ok": False, "error": "malformed JSON"}, 400)
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
