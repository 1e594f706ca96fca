"""`sources.yaml` in the knowledge folder: the portals staff name once, read and checked here.

Every entry is checked before anything is fetched; a mistake stops the sync with a message that
names the entry and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

TYPES = ("sitemap", "feed", "page", "listing")
LANGUAGES = ("en", "vi")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_FIELDS = {"name", "type", "url", "include", "exclude", "language", "source", "kind", "max_pages"}
DEFAULT_MAX_PAGES = 500


class SourcesError(ValueError):
    """sources.yaml is missing a field or holds a wrong value; the message says where."""


@dataclass(frozen=True)
class Source:
    name: str
    type: str
    url: str
    include: tuple[re.Pattern[str], ...]
    exclude: tuple[re.Pattern[str], ...]
    language: str
    source: str
    kind: str = "article"
    max_pages: int = DEFAULT_MAX_PAGES

    @property
    def host(self) -> str:
        """The one host (with its port) this source may fetch from."""
        return host_of(self.url)

    def wants(self, url: str) -> bool:
        """The URL matches an include pattern (or there are none) and no exclude pattern."""
        if self.include and not any(p.search(url) for p in self.include):
            return False
        return not any(p.search(url) for p in self.exclude)


def host_of(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(parts.scheme)
    try:
        port = parts.port
    except ValueError:
        return ""
    return host if port in (None, default) else f"{host}:{port}"


def _patterns(value: object, where: str) -> tuple[re.Pattern[str], ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SourcesError(f"{where}: must be a list of regular expressions (strings)")
    out = []
    for pattern in value:
        try:
            out.append(re.compile(pattern))
        except re.error as exc:
            raise SourcesError(f"{where}: {pattern!r} is not a valid regular expression ({exc})") from exc
    return tuple(out)


def _source(entry: object, index: int) -> Source:
    where = f"sources.yaml, entry {index + 1}"
    if not isinstance(entry, dict):
        raise SourcesError(f"{where}: must be a mapping with name, type, url, language, source")
    name = str(entry.get("name") or "").strip()
    if not _NAME.match(name):
        raise SourcesError(f"{where}: 'name' must be a short id of a-z, 0-9, - and _ (got {name!r})")
    where = f"sources.yaml, source {name!r}"
    unknown = sorted(set(map(str, entry)) - _FIELDS)
    if unknown:
        raise SourcesError(f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(_FIELDS))}")
    kind_of = str(entry.get("type") or "").strip()
    if kind_of not in TYPES:
        raise SourcesError(f"{where}: 'type' must be one of {', '.join(TYPES)} (got {kind_of!r})")
    url = str(entry.get("url") or "").strip()
    if urlsplit(url).scheme not in ("http", "https") or not host_of(url):
        raise SourcesError(f"{where}: 'url' must be an http:// or https:// address (got {url!r})")
    language = str(entry.get("language") or "").strip().lower()
    if language not in LANGUAGES:
        raise SourcesError(f"{where}: 'language' must be en or vi (got {language!r})")
    label = str(entry.get("source") or "").strip()
    if not label:
        raise SourcesError(f"{where}: 'source' must name the publisher, e.g. \"Hai Phong Portal (en.haiphong.gov.vn)\"")
    max_pages = entry.get("max_pages", DEFAULT_MAX_PAGES)
    if isinstance(max_pages, bool) or not isinstance(max_pages, int) or not 1 <= max_pages <= 100_000:
        raise SourcesError(f"{where}: 'max_pages' must be a whole number from 1 to 100000 (got {max_pages!r})")
    return Source(
        name=name, type=kind_of, url=url,
        include=_patterns(entry.get("include"), f"{where}, include"),
        exclude=_patterns(entry.get("exclude"), f"{where}, exclude"),
        language=language, source=label, kind=str(entry.get("kind") or "article").strip() or "article",
        max_pages=max_pages,
    )


def load_sources(path: Path) -> list[Source]:
    """The sources named in sources.yaml; an absent file means none. Raises SourcesError."""
    if not path.exists():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SourcesError(f"sources.yaml is not valid YAML: {exc}") from exc
    if data is None:
        return []
    if not isinstance(data, dict) or not isinstance(data.get("sources", []), list):
        raise SourcesError("sources.yaml must hold a 'sources:' list")
    sources = [_source(entry, i) for i, entry in enumerate(data.get("sources") or [])]
    seen: set[str] = set()
    for s in sources:
        if s.name in seen:
            raise SourcesError(f"sources.yaml: two sources are named {s.name!r}; names must be unique")
        seen.add(s.name)
    return sources
