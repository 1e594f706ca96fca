"""Zalo Bot Platform channel (a Telegram-like Bot API at {ZALO_BOT_API_BASE_URL}{token}/{method}).

By default it long-polls getUpdates (one event or a list per answer, wrapped in {ok, result}; "no
update" comes back as an empty result or error_code 408). With ZALO_BOT_WEBHOOK_URL set it calls
setWebhook and takes events at /zalo/bot/webhook on the shared server, checking the
X-Bot-Api-Secret-Token header in constant time (403 otherwise). Events are accepted wrapped in
{ok, result} or bare. Replies are plain text through sendMessage, cut under 2000 characters.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import random
import time
import weakref
from typing import Any

import aiohttp
from aiohttp import web

from bot import metrics
from bot.channels.webhook import WebhookServer, json_response
from bot.channels.zalo_common import SeenIds, ZaloResponder, finish_tasks, pieces
from bot.config import Settings
from bot.conversation import Conversation, User
from bot.handoff import DELIVERED, FAILED

log = logging.getLogger("bot.zalo_bot")

WEBHOOK_PATH = "/zalo/bot/webhook"
SECRET_HEADER = "X-Bot-Api-Secret-Token"
NON_TEXT_EVENTS = frozenset({"message.image.received", "message.sticker.received", "message.unsupported.received",
                             "message.file.received", "message.audio.received", "message.video.received",
                             "message.location.received", "message.gif.received"})


class ZaloBotApiError(Exception):
    def __init__(self, method: str, code: int, description: str) -> None:
        super().__init__(f"{method} failed: {code} {description}")
        self.method = method
        self.code = code
        self.description = description

    @property
    def transient(self) -> bool:
        return self.code == 429 or self.code >= 500 or self.code == 0


class ZaloBotChannel:
    name = "zalo_bot"

    poll_timeout = 30  # seconds the server may hold a getUpdates call
    min_poll_interval = 0.5  # an empty answer faster than this waits the rest (never spin hot)
    max_backoff = 30.0
    send_attempts = 3
    http_timeout = 15.0
    max_concurrent = 16

    def __init__(self, settings: Settings, conversation: Conversation, server: WebhookServer) -> None:
        self.settings = settings
        self.conversation = conversation
        self.server = server
        self.responder = ZaloResponder(conversation, settings.zalo_admin_ids)
        self.base = f"{settings.zalo_bot_api_base_url}{settings.zalo_bot_token}/"
        self.webhook_mode = bool(settings.zalo_bot_webhook_url)
        self._secret = settings.zalo_bot_webhook_secret.encode()
        self._session: aiohttp.ClientSession | None = None
        self._poller: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._chat_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._slots = asyncio.Semaphore(self.max_concurrent)
        self._seen = SeenIds()
        self._stopping = asyncio.Event()
        self._connected = False
        self._detail = "not started"
        conversation.handoff.deliverers[self.name] = self._deliver
        if self.webhook_mode:
            server.add_webhook(WEBHOOK_PATH, self._webhook)

    # -- API -------------------------------------------------------------------------------------
    async def call(self, method: str, payload: dict[str, Any] | None = None, wait: float | None = None) -> Any:
        """Call a Bot API method; the `result` on success, ZaloBotApiError otherwise. The URL holds
        the token, so neither it nor client exceptions (which quote it) are ever logged."""
        if self._session is None:  # a webhook event may arrive between the server's start and ours
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.post(self.base + method, json=payload or {},
                                          timeout=aiohttp.ClientTimeout(total=wait or self.http_timeout)) as resp:
                status = resp.status
                try:
                    data = await resp.json(content_type=None)
                except ValueError:
                    data = None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise ZaloBotApiError(method, 0, f"network error ({type(exc).__name__})") from None
        if not isinstance(data, dict):
            raise ZaloBotApiError(method, status if status >= 400 else 502, "answer is not a JSON object")
        if not data.get("ok"):
            code = data.get("error_code")
            code = int(code) if isinstance(code, int | str) and str(code).lstrip("-").isdigit() else status
            raise ZaloBotApiError(method, code, str(data.get("description") or "")[:300])
        return data.get("result")

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        self._stopping.clear()
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            me = await self.call("getMe")
            name = me.get("account_name") or me.get("display_name") or me.get("name") if isinstance(me, dict) else ""
            log.info("Zalo bot connected", extra={"bot": str(name or "")[:80]})
        except ZaloBotApiError as exc:
            log.error("Zalo bot getMe failed; will keep trying", extra={"code": exc.code,
                                                                        "description": exc.description})
        if self.webhook_mode:
            try:
                await self.call("setWebhook", {"url": self.settings.zalo_bot_webhook_url,
                                               "secret_token": self.settings.zalo_bot_webhook_secret})
                self._connected, self._detail = True, "webhook set"
                log.info("Zalo bot webhook set", extra={"path": WEBHOOK_PATH})
            except ZaloBotApiError as exc:
                self._connected, self._detail = False, f"setWebhook failed: {exc.code} {exc.description}"
                log.error("Zalo bot setWebhook failed", extra={"code": exc.code, "description": exc.description})
            return
        try:  # polling and a webhook are exclusive
            await self.call("deleteWebhook")
        except ZaloBotApiError as exc:
            log.info("Zalo bot deleteWebhook failed (ignored)", extra={"code": exc.code})
        self._poller = asyncio.get_running_loop().create_task(self._poll_loop())

    async def stop(self) -> None:
        self._stopping.set()
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None
        await finish_tasks(self._tasks)
        if self._session is not None:
            await self._session.close()
            self._session = None
        self._connected, self._detail = False, "stopped"

    async def ready(self) -> tuple[bool, str]:
        return self._connected, self._detail

    # -- receiving -------------------------------------------------------------------------------
    async def _poll_loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                result = await self.call("getUpdates", {"timeout": self.poll_timeout}, wait=self.poll_timeout + 15)
            except ZaloBotApiError as exc:
                if exc.code == 408:  # long poll ended with nothing new
                    result = None
                else:
                    failures += 1
                    delay = min(self.max_backoff, 2 ** min(failures, 6) / 2) * random.uniform(0.8, 1.2)
                    self._connected, self._detail = False, f"getUpdates failed: {exc.code} {exc.description}"
                    log.warning("Zalo bot getUpdates failed; backing off",
                                extra={"code": exc.code, "description": exc.description, "retry_in": round(delay, 2)})
                    await self._sleep(delay)
                    continue
            failures = 0
            self._connected, self._detail = True, "polling"
            events = self._events(result)
            for event in events:
                self._spawn(event)
            elapsed = time.monotonic() - started
            if not events and elapsed < self.min_poll_interval:
                await self._sleep(self.min_poll_interval - elapsed)

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=max(seconds, 0))
        except TimeoutError:
            pass

    @staticmethod
    def _events(result: Any) -> list[dict[str, Any]]:
        """Events in a getUpdates result or a webhook body: one event, a list, or {ok, result}."""
        if isinstance(result, dict) and "result" in result and "event_name" not in result:
            result = result.get("result")
        if isinstance(result, dict):
            return [result] if result.get("event_name") else []
        if isinstance(result, list):
            return [e for e in result if isinstance(e, dict) and e.get("event_name")]
        return []

    async def _webhook(self, raw_body: bytes, payload: Any, request: web.Request) -> web.StreamResponse:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not self._secret or not hmac.compare_digest(given, self._secret):
            log.warning("Zalo bot webhook call with a wrong secret refused")
            return json_response({"ok": False, "error": "forbidden"}, 403)
        for event in self._events(payload):
            self._spawn(event)
        return json_response({"ok": True})

    def _spawn(self, event: dict[str, Any]) -> None:
        message = event.get("message") if isinstance(event.get("message"), dict) else {}
        if not self._seen.first_time(str(message.get("message_id") or "")):
            log.info("repeated Zalo bot event ignored")
            return
        task = asyncio.get_running_loop().create_task(self._handle(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, event: dict[str, Any]) -> None:
        name = str(event.get("event_name") or "")
        try:
            message = event.get("message") if isinstance(event.get("message"), dict) else {}
            sender = message.get("from") if isinstance(message.get("from"), dict) else {}
            chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
            user_id = str(sender.get("id") or "")
            chat_id = str(chat.get("id") or user_id)
            if not chat_id or sender.get("is_bot"):
                return
            # Groups deliver only mentions of and replies to the bot: answer them like a private chat.
            user = User(self.name, user_id or chat_id, chat_id)
            lock = self._chat_locks.get(chat_id)
            if lock is None:
                lock = asyncio.Lock()
                self._chat_locks[chat_id] = lock
            async with self._slots, lock:
                await self._dispatch(name, message, user)
        except Exception:
            metrics.ERRORS.labels(self.name).inc()
            log.exception("Zalo bot event handling failed", extra={"event": name})

    async def _dispatch(self, name: str, message: dict[str, Any], user: User) -> None:
        chat_id = user.chat_id

        async def send(text: str) -> None:
            await self.send_message(chat_id, text)

        async def typing() -> None:
            try:
                await self.call("sendChatAction", {"chat_id": chat_id, "action": "typing"})
            except ZaloBotApiError:
                pass  # optional nicety

        if name == "message.text.received":
            await self.responder.text(user, str(message.get("text") or ""), send, typing)
        elif name in NON_TEXT_EVENTS or name.startswith("message."):
            await self.responder.non_text(user, send)
        else:
            log.debug("Zalo bot event ignored", extra={"event": name})

    # -- sending ---------------------------------------------------------------------------------
    async def _deliver(self, chat_id: str, text: str) -> str:
        """An officer's reply (or a closing note) to a person on the Zalo Bot Platform."""
        for piece in pieces(text):
            if not await self.send_message(chat_id, piece):
                return FAILED
        return DELIVERED

    async def send_message(self, chat_id: str, text: str) -> bool:
        for attempt in range(1, self.send_attempts + 1):
            try:
                await self.call("sendMessage", {"chat_id": chat_id, "text": text})
                return True
            except ZaloBotApiError as exc:
                if not exc.transient or attempt == self.send_attempts:
                    metrics.ERRORS.labels(self.name).inc()
                    log.error("Zalo bot sendMessage failed", extra={"code": exc.code, "description": exc.description,
                                                                    "attempts": attempt})
                    return False
                delay = 0.5 * 2 ** (attempt - 1)
                log.warning("Zalo bot sendMessage failed; retrying",
                            extra={"code": exc.code, "description": exc.description, "retry_in": delay})
                await self._sleep(delay)
        return False
