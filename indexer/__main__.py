"""Command line: `python -m indexer refresh|build|sync|search|stats|export|import`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from indexer.settings import IndexSettings, SettingsError


def _settings() -> IndexSettings:
    try:
        from dotenv import dotenv_values

        env = dict(os.environ)
        if Path(".env").exists():
            for key, value in dotenv_values(".env").items():
                if value is not None:
                    env.setdefault(key, value)
        return IndexSettings.from_env(env)
    except SettingsError as exc:
        sys.stderr.write(f"Configuration error: {exc}\n")
        raise SystemExit(2) from exc


def _refresh(args: argparse.Namespace, settings: IndexSettings, rebuild: bool) -> int:
    from indexer.refresh import RefreshBusy, refresh
    from indexer.store import Store

    if getattr(args, "if_missing", False):
        try:
            manifest = Store(settings).read_manifest()
        except Exception:
            manifest = None
        if manifest is not None and manifest.model == settings.embedding_model:
            print(f"Index present ({manifest.documents} documents, {manifest.chunks} chunks); "
                  "run `python -m indexer refresh` to update it.")
            return 0
    try:
        summary = refresh(settings, rebuild=rebuild)
    except RefreshBusy as exc:
        sys.stderr.write(f"{exc}\n")
        return 3
    except Exception as exc:
        sys.stderr.write(f"Refresh failed, the previous index is still serving: {type(exc).__name__}: {exc}\n")
        return 1
    if args.json:
        print(json.dumps(summary.to_json(), ensure_ascii=False))
    else:
        print(("Rebuilt: " if rebuild else "Refreshed: ") + summary.line())
        for skipped in summary.skipped:
            print(f"  skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
        for warning in summary.warnings:
            print(f"  warning: {warning}", file=sys.stderr)
        for flagged in summary.flagged:
            print(f"  flagged {flagged.path} ({flagged.rule}; not quoted): \"{flagged.passage}\"", file=sys.stderr)
    return 4 if summary.skipped else 0


def _sync(args: argparse.Namespace, settings: IndexSettings) -> int:
    from indexer.refresh import RefreshBusy
    from indexer.sync import SourcesError, SyncBusy, sync

    try:
        summary = sync(settings, source=args.source, dry_run=args.dry_run, progress=not args.json)
    except (SyncBusy, RefreshBusy) as exc:
        sys.stderr.write(f"{exc}\n")
        return 3
    except SourcesError as exc:
        sys.stderr.write(f"Sync failed, the previous index is still serving: {exc}\n")
        return 1
    except Exception as exc:
        sys.stderr.write(f"Sync failed, the previous index is still serving: {type(exc).__name__}: {exc}\n")
        return 1
    if args.json:
        print(json.dumps(summary.to_json(), ensure_ascii=False))
    else:
        if args.dry_run:
            for url in summary.would_fetch:
                print(f"  would check {url}")
        for url in summary.gone_pages:
            print(f"  gone {url}")
        for failure in summary.failures:
            print(f"  failed {failure['url']}: {failure['reason']}", file=sys.stderr)
        for skipped in summary.skipped:
            print(f"  skipped {skipped['url']}: {skipped['reason']}", file=sys.stderr)
        print(("Dry run (nothing fetched or stored): " if args.dry_run else "Synced: ") + summary.line())
    return 4 if summary.failed else 0


def _search(args: argparse.Namespace, settings: IndexSettings) -> int:
    from indexer.search import IndexNotReady, ModelMismatch, SearchEngine

    engine = SearchEngine(settings)
    queries = [line.strip() for line in sys.stdin if line.strip()] if args.query == ["-"] else [" ".join(args.query)]
    for query in queries:
        try:
            results = engine.search(query, k=args.k, language=args.lang)
        except (IndexNotReady, ModelMismatch) as exc:
            sys.stderr.write(f"{exc}\n")
            return 2
        if args.json:
            print(json.dumps({"query": query, "results": [r.to_json() for r in results]}, ensure_ascii=False))
            continue
        print(f"# {query}")
        for i, r in enumerate(results, 1):
            label = " (unofficial translation)" if r.unofficial_translation else ""
            print(f"{i}. [{r.score:.4f}] {r.title}{label} — {r.published or 'no date'} — {r.url or 'no link known'}")
            print(f"   {r.chunk_id}: {r.text[:300].replace(chr(10), ' ')}")
        print()
    return 0


def _stats(args: argparse.Namespace, settings: IndexSettings) -> int:
    from indexer.store import Store

    store = Store(settings)
    manifest = store.read_manifest()
    if manifest is None:
        sys.stderr.write(f"No index at {store.location}. Build it with: python -m indexer build\n")
        return 2
    data = {
        "documents": manifest.documents, "chunks": manifest.chunks, "languages": manifest.languages,
        "model": manifest.model, "last_refresh": manifest.refreshed_at, "collection": manifest.collection,
        "store": store.location,
    }
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
    else:
        langs = ", ".join(f"{k}: {v}" for k, v in sorted(manifest.languages.items()))
        print(f"documents     {manifest.documents}\nchunks        {manifest.chunks}\nlanguages     {langs}\n"
              f"model         {manifest.model}\nlast refresh  {manifest.refreshed_at}\nstore         {store.location}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m indexer", description="Knowledge index for the Hai Phong assistant")
    sub = parser.add_subparsers(dest="command", required=True)
    ref = sub.add_parser("refresh", help="index new and changed documents, drop removed ones")
    ref.add_argument("--json", action="store_true", help="print the summary as JSON")
    ref.add_argument("--if-missing", action="store_true", help="do nothing when an index already exists")
    build = sub.add_parser("build", help="rebuild the whole index (re-embeds everything)")
    build.add_argument("--json", action="store_true")
    syn = sub.add_parser("sync", help="fetch what is new or changed on the portals in sources.yaml, then refresh")
    syn.add_argument("--source", metavar="NAME", default=None, help="only the source with this name")
    syn.add_argument("--dry-run", action="store_true", help="list the pages a sync would check; fetch no page")
    syn.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    search = sub.add_parser("search", help="search the index")
    search.add_argument("--k", type=int, default=5, help="number of results (default 5)")
    search.add_argument("--json", action="store_true", help="one JSON object a line")
    search.add_argument("--lang", choices=["vi", "en"], default=None,
                        help="show translated passages in this language")
    search.add_argument("query", nargs="+", help="the query, or - to read one query a line from stdin")
    stats = sub.add_parser("stats", help="documents, chunks, languages, model and last refresh")
    stats.add_argument("--json", action="store_true")
    exp = sub.add_parser("export", help="write the knowledge base and its index settings to an archive")
    exp.add_argument("archive", type=Path)
    imp = sub.add_parser("import", help="restore an exported archive here and bring the index up")
    imp.add_argument("archive", type=Path)
    imp.add_argument("--force", action="store_true", help="overwrite differing documents")
    args = parser.parse_args(argv)
    settings = _settings()

    if args.command in ("refresh", "build"):
        return _refresh(args, settings, rebuild=args.command == "build")
    if args.command == "sync":
        return _sync(args, settings)
    if args.command == "search":
        if not 1 <= args.k <= 100:
            parser.error("--k must be between 1 and 100")
        return _search(args, settings)
    if args.command == "stats":
        return _stats(args, settings)
    if args.command == "export":
        return _export(args, settings)
    return _import(args, settings)


def _export(args: argparse.Namespace, settings: IndexSettings) -> int:
    from indexer import portable

    try:
        path = portable.export_knowledge(settings, args.archive)
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"export failed: {exc}\n")
        return 1
    print(f"Exported to {path}")
    return 0


def _import(args: argparse.Namespace, settings: IndexSettings) -> int:
    """0 imported; 1 the archive was refused or the import failed (a refused archive changes
    nothing; a failed refresh leaves the previous index serving); 3 another refresh is running."""
    from filelock import Timeout

    from indexer import portable
    from indexer.refresh import RefreshBusy

    try:
        result = portable.import_knowledge(settings, args.archive, force=args.force)
    except portable.ArchiveRefused as exc:
        sys.stderr.write(f"import refused: {exc}\n")
        return 1
    except (RefreshBusy, Timeout):
        sys.stderr.write("import failed: another refresh is running; try again when it has finished.\n")
        return 3
    except Exception as exc:
        sys.stderr.write(f"import failed, the previous index is still serving: {type(exc).__name__}: {exc}\n")
        return 1
    print(f"Imported: {result}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
