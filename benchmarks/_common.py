"""Shared helpers for the benchmark scripts: the dev question set, seed mapping, a temporary index."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DEV = ROOT.parent / "shared" / "eval" / "dev-questions.jsonl"
HELDOUT = ROOT / "tests" / "data" / "heldout_questions.jsonl"

# The dev set names the shared seed files; these are the knowledge documents made from them.
SEED_DOCS = {
    "seeds/000_5a770192cbde274f.txt": "external-relations-2025-review",
    "seeds/004_4ba06d0949027f5f.txt": "economic-diplomacy-action-program-2023",
    "knowledge-extra/resolution-226-factsheet.en.md": "resolution-226-factsheet",
    "knowledge-extra/resolution-226-factsheet.vi.md": "resolution-226-factsheet",
}
ORIGINAL_LANGUAGE = {
    "external-relations-2025-review": "en",
    "economic-diplomacy-action-program-2023": "en",
    "resolution-226-factsheet": "en",
}


def doc_stem(doc_id: str) -> str:
    """'resolution-226-factsheet.vi.md' -> 'resolution-226-factsheet' (a document and its translation)."""
    name = Path(doc_id).name
    for suffix in (".en.md", ".vi.md", ".md", ".txt", ".html", ".pdf", ".docx"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def load_questions(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:
        if "seed" in row:  # dev set format
            seeds = row["seed"] if isinstance(row["seed"], list) else ([row["seed"]] if row["seed"] else [])
            row["docs"] = sorted({SEED_DOCS[s] for s in seeds if s in SEED_DOCS})
        else:  # held-out format: "doc" is a document stem prefix
            row["docs"] = [row["doc"]] if row.get("doc") else []
    return rows


def expected(row: dict, stem: str) -> bool:
    return any(stem.startswith(d) for d in row["docs"])


def index_env() -> dict[str, str]:
    """DATA_DIR from the environment, or a fresh temporary one (built by the caller)."""
    env = dict(os.environ)
    if not env.get("DATA_DIR"):
        env["DATA_DIR"] = tempfile.mkdtemp(prefix="bench-data-")
    env.setdefault("KNOWLEDGE_DIR", str(ROOT / "knowledge"))
    return env


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def table(headers: list[str], rows: list[list[object]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = "+".join("-" * (w + 2) for w in widths)
    out = ["| " + " | ".join(c.ljust(w) for c, w in zip(cells[0], widths, strict=True)) + " |", "|" + line + "|"]
    out += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells[1:]]
    return "\n".join(out)
