"""Which words of a question the knowledge base has never seen, and what they are.

A question word that no passage holds is one of three things:
- a real word for a concept the documents do not cover ("population", "phone", "dân số", "lương tối
  thiểu"): the strongest sign of a near-topic question the documents cannot answer;
- an unknown name or acronym ("VSIP"): the question is about something else;
- a typo or chat spelling ("teh", "cheif"): no evidence either way.
English words are told apart by their frequency in general English (wordfreq); Vietnamese
compounds by the dictionary that ships with pyvi (two syllables that form a dictionary word and
never occur together in the documents name a concept they lack).
"""

from __future__ import annotations

import importlib.resources
import re
import threading
from dataclasses import dataclass
from functools import lru_cache

from bot.answering.question import GENERIC_EN, QUESTION_FRAME, QUESTION_FRAME_PAIRS, VI_CUE_PAIRS
from indexer.glossary import Expansion
from indexer.text import STOPWORDS, VI_STOPWORDS, fold, has_vietnamese_marks, tokens_with_parts
from indexer.unit_index import UnitIndex, stem

REAL_WORD_ZIPF = 3.3  # at least this common in general English (zipf scale): a real word ...
GENERIC_ZIPF = 5.4  # ... and below this: commoner words ("get", "part", "came") name no topic
NAME_ZIPF = 1.0  # rarer than this, and not Vietnamese: a name or an acronym


# everyday nouns pyvi's dictionary lacks, or its tagger reads as verbs ("giấy phép"), which askers use for
# subjects the documents may not cover (overseas Vietnamese, a fine, land prices, a pension, a permit)
VI_NOUNS_MISSING = ("việt kiều", "mức phạt", "tiền phạt", "phạt tiền", "giá đất", "lương hưu", "giá điện", "giá nước",
                    "giấy phép")

_MISSING_NOUNS = frozenset((*VI_NOUNS_MISSING, *map(fold, VI_NOUNS_MISSING)))


@lru_cache(maxsize=2)
def vi_compounds(marked: bool) -> frozenset[str]:
    """Two-syllable beginnings of the Vietnamese dictionary's words (and of `VI_NOUNS_MISSING`), with
    their diacritics ("dân số") or folded ("dan so") for questions typed without them."""
    text = (importlib.resources.files("pyvi") / "models" / "words.txt").read_text(encoding="utf-8")
    out = {w if marked else fold(w) for w in VI_NOUNS_MISSING}
    for line in text.splitlines():
        parts = (line.lower() if marked else fold(line)).split()
        if len(parts) >= 2:
            out.add(f"{parts[0]} {parts[1]}")
    return frozenset(out)


# Vietnamese compounds that shape a question or qualify it, not name its subject.
GENERIC_VI = frozenset(fold(w) for w in (
    "vấn đề", "đầy đủ", "cụ thể", "tuyệt đối", "hiện nay", "gần như", "bao giờ", "thế nào", "làm gì", "có thể",
    "như vậy", "hiện tại", "chính xác", "chi tiết", "nội dung", "thông tin", "trường hợp", "quy định", "được biết",
    "cho biết", "điều gì", "việc gì", "tất cả", "toàn bộ", "chủ yếu", "đặc biệt", "quan trọng", "mới nhất",
    "bây giờ", "sắp tới", "đầu tiên", "cuối cùng", "loại hình", "hình thức", "số hiệu", "ý nghĩa", "mục đích",
    "tổng cộng", "sơ qua", "sơ lược", "giới thiệu", "chức vụ", "chức danh", "chế độ", "cái gì", "cái nào",
))


# typed without marks, a pair that opens with "co" (có), "duoc" (được), "bi" (bị) or "la" (là) is a verb
# phrase ("co mat tien": có mất tiền), not the compound it may spell ("có mặt")
_VI_AUXILIARIES = frozenset(["co", "duoc", "bi", "la"])
# "nói gì", "loại nào", "ở đâu", "ra sao": a pair ending in a question word asks, it names nothing
_QUESTION_PARTICLES = frozenset(["gi", "nao", "dau", "sao", "chua", "khong"])


@lru_cache(maxsize=1)
def vi_syllables() -> frozenset[str]:
    text = (importlib.resources.files("pyvi") / "models" / "words.txt").read_text(encoding="utf-8")
    return frozenset(s for line in text.splitlines() for s in fold(line).split())


@lru_cache(maxsize=4096)
def en_zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


# a word that can be a verb is one after these: an auxiliary or a subject ("to kick", "they split"), or
# a form of "be" or "get" (its participle: "is split over")
_VERB_BEFORE = frozenset(["to", "did", "does", "do", "will", "can", "could", "would", "should", "may", "must",
                          "i", "we", "you", "they", "he", "she", "it", "not", "also",
                          "is", "are", "was", "were", "be", "been", "being", "get", "gets", "got", "getting"])


_VI_NOUN_TAGS = {"N", "Nc", "Np", "Nu", "Ny", "Nb"}
_tagger_lock = threading.Lock()


def _vi_tags(text: str) -> list[tuple[str, str]]:
    from pyvi import ViPosTagger, ViTokenizer  # a CRF model shipped in the package, loaded once

    with _tagger_lock:
        words, tags = ViPosTagger.postagging(ViTokenizer.tokenize(text))
    return [(w.replace("_", " ").lower(), str(t)) for w, t in zip(words, tags, strict=False)]


@lru_cache(maxsize=1)
def _marked_forms() -> dict[str, tuple[str, ...]]:
    forms: dict[str, list[str]] = {}
    for word in vi_compounds(True):
        forms.setdefault(fold(word), []).append(word)
    return {k: tuple(v) for k, v in forms.items()}


@lru_cache(maxsize=4096)
def vi_can_be_noun(written: str) -> bool:
    """Typed without marks, a compound may be one of several words: it names a subject when one of
    the marked words it may be is tagged a noun on its own."""
    forms = _marked_forms().get(fold(written), ())
    return not forms or any(tag in _VI_NOUN_TAGS for form in forms for _w, tag in _vi_tags(form))


# before a particle a word that can be a verb is a phrasal verb ("kick off", "set up")
_PARTICLES = frozenset(["off", "up", "out", "down", "over", "away", "back"])


def in_lexicon(word: str) -> bool:
    """An English word of lemminflect's lexicon (any part of speech), or a compound of two of them
    ("paycheck")."""
    from lemminflect import getAllLemmas

    if getAllLemmas(word):
        return True
    return any(getAllLemmas(word[:k]) and getAllLemmas(word[k:]) for k in range(3, len(word) - 2))


# prepositions the lexicon also lists as nouns ("the inside", "a via"): in a question they place
# what is asked ("incentives inside the FTZ"), they do not name it
_PREPOSITIONS = frozenset(["inside", "outside", "underneath", "via", "behind"])


def is_topic_noun(word: str, previous: str, following: str = "") -> bool:
    """A word that can name a subject: an English noun (lemminflect's lexicon), not in a verb's place."""
    from lemminflect import getAllLemmas

    if word in _PREPOSITIONS:
        return False
    lemmas = getAllLemmas(word)
    if "NOUN" not in lemmas:
        return False
    return not ("VERB" in lemmas and (previous in _VERB_BEFORE or following in _PARTICLES))


@dataclass(frozen=True)
class Unseen:
    concepts: tuple[str, ...]  # real words or compounds no document holds
    names: tuple[str, ...]  # names or acronyms no document holds


def unseen_words(plain: str, language: str, units: UnitIndex, df: dict[str, int], expansion: Expansion,
                 *, same_language_passages: bool = True, fact_asked: bool = False) -> Unseen:
    """`plain`: the question read through the synonyms; `df`: folded (unstemmed) corpus terms.
    Vietnamese compounds are judged only when the passages found are Vietnamese too (a Vietnamese
    question about an English-only document shares its words through the glossary, not compounds).
    `fact_asked`: the question asks for one figure, place or person, so a one-syllable noun it
    gives is judged too (a list or a "what" question names its category in words of its own:
    "những kênh đối ngoại nào")."""
    linked = {w for words, _forms in expansion.links for w in words} | set(expansion.extra_tokens)
    words = [w for w in tokens_with_parts(plain) if len(w) > 1 and not w.isdigit()]
    concepts: list[str] = []
    names: list[str] = []

    def known(word: str) -> bool:
        return df.get(word, 0) > 0 or units.df.get(stem(word), 0) > 0 or word in linked

    content = [(i, w) for i, w in enumerate(words) if w not in STOPWORDS and stem(w) not in QUESTION_FRAME]
    for i, word in content:
        if known(word) or any(c in word for c in "./-"):
            continue
        if language == "vi" and word in vi_syllables():
            continue  # judged as part of a compound below
        zipf = en_zipf(word)
        if REAL_WORD_ZIPF <= zipf < GENERIC_ZIPF and word not in GENERIC_EN:
            if is_topic_noun(word, words[i - 1] if i else "", words[i + 1] if i + 1 < len(words) else ""):
                concepts.append(word)
            elif language == "vi" and len(word) >= 3 and word not in vi_syllables() and not in_lexicon(word):
                # in a Vietnamese question, a word common in English text but in no English
                # lexicon is a name ("messi sinh năm nào"); an English question capitalises its
                # names, and its chat spellings ("govt", "dept", "whats") are no English lexicon's
                names.append(word)
        elif zipf < NAME_ZIPF and len(word) >= 3 and word not in vi_syllables():
            names.append(word)
    if language == "vi" and same_language_passages:
        # typed without marks, a question may still hold marked words: the synonyms and the glossary
        # restore the marks of the terms they know ("dien tich" -> "diện tích"), so each pair is
        # judged as it is written
        marked = has_vietnamese_marks(plain)
        syllables = plain.lower().split() if marked else words
        syllables = [s.strip(".,;:!?()\"'") for s in syllables]
        folded = [fold(x) for x in syllables]
        candidates: list[tuple[str, str, bool]] = []
        pairs_seen = units.folded_pairs()

        def claims(neighbour: str, pair: str) -> bool:
            """Does `neighbour` take the syllable beside it into `pair` ("hai_phong")?"""
            spaced = pair.replace("_", " ")
            # a framing word claims its syllable even when the other is a function word ("cái | gì")
            return spaced in GENERIC_VI or (neighbour not in VI_STOPWORDS and bool(df.get(pair, 0)
                                                                                 or spaced in pairs_seen))

        for i, (a, b) in enumerate(zip(syllables, syllables[1:], strict=False)):
            fa, fb = folded[i], folded[i + 1]
            before = f"{folded[i - 1]}_{fa}" if i > 0 else ""
            after = f"{fb}_{folded[i + 2]}" if i + 2 < len(folded) else ""
            # each syllable belongs with its other neighbour ("hai phong | thu hut", "làm | dự án"),
            # unless that neighbour is a Vietnamese function word: "đô của" names nothing, so "thủ
            # đô" is judged on its own ("án" folds to the English stop word "an": it is no function word)
            # ... or with a neighbour it makes a framing word with ("giới thiệu | sơ qua")
            if f"{a} {b}" not in _MISSING_NOUNS and ((i > 0 and claims(folded[i - 1], before))
                                                    or (i + 2 < len(folded) and claims(folded[i + 2], after))):
                continue
            # a pair holding a (folded) stop word is checked against the documents as typed: "thu do"
            # may be thủ đô, and written with its marks "thủ đô" folds its "đô" to the stop word "do";
            # with its marks, a pair of two other syllables is judged whatever the documents hold (a
            # candidate with marks must still be a noun to the tagger, below)
            pair_marked = has_vietnamese_marks(f"{a} {b}")
            loose = not (fa in STOPWORDS and fb in STOPWORDS) and f"{fa} {fb}" not in pairs_seen
            unseen_pair = loose or (pair_marked and not (fa in STOPWORDS or fb in STOPWORDS))
            if (unseen_pair and f"{a} {b}" in vi_compounds(pair_marked) and f"{fa} {fb}" not in GENERIC_VI
                    and f"{fa} {fb}" not in VI_CUE_PAIRS and fb not in _QUESTION_PARTICLES
                    and not (fa in _VI_AUXILIARIES and not pair_marked)
                    # "có may điều", "gồm may nhóm": folded "may" after a verb of having is "mấy" (how many)
                    and not (fa == "may" and not pair_marked and i > 0 and folded[i - 1] in _HAVING)
                    and not (fb == "la" and not pair_marked and i + 2 < len(folded))  # "bán là ...": a copula
                    and f"{fa}_{fb}" not in QUESTION_FRAME_PAIRS and df.get(f"{fa}_{fb}", 0) == 0
                    and not (fa in linked and fb in linked)):
                candidates.append((f"{a} {b}", f"{fa} {fb}", pair_marked))
        # written with its marks, the one-syllable noun of a figure, place or person asked that no passage
        # writes ("bậc cao nhất" of a tax, "quê ở tỉnh nào", "lương tối thiểu vùng"); one that makes a
        # word with its neighbour ("được phép") is no noun of its own
        # the tagger runs once, for this check and the nouns below
        tagged = _vi_tags(plain) if marked and (fact_asked or any(m for _w, _f, m in candidates)) else []
        if marked and fact_asked:
            seen = units.marked_words()
            for k, (word, tag) in enumerate(tagged):
                folded_word = fold(word)
                neighbours = (f"{tagged[k - 1][0]} {word}" if k else "",
                              f"{word} {tagged[k + 1][0]}" if k + 1 < len(tagged) else "")
                counted = k > 0 and fold(tagged[k - 1][0]) in ("bao nhieu", "may", "nhieu")  # "mấy kênh": asker's word
                if (tag == "N" and not counted and " " not in word and len(word) > 1 and has_vietnamese_marks(word)
                        and word not in seen and folded_word not in VI_STOPWORDS
                        and folded_word not in _VI_FRAME_NOUNS and folded_word not in GENERIC_VI and folded_word not in linked
                        and not any(n in vi_compounds(True) for n in neighbours if n)):
                    concepts.append(folded_word)
        # a subject is named by a noun: a verb or an adjective outside the corpus ("ủng hộ" for
        # "tán thành", "giữ gìn") is a way of asking, not a topic the documents lack
        nouns = frozenset(w for w, tag in tagged if tag in _VI_NOUN_TAGS)
        for written, folded_pair, pair_marked in candidates:
            if written in _MISSING_NOUNS or ((written in nouns) if pair_marked else vi_can_be_noun(written)):
                concepts.append(folded_pair)
    return Unseen(tuple(dict.fromkeys(concepts)), tuple(dict.fromkeys(names)))


# verbs of having or lasting after which a folded "may" asks how many ("co may", "gom may", "mat may")
_HAVING = frozenset(["co", "gom", "duoc", "la", "mat", "trong", "chia", "thanh"])


# one-syllable nouns that frame a question ("tên là gì", "hôm nào", "dịp nào")
_VI_FRAME_NOUNS = frozenset(["ten", "hom", "dip", "buoi", "luc", "cai", "chuyen", "viec", "dieu", "thu", "loai", "no", "noi",
                             "may", "nao", "gi", "ai", "dau", "bao"])  # and the question words pyvi may tag nouns


# chat spellings too short for the speller ("wen did res 226 take effect"); none is a Vietnamese syllable
CHAT_SPELLINGS = {"wen": "when", "whn": "when", "wat": "what", "wot": "what", "wht": "what", "wher": "where",
                  "hw": "how", "abt": "about", "thru": "through", "ppl": "people", "yrs": "years", "yr": "year",
                  # Vietnamese chat shorthand ("có ... ko", "ntn")
                  "ko": "không", "hok": "không", "khg": "không", "ntn": "như thế nào"}


# a legal label written short before its number ("art. 1", "cl. 2", "para 3"): the word the documents write
_LABELS = {"art": "article", "arts": "articles", "cl": "clause", "para": "paragraph", "pt": "point"}
_LABEL_SHORT = re.compile(r"\b(art|arts|cl|para|pt)\.?\s*(?=\d)", re.IGNORECASE)


class Speller:
    """Corrects a typo ("cheif", "investers", "nhugn") to the one corpus word it is closest to; a
    real word, a Vietnamese syllable or a word of the corpus is left as typed."""

    def __init__(self, corpus_words: set[str]) -> None:
        self.words = corpus_words
        self._choices = sorted(w for w in corpus_words if len(w) >= 3 and w.isalpha())

    def correct(self, text: str) -> str:
        from rapidfuzz import process
        from rapidfuzz.distance import DamerauLevenshtein

        def fix(match: re.Match[str]) -> str:
            word = match.group(0)
            folded = fold(word)
            if folded in CHAT_SPELLINGS:
                return CHAT_SPELLINGS[folded]
            if (len(folded) < 4 or not folded.isalpha() or folded in self.words or folded in vi_syllables()
                    or en_zipf(folded) >= REAL_WORD_ZIPF - 0.3):
                return word
            limit = 1 if len(folded) <= 6 else 2
            found = process.extract(folded, self._choices, scorer=DamerauLevenshtein.distance,
                                    score_cutoff=limit, limit=2)
            if not found or (len(found) > 1 and found[1][1] == found[0][1]):
                return word  # no close word, or two equally close: leave it
            return str(found[0][0])

        text = _LABEL_SHORT.sub(lambda m: _LABELS[m.group(1).lower()] + " ", text)
        return re.sub(r"[^\W\d_]+", fix, text)


def warm_vocabulary() -> None:
    """Load the word lists and lexicons once (a few hundred ms), before the first question."""
    vi_compounds(True)
    vi_compounds(False)
    vi_syllables()
    en_zipf("investment")
    is_topic_noun("investment", "")
    Speller({"investment"}).correct("investmnt")
    _vi_tags("dân số hải phòng")  # the tagger
    _marked_forms()
