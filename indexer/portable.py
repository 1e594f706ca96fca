"""Export and import of the knowledge base: one .tar.gz with the knowledge folder's files (documents,
sidecars and the glossary), the index settings (embedding model, chunk size, the active manifest)
and, when an index exists, every passage with its vector as JSONL, so an import need not re-embed.

Archive layout (all under one top folder):
    haiphong-kb/export.json      format version, settings, manifest, file list with sha256
    haiphong-kb/knowledge/...    the knowledge folder, relative paths kept
    haiphong-kb/vectors.jsonl    one passage a line: id, text, metadata, embedding (optional)

Import unpacks the files into KNOWLEDGE_DIR (a different existing file is an error unless `force`),
refuses an archive made with another embedding model (it says which EMBEDDING_MODEL to set), seeds a
new index generation from the exported vectors and then runs a normal refresh, which keeps those
vectors for every unchanged document and embeds only what differs.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from filelock import FileLock

from indexer.fileio import write_atomic
from indexer.refresh import RefreshSummary, refresh
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


def _safe_relative(name: str) -> str:
    """A knowledge-file path from the archive, refused when it could escape the folder."""
    rel = PurePosixPath(name[len(KNOWLEDGE_PREFIX):])
    if not rel.parts or rel.is_absolute() or any(p in ("", ".", "..") for p in rel.parts) or "\\" in name:
        raise ValueError(f"The archive holds an unsafe path: {name!r}.")
    return rel.as_posix()


def _read_archive(archive: Path) -> tuple[dict[str, Any], dict[str, bytes], bytes | None]:
    if not archive.is_file():
        raise ValueError(f"{archive} is not a file.")
    meta: dict[str, Any] | None = None
    files: dict[str, bytes] = {}
    vectors: bytes | None = None
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.isdir():
                    continue
                if not member.isfile():
                    raise ValueError(f"The archive holds a link or special file: {member.name!r}.")
                if member.size > MAX_MEMBER_BYTES:
                    raise ValueError(f"The archive member {member.name!r} is too large.")
                handle = tar.extractfile(member)
                data = handle.read() if handle is not None else b""
                if member.name == META_NAME:
                    meta = json.loads(data.decode("utf-8"))
                elif member.name == VECTORS_NAME:
                    vectors = data
                elif member.name.startswith(KNOWLEDGE_PREFIX):
                    files[_safe_relative(member.name)] = data
                else:
                    raise ValueError(f"The archive holds an unexpected file: {member.name!r}.")
    except (tarfile.TarError, gzip.BadGzipFile, EOFError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{archive} is not a knowledge export ({type(exc).__name__}: {exc}).") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{archive} is not a knowledge export made by `python -m indexer export`.")
    for entry in meta.get("files", []):
        data = files.get(entry["path"])
        if data is None or _sha256(data) != entry["sha256"]:
            raise ValueError(f"The archive is damaged: {entry['path']} is missing or differs from its checksum.")
    return meta, files, vectors


def _parse_vectors(data: bytes) -> list[StoredChunk]:
    chunks = []
    for number, line in enumerate(data.decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            chunks.append(StoredChunk(str(row["id"]), str(row["text"]), dict(row["metadata"]),
                                      [float(x) for x in row["embedding"]]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"The archive's vectors.jsonl line {number} is damaged ({exc}).") from exc
    return chunks


def _seed_index(settings: IndexSettings, meta: dict[str, Any], chunks: list[StoredChunk]) -> int:
    """Write the exported passages (plus this index's passages of documents the archive does not
    hold) as a new active generation, so the refresh that follows re-embeds nothing it need not."""
    if not chunks:
        return 0
    dimensions = {len(c.embedding or []) for c in chunks}
    if len(dimensions) != 1:
        raise ValueError("The archive's vectors have mixed dimensions; it is damaged.")
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
                           if c.metadata.get("doc_id") not in exported_docs]
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
            exported = meta.get("manifest") or {}
            store.write_manifest(Manifest(
                collection=name, model=settings.embedding_model, dimension=dimensions.pop(),
                refreshed_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                documents=len({c.metadata.get("doc_id") for c in unique}), chunks=len(unique),
                languages=dict(exported.get("languages") or {}), chunk_chars=settings.chunk_chars,
                glossary_hash=str(exported.get("glossary_hash") or ""),
                previous=previous.collection if previous else None,
            ))
        except BaseException:
            store.drop_generation(name)
            raise
    return len(chunks)


def import_knowledge(settings: IndexSettings, archive: Path, *, force: bool = False,
                     bring_up: bool = True) -> ImportSummary:
    """Restore an export into this KNOWLEDGE_DIR / DATA_DIR (or CHROMA_URL) and bring the index up.

    Raises ValueError, before changing anything, when the archive is not a valid export, when it
    was made with another embedding model, or when it would overwrite different local files and
    `force` is not given."""
    meta, files, vectors = _read_archive(Path(archive))
    model = meta.get("embedding_model")
    if model != settings.embedding_model:
        raise ValueError(
            f"The archive was indexed with EMBEDDING_MODEL={model}, but this installation uses "
            f"{settings.embedding_model}. Set EMBEDDING_MODEL={model} (in .env or the environment) and "
            "import again, so the index and the questions use the same model.")

    root = settings.knowledge_dir
    summary = ImportSummary()
    conflicts = []
    plan: list[tuple[str, bytes]] = []
    for rel, data in sorted(files.items()):
        path = root / rel
        if path.is_symlink() or (path.exists() and not path.is_file()):
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
        raise ValueError(f"{len(conflicts)} file(s) in {root} differ from the archive ({shown}); nothing was "
                         "changed. Use --force to overwrite them with the archive's versions.")
    if root.exists():
        summary.kept = sorted(p.relative_to(root).as_posix() for p in _knowledge_files(root)
                              if p.relative_to(root).as_posix() not in files)
    for rel, data in plan:
        write_atomic(root / rel, data)
        summary.written.append(rel)

    if not bring_up:
        return summary
    same_chunking = meta.get("chunk_chars") == settings.chunk_chars
    if vectors is not None and same_chunking:
        summary.vectors_loaded = _seed_index(settings, meta, _parse_vectors(vectors))
    summary.refresh = refresh(settings)
    return summary
