"""The running bot's portal sync: `/sync` from staff and the SYNC_INTERVAL schedule. A sync runs in a
worker thread (the bot keeps answering from the current index, and from the new one as soon as the
refresh switches it); a failed one leaves the previous index serving and is told to staff through
the notifiers channels register. Channel-neutral: texts come from bot.texts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.texts import t
from indexer.settings import IndexSettings
from indexer.sync import SourcesError, SyncBusy, SyncSummary, last_summary, sync

log = logging.getLogger("bot.sync")

Notifier = Callable[[Callable[[str], str]], Awaitable[None]]  # gets a text-in-a-language function


@dataclass(frozen=True)
class SyncOutcome:
    ok: bool  # the sync ran to its end and the index was refreshed
    summary: SyncSummary | None
    error: str = ""
    busy: bool = False

    @property
    def partial(self) -> bool:
        return self.ok and self.summary is not None and self.summary.failed > 0


class Syncer:
    def __init__(self, settings: IndexSettings) -> None:
        self.settings = settings
        self._lock = asyncio.Lock()
        self._notifiers: list[Notifier] = []

    def add_notifier(self, notifier: Notifier) -> None:
        """A channel's way to tell its staff about a failed sync."""
        self._notifiers.append(notifier)

    async def run(self) -> SyncOutcome:
        if self._lock.locked():
            return SyncOutcome(False, None, busy=True)
        async with self._lock:
            try:
                summary = await asyncio.to_thread(sync, self.settings, progress=False)
            except SyncBusy:
                return SyncOutcome(False, None, busy=True)
            except SourcesError as exc:
                log.error("sync failed: sources.yaml", extra={"error": str(exc)[:300]})
                return SyncOutcome(False, None, str(exc)[:300])
            except Exception as exc:
                log.exception("sync failed; the previous index keeps serving")
                return SyncOutcome(False, None, f"{type(exc).__name__}: {str(exc)[:300]}")
        log.info("sync done", extra={k: getattr(summary, k) for k in
                                     ("fetched", "new", "changed", "unchanged", "gone", "failed")})
        return SyncOutcome(True, summary)

    async def scheduled(self) -> SyncOutcome:
        """One scheduled sync; staff hear of it when it failed (wholly or for some pages)."""
        outcome = await self.run()
        if outcome.busy:
            return outcome
        if not outcome.ok or outcome.partial:
            await self._notify(lambda lang: t("sync_scheduled_problem", lang, report=self.report(outcome, lang)))
        return outcome

    async def every(self, interval: float, stop: asyncio.Event) -> None:
        """Sync every `interval` seconds until `stop` is set (the first one after one interval)."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
                return
            except TimeoutError:
                pass
            try:
                await self.scheduled()
            except Exception:
                log.exception("scheduled sync crashed; the next one runs as planned")

    async def _notify(self, text: Callable[[str], str]) -> None:
        for notifier in self._notifiers:
            try:
                await notifier(text)
            except Exception as exc:
                log.warning("could not tell staff about the sync", extra={"error": type(exc).__name__})

    # -- texts ----------------------------------------------------------------------------------
    @staticmethod
    def report(outcome: SyncOutcome, lang: str) -> str:
        if outcome.busy:
            return t("sync_busy", lang)
        if not outcome.ok or outcome.summary is None:
            return t("sync_failed", lang, error=outcome.error)
        return Syncer.summary_text(outcome.summary.to_json(), lang)

    @staticmethod
    def summary_text(data: dict[str, Any], lang: str, limit: int = 5) -> str:
        counts = {k: int(data.get(k) or 0) for k in ("fetched", "new", "changed", "unchanged", "gone", "failed")}
        lines = [t("sync_done", lang, **counts)]
        for url in list(data.get("gone_pages") or [])[:limit]:
            lines.append(f"− {url}")
        for failure in list(data.get("failures") or [])[:limit]:
            lines.append(f"✗ {failure.get('url', '')}: {failure.get('reason', '')}")
        return "\n".join(lines)

    def last_text(self, lang: str) -> str:
        """The last sync (by the bot or `python -m indexer sync`), for /stats."""
        data = last_summary(self.settings)
        if data is None:
            return t("sync_never", lang)
        when = str(data.get("finished_at") or "?")
        if not data.get("ok"):
            return t("sync_last_failed", lang, when=when, error=str(data.get("error") or "?"))
        return t("sync_last", lang, when=when, report=self.summary_text(data, lang, limit=3))
