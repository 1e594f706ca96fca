"""Sending to Telegram safely: flood limits, retries, message splitting and the typing indicator.

- `FloodLimiter`: PTB's AIORateLimiter (about 30 messages a second overall, 20 a minute per group,
  and on a 429 it sleeps `retry_after` and tries again), except that chat actions are not counted
  as messages, so a burst of questions does not queue its own typing indicators.
- `Sender.send_html`: splits long HTML under Telegram's 4096-character limit at paragraph breaks,
  retries network errors a bounded number of times, and falls back to plain text if Telegram
  refuses the HTML.
- `Sender.typing`: shows "typing…" while an answer is prepared, renewed every few seconds; the API
  refusing chat actions never disturbs the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter

from bot.channels.render import split_message

log = logging.getLogger("bot.telegram")

T = TypeVar("T")

MESSAGE_LIMIT = 4000  # Telegram allows 4096 characters; keep a margin for the HTML it parses away
NETWORK_ATTEMPTS = 4  # tries of one request when the network fails (TimedOut, connection errors)
RETRY_AFTER_RETRIES = 3  # extra tries after a 429 Too Many Requests (handled by the rate limiter)
TYPING_INTERVAL = 4.0  # Telegram shows a chat action for about 5 seconds
UNTHROTTLED = frozenset({"sendChatAction", "answerCallbackQuery"})
_TAG = re.compile(r"<[^>]*>")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class FloodLimiter(AIORateLimiter):
    """AIORateLimiter that lets chat actions and callback answers through without queueing."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        if endpoint in UNTHROTTLED:
            return await callback(*args, **kwargs)
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)


def html_to_plain(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


async def with_network_retries(call: Callable[[], Awaitable[T]], what: str,
                               attempts: int = NETWORK_ATTEMPTS, first_delay: float = 0.5) -> T:
    """Run `call`, trying again after network errors (not after Bad Request) with backoff."""
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except BadRequest:
            raise
        except NetworkError as exc:
            if attempt == attempts:
                raise
            log.warning("telegram request failed, retrying",
                        extra={"request": what, "attempt": attempt, "error": type(exc).__name__})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 8.0)
    raise AssertionError("unreachable")


class Sender:
    def __init__(self, bot: Bot, typing_interval: float = TYPING_INTERVAL) -> None:
        self.bot = bot
        self.typing_interval = typing_interval

    async def send_html(self, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None,
                        reply_to: int | None = None) -> list[Message]:
        """Send HTML text as one or more messages; `markup` goes under the last one."""
        pieces = split_message(text, MESSAGE_LIMIT)
        sent: list[Message] = []
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            sent.append(await self._send_piece(chat_id, piece, markup if last else None,
                                               reply_to if i == 0 else None))
        return sent

    async def send_text(self, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None,
                        reply_to: int | None = None) -> list[Message]:
        """Send plain text (escaped for HTML parse mode)."""
        return await self.send_html(chat_id, html.escape(text, quote=False), markup, reply_to)

    async def _send_piece(self, chat_id: int, piece: str, markup: InlineKeyboardMarkup | None,
                          reply_to: int | None) -> Message:
        reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
        try:
            return await with_network_retries(
                lambda: self.bot.send_message(chat_id, piece, parse_mode=ParseMode.HTML, reply_markup=markup,
                                              reply_parameters=reply, link_preview_options=NO_PREVIEW),
                "sendMessage")
        except BadRequest as exc:
            if "entities" not in str(exc).lower():
                raise
            log.warning("telegram refused the HTML of a message; sending it as plain text",
                        extra={"error": str(exc)[:200]})
        plain = html_to_plain(piece)
        return await with_network_retries(
            lambda: self.bot.send_message(chat_id, plain, reply_markup=markup, reply_parameters=reply,
                                          link_preview_options=NO_PREVIEW),
            "sendMessage")

    async def _keep_typing(self, chat_id: int, done: asyncio.Event) -> None:
        while not done.is_set():
            try:
                await self.bot.send_chat_action(chat_id, ChatAction.TYPING)
            except Exception as exc:  # optional: the answer goes out whatever happens here
                log.debug("chat action failed", extra={"error": type(exc).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), self.typing_interval)

    @contextlib.asynccontextmanager
    async def typing(self, chat_id: int) -> AsyncIterator[None]:
        """Show "typing…" in the chat while the block runs (renewed every few seconds)."""
        done = asyncio.Event()
        task = asyncio.create_task(self._keep_typing(chat_id, done))
        try:
            yield
        finally:
            done.set()
            # let a chat action already on its way finish first, so it cannot land after the answer;
            # wait_for cancels it if it hangs
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(task, 2.0)
