"""Question analysis: what kind of answer a question asks for, and what that answer must contain.

- list: "which events", "what are the incentives", "liệt kê", "gồm những ... nào" -> all the items;
- when: "when", "what date", "khi nào", "ngày nào" -> a date;
- how-many: "how many", "how much", "what percentage", "bao nhiêu", "mấy" -> a number;
- how-long: "how long", "bao lâu", "thời hạn" -> a duration (a number of years, months...);
- who: "who", "ai", "người nào" -> a name or an office;
- where: "where", "ở đâu", "tại đâu" -> a place;
- yes-no: "is/does/can ...", "có ... không" -> the passage that settles it;
- overview: "what is", "tell me about", "là gì", "giới thiệu" -> the main points;
- what: anything else.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

from indexer.text import fold, folded_words, has_vietnamese_marks, name_runs
from indexer.unit_index import stem

_EN_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
              "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
# two years joined by a dash ("2021-2025"): a period
_YEAR_SPAN_PATTERN = r"\b(?:19|20)\d\d\s*[-–]\s*(?:19|20)\d\d\b"
DATE = re.compile(
    rf"\b(?:\d{{1,2}}\s+(?:{_EN_MONTHS})\s+\d{{4}}|(?:{_EN_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|(?:{_EN_MONTHS})\s+\d{{4}}|(?:in|since|from|by|until|of|on|during)\s+(?:19|20)\d\d\b"
    r"|ngay\s+\d{1,2}(?:\s+thang\s+\d{1,2}(?:\s+nam\s+\d{4})?|/\d{1,2}(?:/\d{4})?)"
    r"|thang\s+\d{1,2}(?:\s+nam\s+\d{4}|/\d{4})|nam\s+(?:19|20)\d\d|\d{1,2}/\d{1,2}/\d{4}"
    rf"|(?:morning|afternoon|evening) of (?:{_EN_MONTHS})\s+\d{{1,2}}|(?:{_EN_MONTHS})\s+\d{{1,2}}\b"
    rf"|{_YEAR_SPAN_PATTERN}|\b(?:19|20)\d\d\b)",
    re.IGNORECASE)
NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|twelve|hundred|thousand|million|"
                    r"billion)\b")
# Vietnamese number words, read with their marks: folded, "hai" is also Hải (Hải Phòng), "ba" bà,
# "nam" năm (year) and "tam" tâm, so the folded forms would find a number in almost any sentence
VI_NUMBER = re.compile(r"(?<!\w)(hai|ba|bốn|sáu|bảy|tám|chín|mười|mươi|trăm|nghìn|ngàn|triệu|tỷ|tỉ)(?!\w)")
# (a Vietnamese date takes five words before its year: "từ ngày 1 tháng 7 năm 2025 đến ngày 31 tháng 12 năm 2026")
PERIOD = re.compile(_YEAR_SPAN_PATTERN + r"|\b(?:from|tu)\s+(?:\S+\s+){0,5}?(?:19|20)\d\d\s+"
                    r"(?:to|until|den|toi)\s+(?:\S+\s+){0,5}?(?:19|20)\d\d\b")
# a date that names its day ("16 October 2025", "October 16", "ngày 16 tháng 10", "16/10/2025"), on folded text
DAY = re.compile(rf"\b\d{{1,2}}\s+(?:{_EN_MONTHS})\b|\b(?:{_EN_MONTHS})\s+\d{{1,2}}\b|\bngay\s+\d{{1,2}}\b"
                 r"|\b\d{1,2}/\d{1,2}\b")
_DAY_ASKED = re.compile(r"\b(?:what|which) (?:date|day)\b|\bon what day\b|\bngay (?:nao|may|bao nhieu)\b|\bhom nao\b")
DURATION = re.compile(r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|nam|muoi|hai|ba|bon|sau)\s+"
                      r"(years?|months?|weeks?|days?|nam|thang|tuan|ngay)\b|\b(years?|nam)\b")
# the unit a duration is written or asked in, folded: "ngày" and "days" are both days
_SPAN_OF = {"day": "day", "ngay": "day", "week": "week", "tuan": "week", "month": "month", "thang": "month",
            "year": "year", "nam": "year"}
_SPAN_ASKED = re.compile(r"\b(?:how many|may|bao nhieu)\s+(days?|weeks?|months?|years?|ngay|tuan|thang|nam)\b")
# "how long does it take to get a card", "mất bao lâu thì được cấp": the time a procedure takes ...
_PROCESS_ASKED = re.compile(r"\bhow (?:long|much time|many \w+) (?:does|do|did|will|would|should|can) (?:\w+ ){1,6}?take\b"
                            r"|\bhow long to (?:get|obtain|issue|process|register|approve|receive)\b|\bprocessing (?:time|period)"
                            r"|\bturnaround\b|\bhow (?:quickly|fast)\b"
                            r"|\bmat (?:bao lau|may|bao nhieu)\b|\bbao lau (?:thi|moi) (?:duoc|co|xong|nhan)\b"
                            r"|\bthoi gian (?:xu ly|giai quyet|cap|thu ly|tham dinh)\b")
# ... which a passage states as a time limit ("within 15 days", "trong vòng 15 ngày", "10 ngày làm việc"),
# not as how long what the procedure grants lasts ("cards of up to 10 years")
_PROCESS_STATED = re.compile(r"\b(?:within|in under|no later than|takes?|taking|processed in|trong vong|trong thoi han|"
                             r"trong|khong qua|toi da)\s+(?:about |around |khoang )?\d+\s+(?:working |business |ngay lam viec)?"
                             r"(?:days?|weeks?|months?|ngay|tuan|thang)\b|\b\d+\s+(?:working|business) days\b|\bngay lam viec\b")
# names and offices: capitalised words after the first, titles, organisations
_TITLES = re.compile(r"\b(mr|mrs|ms|dr|minister|chairman|chairwoman|chair|director|president|secretary|deputy|"
                     r"committee|council|department|ministry|authority|government|embassy|assembly|"
                     r"chu tich|bo truong|thu truong|giam doc|uy ban|hoi dong|chinh phu|"
                     r"quoc hoi|dai su quan|ban quan ly)\b")
# ... and, read with their marks, "Sở", "Bộ", "ông", "bà" before a name: folded, "so" is also "số"
# (number), "bo" the "bộ" of "cán bộ", "ba" three
_TITLES_VI = re.compile(r"(?<!\w)(?:Sở|Bộ|ông|bà|Ông|Bà)\s+(\w)")
# a person: "Mr. Ngo Le Van", "ông Hoàng Minh Cường", "Chairman Tran Thanh Man", "Tổng biên tập: ... Trần Huy Kiên"
PERSON = re.compile(
    r"\b(?:Mr|Mrs|Ms|Dr|ông|bà|Ông|Bà)\.?\s+[A-ZĐÀ-Ỹ][\wÀ-ỹ]+"
    r"|\b(?:Chairman|Chairwoman|Minister|Director|Secretary|President|Editor-in-chief|Chief of staff|Chủ tịch|"
    r"Thứ trưởng|Bộ trưởng|Giám đốc|Tổng biên tập|Chánh Văn phòng|Bí thư)\b[^.;]{0,40}?"
    r"\b[A-ZĐ][\wÀ-ỹ]+\s+[A-ZĐ][\wÀ-ỹ]+\s+[A-ZĐ][\wÀ-ỹ]+")
# the name itself, after an honorific or an office ("Mr. Ngo Le Van,", "Chánh Văn phòng Trần Huy
# Kiên."): two to four capitalised words that end the phrase ("Thứ trưởng Bộ Ngoại giao" names no one)
_NAMED = re.compile(
    r"(?<!\w)(?:Mr|Mrs|Ms|Dr|ông|bà|Ông|Bà|Chairman|Chairwoman|Minister|Director|Chief of staff|Chủ tịch|"
    r"Thứ trưởng|Bộ trưởng|Giám đốc|Chánh Văn phòng)\.?\s+([A-ZĐÀ-Ỹ][\wÀ-ỹ]*(?:\s+[A-ZĐÀ-Ỹ][\wÀ-ỹ]*){1,3})"
    r"(?=\s*(?:[,.;:()]|$)|\s+[a-zà-ỹđ])")
# ... but not the body an office belongs to ("Thứ trưởng Bộ Ngoại giao", "Minister of ...")
_BODY_WORDS = frozenset(["Bộ", "Sở", "Ủy", "Uỷ", "Ban", "Hội", "Văn", "Ministry", "Department", "Committee", "Council",
                         "Office", "Of"])


def people_named(text: str) -> list[str]:
    """The persons a passage names, in order ("Ngo Le Van", "Hoàng Minh Cường")."""
    return [m.group(1) for m in _NAMED.finditer(text) if m.group(1).split()[0] not in _BODY_WORDS]


def person_named(text: str) -> str:
    """The first person a passage names."""
    return next(iter(people_named(text)), "")


# a place in an English passage: a preposition before a name ("in Chan Hung", "at the City Convention
# Center"), a kind of place next to a name ("Cat Hai island", "Hong Bang district"), an event it
# happened at ("at the investment conference"), an address or a link. A kind of place alone is
# none: "port-logistics areas" says what, not where.
_PLACE_KINDS = r"(?:[Cc]ent(?:er|re)|[Hh]all|[Ii]sland|[Dd]istrict|[Cc]ommunes?|[Ww]ard|[Pp]ort|[Pp]arks?|[Ss]treet|[Zz]ones?|[Pp]rovince|[Cc]ity)"
_PLACE = re.compile(r"\b(?:[Aa]t|[Ii]n|[Oo]n|[Nn]ear) (?:the )?[A-Z]|\b(?!(?:The|This|That|A|An|Its|Their)\b)[A-Z][\w-]*\s+"
                    + _PLACE_KINDS + r"\b|\b"
                    + _PLACE_KINDS + r"\s+(?:of\s+)?[A-Z]|\b[Aa]t (?:the |a |an )?(?:[\w-]+ ){0,3}(?:conference|meeting|"
                    r"ceremony|event|session|forum|summit|festival|exhibition)\b|https?://|\bwww\.")
# a place in a Vietnamese passage: a preposition or a kind of place before a name ("tại Trung tâm Hội
# nghị", "ở quận Hồng Bàng", "xã Chấn Hưng", "trên đảo Cát Hải"; "tại" before anything: "tại hội
# nghị xúc tiến đầu tư"), an address or a link. The bare
# words are not enough: folded, "quán" (Đại sứ quán) is "quan" (quận) and "ở" is "o".
_PLACE_VI = re.compile(r"(?<!\w)(tại|ở|trên|gần|xã|phường|quận|huyện|tỉnh|thành phố|đảo|cảng|khu công nghiệp|"
                       r"trung tâm|đường|số)\s+(các\s+|khu\s+|xã\s+|phường\s+|quận\s+|đảo\s+|huyện\s+)?"
                       r"([A-ZĐÀ-Ỹ]|\d)|(?<!\w)tại\s+\w|https?://|\bwww\.")


@dataclass(frozen=True)
class QuestionKind:
    kind: str  # list | when | how-many | how-long | who | where | yes-no | overview | what
    person: bool = False  # a "who" question about a person (an office holder, a signatory): needs a name
    # the office asked about, and the words that follow it in the question ("chairman",
    # ("hai", "phong", "people", "committee")): the answer must name a holder of that office
    office: tuple[str, tuple[str, ...]] | None = None
    counted: str = ""  # what a "how many" question counts ("projects", "du an"): the number must be of it
    # the number is written with what is counted ("15 tập thể", "456 deputies"), not just somewhere
    # in a passage that names it: "bao nhiêu doanh nghiệp" is not answered by "năm 2022 ... doanh nghiệp"
    attached: bool = False
    # a "who issued it" question about a numbered document ("15-ct/tw"): the answer is the body
    # written after that number ("Chỉ thị số 15-CT/TW ngày 10/8/2022 của Ban Bí thư ...")
    issuer_of: str = ""
    # "how big is X": X as folded words ("southern coastal economic zone"); the area must be X's
    measured: str = ""
    money: str = ""  # MONEY or MONEY_USD: "how many" asks for an amount of money (in dollars)
    period: bool = False  # a "when" question for a period, from when to when: two years or dates
    day: bool = False  # a "when" question for a day ("what date", "ngày nào"): a year alone says less
    age: bool = False  # "how old", "bao nhiêu tuổi": the number must be an age
    body: bool = False  # a "who" question about an organisation ("đơn vị nào", "which agency"), not a person
    agency: bool = False  # ... about an agency, not a company ("which authority", "cơ quan nào"): one must be named
    company: bool = False  # ... about one company ("which firm", "công ty nào"; "doanh nghiệp nào" may ask a kind): one named
    contact: str = ""  # "email" or "phone": the answer writes an email address or a telephone number
    born: bool = False  # "when was he born", "sinh năm nào": the date must be a birth's
    per: str = ""  # "bao nhiêu tiền một tháng", "how much per tonne": the rate is per this unit (folded)
    requirement: str = ""  # "conditions", "documents" or "procedure": what the answer must spell out
    span: str = ""  # "how many days", "mất mấy ngày": the duration is asked in this unit (day, week, month, year)
    process: bool = False  # "how long does it take to get": the time a procedure takes, not how long its result lasts
    attribute: str = ""  # "what is the motto of", "phương châm ... là gì": the passage must give that attribute
    # "the number of the resolution", "nghị quyết số mấy": a document number ("226/2025/QH15"), written after
    # the kind of document asked ("nghi quyet", "plan"), or "document" when the question names no kind
    numbered: str = ""

    def satisfied_by(self, text: str, question: str = "", context: str = "", scope: str = "") -> bool:
        """Does a passage hold what this kind of question needs (a date, a number, a name ...)? A
        number the question itself gives ("Resolution 226") is not an answer to "how many".
        `context`: the passage's section and list introduction (the subject of a sentence that
        names none); `scope`: the text around the passage (its chunk)."""
        folded = _folded(text)
        asked = fold(question)  # the question, folded once for the checks below
        if self.contact and (_EMAIL if self.contact == "email" else _PHONE).search(text) is None:
            return False
        if self.requirement and _REQUIREMENT_STATED[self.requirement].search(folded) is None:
            return False  # "the criteria are set by the Council" does not say what they are
        if self.numbered:
            if self.numbered == "document":  # another document's number: "Nghị quyết 226 thay thế văn bản nào"
                given = set(re.findall(r"\d+", asked))  # is not answered by "Số 226/2025/QH15"
                return any(re.match(r"\d+", m.group(0)).group(0) not in given for m in _DOCUMENT_NUMBER.finditer(folded))
            # "Chương trình hành động số 01/CTr-UBND", "Decision 4068/QD-UBND", or a list item under its kind
            # ("Nghị quyết:" then "Số 226/2025/QH15"); "Chỉ thị số 15-CT/TW" is not the programme's number
            written = f"{_folded(context)} {folded}" if context else folded
            return re.search(rf"\b{self.numbered}\b[\s:,]+(?:\w+\s+){{0,3}}?(?:(?:so|no|number)\.?\s+)?"
                             rf"{_DOCUMENT_NUMBER.pattern}", written) is not None
        if self.attribute and not any(re.search(rf"\b{form}\b", folded) for form in _ATTRIBUTE_OF[self.attribute]):
            return False  # the plan's aims do not say what motto it follows
        if self.kind in FACT_KINDS and question and not same_year(folded, asked):
            return False
        if self.kind in ("how-many", "when", "how-long") and question:
            for number in set(re.findall(r"\d+(?:[./-]\d+)*", asked)):
                folded = re.sub(rf"(?<![\d.,/-]){re.escape(number)}(?![\d.,/-]*\d)", " ", folded)
        if self.kind == "when":
            if self.born and _BORN.search(folded) is None:
                return False  # "năm 2026" in a sentence about him is not the year he was born
            if self.day and DAY.search(folded) is None:
                return False  # "kỳ họp cuối năm 2028" does not say on which day it meets
            if not self.period and question and _ONE_DAY_EVENT.search(asked):
                # "when was the programme issued": "the plan for the period of 2021-2025" is no issue date
                folded = _YEAR_SPAN.sub(" ", folded)
            return (PERIOD if self.period else DATE).search(folded) is not None
        if self.kind in ("how-many", "who") and question and self.counted != AREA \
                and located_only(text, asked):
            return False
        if self.kind == "how-many":
            if not self.counted and not self.money and not self.age and _EXEMPT.search(folded):
                return True  # "how big a cut in land rent": exempt is all of it
            if NUMBER.search(folded) is None and VI_NUMBER.search(text.lower()) is None:
                return False
            # what is counted is looked for in a passage of the question's language only (a
            # Vietnamese "dự án" is not written in an English passage)
            if self.counted == AREA:
                if not self.measured:
                    return _AREA.search(folded) is not None
                return area_of(folded, self.measured, _folded(context) if context else "",
                               _folded(scope) if scope else "")
            if self.money and (_DOLLARS if self.money == MONEY_USD else _MONEY).search(folded) is None:
                return False
            if self.per and not _rate_per(folded, self.per):
                return False  # "4.600 tỷ đồng" in all is not a salary a month
            if self.age and _AGE.search(folded) is None:
                return False
            vietnamese = " " in self.counted or self.counted in VI_COUNTED_ALONE
            if not self.counted or vietnamese != has_vietnamese_marks(text):
                return True
            return _counts(folded, self.counted) if self.attached else mentions(folded, self.counted)
        if self.kind == "how-long":  # "five years", or the span itself ("from 1 July 2025 to 31 December 2026")
            if self.process:
                return _PROCESS_STATED.search(folded) is not None
            if PERIOD.search(folded) is not None:
                return True
            # "mất mấy ngày" is not answered by "miễn thuế 4 năm": the duration must be in the unit asked
            return any(not self.span or _SPAN_OF.get((m.group(2) or m.group(3)).rstrip("s")) == self.span
                       for m in DURATION.finditer(folded))
        if self.kind == "who":
            if self.issuer_of:
                return _names_issuer(folded, self.issuer_of)
            if self.person:
                return PERSON.search(text) is not None and (not self.office or _holds_office(folded, self.office))
            organisation = _TITLES.search(folded) is not None or any(m.group(1).isupper()
                                                                       for m in _TITLES_VI.finditer(text))
            if self.company:  # "which company": a company named as one, not an embassy
                return _COMPANY_NAMED.search(text) is not None
            # "which agency": an authority, a council, a department ... ("the Free Trade Zone pilot runs for
            # ten years" has capitals, but names no agency)
            return organisation if self.agency else organisation or _capitalised_run(text)
        if self.kind == "where":
            if _WEB_ASKED.search(asked):  # "the web address", "đăng ở trang nào": a site
                return _WEB.search(text) is not None
            if _PREMISES_ASKED.search(asked):  # "the office address", "trụ sở": a street, a number
                return _STREET.search(text) is not None
            return new_place(text, asked)
        return True


# a "when" question about something done on one day: issued, passed, signed, held ...
_ONE_DAY_EVENT = re.compile(r"\b(issued|adopted|passed|signed|held|launched|approved|organi[sz]ed|opened|hosted|announced|"
                            r"ban hanh|thong qua|ky ket|to chuc|khai mac|phe duyet|dien ra|cong bo)\b")
_YEAR_SPAN = re.compile(_YEAR_SPAN_PATTERN)


EVERYWHERE = {"hai phong", "viet nam", "vietnam", "hp", "thanh pho hai phong", "hai phong city"}
_PLACE_NOUNS = {"the", "cac", "khu", "cang", "port", "island", "dao", "xa", "phuong", "quan", "huyen", "industrial",
                "park", "parks", "cong", "nghiep", "zone", "area", "vuc", "vung", "seaport", "ben"}
_NEAR = {"near", "in", "at", "on", "within", "inside", "beside", "off", "gan", "tai", "o", "tren", "thuoc", "trong",
         "canh", "ven"}


_IN_AS_OBJECT = {"invest", "invests", "invested", "investing", "investment", "investments", "stake", "stakes", "role",
                 "share", "interest", "involved"}


def _located(folded_before: str) -> bool:
    """Do the words before a name put what precedes in a place ("gần cảng", "in the")?"""
    words = folded_before.split()[-6:]
    while words and words[-1] in _PLACE_NOUNS:
        words.pop()
    if len(words) >= 2 and words[-1] == "in" and words[-2] in _IN_AS_OBJECT:
        return False  # "invested in Lach Huyen port": the port is what was invested in
    return bool(words) and words[-1] in _NEAR


def located_only(text: str, folded_question: str) -> bool:
    """Is every name the question asks about (not as a place of its own: "in X") written in the
    passage only as the place where something else lies? "Cảng Lạch Huyện do ai đầu tư" is not
    answered by "1.077 ha tại các khu công nghiệp Nam Đình Vũ gần cảng Lạch Huyện"."""
    padded = f" {_word_line(folded_question)} "
    shared: dict[str, bool] = {}
    for start, name in name_runs(text):
        if name in EVERYWHERE or " " not in name or f" {name} " not in padded:
            continue
        asked_at = padded.index(f" {name} ")
        if _located(padded[:asked_at]):
            continue  # the question puts it in a place too ("who invested in Lach Huyen")
        shared[name] = shared.get(name, True) and _located(fold(text[:start]))
    return bool(shared) and all(shared.values())


# a question for a site on the web, or for premises; and what answers each
_WEB_ASKED = re.compile(r"\b(web|website|url|link|online|read|full text|original text|trang nao|trang web|dang o dau|"
                        r"dang tren|toan van|van ban goc|ban goc)\b|\b(?:xem|doc|tim|tai)(?:\s+\w+){0,9}?\s+o\s+dau\b")
_PREMISES_ASKED = re.compile(r"\b(office|offices|headquarters|premises|street|tru so|van phong|dia chi)\b")
_WEB = re.compile(r"https?://|\bwww\.|\b[\w-]+(?:\.[\w-]+)*\.(?:vn|com|org|net|gov|int|info)\b", re.IGNORECASE)
# a street address, in the text as written: a house number before a name ("18 Hoang Dieu", "số 18 Hoàng
# Diệu"; not "47 tập thể", "15 July"), or a named street, ward or district ("Hong Bang district", "quận Hồng
# Bàng"; not "thành phố Hải Phòng")
_STREET = re.compile(rf"(?<![\d/.,])\d{{1,4}}[A-Za-z]?\s+(?!(?i:{_EN_MONTHS})\b)[A-ZĐ][^\W\d_]+\s+[A-ZĐ]"
                     r"|\b[A-Z][^\W\d_]+\s+(?:[A-Z][^\W\d_]+\s+)?(?:[Ss]treet|[Rr]oad|[Dd]istrict|[Ww]ard)\b"
                     r"|(?<!thành )\b(?:đường|phố|phường|quận|huyện)\s+[A-ZĐ]")
# where the words of a place a passage gives end: a date, a verb or a clause after the name
_PLACE_END = re.compile(r"[,.;:()\[\]\"“”!?]|\s(?:on|from|with|held|to|by|for|and|since|when|which|who|where|"
                        r"that|va|tu|den|vao|ngay|thang|nam|de|cho|voi|khi|do|duoc|la)\s|\d")
_MONTH_WORDS = frozenset(_EN_MONTHS.split("|")) - {"may"}
_OCCASIONS_VI = {"ky hop", "phien", "thoi diem", "giai doan", "lan", "dip", "buoi"}
# ... and "thành phố" / "city" before or after a name the question gives ("thành phố Hải Phòng" is Hải Phòng)
_PLACE_FILLER = {"at", "in", "on", "near", "the", "of", "a", "an", "tai", "o", "tren", "gan", "cac", "khu", "nhung",
                 "thanh", "pho", "city"}
# an embassy's or a consulate's name ends with the country it is in ("Embassy of the Netherlands in Vietnam")
_MISSION_BEFORE = re.compile(r"\b(?:dai su quan|lanh su quan|embassy|consulate)(?: general)?(?: of)?(?: the)?"
                             r"(?:\s+\w+){0,3}\s*$")


def new_place(text: str, folded_question: str) -> bool:
    """Does the passage give a place, other than one the question itself names? "Where was the
    conference held in Hai Phong" is not answered by "held in Hai Phong", nor "ở địa điểm nào"
    of the investment conference by "tại hội nghị xúc tiến đầu tư" (at that conference)."""
    asked = set(_word_line(folded_question).split())
    if asked & {"hp", "haiphong"}:
        asked |= {"hai", "phong"}  # "the HP-Netherlands programme" names Hai Phong
    pattern = _PLACE_VI if has_vietnamese_marks(text) else _PLACE
    for match in pattern.finditer(text):
        found = match.group(0).lower()
        if found.startswith(("http", "www", "số")):
            return True  # a link or an address
        tail = " " + fold(text[match.start():match.start() + 100]) + " "
        words = [w for w in _PLACE_END.split(tail, maxsplit=1)[0].split() if w not in _PLACE_FILLER
                 and w not in _MONTH_WORDS]  # "in November 2022" is a time
        if " ".join(words[:2]) in _OCCASIONS_VI or (words and words[0] in _OCCASIONS_VI):
            continue  # "tại kỳ họp cuối năm 2028": at a session, a time, not a place
        if _MISSION_BEFORE.search(fold(text[max(0, match.start() - 60):match.start()])):
            continue  # "Đại sứ quán Hà Lan tại Việt Nam": where the embassy is, part of its name
        if any(w not in asked for w in words):
            return True
    return False


# offices a "who" question may ask about (folded); a title with one of the modifiers before it is
# another office: "Vice Chairman" does not answer "who is the chairman", nor "Ban Bí thư" (the
# Secretariat) "who is the secretary"
_OFFICES = ("editor in chief", "tong bien tap", "chu tich", "giam doc", "bi thu", "bo truong", "truong ban", "thu tuong",
            "prime minister",
            "dai su", "tong lanh su", "lanh su", "ambassador", "consul general", "consul", "mayor", "governor",
            "chairman", "chairwoman", "director", "secretary", "president", "minister", "chief", "head")
_OFFICE_SHORT = {"pm": "prime minister", "fm": "foreign minister"}
_OFFICE_SHORT_ASKED = re.compile(r"\b((?:who (?:is|s|was|are) |ai la )(?:the )?(?:current )?)(pm|fm)\b")
_MODIFIERS = {"vice", "deputy", "pho", "ban", "assistant", "former", "nguyen", "under"}
_OFFICE_WORDS = re.compile(r"\b(" + "|".join(o.replace(" ", r"\W+") for o in _OFFICES) + r")\b")
_NOT_ORGANISATION = {"the", "of", "a", "an", "is", "was", "who", "la", "ai", "ten", "gi", "cua", "hien", "nay",
                     "current", "currently", "now", "name", "nguoi", "nao", "for", "in", "at", "what", "whats"}


# what "how many" may count without the passage naming it again (units and measures)
_MEASURES = {"tien", "ha", "hectare", "hectar", "km", "km2", "m2", "phan", "usd", "vnd", "dong", "ty", "trieu", "nghin",
             "nam", "thang", "ngay", "lan", "nguoi", "percent", "percentag", "year", "month", "day", "time",
             "dollar", "billion", "million", "thousand", "squar", "%", "tan", "kg", "met", "lit", "tonn", "ton",
             "meter", "metr", "kilomet", "teu", "gio", "hour", "minut", "phut", "muc", "level", "cay"}


_EN_VERBS = {"got", "get", "gets", "were", "was", "are", "is", "have", "has", "had", "did", "do", "does", "received",
             "attended", "took", "came", "signed", "voted", "will", "can", "could", "would", "joined", "won"}
# "từ bao nhiêu trở lên", "bao nhiêu so với lương", "bao nhiêu cho ...": no noun follows the amount (nor do
# the function words, "bao nhiêu thì ...")
_VI_AFTER_AMOUNT = {"tro", "so", "cho", "trong", "tren", "khi", "tai", "voi", "den", "de", "vao", "neu"}
_VI_NOT_NOUN = {"la", "gi", "nao", "khong", "co", "duoc", "roi", "vay", "the", "a", "nhi", "thi", "ma", "moi", "hay",
                "nua"}


AREA = "@area"  # "how big is the zone": the answer is an area
MONEY = "@money"  # "what does it cost", "giá ... bao nhiêu": the answer is an amount of money
MONEY_USD = "@usd"  # "how many billion USD": an amount in dollars (one in đồng does not answer it)
_MONEY_ASKED_EN = re.compile(r"\b(price|prices|cost|costs|fee|fees|how much does|how much do|how much is the (rent|price|fee)|"
                             r"how much (money|capital|fdi|investment|funding|funds)|salary|wage|wages|usd|dollars?)\b")
_MONEY_ASKED_VI = re.compile(r"(?<!\w)(giá|chi phí|phí|lệ phí|tiền thuê|bao nhiêu tiền|vốn|kinh phí|ngân sách|"
                             r"lương cơ sở|lương tối thiểu|mức lương|usd|đô la)(?!\w)")
# "đô la" typed without marks, but not "tự do là" (free ... is) or "đó là" (that is): an amount before it
_DO_LA = r"(?:trieu|ty|nghin|tram|bao nhieu|may) do la|do la my"
_MONEY_ASKED_VI_UNMARKED = re.compile(r"^(gia|chi phi|le phi)\b|\b(gia (dat|thue|dien|nuoc|vang|xang|nha|ve|ban|mua|dich vu)|"
                                      r"chi phi|le phi|bao nhieu tien|von|kinh phi|ngan sach|luong co so|"
                                      r"luong toi thieu|muc luong|usd|" + _DO_LA + r")\b")
_USD_ASKED = re.compile(r"\b(usd|dollars?|" + _DO_LA + r")\b|\$")
_DOLLARS = re.compile(r"\b(usd|dollars?|us\$)\b|\$\s*\d")
# a number of these is an amount of money: "bao nhiêu tỷ (đồng)", "bao nhiêu triệu USD"
_VI_MONEY_UNITS = {"usd", "vnd", "dong", "tien"}
_VI_MONEY_SCALES = {"ty", "trieu", "nghin"}
_MONEY = re.compile(r"\d[\d.,]*\s*(vnd|usd|dong|ty dong|trieu dong|nghin dong|billion|million|thousand)\b|\b(vnd|usd|us\$|\$)\s*\d")
# ... "how big a break / cut / share" asks an amount, not an area (unless what follows is land: "how big a site")
_AREA_ASKED = re.compile(r"\b(how (?:big|large)(?! an? (?!(?:area|site|plot|zone|park|parcel|piece|land|island)\b)\w)|what size|what area|total size|size of the|how many (?:ha|hectares?|km2|square)|how much land|dien tich|"
                         r"rong bao nhieu|rong khoang|bao nhieu ha|rong bao nhieu ha|quy mo dien tich|total area|land area|"
                         r"area of the)\b")
_AREA = re.compile(r"\d[\d.,]*\s*(ha|hectares?|km2|km²|m2|m²|square (kilo)?met(re|er)s?)\b")


# what an area question is made of besides its subject: "how big is ... in ha", "diện tích ... là bao nhiêu"
_AREA_FRAME = {"how", "big", "large", "what", "size", "area", "total", "is", "the", "of", "in", "ha", "hectares",
               "hectare", "much", "land", "does", "cover", "covers", "dien", "tich", "rong", "bao", "nhieu", "khoang",
               "la", "co", "tong", "quy", "mo", "cua", "km2", "square", "kilometres", "kilometers", "s", "whats",
               "a", "an", "by", "va", "thi", "cho", "toi", "hoi", "biet", "on", "at", "tai", "tren", "o", "within",
               "natural", "tp", "thanh", "pho", "city", "itself", "whole", "entire"}
_IN = {"in", "on", "at", "within", "tai", "tren", "o"}
_PART_EN = {"site", "sites", "part", "parts", "portion", "section", "area", "areas", "location", "locations", "piece",
            "chunk", "segment", "component"}
IN_PLACE = "@in "  # a measured subject that is a place the area lies in: "the FTZ area on Cat Hai island"
# after an area, these put it in a place: "2,292 ha on Cat Hai island" is land in the island, not the island
_LOCATIVE = re.compile(r"^\W*(?:about\s+|khoang\s+)?(in|on|at|within|inside|near|tai|tren|o|thuoc|trong|gan)\b")
_AREA_TAIL = re.compile(r"[^,;:]*")
_SENTENCES = re.compile(r"(?<!\d)[.;](?!\d)")


def area_subject(folded_question: str) -> str:
    """What an area question asks the area of: the longest run of its words outside the frame
    ("southern coastal economic zone" in "how big is the southern coastal economic zone in ha")."""
    best: list[str] = []
    run: list[str] = []
    located = previous = False
    end = 0
    words = re.findall(r"[0-9a-z]+", re.sub(r"\btu nhien\b", " ", folded_question))  # "diện tích tự nhiên": natural area
    for i, word in enumerate(words):
        if word in _AREA_FRAME:
            run = []
            continue
        if not run:
            previous = i > 0 and words[i - 1] in _IN
        run.append(word)
        if len(run) > len(best):
            best, located, end = list(run), previous, i + 1
    # "the Nam Dinh Vu site of the FTZ", "the Nam Dinh Vu area of the FTZ", "phần / khu vực đảo Cát Hải": a
    # part, named by its place
    if best and (best[-1] in _PART_EN or best[0] == "phan" or best[:2] == ["khu", "vuc"]
                 or words[end:end + 2] in (["area", "of"], ["areas", "of"])):
        located = True
    return (IN_PLACE if located else "") + " ".join(best)


# the kind of place around its name: "the Dinh Vu - Cat Hai and Southern Coastal economic zones" names
# both zones, "đảo Cát Hải" the island
_PLACE_KIND_EN = {"economic", "zone", "zones", "area", "areas", "island", "park", "parks", "port", "industrial"}
_PLACE_KIND_VI = {"khu", "kinh", "te", "dao", "vung", "cang", "cong", "nghiep"}


def _area_name(subject: str) -> str:
    words = subject.split()
    while len(words) > 1 and words[-1] in _PLACE_KIND_EN:
        words.pop()
    while len(words) > 1 and words[0] in _PLACE_KIND_VI:
        words.pop(0)
    return " ".join(words)


def _word_line(folded: str) -> str:
    """Folded text as its words, one space apart ("dinh vu - cat hai" -> "dinh vu cat hai")."""
    return " ".join(re.findall(r"[0-9a-z]+", folded))


# the words that make "Hai Phong" part of a zone's or a body's name ("khu thương mại tự do Hải Phòng",
# "Hai Phong Free Trade Zone", "Hai Phong Economic Zone Authority")
_ZONE_WORDS = {"khu", "zone", "zones", "ftz", "free", "trade", "economic", "kinh", "te", "thuong", "mai", "tu", "do",
               "port", "cang", "authority", "ban", "quan", "ly", "industrial", "cong", "nghiep"}


def _names_city_alone(words: str) -> bool:
    """Does the sentence name the city by itself, not as part of a zone's name?"""
    for match in re.finditer(r"\bhai phong\b", words):
        near = words[:match.start()].split()[-3:] + words[match.end():].split()[:3]
        if not _ZONE_WORDS & set(near):
            return True
    return False


def area_of(folded: str, subject: str, context: str, scope: str = "") -> bool:
    """Is an area in the passage the subject's? When the passage or the text around it (`scope`)
    names the subject, a sentence with an area must name it outside the place the area lies in ("X covers 6,292 ha"), or name
    no subject under a heading that is the subject ("It covers 6,292 ha" under "Hai Phong Free
    Trade Zone"). "About 2,923 ha in Chan Hung commune (Southern Coastal Economic Zone)" is not
    that zone's area, nor is an area beside a sentence that only mentions the zone. A subject
    asked as a place ("the area on Cat Hai island", IN_PLACE) may be the place. A passage that
    does not name the subject as asked ("the Cat Hai part of the FTZ") is not judged here."""
    located = subject.startswith(IN_PLACE)
    if subject in EVERYWHERE:  # the city itself: a zone's area ("the Hai Phong Free Trade Zone covers ...") is not its
        return any(_AREA.search(sentence) and _names_city_alone(_word_line(sentence))
                   for sentence in _SENTENCES.split(folded))
    pattern = re.compile(rf"\b{re.escape(_area_name(subject.removeprefix(IN_PLACE)))}\b")
    # "tổng diện tích khu", "the zone's area": a kind of place alone names none (a follow-up's topic)
    generic = set(subject.removeprefix(IN_PLACE).split()) <= _PLACE_KIND_EN | _PLACE_KIND_VI
    if located or generic or not pattern.search(_word_line(f"{folded} {scope}")):
        return _AREA.search(folded) is not None
    context_names = bool(context) and pattern.search(_word_line(context)) is not None
    for sentence in _SENTENCES.split(folded):
        areas = list(_AREA.finditer(sentence))
        if not areas:
            continue
        outside = sentence
        for match in reversed(areas):
            tail = _AREA_TAIL.match(sentence, match.end())
            end = tail.end() if tail else match.end()
            if _LOCATIVE.match(sentence[match.end():end]):
                outside = outside[:match.end()] + " " + outside[end:]
        if pattern.search(_word_line(outside)):
            return True
        if context_names and not pattern.search(_word_line(sentence)):
            return True
    return False


# a rate asked per a unit ("bao nhiêu tiền một tháng", "how much per tonne"), and the unit's words
_PER_ASKED = re.compile(r"(?:/\s*|\b(?:mot|moi|hang|1|per|a|an|each)\s+)(\w+)")
_PER_UNIT_FORMS = (("thang", "month"), ("tan", "tonne", "ton"), ("nam", "year"), ("ngay", "day"), ("gio", "hour"),
                   ("nguoi", "person", "head", "capita"), ("m2", "square metre", "square meter"), ("ha", "hectare"),
                   ("kg", "kilogram"), ("lit", "litre", "liter"), ("teu",))
# a unit as the question writes it -> every form a passage may write it in (the ways of writing m2,
# a head and a capita are only read in passages)
_PER_UNITS = {form: forms for forms in _PER_UNIT_FORMS for form in forms
              if form not in ("square metre", "square meter", "head", "capita", "kilogram", "liter")}


def rate_unit(folded: str) -> str:
    """The unit a rate is asked per ("bao nhiêu tiền một tháng" -> "thang", "how much per tonne" ->
    "tonne"), when it is one a passage would write; else ""."""
    for asked in _PER_ASKED.finditer(folded):
        unit = asked.group(1)
        if unit in _PER_UNITS:
            return unit
    return ""


def _rate_per(folded_passage: str, unit: str) -> bool:
    """Does a passage write an amount per `unit` ("/tháng", "mỗi tháng", "per month", "a year")?"""
    forms = "|".join(re.escape(f) for f in _PER_UNITS[unit])
    return re.search(rf"(?:/\s*|\b(?:mot|moi|per|a|an|each|hang|tren)\s+)(?:{forms})s?\b", folded_passage) is not None


def money_asked(question: str, folded: str, language: str) -> str:
    """MONEY when a "how many" question asks for an amount of money ("giá", "how much capital",
    "bao nhiêu tỷ"), MONEY_USD when in dollars; else ""."""
    if language != "vi":
        asked = _MONEY_ASKED_EN.search(folded) is not None
    elif has_vietnamese_marks(question):
        asked = _MONEY_ASKED_VI.search(question.lower()) is not None
    else:
        asked = _MONEY_ASKED_VI_UNMARKED.search(folded.strip()) is not None
    if not asked and language == "vi":
        for amount in re.finditer(r"\b(?:bao nhieu|may) (\w+)(?: (\w+))?", folded):
            unit, after = amount.group(1), amount.group(2) or ""
            if unit in _VI_MONEY_UNITS or (unit in _VI_MONEY_SCALES and after != "le" and (
                    unit == "ty" or not after or after in _VI_MONEY_UNITS)):
                asked = True
    if not asked:
        return ""
    return MONEY_USD if _USD_ASKED.search(folded) else MONEY


def counted_noun(folded_question: str, language: str) -> tuple[str, bool]:
    """What a "how many" question counts, as folded words ("project", "du an"), or AREA for
    "how big"; "" when it counts a measure (percent, years) or names nothing. The flag: the
    question counts it ("bao nhiêu dự án", "how many projects"), so the number is written with it;
    else it is the subject the number is of ("dân số ... là bao nhiêu"), named anywhere."""
    if _AREA_ASKED.search(folded_question):
        return AREA, False
    words = folded_question.split()
    if language == "vi":
        # "... là bao nhiêu %", "... là bao nhiêu phần trăm": a share of the subject before "là"
        if words[-1:] == ["%"]:
            words = words[:-1]
        elif words[-2:] == ["phan", "tram"] and words[-4:-2] == ["bao", "nhieu"]:
            words = words[:-2]
        for i, word in enumerate(words):
            if (word == "may" or (word == "nhieu" and i > 0 and words[i - 1] == "bao")) and i + 1 < len(words):
                pair = words[i + 1:i + 3]
                if pair[0] in _MEASURES or pair[0] in _VI_NOT_NOUN or pair[0] in _VI_AFTER_AMOUNT or len(pair[0]) < 2:
                    # "dân số ... là bao nhiêu người": a measure of the subject before "là"
                    copula = i - 2 if word == "nhieu" else i - 1
                    if pair[0] == "nguoi" and copula > 0 and words[copula] == "la":
                        return _vi_subject(words[:copula]), False
                    return "", False
                noun = " ".join(pair) if len(pair) == 2 and pair[1] not in _VI_NOT_NOUN else pair[0]
                # one syllable alone is too ambiguous folded, but for a few that only count ("bao nhiêu dân")
                return (noun, True) if " " in noun or noun in VI_COUNTED_ALONE else ("", False)
        if words[-3:] == ["la", "bao", "nhieu"]:
            # "dân số Hải Phòng là bao nhiêu": the number is of its subject; in "... được bớt bao
            # nhiêu" the first words are not what the number is of
            before = words[:-3]
            if "muc" in before[1:]:  # "HĐND quy định mức thu nhập ... là bao nhiêu": the rate's, not the council's
                before = before[before.index("muc", 1):]
            return _vi_subject(before), False
        return "", False
    if _LIVE_IN.search(folded_question):
        return stem("population"), False  # "how many people live in ...": its population
    quantity = _EN_QUANTITY.search(folded_question)
    if quantity and "how many" not in folded_question and "how much" not in folded_question:
        return stem(quantity.group(1).split()[-1]), False  # "what is the population of ...": a population
    for i in range(len(words) - 1):
        if words[i] == "how" and words[i + 1] == "many":
            for k, word in enumerate(words[i + 2:i + 6]):
                if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
                    noun = stem(word)
                    # "how many projects", "how many foreign investors" count it; in "how many got
                    # certificates" what is counted is not named
                    attached = k == 0 or (k == 1 and words[i + 2] not in _EN_VERBS)
                    return ("", False) if noun in _MEASURES else (noun, attached)
            return "", False
    return "", False


_LIVE_IN = re.compile(r"\bhow many (?:people|residents|inhabitants|citizens) (?:live|lives|living|reside|are living|are there)\b")
# Vietnamese syllables that after "bao nhiêu" only count ("bao nhiêu dân")
# ("bao nhiêu điều": articles of a law, "mấy khu": zones or sites; "bao nhiêu điều kiện" is read as two words before this)
VI_COUNTED_ALONE = frozenset(["dan", "dieu", "khu"])


# what a "what is the ... of" question may ask the number of: a how-many question whose answer must
# name it again
_EN_QUANTITIES = ("population", "minimum wage", "budget", "total investment", "total capital", "gdp", "revenue")
_EN_QUANTITY = re.compile(r"\b(" + "|".join(_EN_QUANTITIES) + r")\b")

# the opening of a Vietnamese question before its subject: courtesy and asking words
_VI_OPENING = {"cho", "toi", "minh", "em", "hoi", "xin", "muon", "biet", "vay", "oi", "a", "ad", "admin", "ban",
               "cac", "anh", "chi", "vui", "long", "thi", "hien", "nay", "la"}


# words that qualify the subject of "... là bao nhiêu" rather than name it: "mức lương cơ sở" is a
# number of "lương cơ sở", "tổng vốn đầu tư" of "vốn đầu tư"
_VI_QUALIFIERS = {"muc", "tong", "con"}


def _vi_subject(words: list[str]) -> str:
    """The first two syllables of the question after its courtesy opening ("dan so" in "cho toi hoi
    dan so hai phong la"), or "" when what is left is a measure or too short."""
    i = 0
    while i < len(words) and words[i] in _VI_OPENING:
        i += 1
    if i + 2 < len(words) and words[i] in _VI_QUALIFIERS:
        i += 1
    pair = words[i:i + 2]
    if len(pair) < 2 or pair[0] in _MEASURES or len(pair[0]) < 2:
        return ""
    if pair[1] in _VI_NOT_NOUN:
        # folded, "cơ" is "có": "lương cơ sở" is read with its third syllable
        if pair[1] != "co" or i + 2 >= len(words) or words[i + 2] in _VI_NOT_NOUN:
            return ""
        pair = words[i:i + 3]
    return " ".join(pair)


# Vietnamese numbers in words, folded: right before what is counted they are numbers ("sáu nhóm")
_VI_COUNT_WORDS = {"hai", "ba", "bon", "nam", "sau", "bay", "tam", "chin", "muoi", "mot", "tram", "nghin", "hang"}
# a number, not a year
_COUNT = re.compile(r"(?!(?:19|20)\d\d$)\d[\d.,]*%?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
                    r"twelve|twenty|thirty|forty|fifty|hundred|hundreds|thousand|thousands|million|millions|dozens")


def _counts(folded: str, counted: str) -> bool:
    """A number written with what is counted: up to four words before it ("15 foreign
    enterprises", "15 tập thể") or right after it ("deputies: 456")."""
    words = re.findall(r"[\w.,%]+", folded)
    size = len(counted.split())
    for i in range(len(words) - size + 1):
        here = words[i:i + size]
        word = here[0].strip(".,")
        if (" ".join(here) != counted if " " in counted
                else stem(word) != counted and word != _UNIT_SHORT.get(counted)):
            continue
        # a number just before it counts it unless a measure follows the number ("1.077 ha tại các
        # khu công nghiệp" is an area, not a number of industrial parks)
        start = max(0, i - 4)
        for k in range(start, i):
            after = words[k + 1].strip(".,;:") if k + 1 < i else ""  # "the following 9 years; other projects"
            if _COUNT.fullmatch(words[k].strip(".,") or "x") and (not after or (after not in _MEASURES
                                                                               and stem(after) not in _MEASURES)):
                return True
        if any(_COUNT.fullmatch(w.strip(".,") or "x") for w in words[i + size:i + size + 1]):
            return True  # "deputies: 456"
        if (" " in counted or counted in VI_COUNTED_ALONE) and i and words[i - 1] in _VI_COUNT_WORDS:  # "sáu nhóm"
            return True
    return False


# a unit counted in words the passage may write short ("489.2 of the 517.5 km"), stemmed
_UNIT_SHORT = {stem(w): short for w, short in (("kilometres", "km"), ("kilometers", "km"), ("hectares", "ha"),
                                                ("metres", "m"), ("meters", "m"), ("tonnes", "t"), ("kilograms", "kg"))}


def mentions(folded: str, counted: str) -> bool:
    """The passage names what is counted (an English noun by its stem, or its unit written short;
    Vietnamese words as written)."""
    if " " in counted or not counted.isascii():
        return re.search(rf"\b{re.escape(counted)}\b", folded) is not None
    short = _UNIT_SHORT.get(counted)
    return any(stem(w) == counted or w == short for w in re.findall(r"[a-z]+", folded))


def office_asked(folded_question: str) -> tuple[str, tuple[str, ...]] | None:
    """The office a question asks the holder of, and its organisation words; None when it asks
    about a deputy ("phó", "vice") too or names no office."""
    # "who chairs / heads X" asks for the chairman / head of X
    folded_question = re.sub(r"\b(chairmen|chairs|chaired)\b", "chairman", folded_question)
    folded_question = re.sub(r"\b(heads|headed)\b", "head", folded_question)
    match = _OFFICE_WORDS.search(folded_question)
    if match is None:
        return None
    before = folded_question[:match.start()].split()
    if before and before[-1] in _MODIFIERS:
        return None
    after = folded_question[match.end():].split()
    organisation = tuple(w for w in after if w not in _NOT_ORGANISATION and len(w) > 1)[:6]
    return re.sub(r"\W+", " ", match.group(1)), organisation


def _holds_office(folded: str, office: tuple[str, tuple[str, ...]]) -> bool:
    """Does the passage name the office itself (not a deputy's), and, when the passage says whose
    office it is ("Chairman of the Vietnam National Commission for UNESCO", "Giám đốc Sở Ngoại
    vụ"), is it the organisation asked about?"""
    title, organisation = office
    words = re.findall(r"[0-9a-z]+", folded)
    size = len(title.split())
    for i in range(len(words) - size + 1):
        if " ".join(words[i:i + size]) != title:
            continue
        if i > 0 and words[i - 1] in _MODIFIERS:
            continue
        rest = words[i + size:i + size + 9]
        if rest[:1] in (["of"], ["for"]):
            complement = rest[1:]
        elif title in ("chu tich", "giam doc", "bi thu", "bo truong", "truong ban", "tong bien tap"):
            complement = rest[:6]  # Vietnamese: "Giám đốc Sở Ngoại vụ", "Chủ tịch Quốc hội ..."
        else:
            complement = []
        # the complement is the organisation when it is written right after the title ("Chairman of
        # X"); a title with a name straight after ("Chủ tịch Trần Thanh Mẫn") has none to compare
        if re.search(r"\b" + r"\W+".join(title.split()) + r"\s*:", folded):
            complement = []  # "Tổng biên tập: Chánh Văn phòng Trần Huy Kiên": the holder follows
        if not complement or not organisation or set(complement) & set(organisation):
            return True
    return False


_DOCUMENT_NUMBER = re.compile(r"(?<![\w/])\d+(?:/\d{4})?[/-][a-z][a-z0-9]*(?:[/-][a-z0-9]+)*")
_ISSUER_ASKED = re.compile(r"\b(ban hanh|issued|issues|issue|which body|which agency|which authority|co quan nao|"
                           r"don vi nao|cua ai|thuoc co quan nao|from which|by whom)\b")
# between the number and "of": its date and the like, not another document ("15-CT/TW và Kế hoạch
# 217-KH/TU của Ban Thường vụ": that body issued the plan)
_ISSUER = re.compile(r"\s+(?:(?!(?:va|and|\d+[/-]\S*[a-z])\b)\S+\s+){0,6}?(?:cua|of|by)\s+(?:the\s+)?(?:ban|uy ban|hoi dong|thanh uy|tinh uy|bo|chinh phu|"
                     r"quoc hoi|thu tuong|standing|secretariat|politburo|central|committee|council|ministry|"
                     r"government|national|people|city|party|prime)\b")


_ISSUED_BY = re.compile(r"(?:uy ban|committee|council|ban|hoi dong|thanh uy|bo|chinh phu|government|ministry|"
                        r"secretariat|assembly|quoc hoi)\b(?:\s+\S+){0,8}?\s+(?:ban hanh|issued|adopted|passed)"
                        r"(?:\s+\S+){0,6}?\s+$")


def _names_issuer(folded: str, document: str) -> bool:
    """The passage writes the body a document is "of" right after its number (and date), or the
    body that issued it just before ("Hai Phong City People's Committee issued Action Plan No. 01")."""
    for m in re.finditer(re.escape(document), folded):
        if _ISSUER.match(folded, m.end()) or _ISSUED_BY.search(folded[max(0, m.start() - 160):m.start()]):
            return True
    return False


FACT_KINDS = ("when", "how-many", "how-long", "who", "where")
YEAR = re.compile(r"(?<![\d/.-])(?:19|20)\d\d(?![\d/.-]?\d)")


def same_year(folded_text: str, folded_question: str) -> bool:
    """A year in a fact question binds its answer: a passage about other years ("the 2025
    conference" for "when is the 2026 conference") does not answer it. A passage with no year
    at all is not judged here."""
    asked = set(YEAR.findall(folded_question))
    if not asked:
        return True
    given = set(YEAR.findall(folded_text))
    return not given or bool(asked & given) or any(spans(folded_text, year) for year in asked)


def spans(folded_text: str, year: str) -> bool:
    """The passage gives a period that holds the year ("2023-2028", "from 2025 to 2030")."""
    for start, end in re.findall(r"((?:19|20)\d\d)\s*(?:-|–|to|den)\s*((?:19|20)\d\d)", folded_text):
        if start <= year <= end:
            return True
    return False


@lru_cache(maxsize=8192)
def _folded(text: str) -> str:
    return fold(text)


def _capitalised_run(text: str) -> bool:
    """Two capitalised words in a row after the first word (a name or an organisation), other than
    the city or the country ("Hải Phòng" names no one who did something)."""
    return any(start > 0 and " " in name and name not in EVERYWHERE for start, name in name_runs(text))


# (kind, English cues, Vietnamese cues), matched on folded words; the first kind that matches wins.
_CUES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    # a period asked from when to when is answered by its years ("2023-2028"), before "how long"
    ("period", ("what period", "which period", "time frame", "timeframe", "time span", "from when to when"),
     ("tu bao gio toi bao gio", "tu bao gio den bao gio", "tu nam nao den nam nao", "tu nam nao toi nam nao",
      "tu khi nao den khi nao", "tu khi nao toi khi nao")),
    ("how-long", ("how long", "for how long", "how many years", "duration", "until when", "till when", "til when",
                  "up to when", "up until when", "how many days", "how many weeks", "how many months",
                  "how much time"),
     ("bao lau", "thoi han", "may nam", "bao nhieu nam", "keo dai", "den khi nao", "den bao gio",
      "may ngay", "bao nhieu ngay", "may tuan", "bao nhieu tuan", "may thang", "bao nhieu thang",
      "bao nhieu thoi gian")),
    ("when", ("when", "what date", "which date", "what day", "what year", "which year", "since when",
              "what time", "date"),
     ("khi nao", "ngay nao", "bao gio", "luc nao", "nam nao", "thang nao", "thoi diem nao", "hom nao",
      "thoi gian nao", "ngay bao nhieu", "thang may", "ngay may", "nam may", "mung may")),
    ("how-many", ("how many", "how much", "what percentage", "what percent", "what share", "what proportion",
                  "how big", "how large", "what size", "what is the area", "what is the total area",
                  "what is the size", "size of the", "total size", "how much area", "number of", "what rate",
                  "what is the rate", "rate", "tax rate", "how many percent", "total area", "land area", "capacity", "throughput",
                  *_EN_QUANTITIES),
     ("bao nhieu", "may", "ty le", "phan tram", "bao rong", "con so", "muc thue", "thue suat", "so luong",
      "cong suat")),
    ("who", ("who", "whom", "whose", "which official", "which agency", "which body", "which authority",
             "which department", "which office", "which company", "which firm", "which minister",
             "which deputy minister", "which vice", "which leader", "what is the name of", "whats the name of", "name of the"),
     ("ai", "nguoi nao", "co quan nao", "don vi nao", "vi nao", "ten la gi", "ten gi", "ho ten", "cong ty nao",
      "doanh nghiep nao", "tap doan nao", "chu dau tu")),
    ("where", ("where", "what venue", "which venue", "what location", "which location", "what place", "address",
               "adress", "addres",
               "headquarters", "located", "which commune", "which communes", "which district", "which province",
               "which island"),
     ("o dau", "tai dau", "noi nao", "dia diem", "cho nao", "vi tri", "dia diem nao", "dia chi", "tru so",
      "tinh nao", "que o", "que quan",
      "xa nao", "phuong nao", "quan nao", "huyen nao", "nam o")),  # not "dao nao": "lãnh đạo nào"
    ("list", ("which", "what are", "what were", "list", "name the", "what kinds", "what types", "what sorts",
              "main points", "key contents", "key points", "main contents", "main tasks", "key tasks",
              "what does it include", "what do they include",
              "what does the plan include", "enumerate", "what measures", "what steps"),
     ("liet ke", "ke ten", "gom nhung", "gom cac", "nhung gi", "nhung nao", "cac noi dung", "bao gom", "noi dung chinh",
      "gom gi", "co gi", "nhung diem", "cac diem", "nhung muc", "cac muc")),
    ("yes-no", ("is it true", "is there", "are there"),
     ("phai khong", "duoc khong", "co phai", "hay khong", "dung khong", "chua")),
    ("overview", ("what is", "tell me about", "explain", "overview", "summary", "summarise", "summarize", "rundown",
                  "run down", "lowdown", "recap", "gist",
                  "describe", "what about"),
     ("la gi", "gioi thieu", "tom tat", "noi ve", "cho biet ve", "the nao", "ra sao", "nhu the nao")),
)
# the two-syllable Vietnamese cues ("bao lâu", "khi nào", "ở đâu"): they shape a question, they name no subject
VI_CUE_PAIRS = frozenset(cue for _kind, _en, vi in _CUES for cue in vi if len(cue.split()) == 2)
# a "who" question about an office holder or a signatory wants a person's name
_PERSON_ASKED = re.compile(r"\b(" + "|".join((
    *_OFFICES, "chairmen", "chair", "chairs", "chaired", "heads", "headed", "editor", "leader", "thu truong",
    "lanh dao", "nguoi dung dau", "dung dau", "signed", "sign", "signatory", "ky",
    "attended", "attend", "attends", "attending", "participated", "took part", "tham du", "du hoi nghi", "was at",
    "were at", "was there", "were there", "present at", "co mat", "came", "come", "represented", "representing",
    "den du", "toi du", "phat bieu", "spoke", "speak", "speaks", "speech", "remarks")) + r")\b")
# a "who" question that asks for an organisation: "which agency", "cơ quan nào", "đơn vị nào đứng ra tổ chức"
_AGENCY_ASKED = re.compile(r" (?:which|what) (?:agency|body|authority|department|office|organisation|organization|"
                           r"ministry|unit) | (?:co quan|don vi|to chuc) nao ")
# ... or a company, whatever words qualify it ("which Japanese company", "cty Nhật Bản nào")
_COMPANY_ASKED = re.compile(r"\b(?:which|what) (?:\w+ ){0,2}?(?:company|firm)\b"
                            r"|\b(?:cong ty|cty|doanh nghiep|tap doan)(?: \w+){0,2}? nao\b")
# "when entering", "when I move": "when" opening a clause of time, not asking for one
_WHEN_CLAUSE = re.compile(r" when (?:\w+ing|i|we|you|they|he|she|my|our|their|your|a|an) ")
# a company named as one: "Công ty / Tập đoàn X", "X Group", "X Co., Ltd" ("các doanh nghiệp Hà Lan" names none)
_COMPANY_NAMED = re.compile(r"\b(?:[Cc]ông ty|[Tt]ập đoàn|[Tt]ổng công ty)(?: (?:cổ phần|TNHH|trách nhiệm hữu hạn))? [A-ZĐ0-9]"
                            r"|\b[A-Z][\w&.-]*(?: [A-Z][\w&.-]*)* (?:Group|Corporation|Corp\.?|Co\.|Company|Ltd|JSC|Inc\.?|"
                            r"Holdings|Limited)\b")
# the kind of document a number question names, as the documents write it before the number
_DOCUMENT_KIND = re.compile(r" (resolution|decision|directive|decree|circular|plan|programme|program|nghi quyet|"
                            r"quyet dinh|chi thi|nghi dinh|ke hoach|chuong trinh) ")
# a document's number: "what is the number of the resolution", "nghị quyết số mấy", "số hiệu văn bản"
_NUMBER_ASKED = re.compile(r" (?:what is |whats |what was )?the (?:number|no) of (?:the |this |that |its )?(?:\w+ ){0,4}?"
                           r"(?:resolution|decision|directive|decree|circular|plan|document) | (?:what|which) "
                           r"(?:resolution|decision|directive|decree|document) number | so hieu "
                           r"| (?:nghi quyet|quyet dinh|chi thi|nghi dinh|ke hoach|van ban) (?:\w+ ){0,8}?so (?:may|bao nhieu|nao|gi) ")
# one company, qualified ("which Japanese company", "cty Nhật Bản nào"; "cty" is chat shorthand), or the
# companies that did something
_ONE_COMPANY_ASKED = re.compile(r" (?:which|what) (?!(?:kinds?|types?|sorts?) )(?:\w+ ){0,2}?(?:company|firm) "
                                # "which companies have set up / invested": the ones that did ("which companies
                                # qualify" may ask a kind)
                                r"| (?:which|what) (?:\w+ ){0,2}?(?:companies|firms) (?:have|has|had|did|already|\w+ed) "
                                r"| (?:cty|cong ty|tap doan)(?: \w+){0,2}? nao ")
_EN_YES_NO = re.compile(r"^\s*(is|are|does|do|did|can|could|will|has|have|was|were|should|must|may)\b")
_VI_YES_NO = re.compile(r"\bco\b.*\bkhong\s*$")
# "what incentives", "which events": a plural noun after what/which asks for a list
_EN_PLURAL = re.compile(r"\b(what|which)\s+((?!(?:did|does|do|has|have|had|is|are|was|were|can|will|would)\b)\w+\s+){0,3}(\w{3,}(?<!ss)(?<!ou)(?<!is)(?<!as)s)\b")
_VI_PLURAL = re.compile(r"\b(nhung|cac)\b.*\b(gi|nao)\b"
                        r"|\b(uu dai|co che|chinh sach|linh vuc|nganh|su kien|noi dung|nhiem vu|giai phap|khu vuc|"
                        r"hoat dong|thu tuc|dieu kien|quyen loi|loi ich|muc tieu|yeu cau)\s+(gi|nao)\b")


def recounted(kind: QuestionKind, read_as: str, language: str) -> QuestionKind:
    """A "how many" question's counted subject read off the question as the documents would word it
    (`read_as`, its synonym-read text): "thuế TNDN ... là bao nhiêu" is a number of "thuế thu nhập
    doanh nghiệp", which a passage names; the words as typed ("thue tndn") it never does."""
    if kind.kind != "how-many" or not kind.counted or kind.counted == AREA:
        return kind
    counted, attached = counted_noun(" ".join(re.findall(r"[0-9a-z%]+", fold(read_as))), language)
    return replace(kind, counted=counted, attached=attached) if counted else kind


def question_kind(question: str, language: str) -> QuestionKind:
    kind = _question_kind(question, language)
    folded = fold(question)
    if _AGE_ASKED.search(folded):
        kind = replace(kind, kind="how-many", age=True)
    elif _BORN_ASKED.search(folded):
        kind = replace(kind, kind="when", born=True)
    contact = "email" if _EMAIL_ASKED.search(folded) else "phone" if _PHONE_ASKED.search(folded) else ""
    if contact:
        return replace(kind, contact=contact)
    if kind.kind in ("what", "list", "overview"):
        asked = next((need for need, cue in _REQUIREMENT_ASKED if cue.search(folded)), "")
        if asked:
            return replace(kind, requirement=asked)
        if _OFFICIAL_TEXT_ASKED.search(f" {folded} "):  # "thực hiện những văn bản nào": documents, by their numbers
            return replace(kind, numbered="document")
    return kind


# "những văn bản nào", "văn bản gì của Đảng": official texts, which a passage names by their numbers
# ("Kế hoạch số 217-KH/TU", "Chỉ thị số 15-CT/TW")
_OFFICIAL_TEXT_ASKED = re.compile(r" van ban (?:\w+ ){0,3}?(?:nao|gi) ")
# what a question asks to have spelled out: the papers to file, the conditions to meet, the steps to take
_REQUIREMENT_ASKED = (
    ("documents", re.compile(r"\b(ho so|giay to|paperwork|dossier|what docs|which docs|what documents|which documents|"
                             r"documents (?:do|does|are|is|would) (?:\w+ ){0,3}(?:need|needed|required|submit))\b")),
    ("conditions", re.compile(r"\b(dieu kien (?:de|gi|la gi|nao|ra sao|the nao|can)|tieu chi (?:\w+ ){0,12}(?:la gi|cu the|gom|"
                              r"nhung gi|ra sao|the nao)|tieu chuan (?:\w+ ){0,12}(?:la gi|gom)|requirements? (?:for|to|of)|"
                              r"what (?:are|is) the (?:requirements?|criteria|conditions?|eligibility)|criteria (?:for|to)|"
                              r"conditions? (?:for|to)|eligib\w*|who qualifies|qualify for)\b")),
    ("procedure", re.compile(r"\b(thu tuc|quy trinh|cac buoc|lam (?:sao|the nao|cach nao) de (?:xin|dang ky|lap|mo|duoc cap|nop)|"
                             r"how (?:do|can|should|does|would) (?:i|we|one|a \w+|an \w+|\w+s) (?:get|apply|obtain|register|"
                             r"set up|open|file|submit|request|renew)|how to (?:get|apply|obtain|register|set up|open|file|"
                             r"submit|request|renew)|steps? (?:to|for)|procedures? (?:to|for)|process (?:to|for))\b")),
)
# ... and a passage that spells it out (a passage that names the criteria's author does not)
_REQUIREMENT_STATED = {
    "documents": re.compile(r"\b(ho so|giay to|documents?|dossiers?|paperwork|application form)\b"),
    "conditions": re.compile(r"\b((?<!du )dieu kien (?:de|la|gom|sau|duoc|can)|dap ung|(?<!khong )phai (?:co|dat|dap ung|la)|neu|"
                             r"tieu chuan (?:de|la|gom)|conditions?|requirements?|must|eligib\w*|provided that|if)\b"),
    "procedure": re.compile(r"\b(thu tuc|quy trinh|buoc|nop|procedures?|process|steps?|apply|application|submit|"
                            r"register at|registration with)\b"),
}


# a cut or a discount asked for ("bớt bao nhiêu tiền thuế", "how big a tax cut")
_CUT_ASKED = re.compile(r" (?:giam|bot|cut|cuts|reduction|reduced|discount|off) ")
# an age asked for, and written
_AGE_ASKED = re.compile(r"\b(how old|what age|bao nhieu tuoi|may tuoi|tuoi doi)\b")
# an amount asked of a tax, a rent or a fee is answered by its exemption ("exempt for the whole lease term")
_EXEMPT = re.compile(r"\b(exempt|exempted|exemption|free of charge|mien)\b")
_AGE = re.compile(r"\b\d+\s*(tuoi|years? old|year-old)\b")
# a birth asked for ("when was he born", "sinh năm nào"), and written
_BORN_ASKED = re.compile(r"\b(born|birth|birthday|birthdate|date of birth|year of birth|sinh nam|sinh ngay|sinh thang|"
                         r"nam sinh|ngay sinh|sinh vao|sinh ra|sinh luc|sinh hom)\b")
_BORN = re.compile(r"\b(born|birth|sinh nam|sinh ngay|nam sinh|ngay sinh|sinh vao|sinh ra)\b")
# an email address or a telephone number asked for: only a passage that writes one answers
_EMAIL_ASKED = re.compile(r"\b(e-?mail|thu dien tu)\b")
_PHONE_ASKED = re.compile(r"\b(phone|telephone|hotline|fax|dien thoai|so dt|sdt|duong day nong)\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
_PHONE = re.compile(r"(?:\+?\d[\d .()-]{6,}\d)")


# a Vietnamese question that is only a category ("Ưu đãi thuế trong khu thương mại tự do?") asks for its members
_VI_CATEGORY_OPENING = re.compile(r"^\s*(?:cac |nhung )?(uu dai|co che|chinh sach|nhiem vu|noi dung|giai phap)\b")


# "X là về cái gì", "X nói về vấn đề gì": what a thing is about (an overview, as "what is X about")
_VI_ABOUT = re.compile(r" (?:la|noi|de cap) ve (?:cai |van de |noi dung |viec |chuyen )?gi ")
# "X là sự kiện gì", "X là cơ quan nào": one thing, named by its category
_VI_IS_A = re.compile(r"\w\s+la\s+(?!nhung\b|cac\b)((?:\w+\s+){1,2}?)(?:gi|nao)(?:\s+(?:vay|the|a|nhi|ha))?\s*$")
# ... but "là ngày nào", "là xã nào", "là bao nhiêu" ask a date, a place or a number (by the first word)
_VI_WHEN_WHERE_NOUNS = {"ngay", "nam", "thang", "gio", "luc", "khi", "thoi", "diem", "dau", "noi", "so", "bao", "may",
                        "ai", "nguoi", "ong", "ba", "giai", "doan", "ky", "dia", "tinh", "xa", "phuong", "quan", "huyen"}


# "chương trình ... tên là gì", "what is the name of the programme": the name of a thing, not of a
# person or a body (a "who" cue otherwise), is what it is called
_NAME_CUE = re.compile(r" (?:ten la gi|ten gi|name of) ")
_THING_VI = re.compile(r"^ (?:cac |nhung )?(?:chuong trinh|su kien|hoi nghi|hoi thao|dien dan|ke hoach|nghi quyet|"
                       r"quyet dinh|van ban|chu de|sang kien|tuan le|le hoi) ")
_THING_EN = re.compile(r" name of (?:the |this |that |its )?(?:\w+ ){0,2}?(?:program|programme|event|conference|"
                       r"forum|plan|resolution|decision|document|theme|initiative|week|festival|summit) ")


# "what is the motto of ...", "phương châm ... là gì": one attribute of a thing, not an overview of it
_ATTRIBUTE_EN = re.compile(r"^ (?:(?:what is|what was|what are|tell me) (?:the|its|their|hai phong s|the city s)|what|which) "
                           r"(motto|slogan|catchphrase|watchword|mantra|theme|purpose|aim|goal|vision|message|"
                           r"guiding principle)(?: (?:of|for|does|did|do|is|was|has|had|guides|guided))? ")
_ATTRIBUTE_VI = re.compile(r" (phuong cham|khau hieu|chu de|ten goi|muc dich|thong diep) (?:\w+ ){0,12}la gi ")
# the words a passage gives the attribute asked in, in either language (folded): a motto is "phương châm"
_ATTRIBUTE_WORDS = (("motto", "slogan", "catchphrase", "watchword", "mantra", "guiding principle", "phuong cham",
                     "khau hieu", "theme", "chu de"), ("purpose", "aim", "goal", "muc dich", "muc tieu"), ("vision", "tam nhin"),
                    ("message", "thong diep"), ("ten goi", "name"))
_ATTRIBUTE_OF = {word: forms for forms in _ATTRIBUTE_WORDS for word in forms}


def _question_kind(question: str, language: str) -> QuestionKind:
    words = re.findall(r"[0-9a-z%]+", fold(question))
    folded = " " + " ".join(words) + " "
    folded = folded.replace(" what s ", " what is ").replace(" whats ", " what is ")
    if _NUMBER_ASKED.search(folded):  # "the number of the resolution ... passed": its number
        kind_asked = _DOCUMENT_KIND.search(folded)
        return QuestionKind("what", numbered=kind_asked.group(1) if kind_asked else "document")
    attribute = (_ATTRIBUTE_VI if language == "vi" else _ATTRIBUTE_EN).search(folded)
    if attribute:
        return QuestionKind("what", attribute=attribute.group(1))
    if language == "vi" and re.match(r" (?:[2-9]|1[0-2]) (?!nam |thang |ngay |lan |ha |km |ty |trieu )", folded):
        return QuestionKind("list")  # "2 sự kiện lớn nhất ... là gì": that many members
    if language == "en" and folded.endswith(" about ") and not re.search(r" (how|when|who|where) ", folded):
        return QuestionKind("overview")  # "what is the review article about"
    if language == "vi" and _VI_ABOUT.search(folded):
        return QuestionKind("overview")  # "Nghị quyết 226 là về cái gì": what it is about
    is_a = _VI_IS_A.search(folded) if language == "vi" else None
    if is_a and is_a.group(1).split()[0] not in _VI_WHEN_WHERE_NOUNS:
        return QuestionKind("what")  # "Techfest 2022 là sự kiện gì", "HEZA là cơ quan nào": what the thing is
    if _NAME_CUE.search(folded) and (_THING_VI if language == "vi" else _THING_EN).search(folded):
        return QuestionKind("what")
    if language == "en" and re.search(r" (?:list|enumerate) (?:the|all) ", folded):
        return QuestionKind("list")  # "Where is the FTZ? List the sites that make it up": the request is the list
    if _ONE_COMPANY_ASKED.search(folded):
        return QuestionKind("who", body=True, company=True)  # "which Japanese company", "cty nhật nào": its name
    for kind, en, vi in _CUES:
        for cue in (vi if language == "vi" else en):
            if f" {cue} " in folded:
                if kind == "list" and language == "en" and cue == "which" and not _EN_PLURAL.search(folded):
                    continue  # "which zone ..." asks for one thing
                if cue == "rate" and (_EN_PLURAL.search(folded) or re.search(r" (?:which|what are|what were) ", folded)):
                    continue  # "which sectors qualify for the 10% rate" asks for the sectors
                if kind == "when" and cue == "when" and (re.match(r" how (?:many|much) ", folded) or (
                        _EN_YES_NO.match(folded) and _WHEN_CLAUSE.search(folded))):
                    # "how many votes did it get when the NA passed it", "do goods need inspection when
                    # entering the FTZ": a clause, not the question
                    continue
                if kind == "period":
                    return QuestionKind("when", period=True)
                if kind == "how-many":
                    counted, attached = counted_noun(folded.strip(), language)
                    # "được giảm bao nhiêu tiền thuế": a cut is answered by its share ("giảm 50%")
                    money = money_asked(question, folded, language) \
                        if not attached and counted != AREA and not _CUT_ASKED.search(folded) else ""
                    per = rate_unit(folded) if money else ""
                    return QuestionKind(kind, counted=counted, attached=attached, money=money, per=per)
                if kind == "who":
                    # "who's the PM", "ai là PM": the office asked, written short
                    folded = _OFFICE_SHORT_ASKED.sub(lambda m: m.group(1) + _OFFICE_SHORT[m.group(2)], folded)
                    document = _DOCUMENT_NUMBER.search(fold(question))
                    if document and _ISSUER_ASKED.search(folded):
                        return QuestionKind(kind, issuer_of=document.group(0))
                    person = _PERSON_ASKED.search(folded) is not None
                    company = _COMPANY_ASKED.search(folded) is not None
                    agency = not person and _AGENCY_ASKED.search(folded) is not None
                    return QuestionKind(kind, person=person, office=office_asked(folded) if person else None,
                                        body=not person and (agency or company), agency=agency and not company)
                if kind == "when":
                    return QuestionKind(kind, day=_DAY_ASKED.search(folded) is not None)
                if kind == "how-long":
                    asked = _SPAN_ASKED.search(folded)
                    return QuestionKind(kind, span=_SPAN_OF[asked.group(1).rstrip("s")] if asked else "",
                                        process=_PROCESS_ASKED.search(folded) is not None)
                return QuestionKind(kind)
    if language == "en" and _EN_PLURAL.search(folded):
        return QuestionKind("list")
    if language == "vi" and (_VI_PLURAL.search(folded) or _VI_CATEGORY_OPENING.match(folded)):
        return QuestionKind("list")
    if language == "en" and _EN_YES_NO.match(folded):
        return QuestionKind("yes-no")
    if language == "vi" and _VI_YES_NO.search(folded):
        return QuestionKind("yes-no")
    if language == "en" and re.match(r"^\s*(what|which)\b", folded):
        return QuestionKind("what")
    return QuestionKind("what")


@dataclass(frozen=True)
class AnalysedQuestion:
    text: str  # as asked
    plain: str  # as asked, read through the synonyms ("FTZ" -> "free trade zone")
    search_text: str  # read through the synonyms, diacritics of known terms restored: what is searched
    language: str
    kind: QuestionKind
    weights: dict[str, float]  # the question's terms and how distinctive each is (IDF)
    # glossary links: (the question's terms a glossary entry matched, that entry's other-language forms)
    links: tuple[tuple[tuple[str, ...], tuple[tuple[str, ...], ...]], ...]
    head: frozenset[str] = frozenset()  # what a list question asks for ("events", "cơ chế"), as terms
    # the proper names the question gives that the passages write ("techfest 2022", "lach huyen"):
    # a date, a number, a name or a place is an answer only in a passage about one of them
    names: tuple[str, ...] = ()
    follow_up: bool = False  # searched with the conversation's earlier turn ("question\nearlier question")


def list_head(plain: str, language: str) -> list[str]:
    """The words naming what a list question enumerates: "which big international EVENTS", "những CƠ
    CHẾ đặc thù gì", "ưu đãi gì" (folded words)."""
    words = folded_words(plain)
    if language == "vi":
        for i, w in enumerate(words):
            if w in ("nhung", "cac") and i + 2 < len(words) + 1:
                return words[i + 1:i + 3]
            if w in ("gi", "nao") and i >= 2:
                return words[i - 2:i]
        return []
    for i, w in enumerate(words):
        # "what/which X", or a request: "list the sites", "name all the sectors"
        if w in ("what", "which") or (w in ("list", "name", "enumerate") and words[i + 1:i + 2] in (["the"], ["all"])):
            for nxt in words[i + 1:i + 5]:
                if len(nxt) > 3 and nxt.endswith("s") and not nxt.endswith("ss"):
                    return [nxt]
    return []


# Common English words that qualify or frame a question rather than name its subject.
GENERIC_EN = frozenset("""
ask asked asks want wants wanted need needs needed target targets quick quickly stay stays long longer short
big small new old good bad best worst main latest recent current currently right exactly really actually
simple simply brief full whole part parts kind sort lot lots thing things way ways today now soon still
able allowed possible likely sure true false real general overall specific particular certain enough
help helps helped try tries tried use used using find found look looking see seen show shows shown
itself themselves himself herself yourself ourselves myself anyone someone something anything everything
one ones chunk chunks portion portions piece pieces bit bits
pls plz thx thanks max min info ok okay hi hello hey case cases both title titles functional
re regarding concerning provide provides stipulate stipulates anything gimme rundown lowdown recap gist
offer offers offered offering grant grants granted get gets got getting gotten
""".split())  # noqa: SIM905 (a word list reads best as text)

# Words and Vietnamese two-syllable words that frame a question rather than name what it is about
# (stemmed as analyse() leaves them): they are not looked for in passages.
QUESTION_FRAME = frozenset([
    "main", "point", "key", "content", "detail", "inform", "info", "tell", "know", "list", "explain", "give",
    "pleas", "summari", "overview", "kind", "type", "thing", "mention", "say", "said", "describ", "happen",
    "exact", "specif", "basic", "briefli", "gi", "nao", "sao", "oi", "nhe", "vay", "ah", "muon", "xem",
])
# words about the answer's form rather than its subject: an address, a percentage, the documents,
# "in a nutshell" (stemmed as the unit index stems)
QUESTION_FRAME = QUESTION_FRAME | frozenset(stem(w) for w in (
    "percent", "percentage", "share", "proportion", "kilometres", "kilometers", "kilometre", "kilometer",
    "hectares", "hectare", "nutshell", "details", "information", "summary", "total", "re", "regarding",
    "concerning", "provide", "provides", "stipulate", "stipulates", "anything", "gimme", "rundown", "lowdown",
    "recap", "gist", "offer", "offers", "offered", "offering",
    "altogether", "combined", "approximately", "roughly", "figure", "figures", "number", "acronym",
    "abbreviation", "abbreviated", "due", "summarize", "summarise", "summarized", "summarised", "summarizing",
    "summarising"))
QUESTION_FRAME_PAIRS = frozenset([
    "noi_dung", "thong_tin", "cho_biet", "liet_ke", "tom_tat", "gioi_thieu", "cu_the", "hien_nay", "nhu_the",
    "ra_sao", "the_nao", "chu_yeu", "chinh_la", "biet_ve", "phan_tram", "ty_le", "chi_tiet",
    # "X là viết tắt của cái gì" (what X stands for), "có gì đáng chú ý / nổi bật" (what stands out),
    # "kể ra / kể tên giúp mình" (name them for me): ways of asking, not subjects
    "viet_tat", "cai_gi", "cai_nao", "dang_chu", "chu_y", "noi_bat", "diem_nhan", "ke_ra", "ke_ten",
    "giup_minh", "giu_chuc", "chuc_gi", "chuc_vu", "chuc_danh", "dam_nhiem", "nam_giu", "giup_toi", "cho_toi",
    "giup_em", "cho_em", "cho_minh",
])


# two questions in one message: "who signed it and when did it take effect?", "ai ký và khi nào có
# hiệu lực": each side of "and" / "và" asks with a question word of its own
_JOIN = re.compile(r"\s*,?\s+(?:and|và|va)\s+", re.IGNORECASE)
_ASKS = re.compile(r"\b(when|who|whom|where|what|which|how|why|khi nao|bao gio|ai|o dau|bao nhieu|may|gi|nao|"
                   r"the nao|ra sao)\b")


def split_asks(question: str) -> list[str]:
    """The questions a message asks: itself, or its two sides when each asks on its own ("Techfest
    và ABAC diễn ra khi nào" is one question about two events)."""
    for m in _JOIN.finditer(question):
        first, second = question[:m.start()].strip(), question[m.end():].strip()
        if (len(first.split()) >= 3 and len(second.split()) >= 2 and _ASKS.search(fold(first))
                and _ASKS.search(fold(second))):
            return [first, second]
    return [question]


# "cái gì", "cái nào" ask as "gì", "nào" do; folded, "cái" is also the "cải" of "cải cách"
_CLASSIFIER = re.compile(r"(?<!\w)c[aá]i(?=\s+(?:g[iì]|n[aà]o)(?!\w))", re.IGNORECASE)


_IS_A_TEXT = re.compile(r"(\w\s+(?:là|la)\s+)((?:\S+\s+){1,2}?)((?:gì|gi|nào|nao)(?:\s+(?:vậy|vay|thế|the|ạ|a|nhỉ|nhi|hả|ha))?\W*)$",
                        re.IGNORECASE)


# "X nói về (vấn đề) gì", "X là về cái gì": what X is about, asked as "X là gì" is
_ABOUT_TEXT = re.compile(r"\s+(?:là|la|nói|noi|đề cập|de cap)\s+(?:về|ve)\s+(?:(?:cái|cai|vấn đề|van de|nội dung|"
                         r"noi dung|việc|viec|chuyện|chuyen)\s+)?(?:gì|gi)(?!\w)", re.IGNORECASE)


def weighed_text(text: str) -> str:
    """The question as its words are weighed: without a classifier that only frames it, nor the
    category in "X là sự kiện gì" (what X is: the passage about X need not name its category), nor
    the "nói về" of "X nói về gì"."""
    text = _ABOUT_TEXT.sub(" là gì", text)
    is_a = _IS_A_TEXT.search(text)
    if is_a and fold(is_a.group(2)).split()[0] not in _VI_WHEN_WHERE_NOUNS | {"nhung", "cac"}:
        text = text[:is_a.start(2)] + is_a.group(3)
    return _CLASSIFIER.sub("", text)


def term_weights(terms: list[str], idf: Callable[[str], float], stem: Callable[[str], str]) -> dict[str, float]:
    generic = {stem(w) for w in GENERIC_EN}
    frame_parts = {part for term in terms if term in QUESTION_FRAME_PAIRS for part in term.split("_")}
    # a framing pair no passage writes ("viết tắt", "cái gì"; unlike "thông tin" of "cổng thông tin")
    # frames the pairs reaching into it too ("abac_viet" of "ABAC là viết tắt")
    unwritten = idf("")
    pure_parts = {part for term in terms if term in QUESTION_FRAME_PAIRS and idf(term) >= unwritten
                  for part in term.split("_")}
    weights: dict[str, float] = {}
    for term in dict.fromkeys(terms):
        parts = term.split("_")
        # ... as does a pair between two framing pairs ("tat_giup" of "tóm tắt giúp tôi")
        if (term in QUESTION_FRAME_PAIRS or term in frame_parts or all(p in frame_parts for p in parts)
                or any(p in QUESTION_FRAME or p in generic or p in pure_parts for p in parts)):
            continue
        weight = idf(term) * (1.5 if "_" in term else 1.0)
        if term.isdigit() and len(term) <= 2:
            weight *= 0.5
        weights[term] = weight
    return weights
