"""Retrieval benchmark: indexing throughput, warm query latency, recall@1/@5 and MRR.

    python benchmarks/retrieval.py [--questions PATH] [--no-translations]

Builds a fresh index of knowledge/ in a temporary DATA_DIR (or uses DATA_DIR if set and built),
then asks every in-scope question of the dev set (default ../shared/eval/dev-questions.jsonl)
through the same search call the bot makes, split into same-language and cross-language questions
(question language differs from the seed document's original language). `--no-translations`
leaves the unofficial reference translations out, to show what glossary expansion and per-language
normalisation do on their own.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from _common import (
    DEFAULT_DEV,
    HELDOUT,
    ORIGINAL_LANGUAGE,
    ROOT,
    doc_stem,
    expected,
    load_questions,
    percentile,
    table,
)

from bot.language import detect
from indexer.documents import discover, load_file
from indexer.refresh import refresh
from indexer.search import SearchEngine
from indexer.settings import IndexSettings


def build(no_translations: bool) -> tuple[IndexSettings, float, int]:
    data = Path(tempfile.mkdtemp(prefix="bench-retrieval-"))
    knowledge = ROOT / "knowledge"
    if no_translations:
        copy = data / "knowledge"
        copy.mkdir()
        for path in discover(knowledge):
            if not load_file(path, knowledge).unofficial_translation:
                shutil.copy(path, copy / path.name)
        shutil.copy(knowledge / "glossary.yaml", copy / "glossary.yaml")
        knowledge = copy
    settings = IndexSettings.from_env({"DATA_DIR": str(data / "data"), "KNOWLEDGE_DIR": str(knowledge)})
    started = time.perf_counter()
    summary = refresh(settings)
    return settings, time.perf_counter() - started, summary.chunks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=Path, default=DEFAULT_DEV)
    parser.add_argument("--no-translations", action="store_true")
    parser.add_argument("--repeat", type=int, default=20, help="timed passes over the questions")
    args = parser.parse_args()

    settings, seconds, chunks = build(args.no_translations)
    engine = SearchEngine(settings)
    rows = [r for r in load_questions(args.questions) if r["docs"]]
    engine.search("warm up", k=5)

    embedded_before = sum(engine.query_embedder.batcher.batch_sizes)
    groups: dict[str, list[tuple[int | None]]] = {"same-language": [], "cross-language": []}
    misses = []
    for row in rows:
        lang = detect(row["q"])
        results = engine.search(row["q"], k=5, language=lang)
        rank = next((i for i, r in enumerate(results, 1)
                     if expected(row, doc_stem(r.doc_id))), None)
        originals = {ORIGINAL_LANGUAGE.get(d, "en") for d in row["docs"]}
        q_lang = "vi" if row["lang"].startswith("vi") else "en"
        group = "same-language" if q_lang in originals else "cross-language"
        groups[group].append((rank,))
        if rank != 1:
            misses.append((row["id"], row["q"], rank, [doc_stem(r.doc_id) for r in results[:3]]))

    passes = (sum(engine.query_embedder.batcher.batch_sizes) - embedded_before) / max(1, len(rows))

    latencies = []  # a question not seen before: the model embeds it
    cached = []  # the same question again: its vector comes from the query cache
    for _ in range(args.repeat):
        for row in rows:
            engine.query_embedder.cache.clear()
            t = time.perf_counter()
            engine.search(row["q"], k=5, language=detect(row["q"]))
            latencies.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            engine.search(row["q"], k=5, language=detect(row["q"]))
            cached.append((time.perf_counter() - t) * 1000)

    out = []
    for name, ranks in [*groups.items(), ("all", groups["same-language"] + groups["cross-language"])]:
        n = len(ranks)
        r1 = sum(1 for (r,) in ranks if r == 1) / n if n else float("nan")
        r5 = sum(1 for (r,) in ranks if r is not None) / n if n else float("nan")
        mrr = sum(1 / r for (r,) in ranks if r) / n if n else float("nan")
        out.append([name, n, f"{r1:.2f}", f"{r5:.2f}", f"{mrr:.3f}"])
    label = "without translations" if args.no_translations else "with linked translations"
    print(f"Question set: {args.questions if args.questions != HELDOUT else 'held-out'} ({label})")
    print(table(["questions", "n", "recall@1", "recall@5", "MRR"], out))
    print(f"embedding model passes per question: {passes:.2f} (the question, and its glossary rendering "
          "when it adds something)")
    print()
    print(table(["indexing", "chunks", "seconds", "chunks/s"],
                [["full build", chunks, f"{seconds:.2f}", f"{chunks / seconds:.1f}"]]))
    print()
    print(table(["warm query latency", "queries", "p50 ms", "p95 ms", "max ms"],
                [["search(k=5), new question", len(latencies), f"{percentile(latencies, 50):.1f}",
                  f"{percentile(latencies, 95):.1f}", f"{max(latencies):.1f}"],
                 ["search(k=5), vector cached", len(cached), f"{percentile(cached, 50):.1f}",
                  f"{percentile(cached, 95):.1f}", f"{max(cached):.1f}"]]))
    for miss in misses:
        print("not first:", miss)


if __name__ == "__main__":
    main()
