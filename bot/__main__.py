"""Command line: `python -m bot run`, `python -m bot ask [--json] [--chat KEY] QUESTION...|-` and
`python -m bot data show|delete --user CHANNEL:ID` (a person's request to see or delete their data)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

from bot.config import SECRET_FIELDS, Settings
from bot.logging_setup import setup_logging
from indexer.settings import SettingsError


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        sys.stderr.write(f"Configuration error: {exc}\n")
        raise SystemExit(2) from exc


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.answering.assistant import Assistant
    from bot.channels.render import plain
    from indexer.search import IndexNotReady, ModelMismatch

    words = args.question
    if words == ["-"]:
        questions = [line.strip() for line in sys.stdin if line.strip()]
    else:
        questions = [" ".join(words)]
    memory = None
    if args.chat:
        # the conversation memory the channels keep, under the key given: follow-ups are read in
        # the context of the earlier questions, from stdin and across runs
        from bot.memory import ChatMemory
        from bot.storage import Database

        memory = ChatMemory(Database(settings.data_dir / "bot.sqlite3"), settings.memory_turns,
                            settings.memory_ttl_seconds)
    assistant = Assistant(settings, memory=memory)  # without --chat each question is answered on its own
    status = 0
    for question in questions:
        try:
            answer = assistant.answer(question, chat_key=f"cli:{args.chat}" if args.chat else None)
        except (IndexNotReady, ModelMismatch) as exc:
            sys.stderr.write(f"{exc}\n")
            return 2
        if args.json:
            sys.stdout.write(json.dumps(answer.to_json(), ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(plain(answer) + "\n\n")
        sys.stdout.flush()
    return status


def _data(args: argparse.Namespace, settings: Settings) -> int:
    from bot import privacy
    from bot.storage import Database

    channel, _, user_id = args.user.partition(":")
    if channel not in ("telegram", "zalo_bot", "zalo_oa", "console") or not user_id:
        sys.stderr.write("--user must be CHANNEL:ID with CHANNEL one of telegram, zalo_bot, zalo_oa, console "
                         "(e.g. telegram:123456789)\n")
        return 2
    db = Database(settings.data_dir / "bot.sqlite3")
    try:
        if args.action == "show":
            rows = privacy.show(db, channel, user_id)
            out = {"user": f"{channel}:{user_id}", "retention_days": settings.data_retention_days, "tables": rows}
            sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2, default=str) + "\n")
        else:
            counts = privacy.forget(db, channel, user_id)
            sys.stdout.write(json.dumps({"user": f"{channel}:{user_id}", "deleted": counts}) + "\n")
    finally:
        db.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Hai Phong policy assistant")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start every configured channel (console chat when none is)")
    ask = sub.add_parser("ask", help="answer questions from the command line")
    ask.add_argument("--json", action="store_true", help="one JSON object a line")
    ask.add_argument("--chat", metavar="KEY", help="keep the conversation memory of chat KEY (follow-ups in context)")
    ask.add_argument("question", nargs="+", help="the question, or - to read one question a line from stdin")
    data = sub.add_parser("data", help="show or delete everything stored about one person")
    data.add_argument("action", choices=["show", "delete"])
    data.add_argument("--user", required=True, help="CHANNEL:ID, e.g. telegram:123456789 or zalo_oa:84123...")
    args = parser.parse_args(argv)
    settings = _settings()
    secrets = [getattr(settings, name) for name in SECRET_FIELDS]
    setup_logging(settings.log_level if args.command == "run" else "WARNING", settings.log_format, secrets)
    if args.command == "ask":
        return _ask(args, settings)
    os.umask(0o077)  # files the bot creates under DATA_DIR hold personal data: owner only
    if args.command == "data":
        return _data(args, settings)
    from bot.app import serve

    try:
        asyncio.run(serve(settings))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
