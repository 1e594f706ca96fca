"""The Assistant: a question in, an Answer out. Language, memory, retrieval, evidence, composition.

It never invents: either the answer is made of (or checked against) retrieved passages and cited,
or it is a refusal that says the documents do not cover the question and where to ask.
"""

from __future__ import annotations

import logging

from bot.answering import compose, llm
from bot.answering.answer import Answer
from bot.answering.evidence import EvidenceJudge
from bot.config import Settings
from bot.language import detect
from bot.memory import ChatMemory
from bot.texts import t
from indexer.search import SearchEngine, SearchResult

log = logging.getLogger("bot.answering.assistant")
RETRIEVE_K = 6
MAX_QUESTION_CHARS = 1000


class Assistant:
    def __init__(self, settings: Settings, *, engine: SearchEngine | None = None,
                 memory: ChatMemory | None = None, chat_model: object | None = None) -> None:
        self.settings = settings
        self.engine = engine or SearchEngine(settings.index)
        self.memory = memory
        self.judge = EvidenceJudge(self.engine)
        self.chat_model = chat_model
        if self.chat_model is None and settings.llm_enabled:
            self.chat_model = llm.build_chat_model(settings.llm_base_url, settings.llm_model,
                                                   settings.llm_api_key, settings.llm_timeout)

    def contact(self, lang: str) -> str:
        """Where to ask, from the knowledge base's contact document."""
        try:
            docs = [d for d in self.engine.documents() if d["kind"] == "contact"]
        except Exception:
            docs = []
        docs.sort(key=lambda d: (d["language"] != lang, d["published"]))
        if not docs:
            return t("contact_fallback", lang)
        doc = docs[0]
        text = self._contact_text(doc["doc_id"])
        return text or f"{doc['title']} ({doc['url']})"

    def _contact_text(self, doc_id: str) -> str:
        snap = self.engine.snapshot()
        parts = [snap.texts[i] for i, m in enumerate(snap.metas) if m.get("doc_id") == doc_id]
        lines = [ln.strip() for p in parts for ln in p.splitlines() if ln.strip()]
        return " ".join(lines)

    def answer(self, question: str, *, language: str | None = None, chat_key: str | None = None) -> Answer:
        question = (question or "").replace("\x00", "").strip()
        if len(question) > MAX_QUESTION_CHARS:
            # a question is a few lines; beyond that only the beginning is read (an embedding of
            # 100 kB of text would hold the answering core for a minute)
            question = question[:MAX_QUESTION_CHARS]
        lang = language or detect(question, self.settings.default_language)
        query = self.memory.contextual_query(chat_key, question) if self.memory else question
        results = self.engine.search(query, k=RETRIEVE_K, language=lang)
        expansion = self.engine.expand(query)
        versions = [v for r in results for v in r.versions]
        evidence = self.judge.judge(query, results, expansion, self.engine.texts(versions))
        log.debug("evidence", extra={"signals": evidence.signals, "reason": evidence.reason})
        if not evidence.answerable:
            answer = compose.refusal(question, lang, self.contact(lang))
        else:
            answer = compose.extractive(question, lang, evidence)
            if self.chat_model is not None:
                answer = self._try_llm(question, lang, results, answer)
        if self.memory and chat_key and not answer.refused:
            self.memory.remember(chat_key, question, query, lang)
        return answer

    def _try_llm(self, question: str, lang: str, results: list[SearchResult], fallback: Answer) -> Answer:
        passages = results[:4]
        citations = [compose.to_citation(i, r) for i, r in enumerate(passages, 1)]
        try:
            return llm.compose(self.chat_model, question, lang, passages, citations)  # type: ignore[arg-type]
        except Exception as exc:
            log.warning("LLM composer fell back to the extractive answer",
                        extra={"reason": f"{type(exc).__name__}: {str(exc)[:200]}"})
            return fallback
