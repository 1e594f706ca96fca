"""A newer article supersedes an older one: when two documents say nearly the same passage, the
newer ranks first and each result (and citation) says which is newer; synced pages carry the date
they were fetched."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.answering.answer import Answer, Citation
from bot.channels.render import plain, telegram_html
from indexer.refresh import refresh
from indexer.search import SearchEngine
from indexer.settings import IndexSettings
from tests.conftest import KNOWLEDGE, settings_env

OLD = """---
title: "Free trade zone investor service centre starts work"
url: "https://en.haiphong.gov.vn/news/centre-starts.html"
published: 2026-10-01
language: en
source: "Hai Phong Portal (en.haiphong.gov.vn)"
kind: article
---
The Investor Service Centre of the Hai Phong Free Trade Zone issues investment registration
certificates for free trade zone projects within five working days of receiving a complete application.
"""

NEW = """---
title: "Investor service centre shortens the registration time"
url: "https://en.haiphong.gov.vn/news/centre-faster.html"
published: 2026-11-20
language: en
source: "Hai Phong Portal (en.haiphong.gov.vn)"
kind: article
---
The Investor Service Centre of the Hai Phong Free Trade Zone now issues investment registration
certificates for free trade zone projects within two working days of receiving a complete application.
"""


def test_the_newer_of_two_disagreeing_documents_ranks_first_and_says_so(data_dir: Path, tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    (knowledge / "centre-old.en.md").write_text(OLD, encoding="utf-8")
    (knowledge / "centre-new.en.md").write_text(NEW, encoding="utf-8")
    settings = IndexSettings.from_env(settings_env(data_dir, knowledge))
    refresh(settings)
    engine = SearchEngine(settings)

    # the question uses the old article's wording, which alone would rank the old one first
    results = engine.search("free trade zone investor service centre five working days registration", k=4)
    ids = [r.doc_id for r in results]
    assert ids.index("centre-new.en.md") < ids.index("centre-old.en.md")
    new = results[ids.index("centre-new.en.md")]
    old = results[ids.index("centre-old.en.md")]
    assert new.newer_than == "Free trade zone investor service centre starts work (2026-10-01)"
    assert old.older_than == "Investor service centre shortens the registration time (2026-11-20)"
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)

    # documents that merely share a topic are not reordered or marked
    other = engine.search("Resolution 226 special mechanisms", k=5)
    assert all(not r.newer_than and not r.older_than for r in other)


def test_citations_say_which_is_newer_and_a_synced_page_without_date_shows_when_it_was_fetched() -> None:
    newer = Citation(1, "Investor service centre shortens the registration time",
                     "https://en.haiphong.gov.vn/news/centre-faster.html", "2026-11-20", "…two working days…",
                     newer_than="Free trade zone investor service centre starts work (2026-10-01)")
    older = Citation(2, "Free trade zone investor service centre starts work", "", "", "…five working days…",
                     source="Hai Phong Portal", fetched="2026-10-02T03:00:00Z",
                     older_than="Investor service centre shortens the registration time (2026-11-20)")
    answer = Answer("q", "en", "Two working days [1]; earlier five [2].", False, (newer, older))
    text = plain(answer)
    assert ("[1] Investor service centre shortens the registration time, 2026-11-20, "
            "https://en.haiphong.gov.vn/news/centre-faster.html — newer than: Free trade zone investor "
            "service centre starts work (2026-10-01)") in text
    assert "[2] Free trade zone investor service centre starts work, fetched 2026-10-02, Hai Phong Portal" in text
    assert "superseded by the newer: Investor service centre shortens the registration time (2026-11-20)" in text
    html = telegram_html(Answer("q", "vi", "…", False, (newer,)))
    assert "mới hơn: Free trade zone investor service centre starts work (2026-10-01)" in html
    assert newer.to_json()["newer_than"].startswith("Free trade zone")
    assert "newer_than" not in Citation(3, "t", "", "", "x").to_json()  # unchanged for other citations
