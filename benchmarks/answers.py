"""Answer evaluation: fact hit rate, right-seed citation rate, language match, refusal accuracy and
warm answer latency, with the default (extractive) composer.

    python benchmarks/answers.py [--questions PATH] [--show]

Default question set: ../shared/eval/dev-questions.jsonl; tests/data/heldout_questions.jsonl holds
questions written for checking the rules and never used to calibrate them.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import DEFAULT_DEV, ROOT, doc_stem, expected, load_questions, percentile, table

from bot.answering.assistant import Assistant
from bot.config import Settings
from indexer.refresh import refresh
from indexer.text import fold


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=Path, default=DEFAULT_DEV)
    parser.add_argument("--repeat", type=int, default=10, help="timed passes for latency")
    parser.add_argument("--show", action="store_true", help="print every answer")
    args = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="bench-answers-"))
    env = {"DATA_DIR": str(data), "KNOWLEDGE_DIR": str(ROOT / "knowledge")}
    settings = Settings.from_env(env)
    refresh(settings.index)
    assistant = Assistant(settings)
    assistant.answer("warm up")

    rows = load_questions(args.questions)
    stats = {"in": 0, "fact": 0, "seed": 0, "lang": 0, "refuse_ok": 0, "off": 0, "off_ok": 0, "in_refused": 0}
    failures = []
    for row in rows:
        answer = assistant.answer(row["q"])
        want_lang = "vi" if row["lang"].startswith("vi") else "en"
        stats["lang"] += answer.language == want_lang
        if row["docs"]:
            stats["in"] += 1
            body = fold(answer.text)
            fact = any(fold(f) in body for f in row["facts"])
            cites_seed = bool(answer.citations) and all(expected(row, doc_stem(c.doc_id)) for c in answer.citations[:1])
            cites_any = any(expected(row, doc_stem(c.doc_id)) for c in answer.citations)
            stats["fact"] += fact
            stats["seed"] += cites_any
            stats["in_refused"] += answer.refused
            stats["refuse_ok"] += not answer.refused
            if not (fact and cites_any and not answer.refused and cites_seed):
                failures.append((row["id"], row["q"], "fact" if not fact else "", "seed" if not cites_any else "",
                                 "refused" if answer.refused else ""))
        else:
            stats["off"] += 1
            ok = answer.refused and not answer.citations
            stats["off_ok"] += ok
            stats["refuse_ok"] += ok
            if not ok:
                failures.append((row["id"], row["q"], "answered an off-topic question"))
        if args.show:
            print(f"--- {row['id']} [{answer.language}{' refused' if answer.refused else ''}] {row['q']}\n{answer.text}")
            for c in answer.citations:
                print(f"    [{c.n}] {c.doc_id} {c.published} {c.url or '(no link)'}")

    latencies = []
    for _ in range(args.repeat):
        for row in rows:
            t = time.perf_counter()
            assistant.answer(row["q"])
            latencies.append((time.perf_counter() - t) * 1000)

    n = len(rows)
    print(f"Question set: {args.questions}")
    print(table(["measure", "value"], [
        ["in-scope questions", stats["in"]],
        ["fact hit rate", f"{stats['fact'] / max(stats['in'], 1):.2f}"],
        ["cites the right seed", f"{stats['seed'] / max(stats['in'], 1):.2f}"],
        ["in-scope refused", stats["in_refused"]],
        ["off-topic refused (no citation)", f"{stats['off_ok']}/{stats['off']}"],
        ["refusal accuracy", f"{stats['refuse_ok'] / n:.2f}"],
        ["language match", f"{stats['lang'] / n:.2f}"],
        ["warm answer p50 ms", f"{percentile(latencies, 50):.1f}"],
        ["warm answer p95 ms", f"{percentile(latencies, 95):.1f}"],
    ]))
    for failure in failures:
        print("miss:", failure)


if __name__ == "__main__":
    main()
