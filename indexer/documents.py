"""Loaders: files in the knowledge folder -> Document values with citation metadata.

Markdown and text files carry a YAML front matter (title, url, published, language, source, kind,
optional translation_of and unofficial_translation). HTML, PDF and DOCX files take what they state
themselves, and a sidecar `<file>.meta.yaml` may add or correct any field. A file that cannot be
read is reported with the reason; the caller indexes the rest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

import frontmatter
import yaml

from indexer.text import has_vietnamese_marks, squash

SUPPORTED = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx")
MAX_FILE_BYTES = 50 * 1024 * 1024
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Sync bookkeeping in a synced page's sidecar: not part of the document (a new ETag alone must
# not re-embed a page whose text is the same).
_BOOKKEEPING = {"source_url", "etag", "last_modified", "hash", "misses"}
# Anything a browser or chat client could read differently from what staff see: whitespace,
# control characters, quotes and angle brackets.
_UNSAFE_URL_CHARS = re.compile(r"[\s\x00-\x1f\x7f\"'<>\\`]")


class UnreadableDocument(Exception):
    """The file cannot be turned into a document; str(exc) says why."""


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    text: str
    url: str = ""
    published: str = ""
    language: str = "en"
    source: str = ""
    kind: str = "article"
    translation_of: str | None = None
    unofficial_translation: bool = False
    extra: dict[str, str] = field(default_factory=dict)
    fetched: str = ""  # when a synced page was fetched (ISO time); empty for documents saved by hand

    @property
    def content_hash(self) -> str:
        """Changes whenever the text or any citation field changes."""
        fields = asdict(self)
        if not fields["fetched"]:
            del fields["fetched"]  # documents saved by hand keep the hash they had before sync existed
        payload = json.dumps(fields, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


def guess_language(text: str) -> str:
    """Document-level language: Vietnamese when a fair share of words carry Vietnamese marks."""
    words = text.split()
    if not words:
        return "en"
    marked = sum(1 for w in words[:2000] if has_vietnamese_marks(w))
    return "vi" if marked / min(len(words), 2000) > 0.15 else "en"


def _as_date(value: object, where: str) -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if not _ISO_DATE.match(text):
        raise UnreadableDocument(f"{where}: 'published' must be an ISO date (YYYY-MM-DD), got {text!r}")
    try:
        dt.date.fromisoformat(text)
    except ValueError as exc:
        raise UnreadableDocument(f"{where}: 'published' is not a real date: {text!r}") from exc
    return text


def _first_heading(text: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line.lstrip("#").strip()[:200]
    return ""


def _build(path: Path, root: Path, text: str, meta: dict[str, object]) -> Document:
    where = path.name
    text = text.replace("\r\n", "\n").replace("\x00", "")
    if not squash(text):
        raise UnreadableDocument(f"{where}: no text could be extracted")
    language = str(meta.get("language") or guess_language(text)).strip().lower()
    if language not in ("en", "vi"):
        raise UnreadableDocument(f"{where}: 'language' must be en or vi, got {language!r}")
    known = {"title", "url", "published", "language", "source", "kind", "translation_of",
             "unofficial_translation", "fetched"} | _BOOKKEEPING
    extra = {str(k): str(v) for k, v in meta.items() if k not in known and v is not None}
    translation_of = meta.get("translation_of")
    return Document(
        doc_id=path.relative_to(root).as_posix(),
        title=squash(str(meta.get("title") or _first_heading(text) or path.stem)),
        text=text.strip(),
        url=str(meta.get("url") or "").strip(),
        published=_as_date(meta.get("published"), where),
        language=language,
        source=str(meta.get("source") or "").strip(),
        kind=str(meta.get("kind") or "article").strip(),
        translation_of=str(translation_of).strip() if translation_of else None,
        unofficial_translation=bool(meta.get("unofficial_translation", False)),
        extra=extra,
        fetched=str(meta.get("fetched") or "").strip(),
    )


def _sidecar(path: Path) -> dict[str, object]:
    side = path.with_name(path.name + ".meta.yaml")
    if not side.exists():
        return {}
    data = yaml.safe_load(side.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise UnreadableDocument(f"{side.name}: must be a YAML mapping of metadata fields")
    return data


def _load_markdown(path: Path) -> tuple[str, dict[str, object]]:
    raw = path.read_bytes()
    try:
        decoded = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableDocument(f"{path.name}: not UTF-8 text ({exc.reason})") from exc
    try:
        post = frontmatter.loads(decoded)
    except yaml.YAMLError as exc:
        raise UnreadableDocument(f"{path.name}: front matter is not valid YAML ({exc})") from exc
    return post.content, dict(post.metadata)


def _load_html(path: Path) -> tuple[str, dict[str, object]]:
    import trafilatura

    html = path.read_bytes().decode("utf-8", errors="replace")
    doc = trafilatura.bare_extraction(html, include_comments=False, include_tables=True,
                                      with_metadata=True, favor_precision=True)
    if doc is None or not getattr(doc, "text", None):
        raise UnreadableDocument(f"{path.name}: no main text found in the HTML page")
    meta: dict[str, object] = {}
    if doc.title:
        meta["title"] = doc.title
    if doc.date and _ISO_DATE.match(doc.date):
        meta["published"] = doc.date
    if doc.url:
        meta["url"] = doc.url
    if doc.sitename:
        meta["source"] = doc.sitename
    return doc.text, meta


def _load_pdf(path: Path) -> tuple[str, dict[str, object]]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(path.read_bytes()))
        if reader.is_encrypted:
            raise UnreadableDocument(f"{path.name}: the PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
    except UnreadableDocument:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise UnreadableDocument(f"{path.name}: not a readable PDF ({exc})") from exc
    meta: dict[str, object] = {}
    info_title = (reader.metadata or {}).get("/Title") if reader.metadata else None
    if info_title:
        meta["title"] = str(info_title)
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise UnreadableDocument(f"{path.name}: the PDF has no extractable text (scanned image?)")
    return text, meta


def _load_docx(path: Path) -> tuple[str, dict[str, object]]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise UnreadableDocument(f"{path.name}: not a readable DOCX file ({exc})") from exc
    except Exception as exc:  # zipfile.BadZipFile and lxml errors surface here
        raise UnreadableDocument(f"{path.name}: not a readable DOCX file ({exc})") from exc
    paragraphs = [p.text.strip() for p in document.paragraphs if p.text.strip()]
    meta: dict[str, object] = {}
    props = document.core_properties
    if props.title:
        meta["title"] = props.title
    if props.created:
        meta["published"] = props.created.date().isoformat()
    return "\n\n".join(paragraphs), meta


_LOADERS = {
    ".md": _load_markdown, ".markdown": _load_markdown, ".txt": _load_markdown,
    ".html": _load_html, ".htm": _load_html, ".pdf": _load_pdf, ".docx": _load_docx,
}


def load_file(path: Path, root: Path) -> Document:
    """Read one file; raises UnreadableDocument with the reason."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise UnreadableDocument(f"{path.name}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
        text, meta = _LOADERS[path.suffix.lower()](path)
        meta.update(_sidecar(path))
    except OSError as exc:
        raise UnreadableDocument(f"{path.name}: cannot be read ({exc.strerror or exc})") from exc
    return _build(path, root, text, meta)


def discover(root: Path) -> list[Path]:
    """Document files under the knowledge folder, in a stable order."""
    if not root.is_dir():
        return []
    return sorted(
        p for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in SUPPORTED and not p.name.startswith((".", "_"))
        and p.name.lower() != "readme.md"
    )


@dataclass
class Loaded:
    documents: list[Document]
    skipped: list[Skipped]
    warnings: list[str]


def load_all(root: Path, paths: Iterable[Path] | None = None) -> Loaded:
    """Every readable document under root, the files skipped with their reasons, and warnings."""
    docs: list[Document] = []
    skipped: list[Skipped] = []
    for path in paths if paths is not None else discover(root):
        try:
            docs.append(load_file(path, root))
        except UnreadableDocument as exc:
            skipped.append(Skipped(path.relative_to(root).as_posix(), str(exc)))
    warnings = _check_links(docs)
    return Loaded(docs, skipped, warnings + _resolve_translations(docs))


def citable_url(url: str) -> bool:
    """Only http(s) links to a host are cited (no javascript:, data:, file:, mailto: ...)."""
    if not url or _UNSAFE_URL_CHARS.search(url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _check_links(docs: list[Document]) -> list[str]:
    """Drop every link that is not a plain http(s) URL, with a warning naming the file."""
    warnings: list[str] = []
    for i, doc in enumerate(docs):
        if doc.url and not citable_url(doc.url):
            warnings.append(f"{doc.doc_id}: url {doc.url[:80]!r} is not an http(s) link; indexed without a link")
            docs[i] = replace(doc, url="")
    return warnings


def _resolve_translations(docs: list[Document]) -> list[str]:
    """Point translation_of at a loaded doc_id; a link to nothing is dropped with a warning."""
    known = {d.doc_id for d in docs}
    by_name = {Path(d.doc_id).name: d.doc_id for d in docs}
    warnings: list[str] = []
    for i, doc in enumerate(docs):
        target = doc.translation_of
        if not target:
            continue
        resolved = target if target in known else by_name.get(Path(target).name)
        if resolved is None or resolved == doc.doc_id:
            warnings.append(f"{doc.doc_id}: translation_of names {target!r}, which is not in the "
                            "knowledge base; indexed without the link")
            resolved = None
        if resolved != target:
            docs[i] = replace(doc, translation_of=resolved)
    return warnings
