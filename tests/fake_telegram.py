"""A fake Telegram Bot API server for tests and benchmarks: real HTTP on 127.0.0.1 (aiohttp.web).

It speaks enough of https://core.telegram.org/bots/api for the bot: getMe, getUpdates (long
polling with offsets), setWebhook/deleteWebhook/getWebhookInfo, sendMessage (with the length and
HTML checks Telegram applies), sendChatAction, setMyCommands, answerCallbackQuery and
editMessageReplyMarkup. Every call is recorded (method + decoded parameters) for assertions.

Helpers put user updates in the queue (`send_text`, `send_command`, `press_button`, `send_sticker`,
`send_photo`, `send_voice`, `send_document`, `send_group_text`, `edit_text`) and wait for the bot's
answers (`wait_for_messages`). Switches make it misbehave like the real service: `reject(method,
status)` answers a method with 400/404 from now on, `rate_limit_next_send(retry_after)` answers
the next sendMessage with 429, `fail_next(method, status, description)` answers the next call of a
method with any error (502 Bad Gateway by default), and `hold(chat_id)` keeps sendMessage calls for
a chat waiting until `release(chat_id)`. `members[chat_id][user_id]` is the membership status
getChatMember reports ("member", "administrator", "creator"; anyone else is "left").

Usage:
    async with FakeTelegram() as tg:
        settings = make_settings(TELEGRAM_BOT_TOKEN=tg.token, TELEGRAM_API_BASE_URL=tg.base_url)
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# Parameters that arrive JSON-encoded when sent as form fields.
STRUCTURED = frozenset({"reply_markup", "commands", "allowed_updates", "scope", "reply_parameters",
                        "link_preview_options", "entities"})
INTEGERS = frozenset({"chat_id", "message_id", "offset", "limit", "timeout", "reply_to_message_id",
                      "max_connections", "cache_time", "user_id"})
HTML_TAGS = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
                       "a", "tg-emoji", "code", "pre", "blockquote"})
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*>")
_ENTITY_RE = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);")
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64


class ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def parse_html(text: str) -> str:
    """The visible text of a Telegram-HTML message; ApiError 400 when Telegram would refuse it."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            m = _TAG_RE.match(text, i)
            if not m:
                raise ApiError(400, f"Bad Request: can't parse entities: unexpected '<' at offset {i}")
            closing, name = m.group(1) == "/", m.group(2).lower()
            if name not in HTML_TAGS:
                raise ApiError(400, f"Bad Request: can't parse entities: unsupported start tag \"{name}\" "
                                    f"at offset {i}")
            if closing:
                if not stack or stack[-1] != name:
                    raise ApiError(400, f"Bad Request: can't parse entities: unmatched end tag at offset {i}, "
                                        f"expected \"</{stack[-1] if stack else ''}>\", found \"</{name}>\"")
                stack.pop()
            else:
                if name == "a" and "href" not in m.group(3).lower():
                    raise ApiError(400, "Bad Request: can't parse entities: <a> without href")
                stack.append(name)
            i = m.end()
        elif ch == "&":
            m = _ENTITY_RE.match(text, i)
            if not m:
                raise ApiError(400, f"Bad Request: can't parse entities: unescaped '&' at offset {i}")
            out.append(html.unescape(m.group()))
            i = m.end()
        elif ch == ">":
            raise ApiError(400, f"Bad Request: can't parse entities: unescaped '>' at offset {i}")
        else:
            out.append(ch)
            i += 1
    if stack:
        raise ApiError(400, f"Bad Request: can't parse entities: can't find end tag corresponding to start "
                            f"tag \"{stack[-1]}\"")
    return "".join(out)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    ts: float = field(default_factory=time.monotonic)
    status: int = 0  # 0 while the call is being answered, then the HTTP status


class FakeTelegram:
    """One fake bot account. `await start()` (or `async with`) binds a free loopback port."""

    def __init__(self, token: str = "123:abc", bot_id: int = 7000001, username: str = "hp_policy_bot",
                 max_poll_wait: float = 1.0) -> None:
        self.token = token
        self.bot_id = bot_id
        self.username = username
        self.max_poll_wait = max_poll_wait  # cap on a getUpdates long poll, so tests stay quick
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.messages: dict[int, dict[str, Any]] = {}  # message_id -> Message the bot sent
        self.rejected: dict[str, int] = {}
        self.members: dict[int, dict[int, str]] = {}  # chat id -> user id -> status (getChatMember)
        self._held: dict[int, asyncio.Event] = {}
        self._failures: dict[str, list[tuple[int, str, dict[str, Any] | None]]] = {}
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._chats: dict[int, dict[str, Any]] = {}
        self._changed = asyncio.Event()  # replaced after every change; waiters hold the old one
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- server ----------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "HP Policy", "username": self.username}

    async def start(self) -> FakeTelegram:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        self._closing = True
        for chat_id in list(self._held):
            self.release(chat_id)
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _until(self, predicate: Any) -> None:
        while not predicate():
            await self._changed.wait()

    # -- switches --------------------------------------------------------------------------------
    def reject(self, method: str, status: int = 400) -> None:
        """Answer every call of `method` with an error (400 Bad Request or 404 Not Found)."""
        self.rejected[method] = status

    def fail_next(self, method: str, status: int = 502, description: str = "Bad Gateway",
                  parameters: dict[str, Any] | None = None, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with this error (after validating them)."""
        self._failures.setdefault(method, []).extend([(status, description, parameters)] * times)

    def rate_limit_next_send(self, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next `times` sendMessage calls with 429 Too Many Requests."""
        self.fail_next("sendMessage", 429, f"Too Many Requests: retry after {retry_after}",
                       {"retry_after": retry_after}, times)

    def hold(self, chat_id: int) -> None:
        """Keep sendMessage calls for this chat waiting (a slow connection) until `release`."""
        self._held[chat_id] = asyncio.Event()

    def release(self, chat_id: int) -> None:
        held = self._held.pop(chat_id, None)
        if held is not None:
            held.set()

    def _maybe_fail(self, method: str) -> None:
        pending = self._failures.get(method)
        if pending:
            status, description, parameters = pending.pop(0)
            raise ApiError(status, description, parameters)

    # -- assertions ------------------------------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Parameters of the sendMessage calls that succeeded (for one chat, or all)."""
        return [c.params for c in self.calls if c.method == "sendMessage" and c.status == 200
                and (chat_id is None or c.params.get("chat_id") == chat_id)]

    async def wait_for(self, predicate: Any, within: float = 20.0) -> None:
        """Wait until predicate() is true (re-checked after every API call)."""
        async with asyncio.timeout(within):
            await self._until(predicate)

    async def wait_for_messages(self, chat_id: int, count: int = 1, after: int = 0,
                                within: float = 20.0) -> list[dict[str, Any]]:
        """Wait until `count` messages arrived in the chat beyond the first `after`; return those."""
        await self.wait_for(lambda: len(self.sent(chat_id)) >= after + count, within)
        return self.sent(chat_id)[after:]

    # -- updates from users ----------------------------------------------------------------------
    def _user(self, user_id: int, language_code: str | None = None, first_name: str = "") -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name or f"User{user_id}"}
        if language_code:
            user["language_code"] = language_code
        return user

    def _chat(self, chat_id: int, chat_type: str = "private", title: str = "") -> dict[str, Any]:
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = f"User{chat_id}"
        else:
            chat["title"] = title or f"Group {chat_id}"
        self._chats[chat_id] = chat
        return chat

    def _entities(self, text: str) -> list[dict[str, Any]]:
        entities: list[dict[str, Any]] = []
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            entities.append({"type": "bot_command", "offset": 0, "length": _utf16_len(command)})
        for m in re.finditer(r"(?<![\w@])@[A-Za-z0-9_]{5,32}", text):
            entities.append({"type": "mention", "offset": _utf16_len(text[:m.start()]),
                             "length": _utf16_len(m.group())})
        return entities

    def _message(self, user_id: int, chat_id: int | None = None, chat_type: str = "private",
                 language_code: str | None = None, **content: Any) -> dict[str, Any]:
        chat_id = user_id if chat_id is None else chat_id
        message: dict[str, Any] = {
            "message_id": next(self._message_ids), "date": int(time.time()),
            "chat": self._chat(chat_id, chat_type), "from": self._user(user_id, language_code),
        }
        message.update(content)
        return message

    def enqueue(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update (an `update_id` is assigned when missing)."""
        update.setdefault("update_id", next(self._update_ids))
        self.updates.append(update)
        self._notify()
        return update

    def update_for(self, kind: str, message: dict[str, Any]) -> dict[str, Any]:
        """An update object without queueing it (e.g. to POST it to a webhook)."""
        return {"update_id": next(self._update_ids), kind: message}

    def text_message(self, user_id: int, text: str, chat_id: int | None = None, chat_type: str = "private",
                     language_code: str | None = None, reply_to_bot: bool = False) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        entities = self._entities(text)
        if entities:
            content["entities"] = entities
        if reply_to_bot:
            target = chat_id if chat_id is not None else user_id
            content["reply_to_message"] = {
                "message_id": next(self._message_ids), "date": int(time.time()),
                "chat": self._chat(target, chat_type), "from": self.bot_user, "text": "An earlier answer."}
        return self._message(user_id, chat_id, chat_type, language_code, **content)

    def send_text(self, user_id: int, text: str, language_code: str | None = None) -> dict[str, Any]:
        return self.enqueue(self.update_for("message", self.text_message(user_id, text,
                                                                         language_code=language_code)))

    def send_command(self, user_id: int, command: str, language_code: str | None = None) -> dict[str, Any]:
        return self.send_text(user_id, command if command.startswith("/") else "/" + command, language_code)

    def send_group_text(self, user_id: int, group_id: int, text: str, reply_to_bot: bool = False,
                        ) -> dict[str, Any]:
        message = self.text_message(user_id, text, chat_id=group_id, chat_type="supergroup",
                                    reply_to_bot=reply_to_bot)
        return self.enqueue(self.update_for("message", message))

    def reply_in_group(self, user_id: int, group_id: int, message_id: int, text: str) -> dict[str, Any]:
        """A group member replies to the bot's message `message_id` in that group."""
        message = self.text_message(user_id, text, chat_id=group_id, chat_type="supergroup")
        original = self.messages.get(message_id)
        if original is None or original["chat"]["id"] != group_id:
            raise KeyError(f"the bot sent no message {message_id} in chat {group_id}")
        message["reply_to_message"] = dict(original)
        return self.enqueue(self.update_for("message", message))

    def send_group_command(self, user_id: int, group_id: int, command: str) -> dict[str, Any]:
        return self.send_group_text(user_id, group_id, command if command.startswith("/") else "/" + command)

    def edit_text(self, original: dict[str, Any], new_text: str) -> dict[str, Any]:
        """The user edits a message they sent earlier (`original` is the update from send_text)."""
        message = dict(original["message"])
        message["text"] = new_text
        message["edit_date"] = int(time.time())
        message.pop("entities", None)
        entities = self._entities(new_text)
        if entities:
            message["entities"] = entities
        return self.enqueue(self.update_for("edited_message", message))

    def _file(self, prefix: str) -> dict[str, Any]:
        n = next(self._message_ids)
        return {"file_id": f"{prefix}-{n}", "file_unique_id": f"u{prefix}{n}"}

    def send_sticker(self, user_id: int) -> dict[str, Any]:
        sticker = {**self._file("sticker"), "type": "regular", "width": 512, "height": 512,
                   "is_animated": False, "is_video": False, "emoji": "👍"}
        return self.enqueue(self.update_for("message", self._message(user_id, sticker=sticker)))

    def send_photo(self, user_id: int, caption: str | None = None) -> dict[str, Any]:
        sizes = [{**self._file("photo"), "width": 90, "height": 90, "file_size": 1200},
                 {**self._file("photo"), "width": 800, "height": 800, "file_size": 64000}]
        content: dict[str, Any] = {"photo": sizes}
        if caption:
            content["caption"] = caption
        return self.enqueue(self.update_for("message", self._message(user_id, **content)))

    def send_voice(self, user_id: int) -> dict[str, Any]:
        voice = {**self._file("voice"), "duration": 3, "mime_type": "audio/ogg"}
        return self.enqueue(self.update_for("message", self._message(user_id, voice=voice)))

    def send_document(self, user_id: int) -> dict[str, Any]:
        document = {**self._file("doc"), "file_name": "policy.pdf", "mime_type": "application/pdf"}
        return self.enqueue(self.update_for("message", self._message(user_id, document=document)))

    def callback_update(self, user_id: int, data: str, message: dict[str, Any] | None = None) -> dict[str, Any]:
        query: dict[str, Any] = {"id": str(next(self._callback_ids)), "from": self._user(user_id),
                                 "chat_instance": f"ci-{user_id}", "data": data}
        if message is not None:
            query["message"] = message
        return self.update_for("callback_query", query)

    def press_button(self, user_id: int, data: str, message_id: int | None = None) -> dict[str, Any]:
        """The user presses an inline button with this callback_data, under the bot message
        `message_id` (default: the bot's latest message to that user)."""
        if message_id is None:
            mine = [m for m in self.messages.values() if m["chat"]["id"] == user_id]
            message = mine[-1] if mine else None
        else:
            message = self.messages.get(message_id)
        return self.enqueue(self.callback_update(user_id, data, message))

    @staticmethod
    def buttons(params: dict[str, Any]) -> list[dict[str, Any]]:
        """The inline buttons of a sent message (flattened)."""
        markup = params.get("reply_markup") or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]

    # -- the API ---------------------------------------------------------------------------------
    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                body = await request.json()
                if not isinstance(body, dict):
                    raise ApiError(400, "Bad Request: expected a JSON object")
                params.update(body)
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    params[key] = value if isinstance(value, str) else f"<file {getattr(value, 'filename', '')}>"
            else:
                raw = await request.read()
                if raw.strip():
                    raise ApiError(400, f"Bad Request: unsupported content type {ctype}")
        for key in STRUCTURED & params.keys():
            if isinstance(params[key], str):
                try:
                    params[key] = json.loads(params[key])
                except json.JSONDecodeError as exc:
                    raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from exc
        for key in INTEGERS & params.keys():
            value = params[key]
            if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
                params[key] = int(value)
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        call = Call(method, {})
        try:
            call.params = await self._params(request)
            self.calls.append(call)
            if method in self.rejected:
                status = self.rejected[method]
                raise ApiError(status, "Not Found" if status == 404 else f"Bad Request: {method} is disabled")
            handler = getattr(self, f"_api_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            if method != "sendMessage":  # sendMessage fails after its own checks
                self._maybe_fail(method)
            result = await handler(call.params)
            call.status = 200
            return web.json_response({"ok": True, "result": result})
        except ApiError as exc:
            call.status = exc.status
            payload: dict[str, Any] = {"ok": False, "error_code": exc.status, "description": exc.description}
            if exc.parameters:
                payload["parameters"] = exc.parameters
            return web.json_response(payload, status=exc.status)
        finally:
            self._notify()

    @staticmethod
    def _require(params: dict[str, Any], *names: str) -> None:
        for name in names:
            if params.get(name) in (None, ""):
                raise ApiError(400, f"Bad Request: {name} is empty")

    async def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**self.bot_user, "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    async def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        url = str(params.get("url", ""))
        if url and not url.startswith("https://") and not url.startswith("http://"):
            raise ApiError(400, "Bad Request: bad webhook: invalid URL")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise ApiError(400, "Bad Request: bad webhook: secret token contains unallowed characters")
        self.webhook = {"url": url, "secret_token": secret, "allowed_updates": params.get("allowed_updates")}
        return True

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = {}
        if str(params.get("drop_pending_updates", "")).lower() == "true":
            self.updates.clear()
        return True

    async def _api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self.updates)}

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook.get("url"):
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        wait = min(float(params.get("timeout") or 0), self.max_poll_wait)
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]  # confirmed ones go
        allowed = params.get("allowed_updates") or None

        def pending() -> list[dict[str, Any]]:
            return [u for u in self.updates if u["update_id"] >= offset
                    and (not allowed or any(k in u for k in allowed))][:limit]

        if wait > 0:
            try:
                async with asyncio.timeout(wait):
                    await self._until(lambda: bool(pending()) or self._closing)
            except TimeoutError:
                pass
        return pending()

    def _check_markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    def _visible_text(self, params: dict[str, Any]) -> str:
        text = params.get("text")
        if text is None or text == "":
            raise ApiError(400, "Bad Request: message text is empty")
        text = str(text)
        mode = str(params.get("parse_mode") or "").upper()
        visible = parse_html(text) if mode == "HTML" else text
        if not visible.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if _utf16_len(visible) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        return visible

    async def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        self._require(params, "chat_id")
        visible = self._visible_text(params)
        markup = self._check_markup(params)
        self._maybe_fail("sendMessage")
        chat_id = params["chat_id"]
        held = self._held.get(chat_id)
        if held is not None:
            self._notify()
            await held.wait()
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        message: dict[str, Any] = {"message_id": next(self._message_ids), "date": int(time.time()),
                                   "chat": chat or {"id": chat_id, "type": "private"},
                                   "from": self.bot_user, "text": visible}
        if markup is not None:
            message["reply_markup"] = markup
        self.messages[message["message_id"]] = message
        return message

    async def _api_getChatMember(self, params: dict[str, Any]) -> dict[str, Any]:
        self._require(params, "chat_id", "user_id")
        status = self.members.get(params["chat_id"], {}).get(params["user_id"], "left")
        member: dict[str, Any] = {"status": status, "user": self._user(params["user_id"])}
        if status == "administrator":
            member.update({"can_be_edited": False, "is_anonymous": False, "can_manage_chat": True,
                           "can_delete_messages": True, "can_manage_video_chats": True,
                           "can_restrict_members": True, "can_promote_members": False, "can_change_info": True,
                           "can_invite_users": True, "can_post_stories": False, "can_edit_stories": False,
                           "can_delete_stories": False})
        elif status == "creator":
            member["is_anonymous"] = False
        return member

    async def _api_sendChatAction(self, params: dict[str, Any]) -> bool:
        self._require(params, "chat_id", "action")
        return True

    async def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: commands must be a list")
        for c in commands:
            if not _COMMAND_RE.match(str(c.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(c.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        scope = params.get("scope") or {"type": "default"}
        key = (json.dumps(scope, sort_keys=True), str(params.get("language_code") or ""))
        self.commands[key] = commands
        return True

    async def _api_deleteMyCommands(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        self._require(params, "callback_query_id")
        if len(str(params.get("text") or "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        self._require(params, "chat_id", "message_id")
        message = self.messages.get(params["message_id"])
        if message is None or message["chat"]["id"] != params["chat_id"]:
            raise ApiError(400, "Bad Request: message to edit not found")
        markup = self._check_markup(params)
        if markup == message.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified")
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        return message
