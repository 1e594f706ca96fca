"""The default composer, no LLM: an answer made only of quoted answer units, each followed by its
marker [n], in a frame in the asker's language; then the numbered sources. A list is quoted with
its items (the first ones and "and N more" when it is long). When the question asks for a date,
a number, a name or a place that no quoted passage holds, the answer says so before quoting what
the documents do say. The frame and those notes are the only text not taken from a source."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bot.answering.answer import Answer, Citation
from bot.answering.question import AnalysedQuestion
from bot.answering.reader import Quote, Reading
from bot.texts import t
from indexer.search import SearchResult

PRESS_MARKERS = ("(press", "(báo chí")
MAX_LIST_ITEMS = 8  # a longer list shows its first SHOWN_WHEN_LONG items and "and N more"
SHOWN_WHEN_LONG = 6


def citation_from_meta(n: int, meta: dict[str, Any], text: str, chunk_id: str, label: str = "",
                       result: SearchResult | None = None) -> Citation:
    """A citation of a quoted passage; `result`, the retrieved passage of the same document, tells
    whether a newer document supersedes it (or it an older one)."""
    return Citation(n=n, title=str(meta.get("title", "")), url=str(meta.get("url", "")),
                    published=str(meta.get("published", "")), text=text, source=str(meta.get("source", "")),
                    language=str(meta.get("language", "")),
                    unofficial_translation=bool(meta.get("unofficial_translation", False)),
                    doc_id=str(meta.get("doc_id", "")), chunk_id=chunk_id, label=label,
                    fetched=str(meta.get("fetched") or ""),
                    newer_than=result.newer_than if result else "", older_than=result.older_than if result else "")


def to_citation(n: int, r: SearchResult) -> Citation:
    return Citation(n=n, title=r.title, url=r.url, published=r.published, text=r.text, source=r.source,
                    language=r.language, unofficial_translation=r.unofficial_translation,
                    doc_id=r.doc_id, chunk_id=r.chunk_id, fetched=r.fetched, newer_than=r.newer_than,
                    older_than=r.older_than)


def frame(lang: str, languages: set[str]) -> str:
    if languages == {lang} or not languages:
        return t("frame_same", lang)
    if lang not in languages:
        return t("frame_other", lang)
    return t("frame_mixed", lang)


def _clean(sentence: str) -> str:
    return sentence.lstrip("-*• ").strip()


def citations_for(quotes: tuple[Quote, ...], chunk_text: dict[str, str],
                  results: Sequence[SearchResult] = ()) -> tuple[list[Citation], list[int]]:
    """One citation per quoted document (its quoted passages as the cited text), numbered in the
    order the quotes appear; returns the citations and each quote's number."""
    keys: dict[str, int] = {}
    passages: dict[int, list[str]] = {}
    labels: dict[int, list[str]] = {}
    metas: dict[int, tuple[dict[str, Any], tuple[str, ...]]] = {}
    numbers: list[int] = []
    for quote in quotes:
        key = quote.unit.doc_id
        if key not in keys:
            keys[key] = len(keys) + 1
            metas[keys[key]] = (quote.meta, quote.unit.chunk_ids)
            labels[keys[key]] = []
            passages[keys[key]] = []
        n = keys[key]
        passages[n].extend(c for c in quote.unit.chunk_ids if c not in passages[n])
        if quote.unit.label and quote.unit.label not in labels[n]:
            labels[n].append(quote.unit.label)
        numbers.append(n)
    citations = []
    for n, (meta, chunk_ids) in metas.items():
        ordered = sorted(passages[n], key=_position)
        text = "\n".join(chunk_text.get(c, "") for c in ordered).strip()
        doc = str(meta.get("doc_id", ""))
        result = next((r for r in results if r.doc_id == doc), None)
        citations.append(citation_from_meta(n, meta, text, chunk_ids[0], "; ".join(labels[n]), result))
    return citations, numbers


def _position(chunk_id: str) -> int:
    tail = chunk_id.rsplit("#", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _quote_lines(quote: Quote, n: int, lang: str) -> list[str]:
    unit = quote.unit
    if unit.kind != "list":
        return [f"- {_clean(unit.text)} [{n}]"]
    head = unit.intro or ""
    items = list(unit.items)
    shown = items if len(items) <= MAX_LIST_ITEMS else items[:SHOWN_WHEN_LONG]
    if head and not head.rstrip().endswith(":"):
        head = f"{head.rstrip()}:"  # a section heading that stands for the list's introduction
    lines = [f"- {_clean(head)} [{n}]"] if head else []
    for i, item in enumerate(shown, 1):
        lines.append(f"  {i}. {_clean(item)}" if unit.numbered else f"  • {_clean(item)}")
    if not head:
        lines[-1] += f" [{n}]"
    if len(shown) < len(items):
        lines.append("  " + t("and_more", lang, n=len(items) - len(shown), ref=n))
    return lines


NEEDS = ("when", "how-many", "how-long", "who", "where")  # kinds whose answer must hold a date, a number ...
UNMET_QUOTE_MIN_DENSE = 0.82  # "what the documents do say" is quoted only when it is this close to the question


def _unmet_key(q: AnalysedQuestion) -> str:
    """What the answer says the documents do not state: a contact, a requirement, the day, the time a
    procedure takes, the motto or theme, a document's number, the company, or the kind's fact."""
    if q.kind.kind == "when" and q.kind.day:
        return "day"
    if q.kind.kind == "how-long" and q.kind.process:
        return "process"
    if q.kind.attribute:
        return "attribute"
    if q.kind.numbered:
        return "numbered"
    if q.kind.company:
        return "company"
    return q.kind.contact or q.kind.requirement or q.kind.kind


def extractive(q: AnalysedQuestion, reading: Reading, chunk_text: dict[str, str], contact: Callable[[], str],
               results: Sequence[SearchResult] = ()) -> Answer:
    """The quoted answer. When the question asks for a date, a figure, a name or a place that no
    quoted passage holds, the answer is a refusal that says so, shows what the documents do say and
    where to ask (`contact`, called only then)."""
    unmet = not reading.satisfied and (q.kind.kind in NEEDS or bool(q.kind.contact) or bool(q.kind.requirement)
                                       or bool(q.kind.attribute) or bool(q.kind.numbered))
    if unmet and max((x.dense for x in reading.quotes), default=0.0) < UNMET_QUOTE_MIN_DENSE:
        # nothing holds the fact, and what is there is not even close to the question: a neighbouring
        # passage would only look like an answer ("how many islands has Japan" -> a plan's sentence)
        return refusal(q.text, q.language, contact())
    citations, numbers = citations_for(reading.quotes, chunk_text, results)
    lines = [frame(q.language, {str(x.meta.get("language", "")) for x in reading.quotes})]
    if unmet:
        lines = [t("not_stated", q.language, what=t(f"not_stated:{_unmet_key(q)}",
                                                         q.language))]
    for quote, n in zip(reading.quotes, numbers, strict=True):
        lines.extend(_quote_lines(quote, n, q.language))
    if any(m in x.unit.text for x in reading.quotes for m in PRESS_MARKERS):
        lines.append(t("press_caution", q.language))
    if unmet:
        lines.append(t("not_stated_contact", q.language, contact=contact()))
    return Answer(q.text, q.language, "\n".join(lines), unmet, tuple(citations), "extractive")


def refusal(question: str, lang: str, contact: str) -> Answer:
    return Answer(question, lang, t("refusal", lang, contact=contact), True, (), "extractive")
