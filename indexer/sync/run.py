"""One sync: for every source, find its pages, fetch what is new or changed (conditional GET),
store it under synced/<name>/, drop pages gone twice in a row (404/410), then refresh the index.
Only one sync runs at a time per data folder; a failure leaves the previous index serving. The
summary of the last sync is kept in DATA_DIR/sync/last.json for `/stats`."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from filelock import FileLock, Timeout

from indexer.fileio import write_atomic
from indexer.refresh import refresh
from indexer.settings import IndexSettings
from indexer.store import Store
from indexer.sync.discover import discover
from indexer.sync.fetch import Disallowed, Fetcher, FetchError
from indexer.sync.pages import NotADocument, StoredPage, now_iso, prepare, store, stored_pages
from indexer.sync.sources import Source, SourcesError, load_sources

GONE_AFTER = 2  # 404/410 on this many syncs in a row removes a page


class SyncBusy(RuntimeError):
    """Another sync is running in this data folder."""


@dataclass
class SyncSummary:
    fetched: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    gone: int = 0
    failed: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)  # {"url", "reason"}
    gone_pages: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # robots.txt, off-host links
    would_fetch: list[str] = field(default_factory=list)  # --dry-run: the pages a sync would check
    dry_run: bool = False
    refresh: dict[str, Any] | None = None
    seconds: float = 0.0
    finished_at: str = ""

    def fail(self, url: str, reason: str) -> None:
        self.failed += 1
        self.failures.append({"url": url, "reason": reason})

    def line(self) -> str:
        return (f"fetched {self.fetched}, new {self.new}, changed {self.changed}, unchanged {self.unchanged}, "
                f"gone {self.gone}, failed {self.failed} ({self.seconds:.1f} s)")

    def to_json(self) -> dict[str, Any]:
        return {
            "fetched": self.fetched, "new": self.new, "changed": self.changed, "unchanged": self.unchanged,
            "gone": self.gone, "failed": self.failed, "failures": self.failures, "gone_pages": self.gone_pages,
            "skipped": self.skipped, "dry_run": self.dry_run, "would_fetch": self.would_fetch,
            "refresh": self.refresh, "seconds": round(self.seconds, 2), "finished_at": self.finished_at,
        }


Tick = Callable[[int], None]


def _tty_bar(total: int) -> tuple[Tick, Callable[[], None]] | None:
    if total == 0 or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar = tqdm(total=total, unit="page", desc="Syncing", file=sys.stderr, leave=False)
    return bar.update, bar.close


def _sync_page(source: Source, url: str, prior: StoredPage | None, fetcher: Fetcher,
               summary: SyncSummary, settings: IndexSettings) -> None:
    folder = settings.synced_dir / source.name
    try:
        response = fetcher.get(url, *((prior.meta.get("etag") or "", prior.meta.get("last_modified") or "")
                                      if prior else ("", "")))
    except Disallowed as exc:
        summary.skipped.append({"url": url, "reason": str(exc)})
        return
    except FetchError as exc:
        summary.fail(url, str(exc))
        return
    if response.status in (404, 410):
        if prior is None:
            summary.fail(url, f"HTTP {response.status} (listed by the source but not found)")
            return
        misses = int(prior.meta.get("misses") or 0) + 1
        if misses >= GONE_AFTER:
            prior.delete()
            summary.gone += 1
            summary.gone_pages.append(url)
        else:
            prior.meta["misses"] = misses
            prior.save_meta()
            summary.unchanged += 1  # kept until the next sync confirms it is gone
        return
    if response.status == 304:
        summary.unchanged += 1
        if prior is not None and prior.meta.get("misses"):
            prior.meta.pop("misses", None)
            prior.save_meta()
        return
    summary.fetched += 1
    try:
        page = prepare(response.body, response.content_type, response.url)
    except NotADocument as exc:
        summary.fail(url, str(exc))
        return
    if prior is not None and prior.meta.get("hash") == page.hash:
        summary.unchanged += 1  # same text: the document (and its vectors) stay as they are
        if (prior.meta.get("etag") or "", prior.meta.get("last_modified") or "") != \
                (response.etag, response.last_modified) or prior.meta.get("misses"):
            prior.meta.update(etag=response.etag, last_modified=response.last_modified)
            prior.meta.pop("misses", None)
            prior.save_meta()
        return
    store(folder, source, url, page, response.etag, response.last_modified, prior)
    if prior is None:
        summary.new += 1
    else:
        summary.changed += 1


def _sync_source(source: Source, fetcher: Fetcher, summary: SyncSummary, settings: IndexSettings,
                 tick_total: Callable[[int], tuple[Tick, Callable[[], None]] | None]) -> None:
    stored = stored_pages(settings.synced_dir / source.name)
    try:
        found = discover(source, fetcher)
    except Disallowed as exc:
        summary.skipped.append({"url": source.url, "reason": str(exc)})
        return
    except FetchError as exc:
        summary.fail(source.url, f"the {source.type} could not be read: {exc}")
        return  # stored pages stay as they are until the source can be read again
    for url in found.off_host:
        summary.skipped.append({"url": url, "reason": "a link to another host; not fetched"})
    # pages no longer wanted by the source's patterns leave; stored pages not listed any more
    # are still checked, so a removed article is noticed (404/410)
    for url, page in list(stored.items()):
        if not source.wants(url):
            if not summary.dry_run:
                page.delete()
            stored.pop(url)
            summary.gone += 1
            summary.gone_pages.append(url)
    listed = set(found.urls)
    urls = found.urls + [u for u in stored if u not in listed]
    if summary.dry_run:
        summary.new += sum(1 for u in urls if u not in stored)
        summary.would_fetch.extend(urls)
        return
    bar = tick_total(len(urls))
    try:
        for url in urls:
            _sync_page(source, url, stored.get(url), fetcher, summary, settings)
            if bar:
                bar[0](1)
    finally:
        if bar:
            bar[1]()


def last_summary(settings: IndexSettings) -> dict[str, Any] | None:
    """The last sync's summary (with "ok" and, on failure, "error"), or None before the first."""
    try:
        data = json.loads((settings.sync_state_dir / "last.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _remember(settings: IndexSettings, data: dict[str, Any]) -> None:
    try:
        write_atomic(settings.sync_state_dir / "last.json", json.dumps(data, ensure_ascii=False).encode("utf-8"))
    except OSError:
        pass  # /stats then shows the sync before; the sync itself is not affected


def _index_exists(settings: IndexSettings) -> bool:
    try:
        return Store(settings).read_manifest() is not None
    except Exception:
        return False


def _refresh_idle(settings: IndexSettings) -> None:
    """Raise SyncBusy when a refresh holds the index lock right now (the sync would wait for it)."""
    probe = FileLock(str(settings.index_dir / "refresh.lock"))
    try:
        probe.acquire(timeout=0)
    except Timeout as exc:
        raise SyncBusy("A refresh of the index is running; try the sync again when it has finished.") from exc
    probe.release()


def sync(settings: IndexSettings, *, source: str | None = None, dry_run: bool = False,
         progress: bool = True, client: httpx.Client | None = None) -> SyncSummary:
    """Run one sync and refresh the index. Raises SyncBusy, SourcesError (sources.yaml is wrong),
    RefreshBusy, or any error of the refresh, with the previous index still serving."""
    started = time.monotonic()
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(settings.index_dir / "sync.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout as exc:
        raise SyncBusy("Another sync is still running; try again when it has finished.") from exc
    summary = SyncSummary(dry_run=dry_run)
    try:
        _refresh_idle(settings)
    except BaseException:
        lock.release()
        raise
    try:
        sources = load_sources(settings.sources_path)
        if source is not None:
            sources = [s for s in sources if s.name == source]
            if not sources:
                raise SourcesError(f"no source named {source!r} in {settings.sources_path}")
        if not sources and not settings.sources_path.exists():
            raise SourcesError(f"{settings.sources_path} does not exist: name the portals to follow there "
                               "(see README, 'Portal sync')")
        bars = _tty_bar if progress else (lambda _n: None)
        with Fetcher(settings, {s.host for s in sources}, client) as fetcher:
            for s in sources:
                _sync_source(s, fetcher, summary, settings, bars)
        if not dry_run and (summary.new or summary.changed or summary.gone or not _index_exists(settings)):
            refreshed = refresh(settings)
            summary.refresh = refreshed.to_json()
            for skipped in refreshed.skipped:
                if skipped.path.startswith("synced/"):
                    summary.fail(skipped.path, skipped.reason)
        summary.seconds = time.monotonic() - started
        summary.finished_at = now_iso()
        if not dry_run:
            _remember(settings, {"ok": True, **summary.to_json()})
        return summary
    except BaseException as exc:
        if not dry_run and not isinstance(exc, KeyboardInterrupt | SystemExit):
            _remember(settings, {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:300]}",
                                 "finished_at": now_iso(), **{k: getattr(summary, k) for k in (
                                     "fetched", "new", "changed", "unchanged", "gone", "failed")}})
        raise
    finally:
        lock.release()
