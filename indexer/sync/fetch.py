"""A polite, bounded HTTP fetcher for the portal sync.

Only http(s), only the hosts the sources name, robots.txt obeyed (RFC 9309: a missing robots.txt
allows everything, an unreachable one allows nothing), one request at a time with SYNC_DELAY_S (or
the site's Crawl-delay, if longer) between two requests to one host, a SYNC_USER_AGENT, conditional
GET, timeouts, a size limit and a bounded number of redirects, each hop checked like the first URL.
"""

from __future__ import annotations

import time
import urllib.robotparser
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from indexer.settings import IndexSettings
from indexer.sync.sources import host_of

REDIRECTS = (301, 302, 303, 307, 308)
ROBOTS_MAX_BYTES = 512 * 1024


class FetchError(Exception):
    """The URL could not be fetched; str(exc) is the reason a staff member reads."""


class Disallowed(FetchError):
    """robots.txt (or the host rule) forbids this URL: not an error of the site."""


@dataclass(frozen=True)
class Response:
    url: str  # after redirects
    status: int  # 200, 304, 404 or 410 (any other status raises FetchError)
    body: bytes = b""
    content_type: str = ""
    etag: str = ""
    last_modified: str = ""


def clean_url(url: str) -> str:
    """The URL without its fragment (a #part names the same page)."""
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, ""))


class Fetcher:
    def __init__(self, settings: IndexSettings, hosts: set[str], client: httpx.Client | None = None) -> None:
        self.settings = settings
        self.hosts = {h.lower() for h in hosts}
        self.max_bytes = int(settings.sync_max_mb * 1024 * 1024)
        self.client = client or httpx.Client(
            timeout=httpx.Timeout(settings.sync_timeout_s), follow_redirects=False,
            headers={"User-Agent": settings.sync_user_agent}, trust_env=False)
        self._own_client = client is None
        self._last: dict[str, float] = {}
        self._robots: dict[str, urllib.robotparser.RobotFileParser | str] = {}  # parser, or why not
        self.requests = 0

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- rules ----------------------------------------------------------------------------------
    def check(self, url: str) -> None:
        """Raise Disallowed unless the URL is http(s) on a named host and robots.txt allows it;
        FetchError when robots.txt cannot be read (then nothing is fetched from that host)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise Disallowed(f"not an http(s) address: {url[:200]}")
        host = host_of(url)
        if host not in self.hosts:
            raise Disallowed(f"{host or 'no host'} is not a host named in sources.yaml; not fetched")
        robots = self._robots_for(url)
        if isinstance(robots, str):
            raise FetchError(f"robots.txt of {host} could not be read ({robots}); nothing is fetched from it")
        if not robots.can_fetch(self.settings.sync_user_agent, url):
            raise Disallowed("disallowed by robots.txt")

    def _robots_for(self, url: str) -> urllib.robotparser.RobotFileParser | str:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc.lower()}"
        if key not in self._robots:
            self._robots[key] = self._read_robots(key + "/robots.txt")
        return self._robots[key]

    def _read_robots(self, robots_url: str) -> urllib.robotparser.RobotFileParser | str:
        parser = urllib.robotparser.RobotFileParser(robots_url)
        try:
            status, body, _headers, _final = self._request(robots_url, {}, ROBOTS_MAX_BYTES)
            hops = 0
            while status in REDIRECTS and hops < self.settings.sync_max_redirects:
                location = urljoin(robots_url, _headers.get("location", ""))
                if host_of(location) not in self.hosts:
                    break
                status, body, _headers, _final = self._request(location, {}, ROBOTS_MAX_BYTES)
                hops += 1
        except FetchError as exc:
            return str(exc)
        if 200 <= status < 300:
            parser.parse(body.decode("utf-8", errors="replace").splitlines())
        elif 400 <= status < 500:
            parser.parse([])  # no robots.txt: everything is allowed
        else:
            return f"HTTP {status}"  # unreachable: RFC 9309 says assume everything is disallowed
        return parser

    def _wait_turn(self, url: str) -> None:
        host = host_of(url)
        delay = self.settings.sync_delay_s
        robots = self._robots.get(f"{urlsplit(url).scheme}://{urlsplit(url).netloc.lower()}")
        if robots is not None and not isinstance(robots, str):
            crawl_delay = robots.crawl_delay(self.settings.sync_user_agent)
            if crawl_delay:
                delay = max(delay, min(float(crawl_delay), 60.0))
        last = self._last.get(host)
        if last is not None:
            wait = last + delay - time.monotonic()
            if wait > 0:
                time.sleep(wait)

    # -- requests -------------------------------------------------------------------------------
    def _request(self, url: str, headers: dict[str, str], limit: int) -> tuple[int, bytes, httpx.Headers, str]:
        """One GET, body read up to `limit` bytes. Raises FetchError on network trouble."""
        self._wait_turn(url)
        self.requests += 1
        timeout = self.settings.sync_timeout_s
        deadline = time.monotonic() + 4 * timeout
        try:
            with self.client.stream("GET", url, headers=headers) as response:
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise FetchError(f"larger than the {limit / 1048576:g} MB limit "
                                     f"({int(declared) / 1048576:.1f} MB declared); not downloaded")
                chunks: list[bytes] = []
                size = 0
                if response.status_code == 200:
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > limit:
                            raise FetchError(f"larger than the {limit / 1048576:g} MB limit; download stopped")
                        if time.monotonic() > deadline:
                            raise FetchError(f"took longer than {4 * timeout:g} s to download; stopped")
                        chunks.append(chunk)
                return response.status_code, b"".join(chunks), response.headers, str(response.url)
        except httpx.TimeoutException as exc:
            raise FetchError(f"timed out (no answer within {timeout:g} s)") from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"network error: {type(exc).__name__}: {str(exc)[:200]}") from exc
        finally:
            self._last[host_of(url)] = time.monotonic()

    def get(self, url: str, etag: str = "", last_modified: str = "") -> Response:
        """Fetch a page (conditionally, when etag or last_modified is given). Raises Disallowed or
        FetchError with the reason."""
        seen: set[str] = set()
        current = clean_url(url)
        conditional: dict[str, str] = {}
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified
        for _hop in range(self.settings.sync_max_redirects + 1):
            self.check(current)
            seen.add(current)
            status, body, headers, _final = self._request(current, conditional, self.max_bytes)
            if status in REDIRECTS:
                location = headers.get("location", "")
                if not location:
                    raise FetchError(f"HTTP {status} redirect without a Location")
                target = clean_url(urljoin(current, location))
                if target in seen:
                    raise FetchError(f"redirect loop ({current} → {target})")
                if host_of(target) not in self.hosts or urlsplit(target).scheme not in ("http", "https"):
                    raise FetchError(f"redirects to {host_of(target) or target[:100]}, a host not named in "
                                     "sources.yaml; not followed")
                current = target
                continue
            if status in (200, 304, 404, 410):
                return Response(current, status, body, headers.get("content-type", ""),
                                headers.get("etag", ""), headers.get("last-modified", ""))
            raise FetchError(f"HTTP {status}")
        raise FetchError(f"more than {self.settings.sync_max_redirects} redirects")
