"""The default composer, no LLM: a short answer made only of source sentences, each followed by its
marker [n], in a frame in the asker's language; then the numbered sources. The frame is the only
text not taken from a source."""

from __future__ import annotations

from bot.answering.answer import Answer, Citation
from bot.answering.evidence import Evidence
from bot.texts import t
from indexer.search import SearchResult

PRESS_MARKERS = ("(press", "(báo chí")


def citations_for(evidence: Evidence) -> tuple[list[Citation], dict[str, int]]:
    """Number the passages in the order their sentences appear."""
    numbers: dict[str, int] = {}
    citations: list[Citation] = []
    for _sentence, result in evidence.sentences:
        if result.chunk_id in numbers:
            continue
        numbers[result.chunk_id] = len(citations) + 1
        citations.append(to_citation(len(citations) + 1, result))
    return citations, numbers


def to_citation(n: int, r: SearchResult) -> Citation:
    return Citation(n=n, title=r.title, url=r.url, published=r.published, text=r.text, source=r.source,
                    language=r.language, unofficial_translation=r.unofficial_translation,
                    doc_id=r.doc_id, chunk_id=r.chunk_id)


def frame(lang: str, passages: list[SearchResult]) -> str:
    langs = {p.language for p in passages}
    if langs == {lang} or not langs:
        return t("frame_same", lang)
    if lang not in langs:
        return t("frame_other", lang)
    return t("frame_mixed", lang)


def _clean(sentence: str) -> str:
    return sentence.lstrip("-*• ").strip()


def extractive(question: str, lang: str, evidence: Evidence) -> Answer:
    citations, numbers = citations_for(evidence)
    passages = [r for _s, r in evidence.sentences]
    lines = [frame(lang, passages)]
    for sentence, result in evidence.sentences:
        lines.append(f"- {_clean(sentence)} [{numbers[result.chunk_id]}]")
    if any(m in s for s, _ in evidence.sentences for m in PRESS_MARKERS):
        lines.append(t("press_caution", lang))
    return Answer(question, lang, "\n".join(lines), False, tuple(citations), "extractive")


def refusal(question: str, lang: str, contact: str) -> Answer:
    return Answer(question, lang, t("refusal", lang, contact=contact), True, (), "extractive")
