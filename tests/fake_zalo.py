"""A fake Zalo on 127.0.0.1 (real HTTP, aiohttp.web) for end-to-end tests.

One server speaks three APIs:
- the Bot Platform at /bot<TOKEN>/<method>: getMe, getUpdates (long poll over a queue of events;
  "nothing new" is error_code 408 like the real one), setWebhook, deleteWebhook, sendMessage (text
  must be 1..2000 characters), sendChatAction;
- the Official Account API at /v3.0/oa/message/cs: the `access_token` header must be the token
  currently valid, otherwise {"error": -216, "message": "Access token is invalid"} with HTTP 200;
  `fail_next_sends(n)` makes the next n sends fail with a transient error, `permanent_error` makes
  every send fail with that code; `close_window(user_id)` puts a person outside the window for
  consultation messages (sends to them are answered {"error": -213, ...} as the OA API does) until
  they write again (an event posted through `post_oa_event` reopens it);
- OAuth at /v4/oa/access_token: checks the `secret_key` header and that the refresh token is the
  live one (single use: a spent one is refused), issues a new pair each time and counts refreshes.

It records every call and offers helpers to queue bot events, sign OA events and wait for sends.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

BOT_TEXT_LIMIT = 2000


@dataclass
class Sent:
    chat_id: str  # Bot Platform chat id, or OA user id
    text: str
    token: str = ""  # the OA access token used
    token_was_saved: bool | None = None  # the OA token file held this token when it was used


@dataclass
class FakeZalo:
    bot_token: str = "1234567890:fake-bot-token"
    app_id: str = "fake-app-id"
    app_secret: str = "fake-app-secret"
    oa_secret_key: str = "fake-oa-secret-key"
    access_token: str = "AT-0"
    refresh_token: str = "RT-0"
    expires_in: str = "90000"
    max_poll_seconds: float = 1.0  # cap on how long getUpdates holds a call
    token_file: Path | None = None  # when set, each OA send records whether this file held its token

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    bot_sent: list[Sent] = field(default_factory=list)
    oa_sent: list[Sent] = field(default_factory=list)
    oa_rejected: list[dict[str, Any]] = field(default_factory=list)  # sends answered with error != 0
    refreshes: int = 0
    refresh_rejections: int = 0
    webhook: dict[str, str] = field(default_factory=dict)
    permanent_error: int | None = None
    refresh_waits_for_rejections: int = 0  # hold a refresh until this many sends were rejected
    outside_window: set[str] = field(default_factory=set)  # OA users the OA may not message now

    def __post_init__(self) -> None:
        self._updates: asyncio.Queue[Any] = asyncio.Queue()
        self._changed = asyncio.Condition()
        self._fail_next = 0
        self._fail_status = 200
        self._counter = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- server ----------------------------------------------------------------------------------
    async def start(self) -> FakeZalo:
        app = web.Application()
        app.router.add_post("/v3.0/oa/message/cs", self._oa_send)
        app.router.add_post("/v4/oa/access_token", self._oauth)
        app.router.add_post("/{bot}/{method}", self._bot)
        app.router.add_get("/{bot}/{method}", self._bot)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def bot_api_base(self) -> str:
        """The value for ZALO_BOT_API_BASE_URL (the token is appended to it)."""
        return f"{self.base_url}/bot"

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- Bot Platform ----------------------------------------------------------------------------
    def queue_update(self, event: dict[str, Any] | list[dict[str, Any]]) -> None:
        """Queue one event (or a list, delivered in one getUpdates answer)."""
        self._updates.put_nowait(event)

    def text_event(self, text: str, user_id: str = "u-1", chat_id: str | None = None,
                   chat_type: str = "PRIVATE", event_name: str = "message.text.received") -> dict[str, Any]:
        n = next(self._counter)
        message: dict[str, Any] = {
            "from": {"id": user_id, "display_name": f"User {user_id}", "is_bot": False},
            "chat": {"id": chat_id or user_id, "chat_type": chat_type},
            "message_id": f"m-{n}", "date": int(time.time() * 1000),
        }
        if event_name == "message.text.received":
            message["text"] = text
        elif event_name == "message.image.received":
            message["photo_url"] = "https://example.invalid/p.jpg"
        elif event_name == "message.sticker.received":
            message["sticker"] = "s-1"
        return {"event_name": event_name, "message": message}

    async def _bot(self, request: web.Request) -> web.Response:
        prefix, method = request.match_info["bot"], request.match_info["method"]
        if not prefix.startswith("bot"):
            raise web.HTTPNotFound()
        if prefix[3:] != self.bot_token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        body = await self._body(request)
        self.calls.append((method, body))
        if method == "getMe":
            return self._ok({"id": "bot-1", "account_name": "bot.fake", "account_type": "BASIC",
                             "can_join_groups": True})
        if method == "getUpdates":
            return await self._get_updates(body)
        if method == "setWebhook":
            secret = str(body.get("secret_token") or "")
            if not 8 <= len(secret) <= 256 or not str(body.get("url") or ""):
                return self._error(400, "secret_token must be 8-256 characters and url is required")
            self.webhook = {"url": str(body["url"]), "secret_token": secret}
            return self._ok({"url": body["url"], "updated_at": int(time.time() * 1000)})
        if method == "deleteWebhook":
            self.webhook = {}
            return self._ok({"url": "", "updated_at": int(time.time() * 1000)})
        if method == "sendChatAction":
            return self._ok(True)
        if method == "sendMessage":
            text = body.get("text")
            if not body.get("chat_id") or not isinstance(text, str) or not 1 <= len(text) <= BOT_TEXT_LIMIT:
                return self._error(400, "text must be 1-2000 characters and chat_id is required")
            self.bot_sent.append(Sent(str(body["chat_id"]), text))
            await self._notify()
            return self._ok({"message_id": f"sent-{next(self._counter)}", "date": int(time.time() * 1000)})
        return self._error(404, f"method {method} not found")

    async def _get_updates(self, body: dict[str, Any]) -> web.Response:
        try:
            wait = min(float(body.get("timeout", 0) or 0), self.max_poll_seconds)
        except (TypeError, ValueError):
            wait = 0.0
        try:
            event = await asyncio.wait_for(self._updates.get(), timeout=max(wait, 0.01))
        except TimeoutError:
            return self._error(408, "Request timeout")
        return self._ok(event)

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(code: int, description: str) -> web.Response:
        return web.json_response({"ok": False, "error_code": code, "description": description},
                                 status=code if code >= 400 and code != 408 else 200)

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        if not raw:
            return {}
        if request.content_type == "application/json":
            data = json.loads(raw)
            return data if isinstance(data, dict) else {}
        return dict(await request.post())

    # -- Official Account ------------------------------------------------------------------------
    def fail_next_sends(self, count: int, status: int = 200) -> None:
        """The next `count` sends fail transiently: HTTP `status` (e.g. 503), or with status 200
        the answer {"error": -100, "message": "Unknown error"}."""
        self._fail_next = count
        self._fail_status = status

    def oa_event(self, event_name: str = "user_send_text", text: str = "", user_id: str = "oa-user-1",
                 msg_id: str | None = None, **extra: Any) -> dict[str, Any]:
        n = next(self._counter)
        event: dict[str, Any] = {"app_id": self.app_id, "event_name": event_name,
                                 "timestamp": str(int(time.time() * 1000) + n)}
        if event_name in ("follow", "unfollow"):
            event.update({"oa_id": "oa-1", "follower": {"id": user_id}, "source": "oa_profile",
                          "user_id_by_app": f"app-{user_id}"})
        else:
            event.update({"sender": {"id": user_id}, "recipient": {"id": "oa-1"}, "user_id_by_app": f"app-{user_id}",
                          "message": {"msg_id": msg_id or f"msg-{n}"}})
            if event_name == "user_send_text":
                event["message"]["text"] = text
            else:
                event["message"]["attachments"] = [{"type": event_name.removeprefix("user_send_"),
                                                    "payload": {"url": "https://example.invalid/x"}}]
        event.update(extra)
        return event

    def close_window(self, user_id: str) -> None:
        """The person has not interacted with the OA within the consultation window."""
        self.outside_window.add(user_id)

    def sign(self, raw_body: bytes, timestamp: str, secret_key: str | None = None) -> str:
        """X-ZEvent-Signature for a body: mac=sha256(app_id + body + timestamp + OA secret key)."""
        key = self.oa_secret_key if secret_key is None else secret_key
        data = self.app_id.encode() + raw_body + timestamp.encode() + key.encode()
        return "mac=" + hashlib.sha256(data).hexdigest()

    async def post_oa_event(self, url: str, event: dict[str, Any], signed: bool = True,
                            secret_key: str | None = None) -> tuple[int, Any]:
        """POST an event to the bot's OA webhook as Zalo would; (status, JSON answer)."""
        raw = json.dumps(event, ensure_ascii=False).encode()
        sender = event.get("sender") if isinstance(event.get("sender"), dict) else {}
        if signed and sender.get("id"):
            self.outside_window.discard(str(sender["id"]))  # the person wrote: the window is open again
        headers = {"Content-Type": "application/json"}
        if signed:
            headers["X-ZEvent-Signature"] = self.sign(raw, str(event.get("timestamp", "")), secret_key)
        async with aiohttp.ClientSession() as session, session.post(url, data=raw, headers=headers) as resp:
            try:
                answer = await resp.json(content_type=None)
            except ValueError:
                answer = None
            return resp.status, answer

    async def _oa_send(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        token = request.headers.get("access_token", "")
        self.calls.append(("oa/message/cs", {"token": token, **body}))
        if self._fail_next > 0:
            self._fail_next -= 1
            if self._fail_status != 200:
                return web.json_response({"error": -1, "message": "Service unavailable"}, status=self._fail_status)
            return await self._reject({"error": -100, "message": "Unknown error, please try again later"})
        if token != self.access_token:
            return await self._reject({"error": -216, "message": "Access token is invalid"})
        if self.permanent_error is not None:
            return await self._reject({"error": self.permanent_error, "message": "User has not followed OA"})
        recipient = body.get("recipient") if isinstance(body.get("recipient"), dict) else {}
        message = body.get("message") if isinstance(body.get("message"), dict) else {}
        text = message.get("text")
        if not recipient.get("user_id") or not isinstance(text, str) or not 1 <= len(text) <= BOT_TEXT_LIMIT:
            return await self._reject({"error": -201, "message": "Parameters are invalid"})
        if str(recipient["user_id"]) in self.outside_window:
            return await self._reject({"error": -213, "message": "User has not interacted with the OA in the "
                                                                 "allowed time to send consultation messages"})
        saved: bool | None = None
        if self.token_file is not None:
            try:
                saved = json.loads(self.token_file.read_text())["access_token"] == token
            except (OSError, ValueError, KeyError):
                saved = False
        self.oa_sent.append(Sent(str(recipient["user_id"]), text, token, saved))
        await self._notify()
        return web.json_response({"error": 0, "message": "Success",
                                  "data": {"message_id": f"oa-{next(self._counter)}",
                                           "user_id": recipient["user_id"]}})

    async def _reject(self, answer: dict[str, Any]) -> web.Response:
        self.oa_rejected.append(answer)
        await self._notify()
        return web.json_response(answer)

    async def _oauth(self, request: web.Request) -> web.Response:
        form = await self._body(request)
        self.calls.append(("oauth", {k: v for k, v in form.items() if k != "refresh_token"}))
        if request.headers.get("secret_key") != self.app_secret:
            self.refresh_rejections += 1
            return web.json_response({"error": -14002, "error_name": "Invalid secret key",
                                      "error_description": "secret_key is invalid"})
        if form.get("grant_type") != "refresh_token" or form.get("app_id") != self.app_id:
            self.refresh_rejections += 1
            return web.json_response({"error": -14003, "error_name": "Invalid parameter",
                                      "error_description": "app_id or grant_type is invalid"})
        if form.get("refresh_token") != self.refresh_token:
            self.refresh_rejections += 1
            return web.json_response({"error": -14014, "error_name": "Invalid refresh token",
                                      "error_description": "Refresh token is invalid or was already used"})
        if self.refresh_waits_for_rejections:
            await self.wait_for(lambda: len(self.oa_rejected) >= self.refresh_waits_for_rejections, seconds=10)
        self.refreshes += 1
        self.access_token = f"AT-{self.refreshes}"
        self.refresh_token = f"RT-{self.refreshes}"  # the old one is spent
        await self._notify()
        return web.json_response({"access_token": self.access_token, "refresh_token": self.refresh_token,
                                  "expires_in": self.expires_in})

    # -- waiting ---------------------------------------------------------------------------------
    async def wait_for(self, predicate: Any, seconds: float = 30.0) -> bool:
        """Wait until predicate() is true (re-checked on every recorded change); False at the deadline."""
        async def until() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        try:
            await asyncio.wait_for(until(), seconds)
        except TimeoutError:
            return bool(predicate())
        return True

    async def wait_bot_messages(self, count: int, seconds: float = 60.0) -> list[Sent]:
        await self.wait_for(lambda: len(self.bot_sent) >= count, seconds)
        return list(self.bot_sent)

    async def wait_oa_messages(self, count: int, seconds: float = 60.0) -> list[Sent]:
        await self.wait_for(lambda: len(self.oa_sent) >= count, seconds)
        return list(self.oa_sent)

    def methods(self) -> list[str]:
        return [name for name, _ in self.calls]
