"""Export and import of the knowledge base: one .tar.gz with the knowledge folder's files (documents,
sidecars and the glossary), the index settings (embedding model, chunk size, the active manifest)
and, when an index exists, every passage with its vector as JSONL, so an import need not re-embed.

Archive layout (all under one top folder):
    haiphong-kb/export.json      format version, settings, manifest, file list with sha256
    haiphong-kb/knowledge/...    the knowledge folder, relative paths kept
    haiphong-kb/vectors.jsonl    one passage a line: id, text, metadata, embedding (optional)

Import verifies the whole archive first (see the import section below: limits, listed files only,
passages re-derived from the archived documents), unpacks the files into KNOWLEDGE_DIR (a different
existing file is an error unless `force`), refuses an archive made with another embedding model (it
says which EMBEDDING_MODEL to set), seeds a new index generation from the verified vectors and then
runs a normal refresh, which keeps those vectors for every unchanged document and embeds only what
differs.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import math
import os
import random
import tarfile
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import numpy as np
from filelock import FileLock
from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from indexer.chunking import Chunk, chunk_document
from indexer.documents import Document, load_all
from indexer.embeddings import new_embeddings
from indexer.refresh import RefreshSummary, chunk_metadata, refresh
from indexer.settings import IndexSettings
from indexer.store import Manifest, Store, StoredChunk, new_generation_name

FORMAT = "haiphong-kb/1"
TOP = "haiphong-kb"
META_NAME = f"{TOP}/export.json"
VECTORS_NAME = f"{TOP}/vectors.jsonl"
KNOWLEDGE_PREFIX = f"{TOP}/knowledge/"
MAX_MEMBER_BYTES = 512 * 1024 * 1024  # refuse absurd members (a corrupt or hostile archive)


@dataclass
class ImportSummary:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # files already here that the archive does not hold
    vectors_loaded: int = 0
    refresh: RefreshSummary | None = None

    def __str__(self) -> str:
        parts = [f"{len(self.written)} files written", f"{len(self.unchanged)} already identical"]
        if self.kept:
            parts.append(f"{len(self.kept)} local files kept")
        parts.append(f"{self.vectors_loaded} passages loaded without re-embedding")
        if self.refresh is not None:
            parts.append(f"index: {self.refresh.chunks} passages "
                         f"({self.refresh.embedded_chunks} embedded now; {self.refresh.line()})")
        return ", ".join(parts)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _knowledge_files(root: Path) -> list[Path]:
    """Regular files of the knowledge folder, hidden ones and symlinks left out."""
    if not root.is_dir():
        raise ValueError(f"The knowledge folder {root} does not exist.")
    files = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or path.is_symlink() or not path.is_file():
            continue
        files.append(path)
    return files


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(mtime)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _vector_lines(store: Store, manifest: Manifest) -> Iterator[bytes]:
    collection = store.open_generation(manifest.collection)
    for chunk in store.read_chunks(collection, with_embeddings=True):
        row = {"id": chunk.chunk_id, "text": chunk.text, "metadata": chunk.metadata, "embedding": chunk.embedding}
        yield (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")


def export_knowledge(settings: IndexSettings, target: Path, *, include_vectors: bool = True) -> Path:
    """Write the archive and return its path. `target` is the archive's file name, or a folder (an
    existing one, or a name without a suffix such as `backups`) in which a dated name is made up.
    Vectors are included when an index exists and `include_vectors`."""
    target = Path(target)
    if target.is_dir() or (not target.exists() and not target.suffix):
        target.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        target = target / f"haiphong-kb-{stamp}.tar.gz"
    target.parent.mkdir(parents=True, exist_ok=True)
    root = settings.knowledge_dir
    files = _knowledge_files(root)

    manifest: Manifest | None = None
    store: Store | None = None
    if include_vectors:
        try:
            store = Store(settings)
            manifest = store.read_manifest()
        except Exception:
            manifest = None
    if manifest is not None and manifest.model != settings.embedding_model:
        manifest = None  # vectors of another model are of no use to the settings being exported

    listing = []
    fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=".tar.gz", dir=target.parent)
    os.close(fd)
    try:
        with tarfile.open(tmp, "w:gz") as tar:
            for path in files:
                data = path.read_bytes()
                rel = path.relative_to(root).as_posix()
                listing.append({"path": rel, "sha256": _sha256(data), "bytes": len(data)})
                _add_bytes(tar, KNOWLEDGE_PREFIX + rel, data, path.stat().st_mtime)
            vectors = 0
            if manifest is not None and store is not None:
                with tempfile.TemporaryFile() as spool:
                    for line in _vector_lines(store, manifest):
                        spool.write(line)
                        vectors += 1
                    spool.seek(0, io.SEEK_END)
                    info = tarfile.TarInfo(VECTORS_NAME)
                    info.size = spool.tell()
                    info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
                    info.mode = 0o644
                    spool.seek(0)
                    tar.addfile(info, spool)
            meta = {
                "format": FORMAT,
                "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "embedding_model": settings.embedding_model,
                "chunk_chars": settings.chunk_chars,
                "glossary": settings.glossary_path.relative_to(root).as_posix()
                if settings.glossary_path.is_relative_to(root) else None,
                "manifest": asdict(manifest) if manifest is not None else None,
                "vectors": vectors,
                "files": listing,
            }
            _add_bytes(tar, META_NAME, json.dumps(meta, ensure_ascii=False, indent=2).encode("utf-8"),
                       dt.datetime.now(dt.UTC).timestamp())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


# -- import --------------------------------------------------------------------------------------
#
# Nothing an archive says is trusted: export.json is validated, every member must be listed in it
# with a matching checksum, sizes and member counts are capped (IMPORT_MAX_BYTES/MEMBERS) while the
# archive is read, and each exported passage must be exactly what chunking the archive's own
# documents gives (its metadata is rebuilt from the documents; only its vector is taken, and a
# sample of vectors is re-embedded to check they belong to their text). All of this happens before
# the first write; files are then written without following any link below KNOWLEDGE_DIR.

VERIFY_SAMPLE = 8  # exported vectors re-embedded to check that they belong to their passages
VERIFY_MIN_COSINE = 0.98


class ArchiveRefused(ValueError):
    """The archive is not accepted; nothing was changed. The message says why."""


class _FileEntry(BaseModel):
    model_config = ConfigDict(extra="ignore")
    path: str = Field(min_length=1, max_length=1000)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(ge=0)


class _ExportMeta(BaseModel):
    model_config = ConfigDict(extra="ignore")
    format: Literal["haiphong-kb/1"]
    embedding_model: str = Field(min_length=1, max_length=300)
    chunk_chars: int | None = None
    manifest: dict[str, Any] | None = None
    files: list[_FileEntry] = Field(max_length=1_000_000)


class _Bounded(io.RawIOBase):
    """A read-only stream that refuses to give more than `limit` bytes (a decompression bomb stops
    here, before tarfile holds it in memory)."""

    def __init__(self, inner: Any, limit: int) -> None:
        self.inner = inner
        self.limit = limit
        self.total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(min(len(buffer), self.limit - self.total + 1))
        self.total += len(data)
        if self.total > self.limit:
            raise ArchiveRefused(f"the archive unpacks to more than IMPORT_MAX_BYTES={self.limit} bytes")
        buffer[:len(data)] = data
        return len(data)


def _safe_relative(name: str) -> str:
    """A knowledge-file path from the archive, refused when it could escape the folder or is hidden."""
    rel = PurePosixPath(name[len(KNOWLEDGE_PREFIX):])
    if (not rel.parts or rel.is_absolute() or any(p in ("", ".", "..") for p in rel.parts) or "\\" in name
            or any(ord(ch) < 32 for ch in name)):
        raise ArchiveRefused(f"The archive holds an unsafe path: {name!r}.")
    if any(part.startswith(".") for part in rel.parts):
        raise ArchiveRefused(f"The archive holds a hidden path, which an export never contains: {name!r}.")
    return rel.as_posix()


def _read_archive(archive: Path, max_bytes: int, max_members: int
                  ) -> tuple[_ExportMeta, dict[str, bytes], bytes | None]:
    if not archive.is_file():
        raise ArchiveRefused(f"{archive} is not a file.")
    meta_raw: bytes | None = None
    files: dict[str, bytes] = {}
    vectors: bytes | None = None
    members = total = 0
    # the decompressed stream may carry tar headers and padding on top of the members' bytes
    limit = max_bytes + max_members * 2048 + 1024 * 1024
    try:
        with gzip.open(archive, "rb") as gz, tarfile.open(fileobj=_Bounded(gz, limit), mode="r|") as tar:
            for member in tar:
                members += 1
                if members > max_members:
                    raise ArchiveRefused(f"The archive holds more than IMPORT_MAX_MEMBERS={max_members} members.")
                if member.isdir():
                    continue
                if not member.isfile():
                    raise ArchiveRefused(f"The archive holds a link or special file: {member.name!r}.")
                total += member.size
                if total > max_bytes or member.size > MAX_MEMBER_BYTES:
                    raise ArchiveRefused(f"The archive unpacks to more than IMPORT_MAX_BYTES={max_bytes} bytes "
                                         f"(at {member.name!r}).")
                if member.name == META_NAME:
                    target = "meta"
                elif member.name == VECTORS_NAME:
                    target = "vectors"
                elif member.name.startswith(KNOWLEDGE_PREFIX):
                    target = _safe_relative(member.name)
                    if target in files:
                        raise ArchiveRefused(f"The archive holds {member.name!r} twice.")
                else:
                    raise ArchiveRefused(f"The archive holds an unexpected file: {member.name!r}.")
                handle = tar.extractfile(member)
                data = handle.read() if handle is not None else b""
                if target == "meta":
                    meta_raw = data
                elif target == "vectors":
                    vectors = data
                else:
                    files[target] = data
    except ArchiveRefused:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib.error, ValueError) as exc:
        raise ArchiveRefused(f"{archive} is not a knowledge export ({type(exc).__name__}: {exc}).") from exc
    if meta_raw is None:
        raise ArchiveRefused(f"{archive} is not a knowledge export made by `python -m indexer export`.")
    try:
        meta = _ExportMeta.model_validate_json(meta_raw)
    except ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ())) or "export.json"
        if where == "format":
            raise ArchiveRefused(f"{archive} is not a knowledge export made by `python -m indexer export`.") from exc
        raise ArchiveRefused(f"{archive} is not a knowledge export: its export.json is malformed "
                             f"({where}: {first.get('msg', 'invalid')}).") from exc
    listed = {}
    for entry in meta.files:
        rel = _safe_relative(KNOWLEDGE_PREFIX + entry.path)
        if rel in listed:
            raise ArchiveRefused(f"The archive's export.json lists {rel} twice.")
        listed[rel] = entry
        data = files.get(rel)
        if data is None or _sha256(data) != entry.sha256 or len(data) != entry.bytes:
            raise ArchiveRefused(f"The archive is damaged: {rel} is missing or differs from its checksum.")
    unlisted = sorted(set(files) - set(listed))
    if unlisted:
        raise ArchiveRefused(f"The archive holds files its export.json does not list ({', '.join(unlisted[:5])}); "
                             "it was altered after export.")
    return meta, files, vectors


def _parse_vectors(data: bytes) -> list[StoredChunk]:
    chunks = []
    dimension = None
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise ArchiveRefused("The archive's vectors.jsonl is damaged (not UTF-8).") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            embedding = [float(x) for x in row["embedding"]]
            chunk = StoredChunk(str(row["id"]), str(row["text"]), {}, embedding)
        except (KeyError, TypeError, ValueError, RecursionError) as exc:
            raise ArchiveRefused(f"The archive's vectors.jsonl line {number} is damaged ({type(exc).__name__}).") from exc
        if not embedding or not all(math.isfinite(x) for x in embedding):
            raise ArchiveRefused(f"The archive's vectors.jsonl line {number} has no usable vector.")
        if dimension is not None and len(embedding) != dimension:
            raise ArchiveRefused("The archive's vectors have mixed dimensions; it is damaged.")
        dimension = len(embedding)
        chunks.append(chunk)
    return chunks


def _verified_chunks(settings: IndexSettings, files: dict[str, bytes], rows: list[StoredChunk],
                     embeddings: Embeddings | None) -> list[StoredChunk]:
    """The exported passages that chunking the archive's documents gives, each with metadata rebuilt
    from its document; ArchiveRefused when a passage is in no document (or its vector is not its
    text's). A document whose passages are not all in the archive is left to the refresh to embed."""
    with tempfile.TemporaryDirectory(prefix="kb-verify-") as tmp:
        root = Path(tmp)
        for rel, data in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        try:
            loaded = load_all(root)
        except Exception as exc:  # a loader bug must not turn into a traceback or a half import
            raise ArchiveRefused(f"The archive's documents cannot be read ({type(exc).__name__}).") from exc
    expected: dict[str, tuple[Document, Chunk]] = {}
    for doc in loaded.documents:
        for chunk in chunk_document(doc, settings.chunk_chars):
            expected[chunk.chunk_id] = (doc, chunk)
    by_id: dict[str, StoredChunk] = {}
    for row in rows:
        known = expected.get(row.chunk_id)
        if known is None or known[1].text != row.text:
            raise ArchiveRefused(
                f"The archive's passage {row.chunk_id!r} is not in its documents (its text differs from what "
                "chunking the archived files gives): the archive was altered. Nothing was changed.")
        by_id.setdefault(row.chunk_id, row)
    kept: list[StoredChunk] = []
    for doc in loaded.documents:
        ids = [cid for cid, (d, _c) in expected.items() if d.doc_id == doc.doc_id]
        if not all(cid in by_id for cid in ids):
            continue  # incomplete: the refresh embeds this document afresh
        for cid in ids:
            chunk = expected[cid][1]
            kept.append(StoredChunk(cid, chunk.text, chunk_metadata(doc, chunk), by_id[cid].embedding))
    _check_vector_sample(settings, kept, expected, embeddings)
    return kept


def _check_vector_sample(settings: IndexSettings, kept: list[StoredChunk],
                         expected: dict[str, tuple[Document, Chunk]], embeddings: Embeddings | None) -> None:
    if not kept:
        return
    model = embeddings or new_embeddings(settings.embedding_model)
    sample = random.Random(len(kept)).sample(kept, min(VERIFY_SAMPLE, len(kept)))
    fresh = model.embed_documents([expected[c.chunk_id][1].embedding_text(expected[c.chunk_id][0].title)
                                   for c in sample])
    for chunk, vector in zip(sample, fresh, strict=True):
        a, b = np.asarray(chunk.embedding, dtype=np.float64), np.asarray(vector, dtype=np.float64)
        if a.shape != b.shape:
            raise ArchiveRefused(f"The archive's vectors have {a.size} dimensions; {settings.embedding_model} "
                                 f"gives {b.size}. Nothing was changed.")
        cosine = float(a @ b / ((np.linalg.norm(a) * np.linalg.norm(b)) or 1.0))
        if cosine < VERIFY_MIN_COSINE:
            raise ArchiveRefused(f"The archive's vector for {chunk.chunk_id!r} does not belong to its passage "
                                 "(re-embedding it gives another vector): the archive was altered. "
                                 "Nothing was changed.")


def _link_on_path(root: Path, rel: str) -> str | None:
    """The first part of root/rel (below root) that is a symbolic link or not a folder, if any."""
    current = root
    parts = PurePosixPath(rel).parts
    for i, part in enumerate(parts):
        current = current / part
        if current.is_symlink():
            return current.relative_to(root).as_posix()
        if i < len(parts) - 1 and current.exists() and not current.is_dir():
            return current.relative_to(root).as_posix()
    return None


def _write_no_follow(root: Path, rel: str, data: bytes) -> None:
    """Write root/rel atomically, opening every folder below root with O_NOFOLLOW (a link swapped in
    after the checks makes the write fail instead of landing elsewhere)."""
    root.mkdir(parents=True, exist_ok=True)
    parts = PurePosixPath(rel).parts
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in parts[:-1]:
            try:
                os.mkdir(part, 0o755, dir_fd=fd)
            except FileExistsError:
                pass
            child = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = child
        name = parts[-1]
        tmp = f".{name}.{os.getpid()}.{random.randrange(1 << 30)}.tmp"
        out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=fd)
        try:
            with os.fdopen(out, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, name, src_dir_fd=fd, dst_dir_fd=fd)  # replaces a link at `name`, never follows it
        except BaseException:
            try:
                os.unlink(tmp, dir_fd=fd)
            except OSError:
                pass
            raise
    finally:
        os.close(fd)


def _seed_index(settings: IndexSettings, meta: _ExportMeta, chunks: list[StoredChunk]) -> int:
    """Write the verified passages (plus this index's passages of documents the archive does not
    hold) as a new active generation, so the refresh that follows re-embeds nothing it need not."""
    if not chunks:
        return 0
    dimension = len(chunks[0].embedding or [])
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(settings.index_dir / "refresh.lock"), timeout=600):
        store = Store(settings)
        previous = store.read_manifest()
        merged = list(chunks)
        if previous is not None and previous.model == settings.embedding_model:
            exported_docs = {c.metadata.get("doc_id") for c in chunks}
            try:
                old = store.open_generation(previous.collection)
                merged += [c for c in store.read_chunks(old, with_embeddings=True)
                           if c.metadata.get("doc_id") not in exported_docs and len(c.embedding or []) == dimension]
            except Exception:
                pass  # an unreadable old generation: its documents are embedded by the refresh
        seen: set[str] = set()
        unique = []
        for c in merged:
            if c.chunk_id not in seen:
                seen.add(c.chunk_id)
                unique.append(c)
        name = new_generation_name()
        collection = store.create_generation(name)
        try:
            store.add_chunks(collection, unique)
            store.write_manifest(Manifest(
                collection=name, model=settings.embedding_model, dimension=dimension,
                refreshed_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                documents=len({c.metadata.get("doc_id") for c in unique}), chunks=len(unique),
                languages=dict(Counter(str(c.metadata.get("language")) for c in unique if c.metadata.get("position") == 0)),
                chunk_chars=settings.chunk_chars, glossary_hash="",  # the refresh that follows sets it
                previous=previous.collection if previous else None,
            ))
        except BaseException:
            store.drop_generation(name)
            raise
    return len(chunks)


def import_knowledge(settings: IndexSettings, archive: Path, *, force: bool = False,
                     bring_up: bool = True, embeddings: Embeddings | None = None) -> ImportSummary:
    """Restore an export into this KNOWLEDGE_DIR / DATA_DIR (or CHROMA_URL) and bring the index up.

    Raises ArchiveRefused (a ValueError), before changing anything, when the archive is not a valid
    export, is too big, does not verify, was made with another embedding model, would write through
    a link, or would overwrite different local files and `force` is not given."""
    meta, files, vectors = _read_archive(Path(archive), settings.import_max_bytes, settings.import_max_members)
    if meta.embedding_model != settings.embedding_model:
        raise ArchiveRefused(
            f"The archive was indexed with EMBEDDING_MODEL={meta.embedding_model}, but this installation uses "
            f"{settings.embedding_model}. Set EMBEDDING_MODEL={meta.embedding_model} (in .env or the environment) "
            "and import again, so the index and the questions use the same model.")

    root = settings.knowledge_dir
    summary = ImportSummary()
    conflicts = []
    plan: list[tuple[str, bytes]] = []
    for rel, data in sorted(files.items()):
        link = _link_on_path(root, rel)
        if link is not None:
            raise ArchiveRefused(f"{root / link} is a symbolic link (or not a folder); import never writes "
                                 "through links. Nothing was changed.")
        path = root / rel
        if path.exists() and not path.is_file():
            conflicts.append(rel)
        elif path.exists():
            if path.read_bytes() == data:
                summary.unchanged.append(rel)
            elif force:
                plan.append((rel, data))
            else:
                conflicts.append(rel)
        else:
            plan.append((rel, data))
    if conflicts:
        shown = ", ".join(conflicts[:10]) + (" …" if len(conflicts) > 10 else "")
        raise ArchiveRefused(f"{len(conflicts)} file(s) in {root} differ from the archive ({shown}); nothing was "
                             "changed. Use --force to overwrite them with the archive's versions.")

    verified: list[StoredChunk] = []
    if vectors is not None and meta.chunk_chars == settings.chunk_chars:
        verified = _verified_chunks(settings, files, _parse_vectors(vectors), embeddings)

    if root.exists():
        summary.kept = sorted(p.relative_to(root).as_posix() for p in _knowledge_files(root)
                              if p.relative_to(root).as_posix() not in files)
    for rel, data in plan:
        _write_no_follow(root, rel, data)
        summary.written.append(rel)

    if not bring_up:
        return summary
    summary.vectors_loaded = _seed_index(settings, meta, verified)
    summary.refresh = refresh(settings, embeddings=embeddings)
    return summary
