"""Publishing a case's answer as a Q&A document under knowledge/faq/, so the assistant answers the
same question from it (cited as "Reply from <department>, <date>") once the index is refreshed."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import yaml

from bot.cases import Case
from indexer.fileio import write_atomic

FAQ_FOLDER = "faq"


def faq_path(knowledge_dir: Path, case: Case) -> Path:
    return knowledge_dir / FAQ_FOLDER / f"case-{case.id}.{case.language}.md"


def write_faq(knowledge_dir: Path, case: Case, department: str, date: dt.date | None = None) -> Path:
    """Write (or rewrite) the Q&A document of an answered case; its path."""
    day = (date or dt.date.today()).isoformat()
    question = " ".join(case.question.split())
    meta = {"title": question, "url": "", "published": day, "language": case.language,
            "source": department, "kind": "faq", "department": department, "case": case.id}
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=10_000).strip()
    body = f"---\n{front}\n---\n\n# {question}\n\n{case.reply.strip()}\n"
    path = faq_path(knowledge_dir, case)
    folder = path.parent
    if not folder.exists():
        folder.mkdir(parents=True)
        os.chmod(folder, 0o755)  # a public document: readable like the rest of knowledge/
    write_atomic(path, body.encode("utf-8"), mode=0o644)
    return path
