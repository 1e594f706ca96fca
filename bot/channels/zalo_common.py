"""What the two Zalo channels share: word commands (Zalo has no slash-command menu), plain-text
rendering split under Zalo's 2000-character limit, and the replies to non-text, follow and
unfollow events. Transport stays in the channels; answering stays in the Conversation."""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from bot.channels.render import plain, split_message
from bot.conversation import Conversation, User
from bot.texts import t
from indexer.text import fold

log = logging.getLogger("bot.zalo")

TEXT_LIMIT = 2000  # characters per Zalo text message (Bot Platform and OA alike)

Send = Callable[[str], Awaitable[None]]
Typing = Callable[[], Awaitable[None]]

# Whole-message words (folded: lower case, no diacritics): the command each one means and the
# language the word itself is in (used when the user has not chosen a language).
WORD_COMMANDS: dict[str, tuple[str, str | None]] = {
    "help": ("help", "en"), "tro giup": ("help", "vi"), "giup": ("help", "vi"), "huong dan": ("help", "vi"),
    "start": ("start", "en"), "bat dau": ("start", "vi"),
    "sources": ("sources", "en"), "source": ("sources", "en"), "nguon": ("sources", "vi"),
    "about": ("about", "en"), "gioi thieu": ("about", "vi"),
    "english": ("english", "en"), "tieng anh": ("english", "en"),
    "tieng viet": ("vietnamese", "vi"), "vietnamese": ("vietnamese", "vi"),
    "lang": ("lang", None),
    "reindex": ("reindex", None), "stats": ("stats", None), "gaps": ("gaps", None),
    "privacy": ("privacy", "en"), "quyen rieng tu": ("privacy", "vi"), "du lieu ca nhan": ("privacy", "vi"),
    "delete my data": ("forget", "en"), "forget": ("forget", "en"), "forget me": ("forget", "en"),
    "xoa du lieu": ("forget", "vi"), "xoa du lieu cua toi": ("forget", "vi"), "xoa du lieu ca nhan": ("forget", "vi"),
}
STAFF_ONLY = frozenset({"reindex", "stats", "gaps"})
_EDGE = re.compile(r"^[\s/#!.,?\"'«»“”]+|[\s!.,?\"'«»“”]+$")


def match_command(text: str | None) -> tuple[str, str | None] | None:
    """(command, language of the word) when the whole message names a command ('help',
    'Tiếng Việt', '/nguon'...), else None: a question. Case, diacritics, a leading slash and
    surrounding punctuation do not matter."""
    if not text or len(text) > 40:
        return None
    word = " ".join(_EDGE.sub("", fold(text)).split())
    return WORD_COMMANDS.get(word)


def is_slash_word(text: str) -> bool:
    """'/something' with no spaces: meant as a command, even an unknown one."""
    stripped = text.strip()
    return stripped.startswith("/") and len(stripped) > 1 and " " not in stripped and len(stripped) <= 40


def pieces(text: str) -> list[str]:
    """Text cut into Zalo-sized messages at paragraph boundaries; never an empty piece."""
    parts = [p for p in split_message(text.strip(), TEXT_LIMIT) if p.strip()]
    out: list[str] = []
    for part in parts:  # split_message may leave a piece over the limit when it cannot cut
        while len(part) > TEXT_LIMIT:
            out.append(part[:TEXT_LIMIT])
            part = part[TEXT_LIMIT:]
        if part.strip():
            out.append(part)
    return out


async def finish_tasks(tasks: set[asyncio.Task[None]] | list[asyncio.Task[None]], grace: float = 10) -> None:
    """Let replies under way finish (up to `grace` seconds), then cancel the rest."""
    if not tasks:
        return
    _, pending = await asyncio.wait(set(tasks), timeout=grace)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)


class SeenIds:
    """A small in-memory set of recently seen message ids (for redelivered Bot Platform events)."""

    def __init__(self, size: int = 2000) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def first_time(self, key: str) -> bool:
        if not key:
            return True
        if key in self._ids:
            return False
        self._ids[key] = None
        while len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True


class ZaloResponder:
    """Turns what a Zalo user sent into the texts to send back, through the Conversation."""

    def __init__(self, conversation: Conversation, admin_ids: frozenset[str] = frozenset()) -> None:
        self.conversation = conversation
        self.admin_ids = admin_ids

    def is_staff(self, user: User) -> bool:
        return user.user_id in self.admin_ids

    # -- fixed texts -----------------------------------------------------------------------------
    def welcome_text(self, lang: str) -> str:
        examples = "\n".join(f"• {e}" for e in self.conversation.examples(lang))
        return f"{self.conversation.welcome(lang)}\n{examples}\n\n{t('zalo_hint', lang)}"

    def help_text(self, lang: str, staff: bool) -> str:
        commands = t("zalo_commands", lang)
        if staff:
            commands += "\n" + t("zalo_staff_commands", lang)
        return t("help", lang, commands=commands)

    def sources_text(self, lang: str) -> str:
        lines = [t("sources_head", lang)]
        for s in self.conversation.sources(lang):
            unofficial = t("unofficial", lang)
            labelled = fold(unofficial)[:18] in fold(s.title)  # some titles carry the label already
            label = f" ({unofficial})" if s.unofficial_translation and not labelled else ""
            date = s.published or t("no_date", lang)
            where = s.url or t("no_link", lang)
            lines.append(f"• {s.title}{label}, {date}, {where}")
        return "\n".join(lines)

    # -- events ----------------------------------------------------------------------------------
    async def text(self, user: User, text: str, send: Send, typing: Typing | None = None) -> None:
        """Answer a text message: a word command, or a question for the Conversation."""
        await self.conversation.deliver_waiting(user)  # officer replies that could not go out before
        matched = match_command(text)
        if matched is None:
            if is_slash_word(text):
                await self._send_all(send, self.conversation.unknown_command(self.conversation.language(user)))
                return
            if typing is not None:
                await typing()
            reply = await self.conversation.ask(user, text)
            if reply.kind == "handoff_offer":
                await self._send_all(send, self.conversation.offer_text(reply, words=True))
            elif reply.offer_id is not None:
                await self._send_all(send, plain(reply.answer) + "\n\n" + self.conversation.offer_text(reply, words=True))
            else:
                await self._send_all(send, plain(reply.answer))
            return
        command, word_lang = matched
        lang = self.conversation.preferred_language(user) or word_lang or self.conversation.language(user)
        await self._command(user, command, lang, send)

    async def _command(self, user: User, command: str, lang: str, send: Send) -> None:
        conversation = self.conversation
        if command in STAFF_ONLY and not self.is_staff(user):
            await self._send_all(send, conversation.staff_only(lang))
            return
        if command in STAFF_ONLY and user.chat_id and user.chat_id != user.user_id:
            # staff views hold other people's questions: never in a group chat
            await self._send_all(send, t("staff_private", lang))
            return
        if command == "help":
            out = self.help_text(lang, self.is_staff(user))
        elif command == "start":
            out = self.welcome_text(lang)
        elif command == "sources":
            out = self.sources_text(lang)
        elif command == "about":
            out = conversation.about(lang)
        elif command == "english":
            out = conversation.set_language(user, "en")
        elif command == "vietnamese":
            out = conversation.set_language(user, "vi")
        elif command == "lang":
            out = conversation.toggle_language(user)
        elif command == "reindex":
            await self._send_all(send, t("reindex_started", lang))
            out = await conversation.reindex(lang)
        elif command == "privacy":
            out = conversation.privacy(lang)
        elif command == "forget":
            out = await conversation.forget(user, lang)
        elif command == "stats":
            out = conversation.stats(lang)
        else:  # gaps
            out = conversation.gaps_text(lang)
        await self._send_all(send, out)

    async def non_text(self, user: User, send: Send) -> None:
        """Images, stickers, files...: a short note that only text is read."""
        await self.conversation.deliver_waiting(user)
        await self._send_all(send, self.conversation.non_text(self.conversation.language(user)))

    async def follow(self, user: User, send: Send) -> None:
        await self.conversation.deliver_waiting(user)
        self.conversation.record_event(user, "follow")
        await self._send_all(send, self.welcome_text(self.conversation.language(user)))

    def unfollow(self, user: User) -> None:
        self.conversation.record_event(user, "unfollow")

    @staticmethod
    async def _send_all(send: Send, text: str) -> None:
        for piece in pieces(text):
            await send(piece)
