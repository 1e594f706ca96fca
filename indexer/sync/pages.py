"""Synced pages as documents under `synced/<name>/` in the knowledge folder: the fetched HTML, PDF
or DOCX file plus a `<file>.meta.yaml` sidecar (url, title, published, fetched, etag, hash...), so
staff can read, correct or delete what the bot answers from. trafilatura extracts the main text,
title, date and canonical link of HTML pages."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from indexer.fileio import write_atomic
from indexer.sync.sources import Source, host_of

SIDECAR = ".meta.yaml"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class NotADocument(ValueError):
    """The body is neither a web page nor a PDF/DOCX document; str(exc) says what it is."""


@dataclass
class StoredPage:
    path: Path  # the document file
    meta: dict[str, Any]

    @property
    def sidecar(self) -> Path:
        return self.path.with_name(self.path.name + SIDECAR)

    @property
    def source_url(self) -> str:
        return str(self.meta.get("source_url") or self.meta.get("url") or "")

    def save_meta(self) -> None:
        write_atomic(self.sidecar, yaml.safe_dump(self.meta, allow_unicode=True, sort_keys=False).encode("utf-8"))

    def delete(self) -> None:
        self.path.unlink(missing_ok=True)
        self.sidecar.unlink(missing_ok=True)


@dataclass(frozen=True)
class Page:
    """A fetched body made ready to store: its file type, text hash and extracted metadata."""

    suffix: str  # .html | .pdf | .docx
    body: bytes
    hash: str
    meta: dict[str, str]


def stored_pages(folder: Path) -> dict[str, StoredPage]:
    """The pages already synced into `folder`, by the URL they were fetched from."""
    pages: dict[str, StoredPage] = {}
    if not folder.is_dir():
        return pages
    for side in sorted(folder.glob("*" + SIDECAR)):
        try:
            meta = yaml.safe_load(side.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, OSError, UnicodeDecodeError):
            continue
        if not isinstance(meta, dict):
            continue
        page = StoredPage(side.with_name(side.name[: -len(SIDECAR)]), meta)
        if page.source_url and page.path.exists():
            pages[page.source_url] = page
    return pages


def file_name(url: str, suffix: str) -> str:
    """A readable, unique file name for a URL: its path as a slug plus a short hash."""
    parts = urlsplit(url)
    stem = re.sub(r"\.(html?|php|aspx?|jsp|pdf|docx)$", "", parts.path, flags=re.IGNORECASE)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", stem).strip("-").lower()[:80] or "index"
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:8]
    return f"{slug}-{digest}{suffix}"


def _kind_of(body: bytes, content_type: str) -> str:
    ctype = content_type.split(";")[0].strip().lower()
    if body.startswith(b"%PDF-") or ctype == "application/pdf":
        if not body.startswith(b"%PDF-"):
            raise NotADocument("said to be a PDF but is not one")
        return ".pdf"
    if ctype == _DOCX or (body.startswith(b"PK\x03\x04") and b"word/" in body[:4000]):
        return ".docx"
    head = body[:2048].lstrip().lower()
    if ctype in ("text/html", "application/xhtml+xml") or head.startswith((b"<!doctype html", b"<html")):
        if b"\x00" in body[:4096]:
            raise NotADocument("said to be HTML but is binary")
        return ".html"
    raise NotADocument(f"not a web page or a PDF/DOCX document ({ctype or 'no content type'}); not stored")


def prepare(body: bytes, content_type: str, url: str) -> Page:
    """Check the body and extract what the sidecar records. Raises NotADocument."""
    suffix = _kind_of(body, content_type)
    meta: dict[str, str] = {}
    if suffix != ".html":
        return Page(suffix, body, hashlib.sha256(body).hexdigest()[:16], meta)
    import trafilatura

    html = body.decode("utf-8", errors="replace")
    doc = trafilatura.bare_extraction(html, url=url, include_comments=False, include_tables=True,
                                      with_metadata=True, favor_precision=True)
    text = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    if not text:
        raise NotADocument("no main text found in the page; not stored")
    if doc.title:
        meta["title"] = str(doc.title).strip()
    if doc.date and _ISO_DATE.match(str(doc.date)):
        meta["published"] = str(doc.date)
    canonical = str(doc.url or "")
    if canonical.startswith(("http://", "https://")) and host_of(canonical) == host_of(url):
        meta["url"] = canonical
    return Page(suffix, body, hashlib.sha256(text.encode("utf-8")).hexdigest()[:16], meta)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def store(folder: Path, source: Source, url: str, page: Page, etag: str, last_modified: str,
          prior: StoredPage | None) -> StoredPage:
    """Write the fetched file and its sidecar (the file first, then the sidecar, each atomically)."""
    path = folder / file_name(url, page.suffix)
    meta: dict[str, Any] = {
        "url": page.meta.get("url") or url,
        "title": page.meta.get("title", ""),
        "published": page.meta.get("published", ""),
        "fetched": now_iso(),
        "language": source.language,
        "source": source.source,
        "kind": source.kind,
        "source_url": url,
        "etag": etag,
        "last_modified": last_modified,
        "hash": page.hash,
    }
    if not meta["title"]:
        del meta["title"]  # PDF/DOCX: the loader reads the document's own title
    write_atomic(path, page.body)
    stored = StoredPage(path, meta)
    stored.save_meta()
    if prior is not None and prior.path != path:
        prior.delete()
    return stored
