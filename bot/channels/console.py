"""Interactive console chat over the same conversation layer: a newcomer's first run."""

from __future__ import annotations

import asyncio
import sys

from bot.channels.render import plain
from bot.conversation import Conversation, User

HINT = {
    "vi": "Gõ câu hỏi (có dấu hoặc không dấu). Lệnh: /help, /lang, /sources, /about, /quit.",
    "en": "Type a question. Commands: /help, /lang, /sources, /about, /quit.",
}


async def run_console(conversation: Conversation, stdin=None, stdout=None) -> None:  # type: ignore[no-untyped-def]
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    user = User("console", "local", "local")
    lang = conversation.language(user)
    stdout.write(conversation.welcome(lang) + "\n")
    for example in conversation.examples(lang):
        stdout.write(f"  • {example}\n")
    stdout.write(HINT[lang] + "\n")
    loop = asyncio.get_running_loop()
    while True:
        stdout.write("\n> ")
        stdout.flush()
        line = await loop.run_in_executor(None, stdin.readline)
        if not line:
            break
        text = line.strip()
        lang = conversation.language(user, text)
        if text in ("/quit", "/exit"):
            break
        if text.startswith("/"):
            command = text.split()[0][1:].lower()
            if command == "help":
                stdout.write(conversation.help(lang) + "\n")
            elif command == "lang":
                stdout.write(conversation.toggle_language(user, text) + "\n")
            elif command == "sources":
                for s in conversation.sources(lang):
                    stdout.write(f"• {s.title} ({s.published or '?'}) {s.url}\n")
            elif command == "about":
                stdout.write(conversation.about(lang) + "\n")
            elif command == "start":
                stdout.write(conversation.welcome(lang) + "\n")
            else:
                stdout.write(conversation.unknown_command(lang) + "\n")
            continue
        reply = await conversation.ask(user, text)
        stdout.write(plain(reply.answer) + "\n")
