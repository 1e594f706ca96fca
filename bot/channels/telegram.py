"""The Telegram channel (python-telegram-bot 22): long polling by default, or the shared webhook
server at /telegram/webhook when TELEGRAM_WEBHOOK_URL is set.

The channel only translates: Telegram updates become Conversation calls, Replies become HTML
messages with 👍/👎 buttons. PTB's Application runs inside our event loop (initialize/start and
Updater.start_polling, never run_polling/run_webhook), with concurrent updates so one slow answer
never holds up other users, and with flood-limit-aware sending (see telegram_send.py).
"""

from __future__ import annotations

import asyncio
import hmac
import html
import logging
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType
from telegram.error import Forbidden, InvalidToken, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import metrics
from bot.cases import Case
from bot.channels.render import telegram_html
from bot.channels.telegram_send import RETRY_AFTER_RETRIES, FloodLimiter, Sender, with_network_retries
from bot.channels.webhook import WebhookServer, json_response
from bot.config import Settings
from bot.conversation import Conversation, User
from bot.handoff import DELIVERED, FAILED, WINDOW
from bot.seen import SeenKeys
from bot.texts import COMMANDS, STAFF_COMMANDS, t

log = logging.getLogger("bot.telegram")

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
POLL_TIMEOUT = 25  # seconds a getUpdates long poll may wait on Telegram's side
_VOTE = re.compile(r"^v:(\d{1,18}):([ud])$")
_EXAMPLE = re.compile(r"^ex:(vi|en):(\d{1,2})$")
# webhook update ids taken in, shared by every process on DATA_DIR, so a redelivered update is answered once
SEEN_TABLE = "telegram_seen"
_HANDOFF = re.compile(r"^ho:(\d{1,18})$")  # the person agrees to forward a question
_ASK_OFFICER = re.compile(r"^ao:(vi|en)$")  # the person asks for an officer (welcome button)
_CASE_BUTTON = re.compile(r"^c([xpl]):(\d{1,18})$")  # staff: close hint, publish, list cases
STAFF_MEMBER_STATUSES = frozenset({"creator", "administrator", "member"})
MEMBER_CACHE_SECONDS = 300.0
UNPOSTED_INTERVAL = 5.0  # seconds between looks for cases opened by other processes, not yet posted

Context = ContextTypes.DEFAULT_TYPE


def file_base_url(base_url: str) -> str:
    """The file download base that goes with an API base URL (…/bot → …/file/bot)."""
    if "/bot{token}" in base_url:
        return base_url.replace("/bot{token}", "/file/bot{token}", 1)
    if base_url.endswith("/bot"):
        return base_url[: -len("bot")] + "file/bot"
    return base_url.rstrip("/") + "/file"


def webhook_url(configured: str) -> str:
    """TELEGRAM_WEBHOOK_URL as given, or with /telegram/webhook added when it names only a host."""
    parts = urlsplit(configured)
    if parts.path in ("", "/"):
        return configured.rstrip("/") + WEBHOOK_PATH
    return configured


def vote_markup(answer_id: int, chosen: bool | None = None,
                extra: InlineKeyboardButton | None = None) -> InlineKeyboardMarkup:
    """👍/👎 under an answer; `extra` (the hand-off button under a refusal) goes on its own row above."""
    up = "👍 ✓" if chosen is True else "👍"
    down = "👎 ✓" if chosen is False else "👎"
    rows = [[extra]] if extra is not None else []
    rows.append([InlineKeyboardButton(up, callback_data=f"v:{answer_id}:u"),
                 InlineKeyboardButton(down, callback_data=f"v:{answer_id}:d")])
    return InlineKeyboardMarkup(rows)


def handoff_button(offer_id: int, lang: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(t("handoff_button", lang), callback_data=f"ho:{offer_id}")


def _kept_handoff_button(message: Message) -> InlineKeyboardButton | None:
    """The hand-off button of a message, kept when its vote buttons are redrawn."""
    markup = message.reply_markup
    for row in markup.inline_keyboard if markup is not None else ():
        for button in row:
            if isinstance(button.callback_data, str) and _HANDOFF.match(button.callback_data):
                return button
    return None


class TelegramChannel:
    name = "telegram"

    def __init__(self, settings: Settings, conversation: Conversation, server: WebhookServer, *,
                 poll_timeout: float = POLL_TIMEOUT) -> None:
        if not settings.telegram_bot_token:
            raise ValueError("TelegramChannel needs TELEGRAM_BOT_TOKEN")
        self.settings = settings
        self.conversation = conversation
        self.server = server
        self.poll_timeout = poll_timeout
        self.webhook = bool(settings.telegram_webhook_url)
        self.application = self._build()
        self.sender = Sender(self.application.bot)
        self._add_handlers()
        self._started = False
        self._running = False
        self._seen = SeenKeys(conversation.db, SEEN_TABLE) if self.webhook else None
        self._bot_key = settings.telegram_bot_token.split(":", 1)[0]  # the bot id: update ids are per bot
        self._members: dict[int, tuple[float, bool]] = {}
        self._poster: asyncio.Task[None] | None = None
        self.staff_chat_id = settings.telegram_staff_chat_id
        conversation.handoff.deliverers[self.name] = self._deliver
        if self.staff_chat_id is not None:
            conversation.handoff.listeners.append(self._staff_event)
        if self.webhook:
            server.add_webhook(WEBHOOK_PATH, self._on_webhook)

    # -- setup -----------------------------------------------------------------------------------
    def _build(self) -> Application:  # type: ignore[type-arg]
        base = self.settings.telegram_api_base_url
        builder = (ApplicationBuilder()
                   .token(self.settings.telegram_bot_token)
                   .base_url(base)
                   .base_file_url(file_base_url(base))
                   .concurrent_updates(True)
                   .rate_limiter(FloodLimiter(max_retries=RETRY_AFTER_RETRIES))
                   .connect_timeout(10.0).read_timeout(15.0).write_timeout(15.0).pool_timeout(10.0))
        if self.webhook:
            builder = builder.updater(None)
        return builder.build()

    def _add_handlers(self) -> None:
        app = self.application
        fresh = filters.UpdateType.MESSAGE  # commands: new messages only, not edits
        for name, callback in (("start", self._cmd_start), ("help", self._cmd_help), ("lang", self._cmd_lang),
                               ("sources", self._cmd_sources), ("about", self._cmd_about),
                               ("reindex", self._cmd_reindex), ("stats", self._cmd_stats),
                               ("gaps", self._cmd_gaps), ("sync", self._cmd_sync), ("privacy", self._cmd_privacy),
                               ("forget", self._cmd_forget), ("cases", self._cmd_cases),
                               ("close", self._cmd_close), ("publish", self._cmd_publish)):
            app.add_handler(CommandHandler(name, callback, filters=fresh))
        app.add_handler(MessageHandler(filters.COMMAND & fresh, self._cmd_unknown))
        app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGES,
                                       self._on_text))
        app.add_handler(MessageHandler(fresh & ~filters.TEXT & ~filters.StatusUpdate.ALL, self._on_non_text))
        app.add_handler(CallbackQueryHandler(self._on_callback))
        app.add_error_handler(self._on_error)

    async def _register_commands(self) -> None:
        """The command menu in English (default) and Vietnamese; staff see their commands too.
        Optional: a refusal is logged and the bot carries on."""
        for lang, code in (("en", None), ("vi", "vi")):
            public = [BotCommand(n, d[lang]) for n, d in COMMANDS.items()]
            staff = public + [BotCommand(n, d[lang]) for n, d in STAFF_COMMANDS.items()]
            if not await self._set_commands(public, None, code):
                continue  # the API refuses command menus: do not try the staff ones either
            for admin in sorted(self.settings.telegram_admin_ids):
                await self._set_commands(staff, BotCommandScopeChat(admin), code)

    async def _set_commands(self, commands: list[BotCommand], scope: BotCommandScopeChat | None,
                            language_code: str | None) -> bool:
        try:
            await self.application.bot.set_my_commands(commands, scope=scope, language_code=language_code)
        except TelegramError as exc:
            log.warning("telegram refused setMyCommands; the command menu may be missing",
                        extra={"language": language_code or "default", "staff": scope is not None,
                               "error": type(exc).__name__})
            return False
        return True

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        app = self.application
        try:
            await with_network_retries(app.initialize, "getMe", attempts=5, first_delay=1.0)
        except InvalidToken:
            raise RuntimeError("Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather "
                               "(and TELEGRAM_API_BASE_URL if set).") from None
        self._started = True
        self.conversation.syncer.add_notifier(self._notify_staff)
        await self._register_commands()
        await app.start()
        if self.webhook:
            self._running = True  # updates may arrive as soon as Telegram knows the webhook
            url = webhook_url(self.settings.telegram_webhook_url)
            try:
                await with_network_retries(
                    lambda: app.bot.set_webhook(url, secret_token=self.settings.telegram_webhook_secret,
                                                allowed_updates=ALLOWED_UPDATES),
                    "setWebhook", attempts=5, first_delay=1.0)
            except BaseException:
                self._running = False
                raise
            log.info("telegram webhook set", extra={"path": WEBHOOK_PATH, "username": app.bot.username})
        else:
            assert app.updater is not None
            await app.updater.start_polling(timeout=int(self.poll_timeout), allowed_updates=ALLOWED_UPDATES,
                                            bootstrap_retries=5, error_callback=self._polling_error)
            self._running = True
            log.info("telegram polling started", extra={"username": app.bot.username})
        if self.staff_chat_id is not None:
            self._poster = asyncio.get_running_loop().create_task(self._post_unposted())

    async def stop(self) -> None:
        self._running = False
        if self._poster is not None:
            self._poster.cancel()
            await asyncio.gather(self._poster, return_exceptions=True)
            self._poster = None
        app = self.application
        if not self._started:
            return
        self._started = False
        try:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
        finally:
            await app.shutdown()

    async def ready(self) -> tuple[bool, str]:
        if not self._running:
            return False, "not started"
        if not self.webhook and not (self.application.updater and self.application.updater.running):
            return False, "polling stopped"
        return True, f"{'webhook' if self.webhook else 'polling'} as @{self.application.bot.username}"

    def _polling_error(self, exc: TelegramError) -> None:
        log.warning("telegram polling failed; retrying", extra={"error": type(exc).__name__,
                                                                 "detail": self._clean(str(exc))[:200]})

    # -- webhook ---------------------------------------------------------------------------------
    async def _on_webhook(self, raw: bytes, payload: Any, request: web.Request) -> web.StreamResponse:
        expected = self.settings.telegram_webhook_secret.encode()
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not expected or not hmac.compare_digest(given, expected):
            log.warning("telegram webhook request with a wrong or missing secret token",
                        extra={"remote": request.remote})
            return json_response({"ok": False, "error": "forbidden"}, 403)
        if not self._running:
            return json_response({"ok": False, "error": "not ready"}, 503)
        try:
            update = Update.de_json(payload, self.application.bot)
        except Exception:
            log.warning("telegram webhook body is not an update")
            return json_response({"ok": False, "error": "not an update"}, 400)
        key = f"{self._bot_key}:{update.update_id}"
        if self._seen is not None and not await asyncio.to_thread(self._seen.first, key):
            return json_response({"ok": True})  # Telegram redelivers when an answer was slow
        await self.application.update_queue.put(update)
        return json_response({"ok": True})

    # -- helpers ---------------------------------------------------------------------------------
    def _clean(self, text: str) -> str:
        token = self.settings.telegram_bot_token
        return text.replace(token, "***") if token else text

    @staticmethod
    def _who(update: Update) -> tuple[User, int] | None:
        tg_user, chat = update.effective_user, update.effective_chat
        if tg_user is None or chat is None or tg_user.is_bot:
            return None
        return User("telegram", str(tg_user.id), str(chat.id)), chat.id

    @staticmethod
    def _private(update: Update) -> bool:
        chat = update.effective_chat
        return chat is not None and chat.type == ChatType.PRIVATE

    def _is_staff(self, update: Update) -> bool:
        return update.effective_user is not None and update.effective_user.id in self.settings.telegram_admin_ids

    def _reply_to(self, update: Update) -> int | None:
        """In groups answers quote the message they answer; in private chats they need not."""
        message = update.effective_message
        return None if self._private(update) or message is None else message.message_id

    def _addressed(self, message: Message) -> bool:
        """In a group: the message mentions the bot or replies to one of its messages."""
        bot = self.application.bot
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
            return True
        mention = f"@{bot.username}".lower()
        for entity, text in message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION]).items():
            if entity.type == MessageEntity.MENTION and text.lower() == mention:
                return True
            if entity.type == MessageEntity.TEXT_MENTION and entity.user is not None and entity.user.id == bot.id:
                return True
        return mention in (message.text or message.caption or "").lower()

    def _strip_mention(self, text: str) -> str:
        stripped = re.sub(rf"@{re.escape(self.application.bot.username)}\b", " ", text, flags=re.IGNORECASE)
        return re.sub(r"\s+", " ", stripped).strip(" ,:;")

    def _lang(self, user: User, context: Context) -> str:
        args = " ".join(context.args or [])
        return self.conversation.language(user, args or None)

    async def _say(self, update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
        chat = update.effective_chat
        if chat is not None:
            await self.sender.send_text(chat.id, text, markup, self._reply_to(update))

    async def _answer(self, user: User, chat_id: int, question: str, reply_to: int | None = None,
                      heading: str | None = None) -> None:
        async with self.sender.typing(chat_id):
            reply = await self.conversation.ask(user, question)
        body = telegram_html(reply.answer)
        if heading:
            body = f"❓ <b>{html.escape(heading, quote=False)}</b>\n\n{body}"
        offer = handoff_button(reply.offer_id, reply.answer.language) if reply.offer_id is not None else None
        if reply.kind == "handoff_offer":
            body = html.escape(self.conversation.offer_text(reply, words=False), quote=False)
        elif offer is not None:  # a refusal: the offer to forward the question, in the same message
            body += "\n\n" + html.escape(self.conversation.offer_text(reply, words=False), quote=False)
        if reply.answer_id is not None:
            markup: InlineKeyboardMarkup | None = vote_markup(reply.answer_id, extra=offer)
        else:
            markup = InlineKeyboardMarkup([[offer]]) if offer is not None else None
        await self.sender.send_html(chat_id, body, markup, reply_to)

    # -- commands --------------------------------------------------------------------------------
    async def _cmd_start(self, update: Update, context: Context) -> None:
        who = self._who(update)
        if who is None:
            return
        user, _ = who
        lang = self._lang(user, context)
        self.conversation.record_event(user, "start")
        buttons = [[InlineKeyboardButton(q, callback_data=f"ex:{lang}:{i}")]
                   for i, q in enumerate(self.conversation.examples(lang))]
        buttons.append([InlineKeyboardButton(t("officer_button", lang), callback_data=f"ao:{lang}")])
        await self._say(update, self.conversation.welcome(lang), InlineKeyboardMarkup(buttons))

    async def _cmd_help(self, update: Update, context: Context) -> None:
        who = self._who(update)
        if who is not None:
            lang = self._lang(who[0], context)
            await self._say(update, self.conversation.help(lang, "/", staff=self._is_staff(update)))

    async def _cmd_lang(self, update: Update, context: Context) -> None:
        who = self._who(update)
        if who is not None:
            args = " ".join(context.args or []).strip().lower()
            if args in ("vi", "en"):
                await self._say(update, self.conversation.set_language(who[0], args))
            else:
                await self._say(update, self.conversation.toggle_language(who[0]))

    async def _cmd_about(self, update: Update, context: Context) -> None:
        who = self._who(update)
        if who is not None:
            await self._say(update, self.conversation.about(self._lang(who[0], context)))

    async def _cmd_sources(self, update: Update, context: Context) -> None:
        who = self._who(update)
        chat = update.effective_chat
        if who is None or chat is None:
            return
        lang = self._lang(who[0], context)
        entries = [f"<b>{html.escape(t('sources_head', lang), quote=False)}</b>"]
        for s in self.conversation.sources(lang):
            title = html.escape(s.title, quote=False)
            if s.url:
                title = f'<a href="{html.escape(s.url, quote=True)}">{title}</a>'
            label = f" ({html.escape(t('unofficial', lang), quote=False)})" if s.unofficial_translation else ""
            date = html.escape(s.published or t("no_date", lang), quote=False)
            origin = "" if s.url else f" — {html.escape(s.source or t('no_link', lang), quote=False)}"
            entries.append(f"• {title}{label} — {date}{origin}")
        await self.sender.send_html(chat.id, "\n\n".join(entries), reply_to=self._reply_to(update))

    async def _staff_lang(self, update: Update, context: Context) -> str | None:
        """The language for a staff command, or None (after saying so) when the sender is not staff."""
        who = self._who(update)
        if who is None:
            return None
        lang = self._lang(who[0], context)
        if not await self._staff_member(who[0]):
            await self._say(update, self.conversation.staff_only(lang))
            return None
        chat = update.effective_chat
        if not self._private(update) and (chat is None or chat.id != self.staff_chat_id):
            # staff views hold other people's questions: never in a group other than the staff group
            await self._say(update, t("staff_private", lang))
            return None
        return lang

    async def _staff_member(self, user: User) -> bool:
        """TELEGRAM_ADMIN_IDS, or a member of the staff group (asked of Telegram, cached a few minutes)."""
        try:
            user_id = int(user.user_id)
        except ValueError:
            return False
        if user_id in self.settings.telegram_admin_ids:
            return True
        if self.staff_chat_id is None:
            return False
        cached = self._members.get(user_id)
        if cached is not None and time.monotonic() - cached[0] < MEMBER_CACHE_SECONDS:
            return cached[1]
        try:
            member = await self.application.bot.get_chat_member(self.staff_chat_id, user_id)
            ok = member.status in STAFF_MEMBER_STATUSES
        except TelegramError as exc:
            log.warning("could not check staff group membership", extra={"error": type(exc).__name__})
            return False
        self._members[user_id] = (time.monotonic(), ok)
        return ok

    async def _cmd_reindex(self, update: Update, context: Context) -> None:
        lang = await self._staff_lang(update, context)
        chat = update.effective_chat
        if lang is None or chat is None:
            return
        await self._say(update, t("reindex_started", lang))
        async with self.sender.typing(chat.id):
            summary = await self.conversation.reindex(lang)
        await self._say(update, summary)

    async def _cmd_stats(self, update: Update, context: Context) -> None:
        lang = await self._staff_lang(update, context)
        if lang is not None:
            await self._say(update, self.conversation.stats(lang))

    async def _cmd_gaps(self, update: Update, context: Context) -> None:
        lang = await self._staff_lang(update, context)
        if lang is not None:
            await self._say(update, self.conversation.gaps_text(lang))

    async def _cmd_sync(self, update: Update, context: Context) -> None:
        lang = await self._staff_lang(update, context)
        chat = update.effective_chat
        if lang is None or chat is None:
            return
        await self._say(update, t("sync_started", lang))
        async with self.sender.typing(chat.id):
            report = await self.conversation.sync(lang)
        await self._say(update, report)

    async def _notify_staff(self, text: Callable[[str], str]) -> None:
        """Tell every Telegram staff member (in their language) about a scheduled sync's problem."""
        for admin in sorted(self.settings.telegram_admin_ids):
            lang = self.conversation.language(User("telegram", str(admin), str(admin)))
            try:
                await self.sender.send_text(admin, text(lang))
            except TelegramError as exc:  # e.g. a staff member who never opened a chat with the bot
                log.warning("could not tell a staff member about the sync", extra={"error": type(exc).__name__})

    async def _cmd_privacy(self, update: Update, context: Context) -> None:
        who = self._who(update)
        if who is not None:
            await self._say(update, self.conversation.privacy(self._lang(who[0], context)))

    async def _cmd_forget(self, update: Update, context: Context) -> None:
        who = self._who(update)
        if who is not None:
            lang = self._lang(who[0], context)
            await self._say(update, await self.conversation.forget(who[0], lang))

    async def _cmd_cases(self, update: Update, context: Context) -> None:
        lang = await self._staff_case_lang(update, context)
        if lang is not None:
            await self._say(update, await asyncio.to_thread(self.conversation.cases_text, lang))

    async def _cmd_close(self, update: Update, context: Context) -> None:
        lang = await self._staff_case_lang(update, context)
        if lang is None:
            return
        args = list(context.args or [])
        if len(args) < 2 or not args[0].lstrip("#").isdigit():
            await self._say(update, t("close_usage", lang))
            return
        case_id, reason = int(args[0].lstrip("#")), " ".join(args[1:])
        found = await asyncio.to_thread(self.conversation.cases.get, case_id)
        if found is None or found.status != "open":
            await self._say(update, self._case_problem(found, case_id, lang))
            return
        case, status = await self.conversation.staff_close(case_id, reason)
        if case is not None:
            await self._say(update, t("staff_closed", lang, case=case_id) + "\n" + self._delivery_note(case, status, lang))

    async def _cmd_publish(self, update: Update, context: Context) -> None:
        lang = await self._staff_case_lang(update, context)
        chat = update.effective_chat
        if lang is None or chat is None:
            return
        args = list(context.args or [])
        if not args or not args[0].lstrip("#").isdigit():
            await self._say(update, t("publish_usage", lang))
            return
        async with self.sender.typing(chat.id):
            text = await self.conversation.publish(int(args[0].lstrip("#")), " ".join(args[1:]), lang)
        await self._say(update, text)

    async def _staff_case_lang(self, update: Update, context: Context) -> str | None:
        """Like _staff_lang, but a non-staff sender is ignored without an answer (case commands)."""
        who = self._who(update)
        if who is None or not await self._staff_member(who[0]):
            return None
        return await self._staff_lang(update, context)

    @staticmethod
    def _case_problem(case: Case | None, case_id: int, lang: str) -> str:
        if case is None:
            return t("case_unknown", lang, case=case_id)
        return t("case_finished", lang, case=case_id, status=case.status)

    def _delivery_note(self, case: Case, status: str, lang: str) -> str:
        who = self.conversation.who(case.user_key)
        if status == DELIVERED:
            return t("staff_delivered", lang, case=case.id, who=who)
        why = t("why_window", lang) if status == WINDOW else t("why_failed", lang)
        return t("staff_undelivered", lang, case=case.id, who=who, error=why)

    # -- cases: the staff group ------------------------------------------------------------------
    @property
    def staff_lang(self) -> str:
        return self.settings.default_language

    def _case_post(self, case: Case) -> str:
        lang = self.staff_lang
        turns = ""
        if case.turns:
            shown = "\n".join(f"• {str(turn.get('question', ''))[:200]}" for turn in case.turns)
            turns = t("staff_turns", lang, turns=shown)
        return t("staff_case_post", lang, case=case.id, language=t(f"lang_{case.language}", lang),
                 channel=case.channel, who=self.conversation.who(case.user_key),
                 reason=t(f"reason_{case.reason}", lang), office=case.office or "—",
                 question=case.question, turns=turns)

    @staticmethod
    def _case_buttons(case: Case, lang: str) -> InlineKeyboardMarkup:
        labels = {"vi": ("✖ Đóng", "📤 Đăng hỏi đáp", "📋 Hồ sơ"), "en": ("✖ Close", "📤 Publish", "📋 Cases")}
        close, publish, listing = labels.get(lang, labels["en"])
        return InlineKeyboardMarkup([[InlineKeyboardButton(close, callback_data=f"cx:{case.id}"),
                                      InlineKeyboardButton(publish, callback_data=f"cp:{case.id}"),
                                      InlineKeyboardButton(listing, callback_data=f"cl:{case.id}")]])

    async def _post_case(self, case: Case) -> None:
        """Post a new case to the staff group, once (whichever process claims it first)."""
        cases = self.conversation.cases
        if self.staff_chat_id is None or not await asyncio.to_thread(cases.claim_post, case.id):
            return
        try:
            sent = await self.sender.send_text(self.staff_chat_id, self._case_post(case),
                                               self._case_buttons(case, self.staff_lang))
        except BaseException:
            await asyncio.to_thread(cases.unclaim_post, case.id)
            raise
        await asyncio.to_thread(cases.posted, case.id, self.staff_chat_id, sent[-1].message_id)

    async def _post_unposted(self) -> None:
        """Cases opened where no staff group is served (another process, a failed post) get posted."""
        while True:
            try:
                for case in await asyncio.to_thread(self.conversation.cases.unposted):
                    await self._post_case(case)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("could not post waiting cases to the staff group", extra={"error": type(exc).__name__})
            await asyncio.sleep(UNPOSTED_INTERVAL)

    async def _staff_event(self, event: str, case: Case) -> None:
        """Tell the staff group: a new case (posted with its buttons), or a late delivery."""
        if self.staff_chat_id is None:
            return
        if event == "new":
            await self._post_case(case)
        elif event == "delivered_late":
            text = t("staff_delivered_late", self.staff_lang, case=case.id, who=self.conversation.who(case.user_key))
            await self.sender.send_text(self.staff_chat_id, text, reply_to=case.staff_message_id)

    async def _on_staff_reply(self, update: Update, message: Message) -> bool:
        """A reply to a case post in the staff group: True when it was one (handled or ignored)."""
        chat, replied, sender = update.effective_chat, message.reply_to_message, update.effective_user
        if self.staff_chat_id is None or chat is None or chat.id != self.staff_chat_id or replied is None:
            return False
        case = await asyncio.to_thread(self.conversation.cases.by_post, chat.id, replied.message_id)
        if case is None:
            return False
        who = self._who(update)
        if sender is None or who is None or not await self._staff_member(who[0]):
            log.info("reply to a case post by someone who is not staff ignored", extra={"case": case.id})
            return True
        lang = self.staff_lang
        if case.status != "open":
            await self._say(update, self._case_problem(case, case.id, lang))
            return True
        answer = (message.text or "").strip()
        if not answer:
            return True
        answered, status = await self.conversation.staff_answer(case.id, answer)
        if answered is not None:
            await self.sender.send_text(chat.id, self._delivery_note(answered, status, lang),
                                        self._case_buttons(answered, lang), message.message_id)
        return True

    async def _on_case_button(self, query: CallbackQuery, user: User, action: str, case_id: int) -> None:
        if not await self._staff_member(user) or query.message is None or \
                query.message.chat.id not in {self.staff_chat_id, int(user.user_id)}:
            await self._answer_query(query)
            return
        lang = self.staff_lang
        await self._answer_query(query)
        chat_id = query.message.chat.id
        if action == "x":
            await self.sender.send_text(chat_id, t("close_hint", lang, case=case_id))
        elif action == "l":
            await self.sender.send_text(chat_id, await asyncio.to_thread(self.conversation.cases_text, lang))
        else:
            async with self.sender.typing(chat_id):
                text = await self.conversation.publish(case_id, "", lang)
            await self.sender.send_text(chat_id, text)

    async def _deliver(self, chat_id: str, text: str) -> str:
        """An officer's reply (or a closing note) to a person on Telegram."""
        try:
            await self.sender.send_text(int(chat_id), text)
        except (TelegramError, ValueError) as exc:
            log.warning("case reply not delivered on Telegram", extra={"error": type(exc).__name__})
            return FAILED
        return DELIVERED

    async def _cmd_unknown(self, update: Update, context: Context) -> None:
        who = self._who(update)
        message = update.effective_message
        if who is None or message is None:
            return
        command = (message.text or "").split(maxsplit=1)[0]
        addressee = command.partition("@")[2].lower()
        if addressee and addressee != (self.application.bot.username or "").lower():
            return  # a command for another bot in the group
        if not addressee and not self._private(update):
            return  # a bare unknown command in a group may be meant for another bot
        await self._say(update, self.conversation.unknown_command(self.conversation.language(who[0])))

    # -- messages --------------------------------------------------------------------------------
    async def _on_text(self, update: Update, context: Context) -> None:
        who = self._who(update)
        message = update.effective_message
        if who is None or message is None:
            return
        user, chat_id = who
        text = message.text or ""
        if await self._on_staff_reply(update, message):
            return
        if not self._private(update):
            if not self._addressed(message):
                return
            text = self._strip_mention(text)
        await self._answer(user, chat_id, text, reply_to=self._reply_to(update))

    async def _on_non_text(self, update: Update, context: Context) -> None:
        who = self._who(update)
        message = update.effective_message
        if who is None or message is None:
            return
        if not self._private(update) and not self._addressed(message):
            return
        user = who[0]
        self.conversation.record_event(user, "non_text")
        await self._say(update, self.conversation.non_text(self.conversation.language(user, message.caption)))

    async def _on_callback(self, update: Update, context: Context) -> None:
        query = update.callback_query
        who = self._who(update)
        if query is None or who is None:
            return
        user, chat_id = who
        data = query.data or ""
        if m := _VOTE.match(data):
            answer_id, up = int(m.group(1)), m.group(2) == "u"
            thanks = await self.conversation.vote(user, answer_id, up)
            await self._answer_query(query, thanks)
            message = query.message
            if isinstance(message, Message):
                try:
                    await message.edit_reply_markup(vote_markup(answer_id, chosen=up,
                                                                extra=_kept_handoff_button(message)))
                except TelegramError:
                    pass  # e.g. "message is not modified" when the same button is pressed twice
        elif m := _HANDOFF.match(data):
            await self._answer_query(query)
            reply = await self.conversation.accept_handoff(user, int(m.group(1)))
            await self.sender.send_text(chat_id, reply.answer.text)
        elif m := _ASK_OFFICER.match(data):
            await self._answer_query(query)
            await self._answer(user, chat_id, t("officer_words", m.group(1)))
        elif m := _CASE_BUTTON.match(data):
            await self._on_case_button(query, user, m.group(1), int(m.group(2)))
        elif m := _EXAMPLE.match(data):
            lang, index = m.group(1), int(m.group(2))
            examples = self.conversation.examples(lang)
            await self._answer_query(query)
            if index < len(examples):
                await self._answer(user, chat_id, examples[index], heading=examples[index])
        else:
            await self._answer_query(query)

    @staticmethod
    async def _answer_query(query: CallbackQuery, text: str | None = None) -> None:
        try:
            await query.answer(text)
        except TelegramError as exc:  # an expired query: the vote is stored all the same
            log.debug("answerCallbackQuery failed", extra={"error": type(exc).__name__})

    # -- errors ----------------------------------------------------------------------------------
    async def _on_error(self, update: object, context: Context) -> None:
        error = context.error
        metrics.ERRORS.labels(self.name).inc()
        log.error("telegram update failed", extra={"error": type(error).__name__,
                                                   "detail": self._clean(str(error))[:300]},
                  exc_info=(type(error), error, error.__traceback__) if error is not None else None)
        if not isinstance(update, Update) or update.effective_chat is None or isinstance(error, Forbidden):
            return
        who = self._who(update)
        message = update.effective_message
        text = message.text if message is not None else None
        lang = self.conversation.language(who[0], text) if who else self.settings.default_language
        try:
            await self.application.bot.send_message(update.effective_chat.id, t("error", lang))
        except Exception as exc:
            log.warning("could not tell the user about the error", extra={"error": type(exc).__name__})
