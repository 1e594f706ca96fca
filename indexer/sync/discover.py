"""Which page URLs a source names: a sitemap (and the sitemaps it lists), an RSS/Atom feed, the
links of a listing page, or one page. trafilatura reads sitemaps and feeds; the links of a listing
page come from lxml. Our fetcher downloads everything (robots.txt, delay, limits), and only URLs on
the source's own host that pass its include/exclude patterns are kept: a link to anywhere else is
noted and never fetched."""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import lxml.html
from trafilatura.feeds import FeedParameters, find_links
from trafilatura.sitemaps import DETECT_SITEMAP_LINK, SitemapObject

from indexer.sync.fetch import Fetcher, FetchError, clean_url
from indexer.sync.sources import Source, host_of

MAX_SITEMAPS = 50


@dataclass
class Discovery:
    urls: list[str] = field(default_factory=list)
    off_host: list[str] = field(default_factory=list)  # links to hosts the source does not name


class _Sitemap(SitemapObject):
    """trafilatura's sitemap reader, keeping every location: our own rules decide what to fetch."""

    __slots__ = ()

    def handle_link(self, link: str) -> None:
        if link == self.current_url:
            return
        absolute = urljoin(self.base_url, link.strip())
        if DETECT_SITEMAP_LINK.search(absolute):
            self.sitemap_urls.append(absolute)
        else:
            self.urls.append(absolute)


def _text(body: bytes) -> str:
    if body[:2] == b"\x1f\x8b":  # a .xml.gz sitemap
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError):
            return ""
    return body.decode("utf-8", errors="replace")


def _sitemap_links(source: Source, fetcher: Fetcher) -> list[str]:
    parts = urlsplit(source.url)
    reader = _Sitemap(f"{parts.scheme}://{parts.netloc}", parts.hostname or "", [source.url])
    pages: list[str] = []
    done: set[str] = set()
    while reader.sitemap_urls and len(done) < MAX_SITEMAPS:
        url = clean_url(reader.sitemap_urls.pop(0))
        if url in done or host_of(url) != source.host:
            continue
        done.add(url)
        try:
            response = fetcher.get(url)
        except FetchError:
            if url == clean_url(source.url):
                raise
            continue  # a broken nested sitemap: the others still count
        if response.status != 200:
            if url == clean_url(source.url):
                raise FetchError(f"the sitemap answered HTTP {response.status}")
            continue
        reader.current_url = url
        reader.content = _text(response.body)
        reader.urls = []
        reader.process()
        pages.extend(reader.urls)
    return pages


def _feed_links(source: Source, fetcher: Fetcher) -> list[str]:
    response = fetcher.get(source.url)
    if response.status != 200:
        raise FetchError(f"the feed answered HTTP {response.status}")
    parts = urlsplit(response.url)
    params = FeedParameters(f"{parts.scheme}://{parts.netloc}", parts.hostname or "", response.url)
    return [urljoin(response.url, link) for link in find_links(_text(response.body).strip(), params)]


def _listing_links(source: Source, fetcher: Fetcher) -> list[str]:
    response = fetcher.get(source.url)
    if response.status != 200:
        raise FetchError(f"the listing page answered HTTP {response.status}")
    try:
        tree = lxml.html.document_fromstring(response.body)
    except (ValueError, lxml.etree.ParserError) as exc:
        raise FetchError(f"the listing page is not HTML ({exc})") from exc
    tree.make_links_absolute(response.url, resolve_base_href=True)
    return [link for element, attribute, link, _pos in tree.iterlinks()
            if element.tag == "a" and attribute == "href"]


def discover(source: Source, fetcher: Fetcher) -> Discovery:
    """The page URLs of a source, in the order the source lists them, at most max_pages.
    Raises FetchError when the sitemap, feed or listing page cannot be read."""
    if source.type == "sitemap":
        links = _sitemap_links(source, fetcher)
    elif source.type == "feed":
        links = _feed_links(source, fetcher)
    elif source.type == "listing":
        links = _listing_links(source, fetcher)
    else:
        links = [source.url]
    found = Discovery()
    seen: set[str] = set()
    listing = clean_url(source.url)
    for link in links:
        if urlsplit(link).scheme not in ("http", "https"):
            continue  # mailto:, javascript:, tel:
        url = clean_url(link)
        if url in seen or (url == listing and source.type != "page"):
            continue
        if source.type == "feed" and urlsplit(url).path == "/" and not urlsplit(url).query:
            continue  # the feed's channel link: the site's home page, not an article
        seen.add(url)
        if host_of(url) != source.host:
            found.off_host.append(url)
        elif source.wants(url) and len(found.urls) < source.max_pages:
            found.urls.append(url)
    return found
