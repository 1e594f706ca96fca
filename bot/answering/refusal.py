"""Refusal: does the knowledge base answer this question at all?

A wrong policy answer hurts a real decision, so the rule errs toward refusing, on evidence that
holds for questions nobody has seen:
- names no document mentions: a place ("Đà Nẵng", "Singapore", "nước Pháp"), or a proper name or
  acronym (capitalised words, Vietnamese syllable runs such as "Hàn Quốc"): the question is about
  something else, however close its other words come;
- closer to off-domain example questions (weather, prices, paperwork, minimum wage, visas for
  tourists ...) than to any answer unit of the knowledge base;
- coverage: how much of the question's distinctive wording (after synonyms, across languages
  through the glossary) the best retrieved passage holds; a middling coverage needs the dense
  similarity of an answer unit to confirm it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.answering.places import AMBIGUOUS_VI, place_phrases
from bot.answering.question import EVERYWHERE, YEAR, AnalysedQuestion, list_head, spans
from bot.answering.reader import Quote, Reading
from bot.answering.vocabulary import Unseen
from indexer.glossary import Expansion
from indexer.text import STOPWORDS, fold, folded_words, has_vietnamese_marks, tokens
from indexer.unit_index import edition_number, stem

# Calibrated on the tune half of tests/data/answer_eval.jsonl (see benchmarks/answers.py).
MIN_COVERAGE = 0.45  # below: refused
CONFIRM_COVERAGE = 0.72  # between the two: the best unit's dense similarity must confirm
MIN_CONFIRM_DENSE = 0.83
MAX_OFFDOMAIN_MARGIN = 0.02  # off-domain similarity minus the best unit's similarity
ENTITY_OVERRIDE_COVERAGE = 0.95
UNSEEN_MIN_COVERAGE = 0.75  # a question with a word for a concept no document holds needs both
UNSEEN_MIN_DENSE = 0.88
STRONG_COVERAGE = 0.8  # the question's wording is in a passage: off-domain closeness alone does not refuse

_PLACES = place_phrases()
_PUNCT = "\"'“”‘’()[]{},.;:!?¿¡"


@dataclass(frozen=True)
class Verdict:
    answerable: bool
    reason: str = ""
    signals: dict[str, float] = field(default_factory=dict)


def _in_corpus(words: list[str], df: dict[str, int]) -> bool:
    if len(words) == 1:
        return df.get(words[0], 0) > 0
    return all(df.get(f"{a}_{b}", 0) > 0 for a, b in zip(words, words[1:], strict=False))


def unknown_places(question: str, df: dict[str, int]) -> list[str]:
    folded = " " + " ".join(tokens(question)) + " "
    found: list[str] = []
    for place in _PLACES:
        if f" {place} " in folded and not _in_corpus(place.split(), df):
            found.append(place)
            folded = folded.replace(f" {place} ", " ")
    for word, written in AMBIGUOUS_VI.items():
        if f" nuoc {word} " in folded and df.get(f"nuoc_{word}", 0) == 0:
            found.append(f"nước {written}")
        elif re.search(rf"(?<!\w){written}(?!\w)", question) and not _in_corpus([word], df):
            found.append(written)
    return found


def unknown_names(question: str, df: dict[str, int], expansion: Expansion) -> list[str]:
    """Capitalised words inside the question (or acronyms), grouped into runs, that no passage holds
    (a run of Vietnamese syllables is one name: "Hàn Quốc" is not "quốc" of "Quốc hội")."""
    translated = set(expansion.extra_tokens)
    words = question.split()
    runs: list[list[str]] = []
    current: list[str] = []
    for i, raw in enumerate(words):
        word = raw.strip(_PUNCT)
        starts = i == 0 or words[i - 1].endswith((".", "!", "?", ":"))
        if word and not starts and word[0].isupper() and any(c.isalpha() for c in word):
            current.append(word)
        else:
            if current:
                runs.append(current)
            current = []
        if raw.endswith((",", ";", ".", "?", "!", ":")) and current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    names = []
    for run in runs:
        folded = [t for w in run for t in tokens(w) if t not in STOPWORDS and (len(t) > 1 or t.isdigit())]
        if not folded or (len(folded) == 1 and len(folded[0]) < 3):
            continue
        if all(t in translated and df.get(t, 0) == 0 for t in folded):
            continue  # a glossary term in the other language: judged by its translation below
        if len(folded) == 1 and (df.get(folded[0], 0) > 0 or folded[0] in translated):
            continue
        if len(folded) > 1 and _in_corpus(folded, df):
            continue
        if len(folded) > 1 and all(df.get(t, 0) > 0 for t in folded) and not _vietnamese_run(run):
            continue  # English capitalised words each known ("Free Trade Zone")
        names.append(" ".join(run))
    return names


def _vietnamese_run(run: list[str]) -> bool:
    return any(fold(w) != w.lower() for w in run) or all(len(w) <= 5 for w in run)


_LEGAL_REF = re.compile(r"\b(article|dieu|chapter|chuong|clause|khoan)\s+(\d{1,3})\b")


def unknown_articles(question: str, df: dict[str, int]) -> list[str]:
    """Articles or clauses the question names ("Điều 5", "Article 7") that no document quotes."""
    found = []
    for word, ref in _LEGAL_REF.findall(" ".join(tokens(question))):
        forms = (f"{word}_{ref}", f"{word}s_{ref}")
        if not any(df.get(f, 0) for f in forms):
            found.append(f"{word} {ref}")
    return found


# a document's number: "35/2021/qh15", "4068/qd-ubnd", "217-kh/tu" (tokens keep them whole)
_DOC_NUMBER = re.compile(r"^0*(\d+)(?:/\d{4})?[/-][a-z][a-z0-9/-]*$")
# words that name a legal or planning document, folded, before its bare number ("Nghị quyết 35")
_DOC_WORDS = ("resolution", "decision", "directive", "decree", "circular", "plan", "programme", "program",
              "nghi quyet", "quyet dinh", "chi thi", "nghi dinh", "thong tu", "ke hoach", "chuong trinh",
              "cong van", "nq", "qd", "ct", "kh", "no")
_known_numbers: tuple[dict[str, int], frozenset[str]] | None = None


def _document_numbers(df: dict[str, int]) -> frozenset[str]:
    """The numbers of the documents the knowledge base names ("226", "4068", "15" ...), remembered
    with the corpus statistics they come from (held, so a new generation's table is never taken
    for it)."""
    global _known_numbers
    if _known_numbers is None or _known_numbers[0] is not df:
        numbers = frozenset(m.group(1) for term in df if "_" not in term and (m := _DOC_NUMBER.match(term)))
        _known_numbers = (df, numbers)
    return _known_numbers[1]


def unknown_documents(question: str, df: dict[str, int]) -> list[str]:
    """Resolutions, decisions, plans ... the question names by a number no document has: "Nghị
    quyết 35/2021/QH15" is another resolution, however close its subject."""
    known = _document_numbers(df)
    words = tokens(question)
    found = []
    for i, word in enumerate(words):
        match = _DOC_NUMBER.match(word)
        if match is not None:
            if df.get(word, 0) == 0 and match.group(1) not in known:
                found.append(word.upper())
            continue
        if not word.isdigit() or re.fullmatch(r"(19|20)\d\d", word) or word.lstrip("0") in known:
            continue
        before = " ".join(words[max(0, i - 2):i])
        if any(before == w or before.endswith(" " + w) for w in _DOC_WORDS):
            found.append(f"{before} {word}")
    return found


# "outside the FTZ", "ngoài khu thương mại tự do": the question asks about what a place does not cover
_OUTSIDE_ASKED = re.compile(r"\b(outside|other than|apart from|beyond)\s+(of\s+)?(the\s+)?(hp\s+|hai\s+phong\s+)?"
                            r"(ftz|free\s+trade\s+zone|zone|economic\s+zone|industrial\s+parks?)\b"
                            r"|\b(ben\s+)?(?<!nuoc )ngoai\s+(khu|ftz|kcn|vung)\b")
_OUTSIDE_SAID = re.compile(r"\b(outside|other than|beyond|except)\b|\bben ngoai\b|\bngoai (khu|pham vi|vung)\b")


def outside_unanswered(q: AnalysedQuestion, reading: Reading) -> str:
    """The place the question asks the outside of ("outside the FTZ"), when no quote speaks of
    an outside: a passage about the zone itself does not say what applies beyond it."""
    match = _OUTSIDE_ASKED.search(fold(q.text))
    if match is None or any(_OUTSIDE_SAID.search(fold(x.unit.text)) for x in reading.quotes):
        return ""
    return match.group(0)


# "with some exceptions", "trừ một số trường hợp": says that there are some, without naming them
_SOME = r"\b(?:some|certain|several|a few|a number of|mot so|mot vai)\s+(?:\w+\s+)?"


def unlisted(q: AnalysedQuestion, reading: Reading) -> str:
    """What a list question asks for, when the best passage only says that there are some of
    them ("exempt ..., with some exceptions") and lists none."""
    if q.kind.kind != "list" or not q.head or not reading.quotes:
        return ""
    text = fold(reading.quotes[0].unit.text)
    for term in q.head:
        words = term.split("_")
        pattern = _SOME + r"\s+".join(rf"{re.escape(w)}\w*" for w in words) + r"(?![^.;]*:)"
        if re.search(pattern, text):
            return " ".join(words)
    return ""


# what opens an enumeration right after a noun: "sectors such as ...", "các lĩnh vực: ..."
_ENUMERATES = re.compile(r"^\W*(?:\w+\W+){0,3}?(?::|such as|including|include|includes|like|namely|e\.g|gom|bao gom|"
                        r"nhu|nhu la|la)\b|^\s*:")
_HEAD_FRAME_EN = {"which", "what", "the", "a", "an", "of", "are", "is", "do", "does", "in", "for", "count", "counts",
                  "as", "qualify", "qualifies"}
_HEAD_FRAME_VI = {"nhung", "cac", "nao", "gi", "co", "la", "duoc", "cua", "va", "thi"}


def _qualifiers(words: list[str], head: list[str], vietnamese: bool) -> set[str]:
    """The words that qualify each mention of the head ("priority" in "priority sectors"; "thế giới",
    "UNESCO" in "di sản thế giới được UNESCO công nhận"): before it in English, after it in Vietnamese."""
    size, out = len(head), set()
    for i in range(len(words) - size + 1):
        if words[i:i + size] == head:
            near = words[i + size:i + size + 4] if vietnamese else words[max(0, i - 2):i]
            frame = _HEAD_FRAME_VI if vietnamese else _HEAD_FRAME_EN | STOPWORDS
            out |= {w for w in near if w not in frame and len(w) > 1}
    return out


def category_unlisted(q: AnalysedQuestion, reading: Reading) -> str:
    """What a list question asks the members of, when the best passage only names that same
    category again ("projects in priority sectors pay 10%" for "which sectors count as priority
    sectors"; "các di sản thế giới được UNESCO công nhận" for "những di sản nào được UNESCO công
    nhận") and no quote enumerates it."""
    if q.kind.kind != "list" or not reading.quotes or reading.quotes[0].unit.kind == "list":
        return ""
    vietnamese = q.language == "vi"
    for asked_text in dict.fromkeys((q.text, q.plain)):  # as asked, and read through the synonyms
        head = list_head(asked_text, q.language)
        asked = _qualifiers(folded_words(asked_text), head, vietnamese) if head else set()
        if asked and _restated(head, asked, reading, vietnamese, asked_text):
            return " ".join(head)
    return ""


# the city's and the country's names ("doanh nghiệp Hải Phòng - Hà Lan") are no members' names
_CITY_WORDS = frozenset(w for place in EVERYWHERE for w in place.split())


def unseen_predicate(q: AnalysedQuestion, df: dict[str, int]) -> str:
    """What a list question says of its category, when no passage holds any of it: besides the
    category asked, the words qualifying it and the city, every word of "which cities is Hai Phong
    twinned with" ("twinned") or of "Hải Phòng kết nghĩa với những thành phố nước ngoài nào" ("kết
    nghĩa", judged as word pairs in Vietnamese) is in no passage, so the documents list nothing of
    the kind. `df`: the passages holding each stemmed term and pair."""
    if q.kind.kind != "list":
        return ""
    head = list_head(q.plain, q.language)
    if not head:
        return ""
    vietnamese = q.language == "vi"
    words = folded_words(q.plain)
    framing = set(head) | _qualifiers(words, head, vietnamese) | _CITY_WORDS
    rest = [w for w in words if w not in framing and stem(w) in q.weights]
    if not rest:
        return ""
    pairs = [term.split("_") for term in q.weights if "_" in term]
    for word in rest:
        term = stem(word)
        if not vietnamese:
            if df.get(term, 0):
                return ""
            continue
        # a syllable is known in a word pair the question makes with it ("trọng tâm")
        own = [f"{a}_{b}" for a, b in pairs if term in (a, b)]
        if any(df.get(p, 0) for p in own) or (not own and df.get(term, 0)):
            return ""
    return " ".join(rest)


# names joined as members are: "(ABAC 3) and the Hai Phong Investment Promotion Conference", "X và Y"
_NAMES_JOINED = re.compile(r"(?:^|\s|\()[A-ZĐ0-9][\w)]*\s+(?:and|và)\s+(?:the\s+)?[A-ZĐ]")
# a mention that points back to members named before it: "these events", "các sự kiện quy mô lớn này"
_POINTS_BACK = {"these", "those", "such", "above", "nay", "do", "tren", "ke"}


def _restated(head: list[str], asked: set[str], reading: Reading, vietnamese: bool, question: str) -> bool:
    """Does the best quote name the asked category again without members, and no other quote
    name members? A mention with names beside it ("the Dinh Vu - Cat Hai and Southern Coastal
    economic zones"), one that points back ("these events") or one an enumeration follows gives
    members; so does another quote that joins names ("ABAC 3 and the ... Conference")."""
    size = len(head)
    asked_words = set(folded_words(question))
    restating: list[Quote] = []
    for quote in reading.quotes:
        text = quote.unit.text
        at = [(m.start(), m.group(0)) for m in re.finditer(r"\w[\w-]*", text)]  # each word and where it starts
        words = [fold(w) for _, w in at]
        if len(_qualifiers(words, head, vietnamese) & asked) < (2 if vietnamese else 1):
            continue
        for i in range(len(words) - size + 1):
            if words[i:i + size] != head:
                continue
            near = at[i + size:i + size + 4] if vietnamese else at[max(0, i - 4):i]
            named = any(w[:1].isupper() and fold(w) not in asked_words and fold(w) not in _CITY_WORDS for _, w in near)
            pointing = any(fold(w) in _POINTS_BACK for _, w in at[max(0, i - 2):i + size + 5])
            end, last = at[i + size - 1]
            after = fold(text[end + len(last):])
            if named or pointing or _ENUMERATES.match(after):
                return False
        restating.append(quote)
    if not restating or restating[0] is not reading.quotes[0]:
        return False
    return not any(_NAMES_JOINED.search(x.unit.text) for x in reading.quotes if x not in restating)


# "the next ABAC meeting", "hội nghị ... tiếp theo": the question asks about an event still to come
# (its name may sit between: "the next Hai Phong Investment Promotion Conference", "hội nghị xúc tiến đầu tư
# Hải Phòng tiếp theo")
_NEXT_ASKED = re.compile(r"\b(next|upcoming|coming|following|future)\s+(?:\w+\s+){0,5}?(meeting|conference|event|session|"
                         r"edition|summit|forum|festival|abac|techfest|round)\b|\b(hoi nghi|su kien|ky hop|le hoi|dien dan)"
                         r"(?:\s+\w+){0,7}?\s+(tiep theo|sap toi|ke tiep|lan toi|lan sau|toi day)\b")
_FUTURE_SAID = re.compile(r"\b(next|upcoming|will|shall|plans?|planned|scheduled|se|sap|tiep theo|ke tiep|du kien)\b")


def next_unanswered(q: AnalysedQuestion, reading: Reading) -> str:
    """The event to come a question asks about ("the next ABAC meeting"), when no quote speaks of
    anything to come: a report of the last one does not say when or where the next is."""
    match = _NEXT_ASKED.search(fold(q.text))
    if match is None or any(_FUTURE_SAID.search(fold(x.unit.text)) for x in reading.quotes):
        return ""
    return match.group(0)


# a meeting's number written as a word: after "lần thứ" ("lần thứ tư"), or before the series' name ("the fourth ABAC")
_VI_ORDINALS = {"nhat": 1, "hai": 2, "ba": 3, "tu": 4, "nam": 5, "sau": 6, "bay": 7, "tam": 8, "chin": 9, "muoi": 10}
_EN_ORDINALS = {w: f"#{n}" for n, w in enumerate(("first", "second", "third", "fourth", "fifth", "sixth", "seventh",
                                                   "eighth", "ninth", "tenth"), 1)}


def _numbered(words: list[str], i: int, editions: dict[str, set[str]]) -> tuple[str, str]:
    """The series and the meeting number ("#4") the words write at `words[i]`: "ABAC 4", "ABAC lần
    thứ 4 / lần thứ tư" (the name before), or "the 4th / fourth ABAC" (the name at i); else ("", "")."""
    name, word = words[i - 1], words[i]
    before = _EN_ORDINALS.get(name) or (edition_number(name) if re.fullmatch(r"\d{1,2}(?:st|nd|rd|th)", name) else "")
    if word in editions and before:
        return word, before
    if word == "lan":
        rest = words[i + 1:i + 3]
        numeral = rest[1] if len(rest) == 2 and rest[0] == "thu" else ""
        return name, edition_number(numeral) or (f"#{_VI_ORDINALS[numeral]}" if numeral in _VI_ORDINALS else "")
    return name, edition_number(word)


# what may stand between an event's name and its year ("Techfest Hải Phòng năm 2023", "ABAC held in 2025")
_BEFORE_YEAR = {"nam", "in", "of", "the", "year", "hai", "phong", "hp", "held", "vao", "to", "chuc", "dien", "ra"}


def other_edition(q: AnalysedQuestion, editions: dict[str, set[str]]) -> str:
    """A yearly event the question names with a year the documents do not give it ("Techfest
    2026", when they report Techfest 2022), or a meeting of a series with another number ("ABAC
    4", when they report ABAC 3): `editions` maps a name to the years ("2022") and numbers ("#3")
    written after it. A year is compared with years only, a number with numbers."""
    words = folded_words(q.plain)
    for i, word in enumerate(words[1:], 1):
        if YEAR.fullmatch(word):
            # the name may sit a few words before its year: "Techfest Hải Phòng năm 2023", "Techfest in 2023"
            j = i - 1
            while j > 0 and i - j <= 3 and words[j] not in editions and words[j] in _BEFORE_YEAR:
                j -= 1
            known = editions.get(words[j], set())
            if any(YEAR.fullmatch(k) for k in known) and word not in known:
                return f"{words[j]} {word}"
            continue
        series, number = _numbered(words, i, editions)
        known = editions.get(series, set())
        if number and any(k.startswith("#") for k in known) and number not in known:
            return f"{series} {number[1:]}"
    return ""

def other_years(q: AnalysedQuestion, reading: Reading, context: Sequence[str] = ()) -> list[str]:
    """Years the question names that no quoted passage mentions (its text, section or title, the year
    its document was published, or a period holding the year): "the 2024 conference" is not the
    2025 conference the passages report."""
    asked = set(YEAR.findall(q.text))
    if not asked:
        return []
    seen: set[str] = set()
    texts = [f"{quote.unit.text} {quote.unit.section} {quote.unit.intro} {quote.meta.get('title', '')} "
             f"{str(quote.meta.get('published', ''))[:4]}" for quote in reading.quotes]
    for text in (*texts, *context):
        folded = fold(text)
        seen |= set(YEAR.findall(text)) | {year for year in asked if spans(folded, year)}
    return sorted(asked - seen)


def cites_figure(q: AnalysedQuestion, df: dict[str, int]) -> bool:
    """Does the question quote a figure of the documents ("phần 2.923 ha", "the 447 votes")? A
    number of three digits or more that is no year ties it to what they report."""
    figures = [t for t in tokens(q.text) if re.fullmatch(r"\d[\d.]{2,}", t)]  # "2.923" and "2923" alike
    return any(df.get(n, 0) and not YEAR.fullmatch(n) for n in figures)


_MENTIONS = "asks about {}, which no document mentions"
_NOT_COVERED = "asks about {}, which the passages found do not cover"
_UNLISTED = "the passages mention {} without listing them"


def judge(q: AnalysedQuestion, reading: Reading, coverage: float, offdomain: float,
          df: dict[str, int], expansion: Expansion, unseen: Unseen, context: Sequence[str] = (),
          editions: dict[str, set[str]] | None = None, term_df: dict[str, int] | None = None) -> Verdict:
    """`context`: the text of the passages the quotes come from; `editions`: the years the documents
    write after each yearly event's name (see `other_edition`); `term_df`: the passages holding each
    of the question's weighted terms and pairs (stemmed, as `q.weights` is keyed)."""
    signals = {"coverage": round(coverage, 3), "dense": round(reading.best_dense, 3),
               "offdomain": round(offdomain, 3), "lexical": round(reading.best_lexical, 3),
               "unseen_concepts": len(unseen.concepts), "unseen_names": len(unseen.names)}
    if not reading.quotes:
        return Verdict(False, "nothing retrieved", signals)
    term_counts = df if term_df is None else term_df  # the passages holding each weighted term and pair
    # each check names what the question asks about that the passages lack; the first that finds
    # something refuses (evaluated in turn, so a cheap check spares the later ones)
    checks: tuple[tuple[str, Callable[[], str]], ...] = (
        (_MENTIONS, lambda: ", ".join(unknown_places(q.plain, df))),
        ("asks about {}, which no document quotes", lambda: ", ".join(unknown_articles(q.plain, df))),
        (_MENTIONS, lambda: other_edition(q, editions or {})),
        (_NOT_COVERED, lambda: ", ".join(other_years(q, reading, context))),
        (_UNLISTED, lambda: unlisted(q, reading)),
        (_UNLISTED, lambda: category_unlisted(q, reading)),
        (_NOT_COVERED, lambda: next_unanswered(q, reading)),
        (_NOT_COVERED, lambda: outside_unanswered(q, reading)),
        (_MENTIONS, lambda: ", ".join(unknown_documents(q.plain, df))),
    )
    for reason, lacking in checks:
        what = lacking()
        if what:
            return Verdict(False, reason.format(what), signals)
    names = unknown_names(q.plain, df, expansion)
    if names and coverage < ENTITY_OVERRIDE_COVERAGE:
        return Verdict(False, _MENTIONS.format(", ".join(names)), signals)
    if unseen.names and coverage < ENTITY_OVERRIDE_COVERAGE:
        return Verdict(False, _MENTIONS.format(", ".join(unseen.names)), signals)
    if coverage < UNSEEN_MIN_COVERAGE or reading.best_dense < UNSEEN_MIN_DENSE:
        concepts = ", ".join(unseen.concepts) or unseen_predicate(q, term_counts)
        if concepts:
            return Verdict(False, f"asks about {concepts}, which no document covers", signals)
    # typed without marks, Vietnamese syllables match words they are not ("thu do cua phap": thủ
    # tục, do, pháp luật): the question's words count as found only if some of its word pairs are
    # in the documents too
    pairs = [t for t in q.weights if "_" in t]
    loose = q.language == "vi" and not has_vietnamese_marks(q.text) and len(pairs) >= 1 \
        and not any(term_counts.get(t, 0) for t in pairs)
    signals["pairs_found"] = not loose
    strong = (coverage >= STRONG_COVERAGE and not loose) or (coverage >= MIN_COVERAGE and cites_figure(q, df))
    if offdomain - reading.best_dense > MAX_OFFDOMAIN_MARGIN and not strong:
        return Verdict(False, "closer to off-domain questions", signals)
    if coverage < MIN_COVERAGE:
        return Verdict(False, "question's words not in documents", signals)
    if coverage < CONFIRM_COVERAGE and reading.best_dense < MIN_CONFIRM_DENSE:
        return Verdict(False, "passages not similar enough", signals)
    return Verdict(True, "", signals)
