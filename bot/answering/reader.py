"""The reader: which answer units of the retrieved passages answer the question.

Every unit of the retrieved passages is scored by
- the question's distinctive words it holds (IDF-weighted, after the synonyms, with the glossary
  carrying words across languages), in its own text and, less, in its title and section;
- its dense similarity to the question (units are embedded at index time), which finds
  paraphrases no word list foresees;
- what the kind of question needs: a "when" answer must hold a date, a "how many" answer a number,
  a list question is answered by the list itself, with all its items.
The best unit leads; others follow when they score close to it. One language per fact: a unit of a
document that has a version in the asker's language is replaced by its counterpart there, and never
quoted twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from bot.answering.question import (
    DAY,
    FACT_KINDS,
    PERSON,
    VI_COUNTED_ALONE,
    YEAR,
    AnalysedQuestion,
    mentions,
    same_year,
)
from indexer.search import SearchResult
from indexer.text import fold, folded_words, name_runs
from indexer.unit_index import UnitIndex, analyse
from indexer.units import Unit, inline_items

# weights of the unit score (calibrated on the tune half of tests/data/answer_eval.jsonl)
W_TEXT = 1.0  # share of the question's weighted terms in the unit's own text
W_CONTEXT = 0.3  # ... in its text, title and section
W_DENSE = 4.0  # per unit of cosine similarity above DENSE_ORIGIN
DENSE_ORIGIN = 0.80
RANK_PENALTY = 0.04  # per place down the retrieval ranking
KIND_MISS_PENALTY = 0.35  # the unit lacks what the question's kind needs (a date, a number ...)
PERSON_BONUS = 0.2  # a "who" question, and the unit names a person
# a news article's opening sentence carries its key facts (when, the document's number, its period):
# for such a question it counts a little more than a later sentence that shares as many words
LEDE_BONUS = 0.25
# "the 3 sites of the FTZ": a unit that writes that count ("in three sites") is the one meant
COUNT_BONUS = 0.15
# an overview of what a document's title names ("tóm tắt Nghị quyết 226") is that document's to give
TITLE_BONUS = 0.3
# "what did the Deputy Minister ask / say": a sentence that reports someone's words answers, not
# one that lists him among those present
SPEECH_BONUS = 0.3
LEDE_KINDS = ("when", "how-many", "how-long")
# "what date was it signed": a sentence that writes a day ("16 October 2025") answers it better than
# one with years only ("reviews the pilot ... 2028")
DAY_BONUS = 0.15
# A list question is answered by an enumeration (a list, or a sentence that enumerates after a colon
# or between semicolons) about its subject; a sentence that only repeats the question's words
# ("... the special mechanisms of Resolution 226 ...") mentions the subject without answering.
W_TEXT_LIST = 0.4
LIST_BONUS = 0.4
HEAD_BONUS = 0.3  # ... and more when its introduction or heading names what the question lists
WHOLE_INLINE_MIN_TEXT = 0.15  # ... and an enumeration in a sentence is the whole answer with this much of them
LIST_HEAD_MIN_TEXT = 0.25  # ... an unheaded enumeration, a quarter of the question's words in its text
MAX_HEADING_WORDS = 15  # what a sentence says before its colon introduces what follows, if this short
LIST_MIN_CONTEXT = 0.5  # ... when the enumeration's text, title and section hold half the question's words
SAME_DOCUMENT_LIST_MARGIN = 0.7  # a list or overview answer quotes more of the leading document
PARENT_LIST_MARGIN = 0.1  # an overview quotes the list of its best item when the list scores this close
FOLLOW_MARGIN = 0.15
SPREAD_DISCOUNT = 0.7  # a question word most candidate units hold names the subject, not the answer  # a further quote scores within this of the best
COUNTERPART_MIN = 0.84  # cosine for a unit and its translation
DUPLICATE_MIN = 0.93
LEDE_UNITS = 3  # an overview of a document quotes up to this many of its opening units
RUN_SENTENCES = 3  # a list of what someone said: the sentences after a quote that go on with its subject
MAX_QUOTES = {"list": 3, "overview": 3, "what": 2, "yes-no": 2}
DEFAULT_MAX_QUOTES = 2
STRICT_KINDS = ("when", "how-many", "how-long", "who", "where", "yes-no")  # one fact asked for
STRICT_FOLLOW_MARGIN = 0.05
# in a follow-up, a unit that holds the fact asked this close behind a best match that lacks it answers instead
NEXT_ANSWER_MARGIN = 0.1


@dataclass(frozen=True)
class Quote:
    index: int  # the unit's place in the UnitIndex
    unit: Unit
    meta: dict[str, Any]  # metadata of the unit's chunk (title, url, published, language ...)
    score: float
    dense: float
    lexical: float
    satisfies: bool  # holds what the question's kind needs


@dataclass(frozen=True)
class Reading:
    quotes: tuple[Quote, ...]
    satisfied: bool  # some quote holds what the kind of question needs
    best_dense: float  # over every candidate unit
    best_lexical: float
    candidates: int


# a labelled field of a record: "Head office: ...", "Editor-in-chief: ...", "Địa chỉ: ..."
_FIELD = re.compile(r"^\s*[^\W\d][\w'’ -]{0,28}:\s")
_POINTS_BACK_EN = re.compile(r"^\s*(these|this|such|those|he|she|they|his|her|their)\b", re.IGNORECASE)
# a sentence that details the one before it: its highlight, its examples
_ELABORATES = re.compile(r"^\s*(?:(?:a|the|one)\s+)?(?:(?:most\s+)?(?:prominent|notable|key|main|major)\s+)?"
                         r"highlights?\b|^\s*(?:notably|in particular|specifically|for example|for instance|"
                         r"these include|among them)\b|^\s*(?:điểm nhấn|nổi bật|đặc biệt là|cụ thể|tiêu biểu|"
                         r"trong đó|chẳng hạn)", re.IGNORECASE)
# a sentence that goes on with the one before it: the same speaker or subject again ("He also
# requested ...", "Thứ trưởng cũng đề nghị ..."), or what it puts first ("The focus should be ...")
_GOES_ON = re.compile(r"^\s*(?:he|she|they|it|the focus|the priority|in addition|additionally|furthermore|moreover|"
                      r"trọng tâm|ưu tiên|ngoài ra|bên cạnh đó|đồng thời)\b|^\W*(?:\w+\W+){0,5}?(?:also|cũng)\b",
                      re.IGNORECASE)
_PRONOUN_EN = re.compile(r"^\s*(he|she|they|his|her|their)\b", re.IGNORECASE)
_POINTS_BACK_VI = re.compile(r"^\s*(đây|điều này|việc này|những|các|nhờ đó|qua đó|từ đó)\b[^,.;:]{0,40}?\bnày\b"
                             r"|^\s*(đây|điều này|việc này|nhờ đó|qua đó|từ đó)\b", re.IGNORECASE)


def lists_counted(unit: Unit, counted: str) -> bool:
    """Is this list an enumeration of what a "how many" question counts ("có mấy nội dung trọng
    tâm" and "gồm các nội dung trọng tâm sau:")? Then its number of items is the answer."""
    head = f"{unit.intro} {unit.section}"
    if counted in VI_COUNTED_ALONE:  # "mấy khu": a heading's "Khu thương mại tự do" is a place, not the things listed
        return len(unit.items) >= 2 and any(w[0].islower() and fold(w) == counted for w in _WORD.findall(head))
    return len(unit.items) >= 2 and mentions(fold(head), counted)


def _names_head(head: frozenset[str], heading: frozenset[str]) -> bool:
    """Does an enumeration's heading name what the question lists? A two-word head ("hội nghị")
    must be matched as a pair: folded, its single syllables match other words ("nghị quyết")."""
    pairs = {t for t in head if "_" in t}
    return bool(pairs & heading) if pairs else bool(head & heading)


_WORD = re.compile(r"\w+")
# a list asked of the tasks someone set, what to focus on (folded); what he said in so many words
# is `_SAID_ASKED` below
_TASKS_ASKED = re.compile(r"\b(direct(?:ed|ions?|ives?)|expect\w*|focus\w*|tasks?|priorit(?:y|ies)|de xuat|muon|"
                          r"kien nghi|nhiem vu|trong tam|tap trung|uu tien)\b")


# a question about what someone said in so many words (not "the tasks", "what to focus on")
_SAID_ASKED = re.compile(r"\b(ask|asked|asks|wants?|wanted|expect(?:s|ed)?|mong muon|ky vong|request\w*|urge[sd]?|"
                         r"say|said|says|tell|told|call(?:ed)? (?:on|for)|"
                         r"propos\w*|recommend\w*|emphasi[sz]\w*|prais\w*|commend\w*|de nghi|yeu cau|nhan manh|"
                         r"chi dao|phat bieu|bieu duong|noi gi|noi ve"
                         # "per the deputy FM", "theo thứ trưởng": what an office holder says
                         r"|(?:per|according to|in the view of|in the words of|theo(?: loi| y kien)?)"
                         r" (?:the )?(?:deputy |vice |pho )?(?:fm|pm|minister|chairman|chair|director|secretary|"
                         r"official|thu truong|bo truong|chu tich|giam doc|lanh dao|ong)"
                         # "muốn" when an office holder wants it, not the asker ("tôi muốn biết")
                         r"|(?:thu truong|bo truong|chu tich|giam doc|lanh dao)\b[\w ]{0,40}?\bmuon)\b")
# a count the question gives, before what it counts ("the 3 sites", "gồm 3 khu vực", "chia làm 2 giai đoạn")
_GIVEN_COUNT = re.compile(r"(?:^|\b(?:the|its|all|those|these|of|in|into|gom|co|cac|nhung|lam|thanh|thuoc)\s+)"
                          r"(\d{1,2})\s+(?=[a-z])")
_COUNT_WORDS = {2: ("two", "hai"), 3: ("three", "ba"), 4: ("four", "bốn"), 5: ("five", "năm"), 6: ("six", "sáu"),
                7: ("seven", "bảy"), 8: ("eight", "tám"), 9: ("nine", "chín"), 10: ("ten", "mười"),
                11: ("eleven", "mười một"), 12: ("twelve", "mười hai")}


def _writes_count(text: str, count: int) -> bool:
    """Does a passage write the count, in figures or in words (Vietnamese words with their marks:
    folded, "ba" is also "bà", "năm" "Nam")?"""
    if re.search(rf"(?<![\d.,]){count}(?![\d.,%])", text):
        return True
    words = _COUNT_WORDS.get(count, ())
    lower = text.lower()
    return any(re.search(rf"(?<!\w){w}(?!\w)", lower) for w in words)


# who was present: a news report's customary second sentence, not what the report is about
_PRESENT = re.compile(r"\s*(Attending|Also attending|Present at|Dự hội nghị|Tham dự|Cùng dự)\b")
# a sentence that reports what someone said (folded; not "yêu cầu", "chỉ đạo": in a plan they are
# its requirements and directions)
_SPOKEN = re.compile(r"\b(said|says|stated|emphasi[sz]ed|stressed|noted|requested|asked|urged|called on|commended|"
                     r"praised|remarks|speech|suggested|proposed|directed|expressed|believes?|hoped|hopes|"
                     r"phat bieu|nhan manh|bieu duong|cho rang|khang dinh|tin tuong|ky vong|mong muon)\b")


def _goes_on(before: str, text: str) -> bool:
    if _GOES_ON.match(text):
        return True
    # "Thứ trưởng nhấn mạnh ..." after "... Thứ trưởng Ngô Lê Văn biểu dương ..."
    opening = fold(" ".join(_WORD.findall(text)[:2]))
    return len(opening) > 5 and f" {opening} " in " " + fold(" ".join(_WORD.findall(before))) + " "


def _points_back(text: str) -> bool:
    return bool(_POINTS_BACK_EN.match(text) or _POINTS_BACK_VI.match(text))


class Reader:
    def __init__(self, units: UnitIndex) -> None:
        self.units = units
        self._translations: dict[str, dict[str, list[int]]] = {}  # doc -> language -> unit ids of its versions
        docs_units: dict[str, list[int]] = {}
        doc_lang: dict[str, str] = {}
        pairs: list[tuple[str, str]] = []
        for n, (u, m) in enumerate(zip(units.units, units.meta, strict=True)):
            docs_units.setdefault(u.doc_id, []).append(n)
            doc_lang[u.doc_id] = str(m.get("language", ""))
            original = str(m.get("translation_of") or "")
            if original:
                pairs.append((u.doc_id, original))
        for a, b in set(pairs):
            for x, y in ((a, b), (b, a)):
                if y in docs_units:
                    self._translations.setdefault(x, {})[doc_lang[y]] = docs_units[y]
        # each document's opening: its first units that say something (not about the document
        # itself, not a list's bare introduction), in reading order
        self._lede: dict[str, list[int]] = {}
        self._opening: set[int] = set()  # the first sentence of each document
        self._previous: dict[int, int] = {}  # a sentence -> the sentence before it in its document
        self._next: dict[int, int] = {}  # ... and the one after it
        # a unit as its years are read (folded): its text, its document's title and year of publication
        self._dated = [fold(f"{u.text} {m.get('title', '')} {str(m.get('published', ''))[:4]}")
                       for u, m in zip(units.units, units.meta, strict=True)]
        # what a sentence that names no subject is about: its section, its list's introduction;
        # and the text around a unit: an item's whole list, else the unit's chunk
        self._context = [f"{u.section}\n{u.intro}" for u in units.units]
        # what a unit is about, as its folded words: its text, section, list introduction and title
        self._about = [" " + " ".join(folded_words(f"{u.text} {u.section} {u.intro} {m.get('title', '')}")) + " "
                       for u, m in zip(units.units, units.meta, strict=True)]
        lists = {(u.doc_id, u.section): u.text for u in units.units if u.kind == "list"}
        self._scope = [lists.get((u.doc_id, u.section), "") if u.kind == "item" else units.chunk_text.get(u.chunk_id, "")
                       for u in units.units]
        for doc, ns in docs_units.items():
            ordered = sorted(ns, key=lambda n: units.units[n].order)
            sentences = [n for n in ordered if units.units[n].kind == "sentence"]
            self._previous.update(zip(sentences[1:], sentences, strict=False))
            self._next.update(zip(sentences, sentences[1:], strict=False))
            self._lede[doc] = [n for n in ordered if not units.units[n].about_document
                               and units.units[n].kind in ("sentence", "list")
                               and not _PRESENT.match(units.units[n].text)][:LEDE_UNITS]
            if self._lede[doc] and self.units.units[self._lede[doc][0]].kind == "sentence":
                self._opening.add(self._lede[doc][0])
        # a sentence that opens with a pronoun ("He emphasized that ...") is about the subject of the
        # sentence before it: that sentence's words count as its context
        self._antecedent_terms = {n: units.terms[b] for n, b in self._previous.items()
                                  if _PRONOUN_EN.match(units.units[n].text)}
        # a sentence that points back ("These events ...") -> the sentence it points to; a sentence
        # -> the next one when that one details it ("A prominent highlight was ...")
        self._antecedent = {n: b for n, b in self._previous.items()
                            if _points_back(units.units[n].text) and not units.units[b].about_document}
        self._details = {n: a for n, a in self._next.items() if _ELABORATES.match(units.units[a].text)}
        # a sentence -> the next one when that one goes on with the same subject (a list asked of
        # prose: "what did the Deputy Minister ask" is answered by the run of his remarks)
        self._goes_on = {n: a for n, a in self._next.items() if _goes_on(units.units[n].text, units.units[a].text)}
        titles: dict[str, frozenset[str]] = {}
        self._title_terms = [titles.setdefault(u.doc_id, frozenset(analyse(str(m.get("title", "")), units.synonyms)))
                             for u, m in zip(units.units, units.meta, strict=True)]
        self._spoken = {n for n, u in enumerate(units.units) if u.kind == "sentence" and _SPOKEN.search(fold(u.text))}
        # ... and is about whom that one names ("He also requested ..." after "... Deputy Minister Ngo
        # Le Van commended ..."): that one's names count as its own words
        self._named_before: dict[int, frozenset[str]] = {}
        for n, a in sorted(self._goes_on.items(), key=lambda na: (units.units[na[0]].doc_id, units.units[na[0]].order)):
            names = " ".join(run for _at, run in name_runs(units.units[n].text) if " " in run)
            self._named_before[a] = self._named_before.get(n, frozenset()) | frozenset(analyse(names, units.synonyms))
            self._about[a] += self._about[n]
        # an item of a list is about what the list's heading names ("Khu thương mại tự do Hải
        # Phòng:" -> "Được thành lập theo Quyết định 4068 ..."): the heading's words count as its own
        self._item_heading = {n: frozenset(analyse(u.section, units.synonyms))
                              for n, u in enumerate(units.units) if u.kind == "item" and u.section}

    # -- scoring ----------------------------------------------------------------------------------
    def _lexical(self, q: AnalysedQuestion, n: int, spread: dict[str, float]) -> tuple[float, float]:
        """(share of the question's weight in the unit's text, share in its text, title and section).
        In the text share, a word found in most candidate units names the subject rather than the
        answer and counts for less."""
        terms = self.units.terms[n] | self._item_heading.get(n, frozenset()) | self._named_before.get(n, frozenset())
        context = terms | self.units.context_terms[n] | self._antecedent_terms.get(n, frozenset())
        have = set(terms)
        have_ctx = set(context)
        for words, forms in q.links:
            if any(form and all(w in terms for w in form) for form in forms):
                have |= set(words)
            if any(form and all(w in context for w in form) for form in forms):
                have_ctx |= set(words)
        total = text = ctx = 0.0
        for term, weight in q.weights.items():
            if "_" in term and self.units.df.get(term, 0) == 0 and term not in have_ctx:
                continue  # two neighbouring words that never occur together are not a compound
            total += weight
            local = weight * (1.0 - SPREAD_DISCOUNT * spread.get(term, 0.0))
            text += local * (term in have)
            ctx += weight * (term in have_ctx)
        return (text / total, ctx / total) if total else (0.0, 0.0)

    def _counterpart(self, n: int, language: str) -> int:
        """The same unit in the asker's language, when the document has that version."""
        if str(self.units.meta[n].get("language", "")) == language:
            return n
        versions = self._translations.get(self.units.units[n].doc_id, {}).get(language)
        if not versions:
            return n
        sims = self.units.vectors[versions] @ self.units.vectors[n]
        best = int(np.argmax(sims))
        candidate = versions[best]
        if sims[best] >= COUNTERPART_MIN and self.units.units[candidate].kind == self.units.units[n].kind:
            return candidate
        return n

    def read(self, q: AnalysedQuestion, results: list[SearchResult], q_vec: np.ndarray) -> Reading:
        rank_of: dict[int, int] = {}
        for rank, result in enumerate(results):
            for n in self.units.units_of([result.chunk_id]):
                n = self._counterpart(n, q.language)
                rank_of.setdefault(n, rank)
        # a whole list answers a list or overview question, and "how many X" when it lists the X (its
        # items are the count); anything else is answered by the item
        counts_items = q.kind.kind == "how-many" and q.kind.attached and bool(q.kind.counted)
        whole_lists = q.kind.kind in ("list", "overview")
        candidates = [n for n in rank_of if not self.units.units[n].about_document
                      and self.units.units[n].kind != "intro"
                      and (whole_lists or self.units.units[n].kind != "list"
                           or (counts_items and lists_counted(self.units.units[n], q.kind.counted)))]
        if not candidates:
            return Reading((), False, 0.0, 0.0, 0)
        dense = self.units.vectors[candidates] @ q_vec
        # a word that most candidate units hold (in their text, title or section) names the subject
        spread = {term: sum(term in self.units.terms[n] or term in self.units.context_terms[n]
                            or term in self._named_before.get(n, ()) for n in candidates)
                  / len(candidates) for term in q.weights}
        scored: list[Quote] = []
        best_lex = 0.0
        # a year the question names binds every answer (fact kinds check it in `satisfied_by`)
        years = " ".join(YEAR.findall(q.text)) if q.kind.kind not in FACT_KINDS else ""
        folded_q = fold(q.text)
        speech = q.kind.kind in ("list", "what") and bool(_SAID_ASKED.search(folded_q))
        counts = {int(c) for c in _GIVEN_COUNT.findall(folded_q) if 1 < int(c) <= 12}
        for n, d in zip(candidates, dense, strict=True):
            unit = self.units.units[n]
            text_cov, ctx_cov = self._lexical(q, n, spread)
            best_lex = max(best_lex, ctx_cov)
            # a list a "how many" question counts the items of is its answer (kept above only if so)
            satisfies = (unit.kind == "list" and counts_items) or q.kind.satisfied_by(
                unit.text, q.text, self._context[n], self._scope[n])
            satisfies = satisfies and (
                not q.names or any(f" {name} " in self._about[n] for name in q.names))
            listing = q.kind.kind == "list"
            score = ((W_TEXT_LIST if listing else W_TEXT) * text_cov + W_CONTEXT * ctx_cov
                     + W_DENSE * (float(d) - DENSE_ORIGIN))
            score -= RANK_PENALTY * rank_of[n]
            if not satisfies:
                score -= KIND_MISS_PENALTY
            elif years and not same_year(self._dated[n], years):
                score -= KIND_MISS_PENALTY  # "năm 2026": a sentence of the 2023 plan does not answer
            if q.kind.kind == "who" and not q.kind.body and PERSON.search(unit.text):
                score += PERSON_BONUS
            if speech and n in self._spoken:
                score += SPEECH_BONUS
            elif speech and _PRESENT.match(unit.text):
                score -= SPEECH_BONUS  # he was there, but this is not what he said
            if counts and all(_writes_count(unit.text, c) for c in counts):
                score += COUNT_BONUS
            if q.kind.kind == "overview" and self._titled(q, n):
                score += TITLE_BONUS
            if satisfies and q.kind.day and DAY.search(fold(unit.text)):
                score += DAY_BONUS
            if satisfies and q.kind.kind in LEDE_KINDS and n in self._opening:
                score += LEDE_BONUS
            if listing and (unit.kind == "list" or inline_items(unit.text)):
                if q.head:  # the question names what it lists: an enumeration of that (a sentence with no
                    # heading of its own must also be about the question's subject: "các cấp, các ngành")
                    before, colon, _after = unit.text.partition(":")
                    headed = unit.kind == "list" or (bool(colon) and len(before.split()) <= MAX_HEADING_WORDS)
                    score += LIST_BONUS + HEAD_BONUS if _names_head(q.head, self._heading_terms(unit)) \
                        and (headed or text_cov >= LIST_HEAD_MIN_TEXT) else 0.0
                elif ctx_cov >= LIST_MIN_CONTEXT:
                    score += LIST_BONUS
            scored.append(Quote(n, unit, self.units.meta[n], score, float(d), text_cov, satisfies))
        scored.sort(key=lambda s: -s.score)
        quotes = self._select(q, scored)
        return Reading(tuple(quotes), any(x.satisfies for x in quotes), float(dense.max()), best_lex,
                       len(candidates))

    def coverage(self, q: AnalysedQuestion, results: list[SearchResult]) -> float:
        """How much of the question's weighted wording the best passage holds (its title, section and
        text, in any language version), the glossary carrying words across languages."""
        best = 0.0
        for result in results:
            have: set[str] = set()
            for cid in (result.chunk_id, *result.versions):
                have |= self.units.chunk_terms.get(cid, frozenset())
                for n in self.units.units_of([cid]):  # "He also requested ...": the speaker named before
                    have |= self._named_before.get(n, frozenset())
            for words, forms in q.links:
                if any(form and all(w in have for w in form) for form in forms):
                    have |= set(words) | {f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)}
            total = got = 0.0
            for term, weight in q.weights.items():
                if "_" in term and self.units.df.get(term, 0) == 0 and term not in have:
                    continue
                total += weight
                got += weight * (term in have)
            if total:
                best = max(best, got / total)
        return best

    def _heading_terms(self, unit: Unit) -> frozenset[str]:
        """Terms of what introduces an enumeration: the list's introduction and section, or the part
        of a sentence before its colon."""
        head = f"{unit.intro}\n{unit.section}" if unit.kind == "list" else unit.text.split(":", 1)[0]
        return frozenset(analyse(head, self.units.synonyms))

    # -- choosing ---------------------------------------------------------------------------------
    def _titled(self, q: AnalysedQuestion, n: int) -> bool:
        """Does the title of the unit's document hold every word of the question?"""
        words = [t for t in q.weights if "_" not in t]
        return bool(words) and all(t in self._title_terms[n] for t in words)

    def _select(self, q: AnalysedQuestion, scored: list[Quote]) -> list[Quote]:
        if not scored:
            return []
        top = first = scored[0]
        if q.kind.kind == "overview" and not self._titled(q, top.index):
            # an overview of what a document's title names is about that document, not about another
            # that mentions it ("Nghị quyết 226 là gì": the fact sheet, not the review citing it)
            titled = next((x for x in scored if self._titled(q, x.index)), None)
            if titled is not None:
                top = first = titled
                scored = [top, *(x for x in scored if x is not top)]
        if q.kind.kind == "overview" and top.unit.kind == "item":
            # an overview asks for the main points: the whole list an item belongs to, when it
            # matches about as well ("ưu đãi ... là gì" -> all the incentives, not the customs one)
            parent = next((x for x in scored if x.unit.kind == "list" and x.unit.doc_id == top.unit.doc_id
                           and x.unit.section == top.unit.section and x.score >= top.score - PARENT_LIST_MARGIN), None)
            if parent is not None:
                top = parent
                scored = [top, *(x for x in scored if x is not top)]
        limit = MAX_QUOTES.get(q.kind.kind, DEFAULT_MAX_QUOTES)
        chosen = [top]
        if q.kind.kind in FACT_KINDS and not top.satisfies:
            # the sentence that best matches the question lacks the fact asked; the one right after it
            # often gives it ("... held a conference on January 6." "Attending the conference were Mr. ...")
            after = next((x for x in scored if x.index == self._next.get(top.index)), None)
            if after is None or not after.satisfies:
                after = self._field_answering(top, scored)
            # a follow-up is searched with the turns before it ("... gồm bao nhiêu điều?" after a turn
            # about the votes): the votes sentence matches the conversation best, and the one close
            # behind it that gives the number answers alone
            close = None if after is not None or not q.follow_up else next(
                (x for x in scored[1:3] if x.satisfies and x.score >= top.score - NEXT_ANSWER_MARGIN), None)
            if close is not None:
                top = close
                chosen = [top]
            elif after is not None:
                chosen.append(after)
        margin = STRICT_FOLLOW_MARGIN if q.kind.kind in STRICT_KINDS else FOLLOW_MARGIN
        # a list or overview answer quotes more of the leading document, unless the leading quote is
        # itself the whole list
        # (a sentence that enumerates what the question lists after its colon, "in three sites: ...", is one,
        # when it also holds some of the question's other words: "các cơ chế thí điểm gồm: ..." does not
        # answer "cơ chế gì liên quan đến tín chỉ carbon")
        wide = q.kind.kind in ("list", "overview") and first.unit.kind != "list" and not (
            q.head and inline_items(first.unit.text) and first.lexical >= WHOLE_INLINE_MIN_TEXT
            and _names_head(q.head, self._heading_terms(first.unit)))
        for cand in scored[1:]:
            if len(chosen) >= limit:
                break
            same_doc = cand.unit.doc_id == top.unit.doc_id
            if cand.score < top.score - (SAME_DOCUMENT_LIST_MARGIN if wide and same_doc else margin):
                continue
            if any(self._overlaps(cand, c) for c in chosen):
                continue
            if q.kind.kind not in ("list", "overview", "what", "yes-no") and not cand.satisfies:
                continue
            chosen.append(cand)
        # ... and an overview of what a document's title names is that document's opening
        if q.kind.kind == "overview" and (first.unit.kind != "list" or self._titled(q, top.index)):
            chosen = self._with_lede(top, chosen, scored, limit)
        # a sentence that points back comes with the one it points to; for a list, an overview or a
        # "what", a sentence that announces what the next one details comes with that one
        chosen = self._with_neighbours(chosen, self._antecedent, 1e-6)
        if q.kind.kind in ("list", "overview", "what"):
            chosen = self._with_neighbours(chosen, self._details, 2e-6)
        folded_q = fold(q.text)
        if q.kind.kind in ("list", "what") and (_SAID_ASKED.search(folded_q) or _TASKS_ASKED.search(folded_q)):
            for quote in [c for c in chosen if c.unit.kind == "sentence"]:
                chosen = self._with_run(quote, chosen)
        rest = sorted(chosen[1:], key=lambda c: (c.unit.doc_id != top.unit.doc_id, c.unit.doc_id, c.unit.order))
        # "He emphasized ..." first would leave "he" unexplained: the sentence naming him leads
        before = self._previous.get(top.index)
        lead = next((c for c in rest if c.index == before), None) if _PRONOUN_EN.match(top.unit.text) else None
        if lead is not None:
            rest.remove(lead)
            return self._details_follow([lead, top, *rest])
        return self._details_follow([top, *rest])  # the best answer first, then the others in reading order

    @staticmethod
    def _field_answering(top: Quote, scored: list[Quote]) -> Quote | None:
        """A labelled field of the leading sentence's record that holds what it lacks: it names no
        subject but the one the sentence names ("The Hai Phong Portal is ..." then "Head office: 18
        Hoang Dieu ..."), and would lead but for what the sentence lacks."""
        field = next((x for x in scored[1:] if x.satisfies and x.unit.doc_id == top.unit.doc_id
                      and x.unit.section == top.unit.section and _FIELD.match(x.unit.text)), None)
        return field if field is not None and field.score >= top.score - KIND_MISS_PENALTY else None

    def _details_follow(self, quotes: list[Quote]) -> list[Quote]:
        """A sentence that details the one before it is read right after that one."""
        detail_of = {self._details[x.index]: x.index for x in quotes if x.index in self._details}
        moved = [x for x in quotes if x.index in detail_of and any(y.index == detail_of[x.index] for y in quotes)]
        out = [x for x in quotes if x not in moved]
        for x in moved:
            at = next(i for i, y in enumerate(out) if y.index == detail_of[x.index])
            out.insert(at + 1, x)
        return out

    def _with_neighbours(self, chosen: list[Quote], neighbour: dict[int, int], step: float) -> list[Quote]:
        """Each quote with the sentence `neighbour` maps it to (the sentence it points back to, or
        the one that details it), scored just below it; reading order places it."""
        out = list(chosen)
        have = {c.index for c in chosen}
        for quote in chosen:
            other = neighbour.get(quote.index)
            if other is None or other in have:
                continue
            out.append(Quote(other, self.units.units[other], self.units.meta[other], quote.score - step,
                             quote.dense, 0.0, quote.satisfies))
            have.add(other)
        return out

    def _with_run(self, top: Quote, chosen: list[Quote]) -> list[Quote]:
        """A list of what someone said: a quoted sentence with the sentences after it that go on
        with its subject (up to RUN_SENTENCES), each scored just below the one before."""
        out = list(chosen)
        have = {c.index for c in chosen}
        n, score = top.index, top.score
        for _ in range(RUN_SENTENCES):
            n = self._goes_on.get(n, -1)
            if n < 0:
                break
            score -= 3e-6
            if n not in have:
                out.append(Quote(n, self.units.units[n], self.units.meta[n], score, top.dense, 0.0, top.satisfies))
                have.add(n)
        return out

    def _with_lede(self, top: Quote, chosen: list[Quote], scored: list[Quote], limit: int) -> list[Quote]:
        """An overview of the leading document: its opening units, which state what it is about,
        come before other quotes of lower score (an opening unit the search did not bring too)."""
        by_unit = {c.index: c for c in scored}
        lede = [by_unit.get(n) or Quote(n, self.units.units[n], self.units.meta[n], top.score - 1e-3, top.dense, 0.0,
                                        top.satisfies)
                for n in self._lede.get(top.unit.doc_id, []) if n != top.index]
        out = [top]
        for cand in [*lede, *chosen[1:]]:
            if len(out) >= limit:
                break
            if cand not in out and not any(self._overlaps(cand, c) for c in out):
                out.append(cand)
        return out

    def _overlaps(self, a: Quote, b: Quote) -> bool:
        """The same text twice: an item and its own list, or one fact in two languages."""
        ua, ub = a.unit, b.unit
        if ua.doc_id == ub.doc_id:
            for x, y in ((ua, ub), (ub, ua)):
                if x.kind == "list" and ((y.kind == "item" and y.text in x.items) or y.text in x.text):
                    return True
            return ua.uid == ub.uid
        return float(self.units.vectors[a.index] @ self.units.vectors[b.index]) >= DUPLICATE_MIN
