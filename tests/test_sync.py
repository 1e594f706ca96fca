"""Portal sync against real HTTP servers on 127.0.0.1 serving portal-like sites (an English portal
with a sitemap, robots.txt and a document library, a Vietnamese news site with an RSS feed, and a
host no source names). What is asserted is what staff see: the summary, the files under
synced/<name>/, the requests the portals received, and what a search then finds."""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from filelock import FileLock

from indexer.__main__ import main
from indexer.documents import load_all
from indexer.search import SearchEngine
from indexer.settings import IndexSettings
from indexer.store import Store
from indexer.sync import SourcesError, load_sources, sync
from tests.conftest import KNOWLEDGE, settings_env
from tests.portal_sites import (
    EN_ARTICLES,
    VI_ARTICLES,
    Article,
    Sites,
    build_sites,
    en_portal_page,
    sources_yaml,
)

pytestmark = pytest.mark.slow

FAST = {"SYNC_DELAY_S": "0.05", "SYNC_TIMEOUT_S": "1", "SYNC_MAX_MB": "1",
        "SYNC_USER_AGENT": "HaiPhongPolicyBot-test/1.0 (+mailto:it@example.org)"}
FTZ = EN_ARTICLES[0]
KOREA = VI_ARTICLES[1]


@pytest.fixture
def sites() -> Iterator[Sites]:
    s = build_sites()
    yield s
    s.stop()


@pytest.fixture
def knowledge(tmp_path: Path, sites: Sites) -> Path:
    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, folder)
    (folder / "sources.yaml").write_text(sources_yaml(sites), encoding="utf-8")
    return folder


@pytest.fixture
def env(data_dir: Path, knowledge: Path) -> dict[str, str]:
    return settings_env(data_dir, knowledge, **FAST)


@pytest.fixture
def index_settings(env: dict[str, str]) -> IndexSettings:
    return IndexSettings.from_env(env)


def sidecars(knowledge: Path) -> dict[str, dict]:
    """url -> sidecar, for every synced page."""
    out = {}
    for side in (knowledge / "synced").rglob("*.meta.yaml"):
        meta = yaml.safe_load(side.read_text(encoding="utf-8"))
        out[meta["source_url"]] = meta
    return out


def top(settings: IndexSettings, query: str) -> list:
    return SearchEngine(settings).search(query, k=3)


def test_first_sync_stores_the_portals_pages_and_the_bot_can_find_them(
        sites: Sites, knowledge: Path, index_settings: IndexSettings) -> None:
    summary = sync(index_settings, progress=False)

    # 2 English articles (sitemap), 2 Vietnamese ones (RSS), 1 PDF plan (document library listing)
    assert (summary.new, summary.fetched, summary.failed, summary.changed, summary.gone) == (5, 5, 0, 0, 0)
    assert summary.refresh is not None and summary.refresh["added"] == 5
    assert summary.refresh["unchanged"] == 8  # the hand-saved documents were not re-embedded
    stored = sidecars(knowledge)
    en, vi = sites.en.base_url, sites.vi.base_url
    assert set(stored) == {en + a.path for a in EN_ARTICLES} | {vi + a.path for a in VI_ARTICLES} | {
        en + "/documents/plan-45-ftz-promotion.pdf"}
    ftz = stored[en + FTZ.path]
    assert ftz["title"] == FTZ.title and ftz["published"] == FTZ.published
    assert ftz["url"] == en + FTZ.path and ftz["language"] == "en" and ftz["kind"] == "article"
    assert ftz["fetched"] and ftz["etag"] and ftz["hash"]
    assert stored[vi + KOREA.path]["language"] == "vi"
    assert stored[en + "/documents/plan-45-ftz-promotion.pdf"]["kind"] == "plan"
    assert list((knowledge / "synced" / "en-library").glob("*.pdf"))

    # main text only: no menu, footer or related-article chrome in what gets indexed
    docs = {d.doc_id: d for d in load_all(knowledge).documents if d.doc_id.startswith("synced/")}
    for doc in docs.values():
        for chrome in ("Copyright", "Related news", "Tin liên quan", "Giấy phép", "Đường dây nóng", "Tourism",
                       "Tiếng Việt"):
            assert chrome not in doc.text, (doc.doc_id, chrome)
    assert any("three working days" in d.text for d in docs.values())

    # never asked for: the /tag/ page (excluded), /private/ (robots.txt), the other host's page
    paths = {h.path for h in sites.en.requests()}
    assert "/tag/investment.html" not in paths and "/private/draft.html" not in paths
    assert sites.other.requests() == []
    reasons = {s["url"]: s["reason"] for s in summary.skipped}
    assert reasons[en + "/private/draft.html"] == "disallowed by robots.txt"
    assert "another host" in reasons[sites.other.base_url + "/elsewhere.html"]

    # polite: our user agent on every request, robots.txt first, one request at a time per host
    hits = sites.en.requests()
    assert hits[0].path == "/robots.txt"
    assert {h.headers["user-agent"] for h in hits} == {FAST["SYNC_USER_AGENT"]}
    gaps = [b.at - a.at for a, b in zip(hits, hits[1:], strict=False)]
    assert min(gaps) >= 0.04

    # the index answers from the synced pages, with their link and published date
    best = top(index_settings, "investment registration certificate free trade zone three working days")[0]
    assert best.url == en + FTZ.path and best.published == FTZ.published and best.fetched


def test_an_unchanged_site_is_answered_with_304s_and_nothing_is_re_embedded(
        sites: Sites, index_settings: IndexSettings) -> None:
    sync(index_settings, progress=False)
    sites.en.clear_log()
    sites.vi.clear_log()
    before = Store(index_settings).read_manifest()

    summary = sync(index_settings, progress=False)

    assert (summary.fetched, summary.new, summary.changed, summary.unchanged, summary.failed) == (0, 0, 0, 5, 0)
    assert summary.refresh is None  # nothing to re-embed: the index generation is the same one
    assert Store(index_settings).read_manifest() == before
    page_hits = [h for s in (sites.en, sites.vi) for h in s.requests()
                 if h.path.endswith((".html", ".pdf")) and "/private/" not in h.path]
    assert len(page_hits) == 5
    assert all(h.status == 304 and h.headers.get("if-none-match") for h in page_hits)


def test_a_changed_article_is_fetched_again_and_only_it_is_re_embedded(
        sites: Sites, knowledge: Path, index_settings: IndexSettings) -> None:
    sync(index_settings, progress=False)
    en = sites.en.base_url
    # chrome only (the related list) changes on one page: same text, not re-embedded
    sites.en.page(EN_ARTICLES[1].path, en_portal_page(EN_ARTICLES[1], en, []))
    # the article text changes on the other
    updated = Article(FTZ.path, FTZ.title, "2026-11-20", (
        FTZ.paragraphs[0], "The centre now issues investment registration certificates for free trade zone "
        "projects within two working days of receiving a complete application.", FTZ.paragraphs[2]))
    sites.en.page(FTZ.path, en_portal_page(updated, en, EN_ARTICLES[1:]))

    summary = sync(index_settings, progress=False)

    assert (summary.changed, summary.unchanged, summary.new, summary.failed) == (1, 4, 0, 0)
    assert summary.fetched == 2  # both pages' ETags changed; one's text did not
    assert summary.refresh is not None and summary.refresh["updated"] == 1
    assert 0 < summary.refresh["embedded_chunks"] <= 2
    assert sidecars(knowledge)[en + FTZ.path]["published"] == "2026-11-20"
    best = top(index_settings, "how many working days for an investment registration certificate in the free trade zone")[0]
    assert "two working days" in best.text and "three working days" not in best.text
    assert best.published == "2026-11-20"


def test_a_removed_article_goes_after_two_syncs_and_the_summary_names_it(
        sites: Sites, knowledge: Path, index_settings: IndexSettings, capsys: pytest.CaptureFixture[str],
        env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    sync(index_settings, progress=False)
    url = sites.vi.base_url + KOREA.path
    sites.vi.remove(KOREA.path)  # the article is taken down (404); the feed still lists it

    first = sync(index_settings, progress=False)
    assert first.gone == 0 and url in sidecars(knowledge)  # one 404 may be a hiccup: kept

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code = main(["sync", "--json"])
    second = json.loads(capsys.readouterr().out)
    assert code == 0
    assert second["gone"] == 1 and second["gone_pages"] == [url]
    assert url not in sidecars(knowledge)
    assert not list((knowledge / "synced" / "hp-news").glob("tin-tuc-doan-cong-tac*"))
    assert all(r.url != url for r in top(index_settings, "Đoàn công tác Hải Phòng làm việc tại Hàn Quốc"))


def test_broken_pages_fail_one_by_one_and_the_rest_is_synced(
        sites: Sites, knowledge: Path, env: dict[str, str], index_settings: IndexSettings,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    en = sites.en
    bad = {
        "/bad/loop-a.html": {"status": 302, "location": "/bad/loop-b.html"},
        "/bad/server-error.html": {"status": 500},
        "/bad/slow.html": {"delay": 3.0},
        "/bad/huge.html": {"endless_mb": 50},
        "/bad/data.json": {"content_type": "application/json"},
        "/bad/away.html": {"status": 301, "location": sites.other.base_url + "/elsewhere.html"},
    }
    en.page("/bad/loop-b.html", b"", status=302, location="/bad/loop-a.html")
    for path, options in bad.items():
        en.page(path, b'{"not": "a page"}' if path.endswith(".json") else
                en_portal_page(FTZ, en.base_url, []), **options)  # type: ignore[arg-type]
    en.page("/bad-sitemap.xml", "".join([
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
        *(f"<url><loc>{en.base_url}{p}</loc></url>" for p in bad), "</urlset>"]), "application/xml")
    sources = yaml.safe_load((knowledge / "sources.yaml").read_text(encoding="utf-8"))
    sources["sources"].append({"name": "broken", "type": "sitemap", "url": en.base_url + "/bad-sitemap.xml",
                               "language": "en", "source": "Broken portal", "kind": "article"})
    with socket.socket() as probe:  # a portal that is down: nothing listens on this port
        probe.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{probe.getsockname()[1]}"
    sources["sources"].append({"name": "down", "type": "sitemap", "url": down + "/sitemap.xml",
                               "language": "vi", "source": "A portal that is down"})
    (knowledge / "sources.yaml").write_text(yaml.safe_dump(sources), encoding="utf-8")
    before = Store(index_settings).read_manifest()

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code = main(["sync", "--json"])
    summary = json.loads(capsys.readouterr().out)

    assert code == 4  # some pages failed
    for field in ("fetched", "new", "changed", "unchanged", "gone", "failed"):
        assert isinstance(summary[field], int)
    reasons = {f["url"].removeprefix(en.base_url): f["reason"] for f in summary["failures"]}
    assert "redirect loop" in reasons["/bad/loop-a.html"]
    assert reasons["/bad/server-error.html"] == "HTTP 500"
    assert "timed out" in reasons["/bad/slow.html"]
    assert "1 MB limit" in reasons["/bad/huge.html"]
    assert "not a web page" in reasons["/bad/data.json"]
    assert "not named in sources.yaml" in reasons["/bad/away.html"]
    assert "robots.txt of 127.0.0.1" in reasons[down + "/sitemap.xml"]
    assert "network error" in reasons[down + "/sitemap.xml"]
    assert summary["failed"] == 7 and summary["new"] == 5  # the good portals are all in
    assert sites.other.requests() == []  # the off-host redirect was not followed
    assert not (knowledge / "synced" / "broken").exists() or not list((knowledge / "synced" / "broken").iterdir())
    after = Store(index_settings).read_manifest()
    assert after is not None and before is not None and after.collection != before.collection


def test_dry_run_fetches_no_page_and_changes_nothing(
        sites: Sites, knowledge: Path, env: dict[str, str], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, index_settings: IndexSettings) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    before = Store(index_settings).read_manifest()
    assert main(["sync", "--dry-run", "--source", "en-portal"]) == 0
    out = capsys.readouterr().out
    assert "would check " + sites.en.base_url + FTZ.path in out and "Dry run" in out
    assert {h.path for h in sites.en.requests()} == {"/robots.txt", "/sitemap.xml"}
    assert sites.vi.requests() == []
    assert not (knowledge / "synced").exists()
    assert Store(index_settings).read_manifest() == before


def test_exit_codes_busy_and_broken_sources(
        knowledge: Path, env: dict[str, str], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, index_settings: IndexSettings) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    lock = FileLock(str(index_settings.index_dir / "sync.lock"))
    with lock:
        assert main(["sync"]) == 3
    assert "Another sync" in capsys.readouterr().err
    with FileLock(str(index_settings.index_dir / "refresh.lock")):
        assert main(["sync"]) == 3
    assert "A refresh of the index is running" in capsys.readouterr().err

    before = Store(index_settings).read_manifest()
    (knowledge / "sources.yaml").write_text("sources:\n  - name: x\n    type: crawler\n", encoding="utf-8")
    assert main(["sync"]) == 1
    err = capsys.readouterr().err
    assert "previous index is still serving" in err and "'type' must be one of" in err
    assert Store(index_settings).read_manifest() == before
    assert main(["sync", "--source", "nope"]) == 1


@pytest.mark.parametrize(("text", "message"), [
    ("sources: 3", "must hold a 'sources:' list"),
    ("sources:\n  - {name: Bad Name, type: page, url: 'http://x', language: en, source: s}", "'name' must be"),
    ("sources:\n  - {name: a, type: page, url: 'ftp://x/y', language: en, source: s}", "'url' must be an http"),
    ("sources:\n  - {name: a, type: page, url: 'http://x', language: fr, source: s}", "'language' must be en or vi"),
    ("sources:\n  - {name: a, type: page, url: 'http://x', language: en}", "'source' must name"),
    ("sources:\n  - {name: a, type: page, url: 'http://x', language: en, source: s, include: ['(']}",
     "not a valid regular expression"),
    ("sources:\n  - {name: a, type: page, url: 'http://x', language: en, source: s, max_pages: 0}", "max_pages"),
    ("sources:\n  - {name: a, type: page, url: 'http://x', language: en, source: s, depth: 3}", "unknown field"),
    ("sources:\n  - {name: a, type: page, url: 'http://x', language: en, source: s}\n"
     "  - {name: a, type: page, url: 'http://y', language: en, source: s}", "two sources are named"),
])
def test_sources_yaml_mistakes_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourcesError, match=message.replace("(", r"\(").replace("'", "'")):
        load_sources(path)


def test_the_issue_example_entry_is_read_as_written(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text("""sources:
  - name: en-portal                 # a short id; pages are stored under synced/<name>/
    type: sitemap                   # sitemap | feed (RSS/Atom) | page (one URL) | listing (links on an index page)
    url: https://en.haiphong.gov.vn/sitemap.xml
    include: ["/news/", "\\\\.html$"]   # regular expressions a page URL must match (any); empty = all
    exclude: ["/tag/"]              # regular expressions that drop a URL
    language: en                    # en | vi, applied to every page
    source: "Hai Phong Portal (en.haiphong.gov.vn)"
    kind: article                   # the document kind, as in front matter
    max_pages: 500                  # optional
""", encoding="utf-8")
    [source] = load_sources(path)
    assert source.host == "en.haiphong.gov.vn" and source.max_pages == 500
    assert source.wants("https://en.haiphong.gov.vn/news/a.html")
    assert not source.wants("https://en.haiphong.gov.vn/tag/news/a.html")
    assert not source.wants("https://en.haiphong.gov.vn/about")
