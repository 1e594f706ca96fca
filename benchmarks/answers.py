"""Answer evaluation, per question kind: fact hit, list items found / expected, dates present in
"when" answers, off-topic / near-topic / in-scope refusals (for questions to refuse: how many were
refused, and how many of those plainly, with no "what the documents do say" quote), follow-ups answered in context, and warm
answer latency, with the default (extractive) composer.

    python benchmarks/answers.py                       # held-out half + the shared dev sets
    python benchmarks/answers.py --set tune --set round1 --set round2 --set round3 --set round4 --set round5 --set round6 --set round7 --set round8 --set round9 --set round10 --set round11 --set round12 --set round13 --set round14 --set round15 --set round16 --set round17 --set round18 --set round19 --show   # tuned on
    python benchmarks/answers.py --set heldout --set dev-kinds --signals

Sets (see tests/data/README.md):
- `heldout`: tests/data/answer_round20.jsonl and followups_round20.jsonl, the twentieth-round
  held-out set, written from the documents by someone who saw neither the code nor the other sets;
  run once and reported in stop 28, not tuned on;
- `round19`: tests/data/answer_round19.jsonl and followups_round19.jsonl, the nineteenth round's
  held-out set, reported in stop 27 (its first run) and open to tuning since;
- `round18`: tests/data/answer_round18.jsonl and followups_round18.jsonl, the eighteenth round's
  held-out set, reported in stop 27 (its first run) and open to tuning since;
- `round17`: tests/data/answer_round17.jsonl and followups_round17.jsonl, the seventeenth round's
  held-out set, reported at stop 27 (its first run) and open to tuning since;
- `round16`: tests/data/answer_round16.jsonl and followups_round16.jsonl, the sixteenth round's
  held-out set, reported at stop 26 (its first run) and open to tuning since;
- `round15`: tests/data/answer_round15.jsonl and followups_round15.jsonl, the fifteenth round's
  held-out set, reported at stop 25 (its first run) and open to tuning since;
- `round14`: tests/data/answer_round14.jsonl and followups_round14.jsonl, the fourteenth round's
  held-out set, reported at stop 24 (its first run) and open to tuning since;
- `round13`: tests/data/answer_round13.jsonl and followups_round13.jsonl, the thirteenth round's
  held-out set, reported at stop 23 (its first run) and open to tuning since;
- `round12`: tests/data/answer_round12.jsonl and followups_round12.jsonl, the twelfth round's
  held-out set, reported at stop 22 (its first run) and open to tuning since;
- `round11`: tests/data/answer_round11.jsonl and followups_round11.jsonl, the eleventh round's
  held-out set, reported at stop 21 (its first run) and open to tuning since;
- `round10`: tests/data/answer_round10.jsonl and followups_round10.jsonl, the tenth round's held-out
  set, reported at stop 20 (its first run) and open to tuning since;
- `round9`: tests/data/answer_round9.jsonl and followups_round9.jsonl, the ninth round's held-out
  set, reported at stop 19 (its first run) and open to tuning since;
- `round8`: tests/data/answer_round8.jsonl and followups_round8.jsonl, the eighth round's held-out
  set, reported at stop 19 (its first run) and open to tuning since;
- `round7`: tests/data/answer_round7.jsonl and followups_round7.jsonl, the seventh round's held-out
  set, reported at stop 18 (its first run) and open to tuning since;
- `round6`: tests/data/answer_round6.jsonl and followups_round6.jsonl, the sixth round's held-out
  set, reported at stop 18 (its first run) and open to tuning since;
- `round5`: tests/data/answer_round5.jsonl and followups_round5.jsonl, the fifth round's held-out
  set, reported at stop 18 (its first run) and open to tuning since;
- `round4`: tests/data/answer_round4.jsonl and followups_round4.jsonl, the fourth round's held-out
  set, reported at stop 17 and open to tuning since;
- `round3`: tests/data/answer_round3.jsonl and followups_round3.jsonl, the third round's held-out
  set, reported at stop 16 and open to tuning since;
- `round2`: tests/data/answer_fresh.jsonl and followups_fresh.jsonl, the second round's held-out set,
  reported at stop 15 and open to tuning since;
- `tune`: the tune half of tests/data/answer_eval.jsonl and followups.jsonl (round 1);
- `round1`: the other half of those files: held out in round 1 and reported then, tuned on since;
- `dev` (../shared/eval/dev-questions.jsonl) and `dev-kinds` (../shared/eval/dev-kinds.jsonl). The
  shared sets are a development tool: the product and its tests do not need them.

The warm answer latency is that of each question's first answer (a new question, the model and
index already loaded), then of the same questions again (their vectors cached).
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from _common import DEFAULT_DEV, ROOT, SEED_DOCS, percentile, table

from bot.answering.assistant import Assistant
from bot.answering.question import DATE
from bot.config import Settings
from bot.memory import ChatMemory
from bot.storage import Database
from indexer.refresh import refresh
from indexer.text import fold

DATA = ROOT / "tests" / "data"
EVAL = DATA / "answer_eval.jsonl"
FOLLOWUPS = DATA / "followups.jsonl"
# set name -> (its questions, its conversations) for the rounds written after round 1
ROUNDS = {
    "heldout": (DATA / "answer_round20.jsonl", DATA / "followups_round20.jsonl"),
    "round19": (DATA / "answer_round19.jsonl", DATA / "followups_round19.jsonl"),
    "round18": (DATA / "answer_round18.jsonl", DATA / "followups_round18.jsonl"),
    "round17": (DATA / "answer_round17.jsonl", DATA / "followups_round17.jsonl"),
    "round16": (DATA / "answer_round16.jsonl", DATA / "followups_round16.jsonl"),
    "round15": (DATA / "answer_round15.jsonl", DATA / "followups_round15.jsonl"),
    "round14": (DATA / "answer_round14.jsonl", DATA / "followups_round14.jsonl"),
    "round13": (DATA / "answer_round13.jsonl", DATA / "followups_round13.jsonl"),
    "round12": (DATA / "answer_round12.jsonl", DATA / "followups_round12.jsonl"),
    "round11": (DATA / "answer_round11.jsonl", DATA / "followups_round11.jsonl"),
    "round10": (DATA / "answer_round10.jsonl", DATA / "followups_round10.jsonl"),
    "round9": (DATA / "answer_round9.jsonl", DATA / "followups_round9.jsonl"),
    "round8": (DATA / "answer_round8.jsonl", DATA / "followups_round8.jsonl"),
    "round7": (DATA / "answer_round7.jsonl", DATA / "followups_round7.jsonl"),
    "round6": (DATA / "answer_round6.jsonl", DATA / "followups_round6.jsonl"),
    "round5": (DATA / "answer_round5.jsonl", DATA / "followups_round5.jsonl"),
    "round4": (DATA / "answer_round4.jsonl", DATA / "followups_round4.jsonl"),
    "round3": (DATA / "answer_round3.jsonl", DATA / "followups_round3.jsonl"),
    "round2": (DATA / "answer_fresh.jsonl", DATA / "followups_fresh.jsonl"),
}
ROUND1 = {"tune": "tune", "round1": "heldout"}  # set name -> split in the round-1 files
DEV_KINDS = DEFAULT_DEV.parent / "dev-kinds.jsonl"
DOC_GROUPS = {"000": "external-relations-2025-review", "004": "economic-diplomacy-action-program-2023",
              "f226": "resolution-226-factsheet", "contact": "contact-"}


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", fold(text)).strip()


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_set(name: str) -> list[dict]:
    if name in ROUNDS:
        return _rows(ROUNDS[name][0])
    if name in ROUND1:
        return [r for r in _rows(EVAL) if r["split"] == ROUND1[name]]
    if name == "dev-kinds":
        return _rows(DEV_KINDS) if DEV_KINDS.exists() else []
    if name == "dev":
        rows = []
        for r in _rows(DEFAULT_DEV) if DEFAULT_DEV.exists() else []:
            seeds = r["seed"] if isinstance(r["seed"], list) else ([r["seed"]] if r["seed"] else [])
            docs = sorted({SEED_DOCS[s] for s in seeds if s in SEED_DOCS})
            rows.append({**r, "kind": "dev" if docs else "offtopic", "doc": docs[0] if docs else None,
                         "docs": docs})
        return rows
    raise SystemExit(f"unknown set {name!r}")


def facts_found(answer: str, facts: list[str]) -> int:
    """Distinct facts in the answer; a fact inside another found fact is not counted again."""
    body = norm(answer)
    found: list[str] = []
    for fact in sorted({norm(f) for f in facts}, key=len, reverse=True):
        if fact in body and not any(fact in f for f in found):
            found.append(fact)
    return len(found)


def evaluate(assistant: Assistant, rows: list[dict], show: bool, signals: bool,
             latencies: list[float] | None = None) -> tuple[list[list[object]], list]:
    per: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    misses = []
    for row in rows:
        started = time.perf_counter()
        answer = assistant.answer(row["q"])
        if latencies is not None:
            latencies.append((time.perf_counter() - started) * 1000)
        kind = row["kind"]
        s = per[kind]
        s["n"] += 1
        answerable = bool(row.get("doc") or row.get("docs"))
        text = answer.text if not answer.refused else ""
        if answerable:
            s["refused"] += answer.refused
            hit = facts_found(text, row["facts"]) > 0
            s["fact"] += hit
            need = int(row.get("min_items") or 0)
            if kind in ("list", "overview") and need:
                got = facts_found(text, row["facts"])
                s["items_got"] += min(got, need)
                s["items_need"] += need
                s["lists_full"] += got >= need
                s["lists"] += 1
            if kind == "when":
                s["dated"] += bool(DATE.search(fold(text))) and hit
            if answer.refused or not hit:
                misses.append((row.get("id"), kind, row["q"], "refused" if answer.refused else "fact missing"))
        else:
            # refused: the answer says the documents do not cover it (`refused: true`), either plainly
            # or as "the documents do not state ...; what they do say: ..."; plain: with no quote at all
            s["refused"] += answer.refused
            s["plain"] += answer.refused and not answer.citations
            if not answer.refused:
                misses.append((row.get("id"), kind, row["q"], "answered"))
        if show:
            print(f"--- {row.get('id')} {kind} [{answer.language}{' REFUSED' if answer.refused else ''}] {row['q']}")
            print(answer.text if not answer.refused else "(refused)")
            for c in answer.citations:
                print(f"    [{c.n}] {c.doc_id} {c.published} {c.label}")
        if signals:
            print(f"    signals {row.get('id')}: {assistant.explain(row['q'])}")
    out = []
    for kind in sorted(per):
        s = per[kind]
        n = int(s["n"])
        if kind in ("offtopic", "offtopic-near"):
            out.append([kind, n, "", "", "", f"{int(s['refused'])}/{n} ({int(s['plain'])} plain)"])
            continue
        items = f"{int(s['items_got'])}/{int(s['items_need'])} ({int(s['lists_full'])}/{int(s['lists'])} full)" \
            if s["lists"] else ""
        dated = f"{int(s['dated'])}/{n}" if kind == "when" else ""
        out.append([kind, n, f"{s['fact'] / n:.2f}", items, dated, f"{int(s['refused'])}/{n}"])
    answerable = [k for k in per if k not in ("offtopic", "offtopic-near")]
    if len(answerable) > 1:
        n = int(sum(per[k]["n"] for k in answerable))
        fact = sum(per[k]["fact"] for k in answerable)
        lists = int(sum(per[k]["lists"] for k in answerable))
        full = int(sum(per[k]["lists_full"] for k in answerable))
        dated = int(sum(per[k]["dated"] for k in answerable))
        whens = int(per["when"]["n"]) if "when" in per else 0
        out.append(["ALL answerable", n, f"{fact / max(1, n):.2f} ({int(fact)}/{n})",
                    f"{full}/{lists} full" if lists else "", f"{dated}/{whens}" if whens else "",
                    f"{int(sum(per[k]['refused'] for k in answerable))}/{n}"])
    return out, misses


def followup_set(name: str) -> list[dict]:
    if name in ROUNDS:
        conversations = ROUNDS[name][1]
        return _rows(conversations) if conversations.exists() else []
    if name in ROUND1 and FOLLOWUPS.exists():
        return [r for r in _rows(FOLLOWUPS) if r["split"] == ROUND1[name]]
    return []


def followups(assistant: Assistant, name: str, show: bool) -> tuple[int, int]:
    ok = total = 0
    for conv in followup_set(name):
        key = f"bench:{conv['id']}"
        assistant.memory.forget(key)  # type: ignore[union-attr]
        for i, turn in enumerate(conv["turns"]):
            answer = assistant.answer(turn["q"], chat_key=key)
            hit = not answer.refused and facts_found(answer.text, turn["facts"]) > 0
            if i > 0:
                total += 1
                ok += hit
            if show:
                print(f"--- {conv['id']}.{i} [{'ok' if hit else 'MISS'}] {turn['q']}\n{answer.text}")
    return ok, total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", action="append", dest="sets",
                        help="heldout (round 20) | round19 | round18 | round17 | round16 | round15 | round14 | round13 | round12 | round11 | round10 | round9 | round8 | round7 | round6 | round5 | round4 | round3 | round2 | tune | round1 | dev | dev-kinds (repeatable; default: heldout, dev, dev-kinds)")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over the questions for latency")
    parser.add_argument("--show", action="store_true", help="print every answer")
    parser.add_argument("--signals", action="store_true", help="print the refusal signals of every question")
    args = parser.parse_args()
    sets = args.sets or ["heldout", "dev", "dev-kinds"]

    data = Path(tempfile.mkdtemp(prefix="bench-answers-"))
    settings = Settings.from_env({"DATA_DIR": str(data), "KNOWLEDGE_DIR": str(ROOT / "knowledge")})
    refresh(settings.index)
    memory = ChatMemory(Database(data / "bench.sqlite3"), turns=4, ttl_seconds=3600)
    assistant = Assistant(settings, memory=memory)
    assistant.warm()

    all_rows = []
    new_ms: list[float] = []
    for name in sets:
        rows = load_set(name)
        if not rows:
            print(f"(set {name}: no questions found)")
            continue
        all_rows.extend(rows)
        result, misses = evaluate(assistant, rows, args.show, args.signals, new_ms)
        print(f"\nSet: {name} ({len(rows)} questions)")
        print(table(["kind", "n", "fact hit", "list items found/expected", "when: date present",
                     "refused"], result))
        if followup_set(name):
            ok, total = followups(assistant, name, args.show)
            print(f"follow-ups answered in context: {ok}/{total}")
        for miss in misses:
            print("miss:", miss)

    latencies = []
    for _ in range(args.repeat):
        for row in all_rows:
            t0 = time.perf_counter()
            assistant.answer(row["q"])
            latencies.append((time.perf_counter() - t0) * 1000)
    print()
    print(table(["warm answer, ms", "p50", "p95", "answers timed"], [
        ["new question (first answer)", f"{percentile(new_ms, 50):.1f}", f"{percentile(new_ms, 95):.1f}", len(new_ms)],
        ["same question again", f"{percentile(latencies, 50):.1f}", f"{percentile(latencies, 95):.1f}",
         len(latencies)]]))


if __name__ == "__main__":
    main()
