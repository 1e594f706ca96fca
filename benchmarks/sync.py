"""Portal sync benchmark: a synthetic portal of N article pages (default 500) behind a sitemap,
served on 127.0.0.1 in the English portal layout (menu, related articles, footer); a first sync,
then a re-sync after 1% of the articles changed. Reports pages/s of the fetch-and-store phase,
the refresh (embedding) time and how many pages and chunks were re-embedded.

    python benchmarks/sync.py [--pages 500] [--changed 0.01] [--delay 0]

SYNC_DELAY_S is 0 here (a local server); against a real portal the delay (default 1 s) bounds the
rate at about one page a second per host.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from pathlib import Path

from _common import ROOT, table

from indexer.settings import IndexSettings
from indexer.sync import sync
from tests.portal_server import PortalServer
from tests.portal_sites import Article, en_portal_page, sitemap

_VOCABULARY = ("investment port logistics free trade zone Hai Phong city committee project capital "
         "enterprise Japan Korea partners industrial park certificate registration incentives "
         "infrastructure seaport Lach Huyen Dinh Vu green energy training workforce export "
         "customs procedure resolution mechanism delegation cooperation agreement conference")
WORDS = _VOCABULARY.split(" ")


def article(i: int, version: int = 0) -> Article:
    rng = random.Random(i * 1000 + version)
    paragraphs = tuple(
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 70))).capitalize() + "."
        for _ in range(3))
    return Article(f"/news/article-{i:04d}.html", f"Hai Phong news {i}: {rng.choice(WORDS)} {rng.choice(WORDS)}",
                   f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}", paragraphs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--changed", type=float, default=0.01, help="share of articles changed before the re-sync")
    parser.add_argument("--delay", type=float, default=0.0, help="SYNC_DELAY_S")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    knowledge = work / "knowledge"
    knowledge.mkdir()
    shutil.copy(ROOT / "knowledge" / "glossary.yaml", knowledge)
    with PortalServer() as site:
        articles = [article(i) for i in range(args.pages)]
        for a in articles:
            site.page(a.path, en_portal_page(a, site.base_url, articles[max(0, articles.index(a) - 3):][:3]))
        site.page("/sitemap.xml", sitemap(site.base_url, [a.path for a in articles]), "application/xml")
        site.page("/robots.txt", "User-agent: *\nDisallow: /private/\n", "text/plain")
        (knowledge / "sources.yaml").write_text(f"""sources:
  - name: bench
    type: sitemap
    url: {site.base_url}/sitemap.xml
    include: ["/news/"]
    language: en
    source: "Synthetic portal"
    max_pages: {args.pages}
""", encoding="utf-8")
        settings = IndexSettings.from_env({"DATA_DIR": str(work / "data"), "KNOWLEDGE_DIR": str(knowledge),
                                           "SYNC_DELAY_S": str(args.delay)})
        rows = []
        for label in ("first sync", f"re-sync, {args.changed:.0%} changed"):
            if label != "first sync":
                changed = random.Random(7).sample(range(args.pages), max(1, round(args.pages * args.changed)))
                for i in changed:
                    a = article(i, version=1)
                    site.page(a.path, en_portal_page(a, site.base_url, []))
            site.clear_log()
            started = time.perf_counter()
            summary = sync(settings, progress=False)
            total = time.perf_counter() - started
            refresh = summary.refresh or {}
            fetch_phase = max(total - float(refresh.get("seconds", 0.0)), 1e-9)
            checked = summary.fetched + summary.unchanged
            not_modified = sum(1 for h in site.requests() if h.status == 304)
            rows.append([label, checked, summary.fetched, not_modified, summary.new + summary.changed,
                         f"{checked / fetch_phase:.1f}", refresh.get("added", 0) + refresh.get("updated", 0),
                         refresh.get("embedded_chunks", 0), f"{float(refresh.get('seconds', 0.0)):.1f}",
                         f"{total:.1f}", summary.failed])
    print(table(["run", "pages checked", "200s", "304s", "stored", "pages/s (fetch+store)", "docs re-embedded",
                 "chunks embedded", "refresh s (embedding)", "total s", "failed"], rows))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
