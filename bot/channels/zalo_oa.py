"""Zalo Official Account channel: signed webhook events in, consultation messages out.

Events arrive at /zalo/oa/webhook on the shared server. Each carries `X-ZEvent-Signature:
mac=<hex>` where hex = SHA-256(app_id + raw body + timestamp + OA secret key); anything else is
refused with 403 and never answered. A signed event whose timestamp is more than
ZALO_OA_EVENT_MAX_AGE_S from the server clock (either way) is refused with 400: a captured event
cannot be replayed later. A valid event is acknowledged at once (Zalo wants 200 within about 2 s and
redelivers otherwise) and answered in a background task; a redelivered event (same msg_id, or the
same signed body when it has no msg_id) is answered only once, tracked in the shared SQLite database
so several processes agree.

Replies go to POST {ZALO_OA_API_BASE_URL}/v3.0/oa/message/cs with the `access_token` header.
`error != 0` is a failure even with HTTP 200: an invalid/expired token is refreshed once (see
bot/zalo_tokens.py) and the send retried; transient failures are retried with a bounded backoff;
permanent ones (user not a follower, outside the reply window...) are logged and dropped.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
import weakref
from typing import Any

import aiohttp
from aiohttp import web

from bot import metrics
from bot.channels.webhook import WebhookServer, json_response
from bot.channels.zalo_common import ZaloResponder, finish_tasks, pieces
from bot.config import Settings
from bot.conversation import Conversation, User
from bot.handoff import DELIVERED, FAILED, WINDOW
from bot.seen import SeenKeys
from bot.zalo_tokens import OATokenStore, TokenRefreshError

log = logging.getLogger("bot.zalo_oa")

WEBHOOK_PATH = "/zalo/oa/webhook"
SIGNATURE_HEADER = "X-ZEvent-Signature"
# Zalo error codes reported for an invalid or expired access token (both seen in Zalo's docs and clients).
TOKEN_ERRORS = frozenset({-216, -124})
# The person is outside the window in which the OA may send consultation messages (-213: no
# interaction within the window or not a follower; -230: no interaction in 7 days).
WINDOW_ERRORS = frozenset({-213, -230})
# Worth another try: unknown/internal error, and request-rate limits.
TRANSIENT_ERRORS = frozenset({-100, -32})
NON_TEXT_EVENTS = frozenset({"user_send_image", "user_send_file", "user_send_sticker", "user_send_gif",
                             "user_send_audio", "user_send_video", "user_send_location", "user_send_link",
                             "user_send_business_card"})
# event keys (msg_id, or a digest of the signed body) already taken in, shared by every process
SEEN_TABLE = "zalo_oa_seen"


def signature(app_id: str, raw_body: bytes, timestamp: str, secret_key: str) -> str:
    """The X-ZEvent-Signature value Zalo computes for an event: mac=<sha256 hex>."""
    digest = hashlib.sha256(app_id.encode() + raw_body + timestamp.encode() + secret_key.encode()).hexdigest()
    return f"mac={digest}"


class OutsideWindow(Exception):
    """Zalo refused a consultation message: the person is outside the messaging window."""


class ZaloOAChannel:
    name = "zalo_oa"

    max_attempts = 3  # sends per message for transient failures (token refresh not counted)
    retry_base_delay = 0.5  # seconds; doubles each retry, capped below
    retry_max_delay = 8.0
    http_timeout = 15.0

    def __init__(self, settings: Settings, conversation: Conversation, server: WebhookServer) -> None:
        self.settings = settings
        self.conversation = conversation
        self.server = server
        self.responder = ZaloResponder(conversation, settings.zalo_admin_ids)
        self.tokens = OATokenStore(settings.data_dir, settings.zalo_oa_app_id, settings.zalo_app_secret,
                                   settings.zalo_oauth_base_url, settings.zalo_oa_access_token,
                                   settings.zalo_oa_refresh_token)
        self.send_url = settings.zalo_oa_api_base_url.rstrip("/") + "/v3.0/oa/message/cs"
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._user_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._started = False
        self._seen = SeenKeys(conversation.db, SEEN_TABLE)
        conversation.handoff.deliverers[self.name] = self._deliver
        server.add_webhook(WEBHOOK_PATH, self._webhook)

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        await asyncio.to_thread(self._seen.prune)
        self._started = True
        pair = self.tokens.pair
        if not pair.access_token and not pair.refresh_token:
            log.error("Zalo OA has no access or refresh token: events are received but replies cannot be sent "
                      "(set ZALO_OA_ACCESS_TOKEN and ZALO_OA_REFRESH_TOKEN)")
        log.info("Zalo OA channel ready", extra={"path": WEBHOOK_PATH, "tokens": self.tokens.source})

    async def stop(self) -> None:
        self._started = False
        await finish_tasks(self._tasks)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def ready(self) -> tuple[bool, str]:
        if not self._started:
            return False, "not started"
        if self.tokens.last_error:
            return False, f"token: {self.tokens.last_error}"
        return True, f"webhook {WEBHOOK_PATH}, token from {self.tokens.source}"

    # -- webhook ---------------------------------------------------------------------------------
    def _verified(self, raw_body: bytes, payload: dict[str, Any], request: web.Request) -> bool:
        given = request.headers.get(SIGNATURE_HEADER, "").strip()
        timestamp = payload.get("timestamp")
        if timestamp is None:
            timestamp = request.headers.get("X-ZEvent-Timestamp", "")
        if not given or timestamp in (None, ""):
            return False
        expected = signature(self.settings.zalo_oa_app_id, raw_body, str(timestamp), self.settings.zalo_oa_secret_key)
        return hmac.compare_digest(given.encode(), expected.encode())

    async def _webhook(self, raw_body: bytes, payload: Any, request: web.Request) -> web.StreamResponse:
        if not self._verified(raw_body, payload, request):
            log.warning("Zalo OA event with a missing or wrong signature refused",
                        extra={"event": str(payload.get("event_name", ""))[:40]})
            return json_response({"ok": False, "error": "bad signature"}, 403)
        event = str(payload.get("event_name") or "")
        age = self._age(payload, request)
        if age is None or abs(age) > self.settings.zalo_oa_event_max_age_s:
            log.warning("signed Zalo OA event outside the freshness window refused",
                        extra={"event": event[:40], "age_s": None if age is None else round(age),
                               "window_s": self.settings.zalo_oa_event_max_age_s})
            return json_response({"ok": False, "error": "stale event"}, 400)
        key = self._event_key(raw_body, payload)
        if not await asyncio.to_thread(self._seen.first, key):
            log.info("redelivered Zalo OA event ignored", extra={"event": event})
            return json_response({"ok": True, "duplicate": True})
        task = asyncio.get_running_loop().create_task(self._handle(event, payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return json_response({"ok": True})

    @staticmethod
    def _age(payload: dict[str, Any], request: web.Request) -> float | None:
        """Seconds between the event's signed timestamp (Zalo sends milliseconds) and now; None
        when it is not a number."""
        raw = payload.get("timestamp")
        if raw is None:
            raw = request.headers.get("X-ZEvent-Timestamp", "")
        try:
            stamp = float(str(raw).strip())
        except ValueError:
            return None
        if stamp != stamp or stamp in (float("inf"), float("-inf")):
            return None
        seconds = stamp / 1000.0 if stamp > 1e11 else stamp  # milliseconds (Zalo) or seconds
        return time.time() - seconds

    @staticmethod
    def _event_key(raw_body: bytes, payload: dict[str, Any]) -> str:
        message = payload.get("message")
        if isinstance(message, dict) and message.get("msg_id"):
            return f"msg:{message['msg_id']}"
        # no msg_id (follow, unfollow, or a crafted event): the signed body itself is the identity
        return "body:" + hashlib.sha256(raw_body).hexdigest()

    # -- events ----------------------------------------------------------------------------------
    async def _handle(self, event: str, payload: dict[str, Any]) -> None:
        try:
            if event in ("follow", "unfollow"):
                follower = payload.get("follower") if isinstance(payload.get("follower"), dict) else {}
                user_id = str(follower.get("id") or "")
            else:
                sender = payload.get("sender") if isinstance(payload.get("sender"), dict) else {}
                user_id = str(sender.get("id") or "")
            if not user_id:
                return
            user = User(self.name, user_id, user_id)
            lock = self._user_locks.get(user_id)
            if lock is None:
                lock = asyncio.Lock()
                self._user_locks[user_id] = lock
            async with lock:  # one user's messages are answered in order
                await self._dispatch(event, payload, user)
        except Exception:
            metrics.ERRORS.labels(self.name).inc()
            log.exception("Zalo OA event handling failed", extra={"event": event})

    async def _dispatch(self, event: str, payload: dict[str, Any], user: User) -> None:
        async def send(text: str) -> None:
            await self.send_text(user.user_id, text)

        if event == "user_send_text":
            message = payload.get("message") if isinstance(payload.get("message"), dict) else {}
            await self.responder.text(user, str(message.get("text") or ""), send)
        elif event in NON_TEXT_EVENTS:
            await self.responder.non_text(user, send)
        elif event == "follow":
            await self.responder.follow(user, send)
        elif event == "unfollow":
            await asyncio.to_thread(self.responder.unfollow, user)
        else:  # user_seen_message, user_received_message, oa_send_*...: nothing to say
            log.debug("Zalo OA event ignored", extra={"event": event})

    # -- sending ---------------------------------------------------------------------------------
    async def _deliver(self, user_id: str, text: str) -> str:
        """An officer's reply (or a closing note): WINDOW when Zalo refuses it as outside the
        consultation-message window (it is then kept and sent at the person's next message)."""
        for piece in pieces(text):
            try:
                if not await self.send_text(user_id, piece, window_error=True):
                    return FAILED
            except OutsideWindow:
                return WINDOW
        return DELIVERED

    async def send_text(self, user_id: str, text: str, window_error: bool = False) -> bool:
        """Send one consultation message; True when Zalo accepted it. With `window_error`, a refusal
        because the person is outside the messaging window raises OutsideWindow."""
        if self._session is None:  # an event may arrive between the server's start and ours
            self._session = aiohttp.ClientSession()
        session = self._session
        try:
            token = await self.tokens.access_token(session)
        except TokenRefreshError as exc:
            return self._failed(f"token refresh failed: {exc}")
        token_refreshed = False
        attempt = 0
        while True:
            attempt += 1
            status, body, problem = await self._post(session, token, user_id, text)
            if problem is None:
                code = body.get("error")
                if code == 0:
                    self.tokens.delivered()  # readiness follows the current state, not a past failure
                    return True
                message = str(body.get("message") or "")[:200]
                if code in TOKEN_ERRORS and not token_refreshed:
                    token_refreshed = True
                    log.warning("Zalo OA rejected the access token; refreshing", extra={"error": code})
                    try:
                        token = await self.tokens.refresh(session, stale=token)
                    except TokenRefreshError as exc:
                        return self._failed(f"token refresh failed: {exc}")
                    attempt -= 1  # the retry with the new token is not a transient retry
                    continue
                if code in TRANSIENT_ERRORS:
                    problem = f"Zalo error {code}: {message}"
                elif window_error and code in WINDOW_ERRORS:
                    self._failed(f"Zalo error {code}: {message}", permanent=True)
                    raise OutsideWindow(code)
                else:
                    return self._failed(f"Zalo error {code}: {message}", permanent=True)
            if attempt >= self.max_attempts:
                return self._failed(f"gave up after {attempt} attempts: {problem}")
            delay = min(self.retry_base_delay * 2 ** (attempt - 1), self.retry_max_delay)
            log.warning("Zalo OA send failed; retrying", extra={"problem": problem, "attempt": attempt,
                                                                "retry_in": delay, "http_status": status})
            await asyncio.sleep(delay)

    async def _post(self, session: aiohttp.ClientSession, token: str, user_id: str,
                    text: str) -> tuple[int, dict[str, Any], str | None]:
        """(HTTP status, JSON body, transient problem or None)."""
        body = {"recipient": {"user_id": user_id}, "message": {"text": text}}
        try:
            async with session.post(self.send_url, json=body, headers={"access_token": token},
                                    timeout=aiohttp.ClientTimeout(total=self.http_timeout)) as resp:
                status = resp.status
                try:
                    data = await resp.json(content_type=None)
                except ValueError:
                    data = None
        except (TimeoutError, aiohttp.ClientError) as exc:
            return 0, {}, f"network error ({type(exc).__name__})"
        if status >= 500 or status == 429:
            return status, {}, f"HTTP {status}"
        if not isinstance(data, dict) or "error" not in data:
            return status, {"error": f"HTTP {status}", "message": "unexpected answer"}, None
        return status, data, None

    def _failed(self, why: str, permanent: bool = False) -> bool:
        metrics.ERRORS.labels(self.name).inc()
        log.error("Zalo OA message not delivered", extra={"reason": why, "permanent": permanent})
        return False
