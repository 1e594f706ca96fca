"""Logging: JSON lines when not on a terminal, readable text on one. Secrets never reach a log line:
tokens in URLs and known secret values are masked by a filter on every handler."""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
from collections.abc import Iterable
from types import TracebackType

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}
# Bot API tokens inside URLs (…/bot123456:ABC-def/…) and access_token parameters.
_TOKEN_PATTERNS = [
    re.compile(r"(/bot)[^/\s\"']+"),
    re.compile(r"(access_token[\"'=:\s]+)[^&\s\"',}]+", re.IGNORECASE),
    re.compile(r"(refresh_token[\"'=:\s]+)[^&\s\"',}]+", re.IGNORECASE),
]


# Secrets learnt while running (e.g. a refreshed Zalo OA access token): every filter masks them too.
_RUNTIME_SECRETS: set[str] = set()


def register_secret(value: str) -> None:
    """Mask `value` in every log line from now on (for tokens obtained at run time)."""
    if value and len(value) >= 6:
        _RUNTIME_SECRETS.add(value)


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def _clean(self, text: str) -> str:
        secrets = self.secrets
        if _RUNTIME_SECRETS:
            secrets = sorted(set(secrets) | _RUNTIME_SECRETS, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, "***")
        for pattern in _TOKEN_PATTERNS:
            text = pattern.sub(r"\1***", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._clean(record.getMessage())
        record.args = ()
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, self._clean(value))
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self._clean(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value
        if record.exc_text:
            payload["exception"] = record.exc_text
        return json.dumps(payload, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}
        base = f"{time.strftime('%H:%M:%S', time.localtime(record.created))} {record.levelname:<7} {record.name}: {record.getMessage()}"
        if extras:
            base += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        if record.exc_text:
            base += "\n" + record.exc_text
        return base


def setup_logging(level: str = "INFO", fmt: str = "auto", secrets: Iterable[str] = (), stream=None) -> None:  # type: ignore[no-untyped-def]
    stream = stream or sys.stderr
    use_json = fmt == "json" or (fmt == "auto" and not stream.isatty())
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if use_json else TextFormatter())
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # the HTTP client libraries log full request URLs, which carry bot tokens
    for noisy in ("httpx", "httpcore", "telegram", "chromadb", "urllib3", "aiohttp.access", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # an exception nobody caught is reported through the same (redacting) handler, not printed raw
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread


def _log_uncaught(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    logging.getLogger("bot").critical("stopped by an unexpected error", exc_info=(kind, value, tb))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None or issubclass(args.exc_type, SystemExit):
        return
    logging.getLogger("bot").error("unexpected error in a thread",
                                   exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
                                   extra={"in_thread": args.thread.name if args.thread else ""})
