"""Log lines that an attacker can multiply (one per connection or per request) are let through once
per kind and per time window; the next one let through says how many were held back.

The kind is the logger, the first line of the message with its numbers blanked (addresses, ports and
file descriptors differ per connection) and the exception type."""

from __future__ import annotations

import logging
import re
import threading
import time

_NUMBERS = re.compile(r"\d+")
WINDOW_SECONDS = 60.0
# Loggers whose messages are per connection: asyncio's accept/transport errors and aiohttp's server.
CONNECTION_LOGGERS = ("asyncio", "aiohttp.server", "aiohttp.web", "aiohttp.access", "aiohttp.internal")


class OncePerKind(logging.Filter):
    def __init__(self, window: float = WINDOW_SECONDS) -> None:
        super().__init__()
        self.window = window
        self._last: dict[tuple[str, str, str], float] = {}
        self._held: dict[tuple[str, str, str], int] = {}
        self._lock = threading.Lock()

    @staticmethod
    def kind(record: logging.LogRecord) -> tuple[str, str, str]:
        first = str(record.msg).splitlines()[0] if str(record.msg) else ""
        exc = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
        return record.name, _NUMBERS.sub("#", first)[:120], exc

    def filter(self, record: logging.LogRecord) -> bool:
        key = self.kind(record)
        now = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.window:
                self._held[key] = self._held.get(key, 0) + 1
                return False
            self._last[key] = now
            held = self._held.pop(key, 0)
            if len(self._last) > 1000:  # bounded memory: forget the oldest kinds
                for old in sorted(self._last, key=self._last.__getitem__)[:500]:
                    self._last.pop(old, None)
        if held:
            record.suppressed = held  # shown by the JSON/text formatters as an extra field
        return True


def install(names: tuple[str, ...] = CONNECTION_LOGGERS, window: float = WINDOW_SECONDS) -> None:
    """Attach one OncePerKind filter to each named logger (again is a no-op)."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, OncePerKind) for f in logger.filters):
            logger.addFilter(OncePerKind(window))
