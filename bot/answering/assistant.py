"""The Assistant: a question in, an Answer out — the answering core's one entry.

question analysis (kind, terms, synonyms) → hybrid search → reader (answer units) → refusal →
compose (quoted units, cited) or the optional LLM composer (checked, with fallback).

It never invents: either the answer is made of (or checked against) retrieved passages and cited,
or it is a refusal that says the documents do not cover the question and where to ask.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace

import numpy as np

from bot.answering import compose, llm, refusal
from bot.answering.answer import Answer
from bot.answering.offdomain import OFF_DOMAIN_EXAMPLES
from bot.answering.question import (
    AREA,
    EVERYWHERE,
    FACT_KINDS,
    AnalysedQuestion,
    area_subject,
    list_head,
    people_named,
    person_named,
    question_kind,
    recounted,
    split_asks,
    term_weights,
    weighed_text,
)
from bot.answering.reader import Quote, Reader, Reading
from bot.answering.vocabulary import Speller, unseen_words, warm_vocabulary
from bot.config import Settings
from bot.language import detect
from bot.memory import ChatMemory
from bot.offices import shared_offices
from bot.texts import t
from indexer.phrases import PhraseMap
from indexer.search import SearchEngine, SearchResult
from indexer.text import fold, folded_words, tokens
from indexer.unit_index import UnitIndex, VectorCache, analyse, build_unit_index, stem

log = logging.getLogger("bot.answering.assistant")
RETRIEVE_K = 6
HISTORY_WEIGHT = 0.3  # weight of an earlier turn's words in a follow-up
MAX_QUESTION_CHARS = 1000
ANALYSED_KEPT = 256  # question analyses remembered (`prepare`, then `answer`)


_GLUED = re.compile(r"(?<![\w/.-])([^\W\d_]{1,4})(\d{2,4})\b")


# two names joined by a hyphen ("the HP-Netherlands programme"); codes keep theirs ("15-CT/TW")
_JOINED_NAMES = re.compile(r"(?<![\w/-])([A-Z][A-Za-z]+)-([A-Z][a-z]{2,})\b")


_EVERYWHERE_LONGEST_FIRST = tuple(sorted(EVERYWHERE, key=len, reverse=True))  # "hai phong city" before "hai phong"


def _specific(name: str) -> str:
    """A name without the city or country it opens with ("hai phong free trade zone" -> "free trade
    zone"): a passage about the zone need not write the city; "" for the city or country itself."""
    for place in _EVERYWHERE_LONGEST_FIRST:
        if name == place:
            return ""
        if name.startswith(place + " "):
            return name[len(place) + 1:]
    return name


def _split_glued(text: str) -> str:
    """A short abbreviation typed against its number ("nq226", "res226") read as two words, and
    two names joined by a hyphen as two names."""
    return _JOINED_NAMES.sub(r"\1 - \2", _GLUED.sub(r"\1 \2", text))


@dataclass
class _Generation:
    """What the answering core derives from one index generation."""

    collection: str
    units: UnitIndex
    reader: Reader
    restore: PhraseMap  # glossary terms typed without diacritics -> with them
    speller: Speller
    # the persons the passages name, as written and folded: ("Ngô Lê Văn", "ngo le van")
    people: tuple[tuple[str, str], ...] = ()


class Assistant:
    def __init__(self, settings: Settings, *, engine: SearchEngine | None = None,
                 memory: ChatMemory | None = None, chat_model: object | None = None) -> None:
        self.settings = settings
        self.engine = engine or SearchEngine(settings.index)
        self.memory = memory
        self.chat_model = chat_model
        if self.chat_model is None and settings.llm_enabled:
            self.chat_model = llm.build_chat_model(settings.llm_base_url, settings.llm_model,
                                                   settings.llm_api_key, settings.llm_timeout)
        self._generation_cache: _Generation | None = None
        self._lock = threading.Lock()
        self._offdomain_vectors: np.ndarray | None = None
        self._vector_cache: VectorCache | None = None
        self._analysed: OrderedDict[tuple[str, str, str, str], AnalysedQuestion] = OrderedDict()

    # -- what is derived once per index generation ------------------------------------------------
    def _cache(self) -> VectorCache:
        if self._vector_cache is None:
            self._vector_cache = VectorCache(self.settings.index.index_dir / "unit-vectors",
                                             self.settings.index.embedding_model)
        return self._vector_cache

    def generation(self) -> _Generation:
        snap = self.engine.snapshot()
        current = self._generation_cache
        if current is not None and current.collection == snap.manifest.collection:
            return current
        with self._lock:
            current = self._generation_cache
            if current is not None and current.collection == snap.manifest.collection:
                return current
            units = build_unit_index(snap.ids, snap.texts, snap.metas, self.engine.embeddings, self._cache(),
                                     self.settings.index.knowledge_dir / "synonyms.yaml")
            # only terms of two syllables or more: one syllable typed without marks is ambiguous
            # ("so" is số, sở or sổ)
            restore = PhraseMap([([form], form) for term in snap.glossary.terms for form in term.vi
                                 if len(form.split()) >= 2], only_unmarked=True)
            words = {w for text in snap.texts for w in tokens(text)}
            words |= {w for m in snap.metas for w in tokens(f"{m.get('title', '')} {m.get('section', '')}")}
            units.folded_pairs()  # for questions typed without marks
            people = tuple((name, " ".join(folded_words(name)))
                           for name in sorted({n for text in snap.texts for n in people_named(text)}))
            current = _Generation(snap.manifest.collection, units, Reader(units), restore, Speller(words), people)
            self._generation_cache = current
            return current

    def _offdomain(self) -> np.ndarray:
        if self._offdomain_vectors is None:
            embedder = getattr(self.engine, "query_embedder", None)
            if embedder is not None and hasattr(embedder, "embed_many"):  # in batches
                rows = embedder.embed_many(list(OFF_DOMAIN_EXAMPLES))
            else:
                rows = [self.engine.embeddings.embed_query(q) for q in OFF_DOMAIN_EXAMPLES]
            m = np.asarray(rows, dtype=np.float32)
            self._offdomain_vectors = m / (np.linalg.norm(m, axis=1, keepdims=True) + 1e-9)
        return self._offdomain_vectors

    def warm(self) -> None:
        """Load the model, the index generation, its answer units, the off-domain examples and the
        word lists, so the first user does not wait for them."""
        self.generation()
        self._offdomain()
        warm_vocabulary()
        self.answer("warm up")

    def embed_question(self, text: str) -> np.ndarray:
        embed = getattr(self.engine, "embed_query", None)
        vector = embed(text) if callable(embed) else self.engine.embeddings.embed_query(text)
        v = np.asarray(vector, dtype=np.float32)
        return v / (float(np.linalg.norm(v)) + 1e-9)

    # -- contact --------------------------------------------------------------------------------
    def where_to_ask(self, question: str, lang: str) -> str:
        """The office that fits the question's topic (staff-editable offices documents), then the
        portal's contact from the knowledge base."""
        portal = self.contact(lang)
        try:
            offices = shared_offices(self.settings.index.knowledge_dir)
            office = offices.office_for(question, lang) if offices.topic(question) else None
        except Exception:  # a broken offices file must not break answering
            office = None
        return f"{office.line(lang).rstrip('.')}; {portal}" if office is not None else portal

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

    # -- answering --------------------------------------------------------------------------------
    def analyse(self, question: str, query: str, lang: str, gen: _Generation) -> AnalysedQuestion:
        """`query` is the question, or for a follow-up the question joined with the earlier topic.
        Remembered for a few hundred questions: the conversation layer's `prepare` analyses a
        question as it arrives, and the answer then finds that analysis ready."""
        key = (gen.collection, question, query, lang)
        with self._lock:
            found = self._analysed.get(key)
            if found is not None:
                self._analysed.move_to_end(key)
                return found
        analysed = self._analyse(question, query, lang, gen)
        with self._lock:
            self._analysed[key] = analysed
            while len(self._analysed) > ANALYSED_KEPT:
                self._analysed.popitem(last=False)
        return analysed

    def _analyse(self, question: str, query: str, lang: str, gen: _Generation) -> AnalysedQuestion:
        question = gen.speller.correct(_split_glued(question))
        query = gen.speller.correct(_split_glued(query))
        search_text = gen.units.synonyms.rewrite(query)
        if lang == "vi":
            search_text = gen.restore.rewrite(search_text)
        expansion = self.engine.expand(search_text)
        links = tuple((tuple(stem(w) for w in words), tuple(tuple(stem(w) for w in form) for form in forms))
                      for words, forms in expansion.links)
        plain = gen.units.synonyms.rewrite(question)
        weights = term_weights(analyse(weighed_text(plain), gen.units.synonyms), gen.units.idf, stem)
        if query != question:  # a follow-up: the earlier topic helps, the new question's words lead
            for term, weight in term_weights(analyse(search_text, gen.units.synonyms), gen.units.idf, stem).items():
                weights.setdefault(term, HISTORY_WEIGHT * weight)
        kind = recounted(question_kind(question, lang), plain, lang)
        if kind.counted == AREA:  # "how big is X": the area must be X's, so X is read off the question
            kind = replace(kind, measured=area_subject(fold(plain)))
        head = frozenset(analyse(" ".join(list_head(plain, lang)), gen.units.synonyms)) if kind.kind == "list" \
            else frozenset()
        names = tuple(filter(None, map(_specific, gen.units.names_in(fold(plain))))) if kind.kind in FACT_KINDS \
            else ()
        return AnalysedQuestion(question, plain, search_text, lang, kind, weights, links, head, names,
                                follow_up="\n" in search_text.strip())

    def _in_context(self, chat_key: str | None, question: str, language: str | None) -> tuple[str, str, str, str]:
        """The question with the person "he" / "ông ấy" stands for, that person, its language, and the
        text to search for (joined with the earlier topic for a follow-up): one read of the chat's memory."""
        if self.memory is None or not chat_key:
            return question, "", language or detect(question, self.settings.default_language), question
        history = self.memory.recent(chat_key)
        # the language is the asker's, read before "his" becomes a Vietnamese name ("Tran Huy Kien's")
        lang = language or detect(question, self.settings.default_language)
        question, person = self.memory.with_person(chat_key, question, history)
        pairs = self.generation().units.folded_pairs()
        return question, person, lang, self.memory.contextual_query(chat_key, question, lang, pairs.__contains__,
                                                                    history)

    @staticmethod
    def _clean(question: str) -> str:
        # a question is a few lines; beyond that only the beginning is read (an embedding of 100 kB
        # of text would hold the answering core for a minute)
        return (question or "").replace("\x00", "").strip()[:MAX_QUESTION_CHARS]

    def prepare(self, question: str, *, language: str | None = None, chat_key: str | None = None) -> str:
        """Analyse the question as `answer` will (the analysis is remembered) and return the text
        whose vector the answer needs. The conversation layer runs this on a worker, then awaits
        that vector on the event loop (batched with the questions arriving with it), so no worker
        thread sits waiting for the model; `answer` then finds both ready."""
        question, _person, lang, query = self._in_context(chat_key, self._clean(question), language)
        return self.analyse(question, query, lang, self.generation()).search_text

    def answer(self, question: str, *, language: str | None = None, chat_key: str | None = None) -> Answer:
        question, person, lang, query = self._in_context(chat_key, self._clean(question), language)
        gen = self.generation()
        q = self.analyse(question, query, lang, gen)
        # two questions in one message, each answered: both answers, together; else the message as one
        both = self._read_asks(question, query, lang, gen)
        if both is not None:
            q, results, reading, verdict = both
        else:
            results, reading, verdict = self._read(q, gen)
        log.debug("verdict", extra={"signals": verdict.signals, "reason": verdict.reason, "kind": q.kind.kind})
        if not verdict.answerable:
            answer = compose.refusal(question, lang, self.where_to_ask(question, lang))
        else:
            answer = compose.extractive(q, reading, gen.units.chunk_text,
                                        lambda: self.where_to_ask(question, lang), results)
            if self.chat_model is not None:
                answer = self._try_llm(question, lang, results, answer)
        if self.memory and chat_key and not answer.refused:
            # a "who" answer's person is whom the next "he" / "ông ấy" means; else the one the question
            # names ("what did Deputy Minister Ngo Le Van ask ..."), or the one still meant
            subject = next((name for x in reading.quotes if x.satisfies and (name := person_named(x.unit.text))),
                           "") if q.kind.kind == "who" else ""
            # (typed in lower case and without marks, "ong ngo le van" is a person the passages name)
            folded = f" {' '.join(folded_words(question))} "
            asked = person_named(question) or next((name for name, form in gen.people if f" {form} " in folded), "")
            self.memory.remember(chat_key, question, query, lang, subject or asked or person)
        return answer

    def _read_asks(self, question: str, query: str, lang: str, gen: _Generation
                   ) -> tuple[AnalysedQuestion, list[SearchResult], Reading, refusal.Verdict] | None:
        """For a message that asks two questions, each read on its own (the second with the first as
        its context, as a follow-up is), their quotes together; None unless there are two and the
        passages answer both."""
        asks = split_asks(question)
        if len(asks) < 2:
            return None
        read = []
        for i, ask in enumerate(asks):
            context = query if i == 0 else f"{ask}\n{asks[0]}"
            part = self.analyse(ask, context, lang, gen)
            results, reading, verdict = self._read(part, gen)
            if not verdict.answerable or not reading.satisfied:
                return None
            read.append((part, results, reading, verdict))
        quotes: list[Quote] = []
        for _part, _results, reading, _verdict in read:
            quotes.extend(x for x in reading.quotes if all(x.index != y.index for y in quotes))
        first, results, reading, verdict = read[0]
        return (replace(first, text=question), [r for part in read for r in part[1]],
                replace(reading, quotes=tuple(quotes)), verdict)

    def _read(self, q: AnalysedQuestion, gen: _Generation) -> tuple[list[SearchResult], Reading, refusal.Verdict]:
        """Search, read the retrieved passages' units, and judge whether they answer."""
        results = self.engine.search(q.search_text, k=RETRIEVE_K, language=q.language, settle_ties=False)
        q_vec = self.embed_question(q.search_text)
        reading = gen.reader.read(q, results, q_vec)
        coverage = gen.reader.coverage(q, results)
        offdomain = float((self._offdomain() @ q_vec).max()) if len(OFF_DOMAIN_EXAMPLES) else 0.0
        quoted = {x.unit.chunk_id for x in reading.quotes}
        context = [r.text for r in results if r.chunk_id in quoted]
        return results, reading, self._verdict(q, reading, coverage, offdomain, gen, context)

    def _verdict(self, q: AnalysedQuestion, reading: Reading, coverage: float, offdomain: float,
                 gen: _Generation, context: list[str]) -> refusal.Verdict:
        df = self.engine.term_stats().df
        expansion = self.engine.expand(q.plain)
        same = bool(reading.quotes) and str(reading.quotes[0].meta.get("language", "")) == q.language
        unseen = unseen_words(q.plain, q.language, gen.units, df, expansion, same_language_passages=same,
                              fact_asked=q.kind.kind in ("how-many", "who", "where"))
        verdict = refusal.judge(q, reading, coverage, offdomain, df, expansion, unseen, context, gen.units.editions(),
                                term_df=gen.units.df)
        if unseen.concepts or unseen.names:
            verdict.signals["unseen"] = ", ".join((*unseen.concepts, *unseen.names))  # type: ignore[assignment]
        return verdict

    def explain(self, question: str, language: str | None = None) -> dict[str, object]:
        """The signals behind an answer, for calibration and staff diagnostics."""
        lang = language or detect(question, self.settings.default_language)
        gen = self.generation()
        q = self.analyse(question, question, lang, gen)
        _results, _reading, verdict = self._read(q, gen)
        return {"kind": q.kind.kind, "search_text": q.search_text, "answerable": verdict.answerable,
                "reason": verdict.reason, **verdict.signals}

    def _try_llm(self, question: str, lang: str, results: list[SearchResult], fallback: Answer) -> Answer:
        passages = results[:4]
        citations = [compose.to_citation(i, r) for i, r in enumerate(passages, 1)]
        try:
            return llm.compose(self.chat_model, question, lang, passages, citations)  # type: ignore[arg-type]
        except Exception as exc:
            log.warning("LLM composer fell back to the extractive answer",
                        extra={"reason": f"{type(exc).__name__}: {str(exc)[:200]}"})
            return fallback
