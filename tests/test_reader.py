"""Answers that answer: lists with their items, dates for "when", numbers for "how many", names for
"who", paraphrases, Vietnamese names refused, one language per fact, legal labels in citations and
follow-ups through `ask --chat` — each checked on what a user reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.answering import Answer, Assistant
from bot.config import Settings
from indexer.text import fold
from tests.conftest import ROOT, settings_env

PLAN_ITEMS_VI = ["Tuyên truyền nâng cao nhận thức", "Tiếp tục mở rộng và làm sâu sắc quan hệ",
                 "Nâng cao chất lượng, hiệu quả hội nhập", "Tổ chức nghiên cứu, đánh giá",
                 "Tăng cường theo dõi, cập nhật", "Xây dựng hệ thống giải pháp"]


@pytest.fixture(scope="module")
def assistant(built_index: Path) -> Assistant:
    return Assistant(Settings.from_env(settings_env(built_index)))


def assert_answered_with(assistant: Assistant, question: str, *facts: str) -> None:
    answer = assistant.answer(question)
    assert not answer.refused, answer.text
    for fact in facts:
        assert fact in answer.text, answer.text


def assert_refused(assistant: Assistant, question: str) -> Answer:
    answer = assistant.answer(question)
    assert answer.refused, answer.text
    return answer


def body(answer) -> str:  # type: ignore[no-untyped-def]
    return fold(answer.text)


def test_a_list_question_gets_every_item_of_the_list(assistant: Assistant) -> None:
    answer = assistant.answer("chuong trinh hanh dong ngoai giao kinh te cua hai phong gom nhung noi dung chinh nao")
    assert not answer.refused
    assert "gom cac noi dung trong tam sau" in body(answer)  # the sentence that introduces the list ...
    for item in PLAN_ITEMS_VI:  # ... and all six items, not the introduction alone
        assert fold(item) in body(answer), item


def test_list_of_incentives_for_an_informal_english_question(assistant: Assistant) -> None:
    answer = assistant.answer("what tax breaks do companies get in the FTZ?")
    assert not answer.refused
    for item in ("corporate income tax", "personal income tax", "land and water-surface rent"):
        assert item in answer.text.lower()


def test_the_events_hosted_in_2025_are_named(assistant: Assistant) -> None:
    answer = assistant.answer("Which big international events did Hai Phong host in 2025?")
    assert not answer.refused
    assert "ABAC 3" in answer.text and "Investment Promotion Conference" in answer.text


def test_the_events_are_named_in_vietnamese_too(assistant: Assistant) -> None:
    # the sentence that names them comes with "Các sự kiện quy mô lớn này ..." ("these events"),
    # which points back to it
    answer = assistant.answer("Năm 2025 Hải Phòng tổ chức những sự kiện quốc tế nào?")
    assert not answer.refused
    assert "ABAC 3" in answer.text and "Hội nghị Xúc tiến đầu tư" in answer.text


@pytest.mark.parametrize("question,date", [
    ("When did Resolution 226 come into force?", "1 July 2025"),
    ("res 226 kick in when?", "1 July 2025"),
    ("Chương trình hành động ngoại giao kinh tế được ban hành ngày nào?", "27/3/2023"),
    ("nghi quyet 226 co hieu luc tu ngay nao", "1 tháng 7 năm 2025"),
    # the item "Được thành lập theo Quyết định 4068 ..." is about its list's heading, the zone
    ("Khu thương mại tự do Hải Phòng chính thức được thành lập khi nào?", "16 tháng 10 năm 2025"),
])
def test_a_when_question_is_answered_with_the_date(assistant: Assistant, question: str, date: str) -> None:
    answer = assistant.answer(question)
    assert not answer.refused
    assert date in answer.text


def test_how_many_and_who_answers_hold_a_number_and_a_name(assistant: Assistant) -> None:
    votes = assistant.answer("How many deputies voted for Resolution 226?")
    assert "447" in votes.text and not votes.refused
    signer = assistant.answer("Who signed Resolution 226?")
    assert "Tran Thanh Man" in signer.text and not signer.refused
    editor = assistant.answer("ai la tong bien tap cong thong tin hai phong")
    assert "Trần Huy Kiên" in editor.text and not editor.refused


def test_paraphrases_are_understood(assistant: Assistant) -> None:
    industries = assistant.answer("Which industries is Hai Phong trying to attract foreign investment into?")
    assert not industries.refused
    assert "semiconductors" in industries.text
    keeps = assistant.answer("Does the city get to pocket the fees from inland waterways?")
    assert not keeps.refused and "keeps all of the related fees" in keeps.text


@pytest.mark.parametrize("question,fact", [
    # words the documents do not use, read through knowledge/synonyms.yaml
    ("Can a foreign owner open a company in the FTZ without an investment licence?",
     "investment registration certificate"),
    ("Chuyên gia nước ngoài vào làm ở khu tự do có cần giấy phép nhập cảnh không?", "Miễn thị thực"),
    ("hp co giu gin di san the gioi khong", "bảo tồn"),
    ("how long is the trial of the special regime?", "five years"),
    ("What tax breaks does the Hai Phong FTZ offer?", "Corporate income tax"),  # "offer" only frames it
    # the console's own examples: a bare category, and "là gì" of it, get the whole list of incentives
    ("Ưu đãi thuế trong khu thương mại tự do?", "Thuế thu nhập doanh nghiệp"),
    ("Ưu đãi thuế trong khu thương mại tự do là gì?", "Thuế thu nhập doanh nghiệp"),
    # "carbon credits" is read as the documents write it, "carbon-credit"
    ("what does the resolution provide regarding carbon credits?", "carbon-credit trading"),
    # "níu chân", "giữ chân" and "người tài", "người giỏi" are the documents' "giữ chân nhân tài"
    ("lam sao de hai phong giu chan nguoi gioi quoc te", "hệ sinh thái sống lý tưởng"),
    ("Hải Phòng có cách gì để níu chân người tài từ nước ngoài?", "hệ sinh thái sống lý tưởng"),
])
def test_paraphrases_with_words_the_documents_lack(assistant: Assistant, question: str, fact: str) -> None:
    assert_answered_with(assistant, question, fact)


def test_the_mechanisms_are_quoted_not_the_fact_sheets_introduction(assistant: Assistant) -> None:
    answer = assistant.answer("Nghị quyết 226 có những cơ chế đặc thù gì?")
    assert not answer.refused
    assert "Bản tóm tắt này" not in answer.text and "Mỗi thông tin ghi rõ nguồn" not in answer.text
    assert "quản lý đầu tư" in answer.text and "Khu thương mại tự do" in answer.text


@pytest.mark.parametrize("question", [
    "Thủ đô của nước Pháp là thành phố nào?",
    "Thủ đô của Israel là thành phố nào?",  # Israel is in the documents (its embassy), "thủ đô" is not
    "thu do cua nuoc phap la gi",
    "Đà Nẵng có khu thương mại tự do không?",
    "Hàn Quốc đầu tư vào Hải Phòng bao nhiêu tiền?",
    "What incentives does Singapore offer foreign investors?",
    "What is the minimum wage in Hai Phong?",
    "Dân số Hải Phòng hiện nay là bao nhiêu?",
    "Điều 5 của Nghị quyết 226 quy định gì?",
    "Nghị quyết 35/2021/QH15 về Hải Phòng quy định những gì?",  # another resolution than 226
    "What does Decision 123/QD-TTg say about the free trade zone?",
    "what was the theme of the Hai Phong investment promotion conference 2024?",  # the documents report 2025's
])
def test_off_topic_and_near_topic_questions_are_refused(assistant: Assistant, question: str) -> None:
    answer = assistant.answer(question)
    assert answer.refused
    assert "18 Hoang Dieu" in answer.text or "18 Hoàng Diệu" in answer.text  # where to ask instead


def test_a_vietnamese_question_on_an_english_article_quotes_one_language_only(assistant: Assistant) -> None:
    answer = assistant.answer("Hải Phòng tổ chức những sự kiện quốc tế lớn nào năm 2025?")
    assert not answer.refused
    assert {c.language for c in answer.citations} == {"vi"}  # the Vietnamese version, not both copies
    assert "ABAC 3" in answer.text
    assert "Investment Promotion Conference" not in answer.text  # the English copy of the same fact


def test_citations_name_the_legal_label_of_what_they_quote(assistant: Assistant, built_index: Path) -> None:
    answer = assistant.answer("How long does the free trade zone pilot run?")
    assert "ten years" in answer.text
    assert any("Article 11" in c.label for c in answer.citations)
    out = subprocess.run([sys.executable, "-m", "bot", "ask", "--json", "Thời hạn thí điểm của khu thương mại tự do?"],
                         cwd=ROOT, env={**os.environ, **settings_env(built_index)}, capture_output=True,
                         text=True, timeout=300, check=True)
    data = json.loads(out.stdout.splitlines()[0])
    assert set(data) >= {"question", "language", "answer", "refused", "citations"}
    assert any(c["label"].startswith("Điều 11") for c in data["citations"])


def test_a_question_whose_answer_the_documents_lack_says_so(assistant: Assistant) -> None:
    answer = assistant.answer("Who is the Director of the Department of Foreign Affairs?")
    assert answer.refused
    assert answer.text.startswith("The documents do not state who it is")
    assert "18 Hoang Dieu" in answer.text


def test_follow_ups_through_ask_chat_keep_the_conversation(built_index: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for item in built_index.iterdir():  # a private copy: the chat memory is written to DATA_DIR
        target = data / item.name
        if item.is_dir():
            import shutil

            shutil.copytree(item, target)
        else:
            target.write_bytes(item.read_bytes())
    env = {**os.environ, **settings_env(data)}
    questions = "When did Resolution 226 take effect?\nwho signed it?\n"
    run = subprocess.run([sys.executable, "-m", "bot", "ask", "--chat", "investor-1", "--json", "-"], cwd=ROOT,
                         env=env, input=questions, capture_output=True, text=True, timeout=300, check=True)
    first, second = (json.loads(line) for line in run.stdout.splitlines())
    assert "1 July 2025" in first["answer"]
    assert "Tran Thanh Man" in second["answer"]  # "it" is Resolution 226, from the first question


# -- what a fact answer must hold ------------------------------------------------------------------
@pytest.mark.parametrize("question", [
    "who is the chairman of the Hai Phong People's Committee?",  # only a Vice Chairman is named
    "who chairs the hp people's committee now?",
    "bi thu thanh uy hai phong la ai",  # "Ban Bí thư" is the Party Secretariat, not a person
    "hai phong co bao nhieu du an fdi moi nam 2025",  # FDI is "record", no count of projects
    "hoi nghi xuc tien dau tu hai phong 2026 to chuc khi nao",  # only the 2025 conference is dated
    "Giá đất khu công nghiệp ở Hải Phòng bao nhiêu?",  # a price needs an amount of money, not an area
    "Dân số thành phố Hải Phòng là bao nhiêu?",  # "X là bao nhiêu": the number must be of X (dates are not)
    "What is the population of Hai Phong?",
    "Ai là Trưởng ban Ban Quản lý Khu kinh tế Hải Phòng?",  # the authority is named, not who heads it
    # "bao nhiêu doanh nghiệp": the number must be written with "doanh nghiệp", not be a year in a
    # sentence about a business-connection event
    "Hiện có bao nhiêu doanh nghiệp đã đăng ký hoạt động trong Khu thương mại tự do Hải Phòng?",
    "tong von dau tu vao khu thuong mai tu do hp den nay la bao nhieu",  # "tổng vốn": a sum of capital
    # "ở đâu" needs a place: "làm việc trong khu" (working in the zone) does not say where to file
    "muon xin the tam tru 10 nam o khu tmtd thi nop ho so o dau",
    # "1.077 ha tại các khu công nghiệp": an area, not a number of industrial parks
    "Có bao nhiêu khu công nghiệp ở Hải Phòng?",
    "How many industrial parks does Hai Phong have?",
    # an area lying in a place is not the place's area: "2,923 ha in Chan Hung and Hung Thang communes
    # (Southern Coastal Economic Zone)", "2.292 ha trên đảo Cát Hải"; and the zone the FTZ is tied to
    # has no area in the documents
    "how big is the southern coastal economic zone in ha",
    "dien tich dao cat hai la bao nhieu",
    "Khu kinh tế Đình Vũ - Cát Hải rộng bao nhiêu ha?",
    "What is the total area of the Dinh Vu - Cat Hai economic zone?",
    # the documents give the rates inside the free trade zone only
    "CIT rate for projects outside the FTZ in HP?",
    "Thuế thu nhập doanh nghiệp với dự án ngoài khu thương mại tự do là bao nhiêu?",
    "Dân số Hải Phòng là bao nhiêu người?",  # a number of people must be the population
    # "exempt for the whole lease term, with some exceptions": some exist, none is listed
    "what are the exceptions to the land rent exemption in the FTZ",
    "những trường hợp nào không được miễn tiền thuê đất trong khu thương mại tự do",
    # the port is named only as the place the zone's land lies near
    "Cảng Lạch Huyện do công ty nào xây?",
    "which company invested in lach huyen port",
    # "in Hai Phong" is the place the question gives, not the venue it asks for
    "Hội nghị xúc tiến đầu tư 2025 tổ chức ở địa điểm nào tại Hải Phòng?",
    "ABAC 3 diễn ra ở địa điểm nào của Hải Phòng?",  # no passage that names ABAC 3 gives a venue
    "hoi nghi xuc tien dau tu nam 2025 thu hut bao nhieu ty usd",  # no amount in dollars
    # the passage names the category asked about again ("projects in priority sectors pay 10%",
    # "các di sản thế giới được UNESCO công nhận") without naming its members
    "What are the priority sectors that get the 10% CIT rate?",
    "Kể tên các di sản thế giới được UNESCO công nhận ở Hải Phòng",
    "Who is the prime minister of Vietnam now?",  # the office is named, no holder
    "Email của Cổng thông tin Hải Phòng là gì?",  # the contact page gives no email address
    "lach huyen port yearly capacity?",  # the port is only where part of the zone lies
    "Ai là chủ đầu tư khu công nghiệp Nam Đình Vũ?",
    "Mức lương cơ sở hiện nay là bao nhiêu?",  # "lương cơ sở" is in no passage
    # the next meeting is still to come; the documents report the last one
    "When is the next ABAC meeting going to be held?",
    "hoi nghi abac tiep theo to chuc o dau",
    "when was techfest 2023 in hai phong",  # the documents report Techfest 2022 only
    "who is the PM of Vietnam these days?",  # "PM" is the office asked; the documents name no holder
    # the category asked about named as a programme's name, or after three qualifying words, with no members
    "which unesco world heritage sites are in hai phong?",
    "Những doanh nghiệp Hà Lan nào đã tham gia chương trình kết nối doanh nghiệp?",
    # the city's natural area: the free trade zone's 6,292 ha are not it
    "dien tich tu nhien cua thanh pho hai phong la bao nhieu km2",
    "How many square kilometres is Hai Phong city?",
    # written with marks, the one-syllable noun of the figure or place asked is in no passage: "bậc"
    # (a tax bracket), "quê" (a home town), "vùng" (a wage region)
    "Bậc cao nhất của thuế thu nhập cá nhân ở Việt Nam là bao nhiêu phần trăm?",
    "Quê của Chánh Văn phòng Trần Huy Kiên ở tỉnh nào?",
    "Lương tối thiểu vùng I ở Hải Phòng năm 2026 là bao nhiêu?",
])
def test_a_neighbouring_fact_is_not_given_as_the_answer(assistant: Assistant, question: str) -> None:
    answer = assert_refused(assistant, question)
    first = fold(answer.text.splitlines()[0])
    assert any(says in first for says in ("khong neu", "khong de cap", "do not state", "khong co", "not")), answer.text


@pytest.mark.parametrize("question,fact", [
    ("Dự án cảng biển vốn từ bao nhiêu tỷ đồng thì UBND thành phố chấp thuận chủ trương đầu tư?", "2.300 tỷ đồng"),
    ("Trụ sở Cổng thông tin Hải Phòng ở đâu?", "18 Hoàng Diệu"),
    ("When did Resolution 226 take effect?", "1 July 2025"),  # "It took effect ...": the title names it
    # what the city will focus on is the run of sentences that says so
    ("Năm 2026 thành phố sẽ tập trung vào những việc gì về đối ngoại?", "nhà đầu tư chiến lược"),
    ("thanh pho quan ly bao nhieu cay so duong thuy noi dia", "489,2 km"),  # "cây số" is km
    # the sentence that best matches lacks the people; the one after it names them
    ("who was at the conference on January 6?", "Ngo Le Van"),
    # "how many key contents": the list of them is the answer, its items the count
    ("chuong trinh hanh dong ngoai giao kinh te 2023 co may noi dung trong tam", "Xây dựng hệ thống giải pháp"),
    ("I'm thinking of setting up a factory in the Hai Phong FTZ. What tax breaks would I get?",
     "Corporate income tax"),  # the factory is the investor's project
    ("Where can I read the full text of Resolution 226?", "thuvienphapluat.vn"),
    # a web address is a site, an office address a street
    ("Where is the official text of Resolution 226 published online?", "thuvienphapluat.vn"),
    ("What is the office address of the Hai Phong Portal?", "18 Hoang Dieu"),
    ("What is the website address of the Hai Phong Portal?", "en.haiphong.gov.vn"),
    ("Ai là tổng biên tập Cổng thông tin điện tử Hải Phòng?", "Trần Huy Kiên"),  # "Tổng biên tập: <holder>"
    ("how many deputies voted for res 226 in the NA?", "447"),
    ("Chương trình hành động 01/CTr-UBND áp dụng từ năm nào đến năm nào?", "2023-2028"),  # a period
    # the article's opening sentence says when, and which period, rather than a later one with a date
    ("when did HP publish the econ diplomacy action program", "March 27, 2023"),
    ("What period does the economic diplomacy action programme cover?", "2023-2028"),
    # members named beside the category, or pointed back to ("các sự kiện quy mô lớn này")
    ("Which economic zones is the free trade zone linked to?", "Southern Coastal"),
    ("Năm 2025 Hải Phòng tổ chức những sự kiện lớn nào?", "ABAC 3"),
    # a session ("tại kỳ họp cuối năm 2028") is no place; the zone's three sites are
    ("Khu thương mại tự do Hải Phòng gồm những nơi nào, nằm ở những đâu?", "Cát Hải"),
    ("muon doc van ban nghi quyet 226 chinh thuc thi tim o dau", "thuvienphapluat.vn"),
    # ... but the noun counted may be the asker's own ("mấy kênh"), and the question words are no nouns
    ("Ban Thường vụ Thành ủy ra kế hoạch số mấy để thực hiện Chỉ thị 15?", "217-KH/TU"),
    # "X là sự kiện gì", "X là cơ quan nào": what X is; the passage about X need not name its category
    ("techfest 2022 la su kien gi vay", "Tuần lễ Đổi mới sáng tạo"),
    ("HEZA là cơ quan nào vậy?", "Ban Quản lý Khu kinh tế Hải Phòng"),
    # a figure typed without its thousands separator is the documents' "2,923" / "2.923"
    ("which communes hold the 2923 ha part of the zone?", "Chan Hung"),
    ("khu vuc rong 2923 ha thuoc nhung xa nao", "Chấn Hưng"),
    # "bao nhiêu so với lương": compared with pay, a multiple of it
    ("Công chức được chi thêm thu nhập tối đa bao nhiêu so với quỹ lương?", "0,8 lần"),
])
def test_an_amount_a_place_or_a_date_of_what_was_asked_is_given(assistant: Assistant, question: str,
                                                               fact: str) -> None:
    assert_answered_with(assistant, question, fact)


@pytest.mark.parametrize("question,area", [
    ("total area of the FTZ in ha?", "6,292 ha"),
    ("Khu thương mại tự do Hải Phòng rộng bao nhiêu ha?", "6.292 ha"),
    ("How large is the FTZ area on Cat Hai island?", "2,292 ha"),  # a part of the zone, named by its place
    ("How many hectares is the Nam Dinh Vu site of the FTZ?", "1,077 ha"),
    ("Khu vực đảo Cát Hải trong khu thương mại tự do rộng khoảng bao nhiêu ha?", "2.292 ha"),
])
def test_the_area_of_the_zone_or_of_its_parts_is_given(assistant: Assistant, question: str, area: str) -> None:
    assert_answered_with(assistant, question, area)


@pytest.mark.parametrize("question,issuer", [
    ("Ai ban hành Chỉ thị 15-CT/TW?", "Ban Bí thư Trung ương Đảng"),
    ("Directive 15-CT/TW on economic diplomacy - which body issued it?", "Secretariat of the Party Central Committee"),
    ("Kế hoạch 217-KH/TU là của cơ quan nào ban hành?", "Ban Thường vụ Thành ủy"),
    ("ai ban hanh chuong trinh hanh dong 01/ctr-ubnd", "Ủy ban nhân dân thành phố Hải Phòng"),  # the issuer before it
])
def test_who_issued_a_numbered_document_names_the_body(assistant: Assistant, question: str, issuer: str) -> None:
    """The sentence quoted is the one that says whose document it is, not one that only names it."""
    answer = assistant.answer(question)
    assert not answer.refused, answer.text
    assert issuer in answer.text.split("\n")[1], answer.text


def test_a_year_in_the_question_binds_the_answer(assistant: Assistant) -> None:
    """"năm 2026": the deputy minister's requests for 2026 are quoted, not the 2023 plan's
    requirements, which also speak of "yêu cầu"."""
    answer = assistant.answer("Thứ trưởng Ngô Lê Văn nhấn mạnh những yêu cầu gì cho công tác đối ngoại "
                              "của Hải Phòng năm 2026?")
    assert not answer.refused, answer.text
    assert "ngoại giao thực chất" in answer.text or "công nghệ cao" in answer.text, answer.text
    assert "economic-diplomacy-action-program-2023" not in {c.doc_id.split(".")[0] for c in answer.citations}


def test_a_sentence_opening_with_he_comes_with_the_sentence_that_names_him(assistant: Assistant) -> None:
    answer = assistant.answer("What did the deputy minister emphasize for 2026?")
    assert not answer.refused, answer.text
    assert "He emphasized that in 2026" in answer.text, answer.text
    assert "Deputy Minister Ngo Le Van" in answer.text, answer.text  # who "he" is


@pytest.mark.parametrize("question,person", [
    ("Who attended the external relations review conference?", "Ngo Le Van"),
    ("hoi nghi tong ket doi ngoai 2025 co nhung ai tham du", "Ngô Lê Văn"),
    ("who was at the foreign affairs review meeting on 6 January?", "Ngo Le Van"),  # "was at": attended
])
def test_who_attended_names_the_people(assistant: Assistant, question: str, person: str) -> None:
    """Not the sentence that says who held the conference, but the one that names who came."""
    answer = assistant.answer(question)
    assert not answer.refused, answer.text
    assert person in answer.text and "hoang minh cuong" in fold(answer.text), answer.text


def test_a_sentence_that_announces_achievements_comes_with_the_one_that_names_them(assistant: Assistant) -> None:
    """"... những thành tựu toàn diện trên nhiều lĩnh vực." says nothing alone; the next sentence
    ("Điểm nhấn nổi bật là ... ABAC 3 ...") is quoted right after it."""
    answer = assistant.answer("tom tat thanh tuu doi ngoai cua hai phong nam 2025")
    assert not answer.refused, answer.text
    lines = answer.text.splitlines()
    announce = next(i for i, line in enumerate(lines) if "thành tựu toàn diện" in line)
    assert "Điểm nhấn nổi bật" in lines[announce + 1] and "ABAC 3" in lines[announce + 1], answer.text


def test_the_holder_of_the_office_asked_is_named(assistant: Assistant) -> None:
    answer = assistant.answer("ai la tong bien tap cong thong tin hai phong")
    assert not answer.refused
    assert "Trần Huy Kiên" in answer.text


@pytest.mark.parametrize("question,fact", [
    ("Nghị quyết 226 được bao nhiêu phần trăm đại biểu ủng hộ?", "93,51%"),  # "ủng hộ" for "tán thành"
    ("dia chi cong thong tin dien tu hai phong", "18 Hoàng Diệu"),  # the address is the head office
    ("khi nao chinh phu so ket viec thi diem nq226", "2028"),  # "nq226" typed as one word
    ("from what date is res 226 legally binding?", "1 July 2025"),  # "legally binding" for "took effect"
    ("ai dung dau ban bien tap cong thong tin hp", "Trần Huy Kiên"),  # "đứng đầu ban biên tập": the editor-in-chief
    ("what tax break do foreign specialists get on their wages in the free trade zone?", "Personal income tax: a 50% reduction"),
    ("co che dac biet cho hp keo dai may nam", "năm năm"),  # "kéo dài mấy năm": how long the pilot runs
    ("Who organised the Jan 6 conference on external relations?", "Department of Foreign Affairs"),  # "Jan"
    ("What is the address of the Hai Phong e-portal?", "18 Hoang Dieu"),
    # informal words from the staff-editable synonyms: "a cut" (reduction), "spouse and kids"
    # (families), "kick off" (open), "mướn" (thuê); and "is split over" is a verb, not a topic
    ("as a foreign expert in the FTZ, do I get a cut on my income tax?", "50% reduction"),
    ("can foreign experts in the FTZ bring their spouse and kids?", "families"),
    ("which embassies helped kick off Techfest 2022?", "Japan"),
    ("Công ty mướn đất trong khu thương mại tự do có phải trả tiền không?", "miễn"),
    ("the HP FTZ is split over 3 sites - which ones?", "Cat Hai"),
    # chat spellings are not names: "govt", "dept"
    ("when does the govt report the final review of the FTZ pilot to the NA?", "2035"),
    ("who attended the foreign affairs dept's 2025 review conf in HP?", "Ngo Le Van"),
    # "từ bao nhiêu thì ...": an amount, not a count of something named after "bao nhiêu"
    ("du an cang bien von tu bao nhieu thi ubnd thanh pho duoc chap thuan chu truong dau tu", "2.300"),
    # "bao nhiêu vốn thì ...": "vốn thì" is no noun; the amount of capital answers
    ("Dự án cảng biển cần bao nhiêu vốn thì được Ủy ban nhân dân thành phố chấp thuận chủ trương?", "2.300 tỷ"),
    ("How many deputies voted in favour of Resolution 226?", "447"),  # the number written with "deputies"
    ("Nghị quyết 226 được trao cho thành phố ở đâu?", "tại hội nghị xúc tiến đầu tư"),  # an event is a place
    # "... được bớt bao nhiêu": the number is not of the question's first words ("làm chuyên gia")
    ("lam chuyen gia trong khu tmtd thi thue thu nhap ca nhan duoc bot bao nhieu", "giảm 50%"),
    ("Khu 2.923 ha của khu thương mại tự do nằm ở xã nào?", "Chấn Hưng"),  # "xã nào" asks where
    ("tru so cong thong tin dien tu hai phong o dau", "18 Hoàng Diệu"),  # "cổng thông tin điện tử": the portal
    # typed without marks: "làm | dự án" (not "lạm dụng"), "có | mất tiền" (not "có mặt")
    ("lam du an o khu thuong mai tu do co mat tien thue dat khong", "được miễn trong toàn bộ thời gian thuê"),
])
def test_informal_wording_still_gets_the_fact(assistant: Assistant, question: str, fact: str) -> None:
    assert_answered_with(assistant, question, fact)


def test_an_overview_of_an_article_quotes_its_opening(assistant: Assistant) -> None:
    answer = assistant.answer("what's the 2025 external relations review article about")
    assert not answer.refused
    quoted = [line for line in answer.text.splitlines() if line.startswith("- ")]
    assert len(quoted) >= 2, answer.text
    assert "January 6" in answer.text  # the article's opening sentence


@pytest.mark.parametrize("question", ["thu do cua phap la gi", "Thủ đô của Pháp là gì?", "thu do cua nhat ban la gi",
                                      # "dien tich" is restored to "diện tích" (a corpus term); the other
                                      # words, typed without marks, still name what no document covers
                                      "cong thuc tinh dien tich hinh vuong"])
def test_a_general_knowledge_question_typed_without_marks_is_refused_plainly(assistant: Assistant,
                                                                             question: str) -> None:
    # typed without marks, "thu", "do" and "phap" are syllables of the documents (thủ tục, pháp luật):
    # that must not make the capital of France look covered
    answer = assistant.answer(question)
    assert answer.refused and not answer.citations, answer.text


@pytest.fixture
def chatting(built_index: Path, tmp_path: Path) -> Assistant:
    """An assistant with a conversation memory of its own, as the channels have."""
    from bot.memory import ChatMemory
    from bot.storage import Database

    memory = ChatMemory(Database(tmp_path / "memory.sqlite3"), turns=4, ttl_seconds=3600)
    return Assistant(Settings.from_env(settings_env(built_index)), memory=memory)


def test_an_elliptical_follow_up_is_read_with_the_previous_question(chatting: Assistant) -> None:
    assistant = chatting
    first = assistant.answer("Mức thu nhập tăng thêm cho công chức theo Nghị quyết 226 là bao nhiêu?", chat_key="c1")
    assert "0,8 hoặc 0,6" in first.text
    # no "it", no "còn … thì sao": the question names no subject, so it is the previous one's
    then = assistant.answer("Áp dụng đến bao giờ?", chat_key="c1")
    assert not then.refused and "31 tháng 12 năm 2026" in then.text
    alone = assistant.answer("Áp dụng đến bao giờ?", chat_key="someone-else")
    assert alone.refused  # without the conversation it cannot be answered


def test_a_pronoun_inside_a_follow_up_stands_for_the_previous_subject(chatting: Assistant) -> None:
    assistant = chatting
    first = assistant.answer("How big is the Hai Phong free trade zone?", chat_key="c2")
    assert "6,292 ha" in first.text
    # "it" is neither first nor last: the question is still about the zone
    then = assistant.answer("which decision set it up?", chat_key="c2")
    assert not then.refused and "4068/QD-UBND" in then.text
    last = assistant.answer("how long does its pilot last?", chat_key="c2")
    assert not last.refused and "ten years" in last.text


@pytest.mark.parametrize("question,requests", [
    ("list the requests Deputy Minister Van made to the city",
     ["substantive diplomacy", "fully leveraging the special mechanisms", "promote the image"]),
    ("Thứ trưởng Ngô Lê Văn đề nghị Hải Phòng làm những việc gì trong năm 2026?",
     ["ngoại giao thực chất", "tận dụng tối đa", "quảng bá mạnh mẽ hình ảnh"]),
])
def test_what_someone_asked_is_the_run_of_their_remarks(assistant: Assistant, question: str,
                                                        requests: list[str]) -> None:
    # the remarks run over several sentences ("He emphasized ...", "The focus should be ...", "He
    # also requested ..."): a list of them is not the first sentence alone
    answer = assistant.answer(question)
    assert not answer.refused
    for request in requests:
        assert request in answer.text, request


@pytest.mark.parametrize("turns,fact", [
    # three or four Vietnamese syllables of the documents, and no subject: the previous turn's
    (["Chương trình hành động về ngoại giao kinh tế của Hải Phòng có số hiệu là gì?", "Áp dụng cho giai đoạn nào?"],
     "2023-2028"),
    (["How big is the Hai Phong free trade zone?", "which decision set it up?", "and who runs it?"], "HEZA"),
    (["nam 2022 hai phong va ha lan co chuong trinh gi chung", "ai to chuc"], "Dutch Embassy|Đại sứ quán Hà Lan"),
    # a longer message that opens and ends as a follow-up ("thế còn ... thì sao?"); "họ" points back
    (["Khu thương mại tự do Hải Phòng được thành lập theo quyết định số mấy?", "Quyết định đó ban hành ngày nào?",
      "Thế còn các giai đoạn triển khai thì sao?"], "2030"),
    (["Chuyên gia làm việc trong khu thương mại tự do được cấp thẻ tạm trú tối đa bao lâu?",
      "Người nhà của họ có được hưởng không?"], "gia đình"),
    # "HP-Netherlands" is two known names, not an unknown one
    (["who organised the HP-Netherlands business connection program?", "when was that?"], "November 2022"),
    # typed without marks, "nó" opening the question points back
    (["hoi nghi xuc tien dau tu 2025 co chu de gi", "no duoc to chuc cung voi su kien nao"], "ABAC"),
    # ... and so does "của nó" ("its"), in a question too long to be a bare follow-up
    (["khu thuong mai tu do hai phong rong bao nhieu", "giai doan dau tien cua no bat dau tu nam nao"], "Giai đoạn 1 từ 2025"),
    # "ông ấy" / "he" is the person the previous answer named, and stays so for the turn after
    (["ai dang la tong bien tap cong thong tin hai phong", "ong ay dam nhiem chuc vu gi"], "Chánh Văn phòng"),
    (["who came from the foreign ministry to the jan 6 external relations conference?",
      "what did he ask the city to focus on?"], "semiconductors"),
    (["who from the foreign ministry attended the january 6 conference?", "what else is he chairman of?",
      "and which resolution did he want the city to make full use of?"], "Resolution No. 226"),
    # "he" is the deputy minister, and his remarks run over sentences that name him only at their start
    (["who is Ngo Le Van?", "what did he say about the diplomatic staff?"], "streamlined"),
    # a person the question itself names is whom a bare "ông" then means, turn after turn
    (["Thứ trưởng Ngô Lê Văn biểu dương Hải Phòng vì điều gì?", "Ông còn đề nghị tận dụng cơ chế của nghị quyết nào?",
      "Về đội ngũ cán bộ đối ngoại thì ông yêu cầu gì?"], "tinh gọn"),
    # after two turns about the votes, the articles are counted by the sentence that gives them, not
    # by the votes sentence that matches the conversation best
    (["Nghị quyết 226 được thông qua với bao nhiêu phiếu tán thành?", "Tại kỳ họp nào?",
      "Nghị quyết này gồm bao nhiêu điều?"], "12 điều"),
])
def test_a_follow_up_without_a_subject_of_its_own_is_answered_in_context(chatting: Assistant, turns: list[str],
                                                                         fact: str) -> None:
    for turn in turns[:-1]:
        chatting.answer(turn, chat_key="fu")
    answer = chatting.answer(turns[-1], chat_key="fu")
    assert not answer.refused, answer.text
    assert any(form in answer.text for form in fact.split("|")), answer.text


@pytest.mark.parametrize("question", ["messi sinh nam nao", "Làm sao để giảm cân nhanh?", "who is Taylor Swift dating"])
def test_an_off_topic_question_after_a_conversation_is_still_refused(chatting: Assistant, question: str) -> None:
    # a short question after a turn about Resolution 226 is not read as its follow-up when it names
    # a new subject ("messi", "giảm cân")
    chatting.answer("Nghị quyết 226 có hiệu lực khi nào?", chat_key="off")
    answer = chatting.answer(question, chat_key="off")
    assert answer.refused, answer.text


@pytest.mark.parametrize(("question", "fact"), [
    # informal words the synonyms carry to the documents' own: levy -> tax, vote tally -> votes
    ("what levy rate applies to priority-sector projects in the FTZ?", "10%"),
    ("what was the final vote tally for res 226?", "447"),
    # "inside" places what is asked; it is no subject the documents lack
    ("which incentives can I get inside the free trade zone?", "Personal income tax"),
    # ways of asking that no document writes: "là viết tắt của gì", "có gì nổi bật, kể ra giúp mình"
    ("ABAC la viet tat cua gi", "Hội đồng Tư vấn Kinh doanh APEC"),
    ("hoi nghi abac 3 co gi noi bat, ke ra giup minh", "ABAC 3"),
    # a short form in a question typed without marks is judged on the documents' pairs
    ("heza la to chuc gi vay", "HEZA"),
    # "FM" is the foreign minister
    ("which deputy FM came to the jan 6 conference?", "Ngo Le Van"),
    # "chairs" is the documents' "Chairman"
    ("who chairs the national commission for UNESCO?", "Ngo Le Van"),
    # chat spellings too short for the speller, and informal words the synonyms carry
    ("wen did the FTZ get set up?", "16 October 2025"),
    ("does res 226 let HP trade greenhouse gas allowances?", "carbon-credit"),
    ("can a foreign firm open a company in the FTZ without an IRC first?", "investment registration certificate"),
    ("how many years of tax holiday before the 50% discount kicks in for FTZ projects?", "4 years of exemption"),
    # "muốn" typed without marks is "to want", not "mướn" (to rent); wanted by the deputy minister,
    # it is what he said, not a list of the city's branches
    ("thu truong ngo le van muon hai phong thu hut dau tu vao nganh nao", "bán dẫn"),
    # "muốn", "xem" and the classifier of "cái gì" only frame the question
    ("toi muon xem toan van nghi quyet 226 o trang web nao", "thuvienphapluat.vn"),
    ("Techfest 2022 là cái gì vậy", "Techfest"),
    # "phụ cấp thêm" is the extra income the documents speak of
    ("cong chuc hai phong duoc phu cap them toi da bao nhieu lan quy luong", "0,8 lần"),
])
def test_informal_wording_is_answered_from_the_documents_own_words(assistant: Assistant, question: str,
                                                                   fact: str) -> None:
    assert_answered_with(assistant, question, fact)


@pytest.mark.parametrize("question", [
    # "documents" here are the paperwork an application needs, which the documents do not list
    "what documents must I submit to HEZA to license a factory in the free trade zone?",
    "what is the VAT levy inside the FTZ?",
    "minimum wage inside the FTZ?",
    "BRICS la viet tat cua gi",
])
def test_informal_wording_does_not_open_the_gate_to_what_the_documents_lack(assistant: Assistant,
                                                                            question: str) -> None:
    assert assistant.answer(question).refused


def test_a_when_question_about_something_due_is_answered_with_its_date(assistant: Assistant) -> None:
    # "due" asks when; it is no subject the documents lack
    assert_answered_with(assistant, "when's the final review of the res 226 pilot due?", "2030")


@pytest.mark.parametrize("question", ["how old is Ngo Le Van?", "Ông Trần Huy Kiên năm nay bao nhiêu tuổi?"])
def test_an_age_is_not_answered_with_another_number(assistant: Assistant, question: str) -> None:
    # the documents name both men and write years beside them, never an age
    assert assistant.answer(question).refused


@pytest.mark.parametrize(("question", "facts"), [
    # the document whose title names the subject gives the overview: its opening, facts and scope
    ("Can you summarise Resolution 226 for me?", ["27 June 2025", "investment management"]),
    ("tom tat giup toi nghi quyet 226", ["27 tháng 6 năm 2025", "quản lý đầu tư"]),
    # a news report's overview skips who was present and reaches what happened
    ("summary of the article reviewing HP's external relations in 2025", ["ABAC 3"]),
])
def test_an_overview_gives_the_main_points_of_the_document(assistant: Assistant, question: str,
                                                            facts: list[str]) -> None:
    assert_answered_with(assistant, question, *facts)


@pytest.mark.parametrize(("question", "fact"), [
    # the count the question gives picks the passage that writes it: "three sites" lists the places
    ("where are the 3 locations of the Hai Phong free trade zone?", "Cat Hai island"),
    ("Khu thương mại tự do Hải Phòng nằm ở 3 khu vực nào?", "Chấn Hưng"),
])
def test_a_count_the_question_gives_picks_the_passage_that_writes_it(assistant: Assistant, question: str,
                                                                     fact: str) -> None:
    assert_answered_with(assistant, question, fact)


def test_what_someone_said_is_his_remarks_in_order_not_that_he_attended(assistant: Assistant) -> None:
    answer = assistant.answer("What did the deputy foreign minister say about economic diplomacy?")
    assert not answer.refused, answer.text
    assert "semiconductors" in answer.text, answer.text  # the sentence on economic diplomacy ...
    assert "Attending the conference" not in answer.text, answer.text  # ... not the list of those present
    quotes = [line for line in answer.text.splitlines() if line.startswith("- ")]
    assert not quotes[0].startswith("- He "), answer.text  # "he" is named before he is quoted


@pytest.mark.parametrize(("question", "facts"), [
    ("Who signed Resolution 226 and when did it take effect?", ["Tran Thanh Man", "1 July 2025"]),
    ("ai ky nghi quyet 226 va no co hieu luc khi nao", ["Trần Thanh Mẫn", "1 tháng 7 năm 2025"]),
])
def test_two_questions_in_one_message_get_both_answers(assistant: Assistant, question: str, facts: list[str]) -> None:
    assert_answered_with(assistant, question, *facts)


def test_two_questions_in_one_are_refused_when_the_documents_answer_only_one(assistant: Assistant) -> None:
    # the documents give the resolution's signatory, but no investment capital pledged in dollars
    answer = assistant.answer("who signed res 226 and how many US dollars did investors pledge at the conference?")
    assert answer.refused or "Tran Thanh Man" not in answer.text, answer.text


def test_who_attended_is_answered_with_the_people_present(assistant: Assistant) -> None:
    # "dự hội nghị" asks who attended: the organiser's sentence names no one who was there
    assert_answered_with(assistant, "Ai đã dự hội nghị tổng kết đối ngoại ngày 6/1?", "Ngô Lê Văn")


def test_what_day_is_answered_with_a_day_not_with_years(assistant: Assistant) -> None:
    # the sentence with the review years (2028, 2030) shares more words; the one with a day answers
    answer = assistant.answer("which day was the decision setting up the free trade zone signed on?")
    assert not answer.refused, answer.text
    assert "16 October 2025" in answer.text, answer.text
    assert "2028" not in answer.text, answer.text


@pytest.mark.parametrize(("question", "fact"), [
    # the name of a programme or an event is what it is called, not a person ("tên là gì" is a "who" cue)
    ("su kien dai su quan ha lan cung hai phong to chuc thang 11/2022 ten la gi", "Kết nối doanh nghiệp"),
    # "how big a cut / break" asks an amount, not an area; an exemption is all of it
    ("how big a cut in land rent do investors get in the FTZ?", "exempt for the whole lease term"),
    ("how big a break on personal income tax do experts in the FTZ get?", "50% reduction for 10 years"),
    # informal words for the documents' own: a tax holiday is the years of exemption, a midterm
    # check-up the review, the newsroom's head the editor-in-chief
    ("How long is the tax holiday for firms setting up in the FTZ?", "4 years of exemption"),
    ("what date was the FTZ's founding decision signed?", "16 October 2025"),
    ("when is the midterm review of the res 226 pilot?", "2028"),
    ("ai dung dau toa soan cong thong tin hai phong", "Trần Huy Kiên"),
    # "art. 11" is Article 11
    ("res 226 art. 11: for how long does the FTZ pilot run?", "ten years"),
])
def test_what_is_asked_in_other_words_is_answered(assistant: Assistant, question: str, fact: str) -> None:
    assert_answered_with(assistant, question, fact)


@pytest.mark.parametrize("question", [
    # the embassy "in Vietnam", the city co-organising, "in November": no venue is given
    "Chương trình kết nối doanh nghiệp Hải Phòng - Hà Lan được tổ chức tại địa điểm nào?",
    "where exactly was the HP-Netherlands business connection programme held?",
])
def test_a_venue_the_documents_do_not_give_is_not_made_of_other_places(assistant: Assistant, question: str) -> None:
    assert_refused(assistant, question)


@pytest.mark.parametrize(("question", "fact"), [
    # "dept", "green-light", "specialist", "size": the synonyms carry them to the documents' words
    ("Where did the Dept of Foreign Affairs hold its jan 2026 review conference?", "City Convention and Performance Center"),
    ("can the city itself now green-light big port projects, even ones the PM already approved?", "2,300 billion"),
    ("if I'm a foreign specialist working in the zone, for how long does my income tax get halved?", "50% reduction for 10 years"),
    ("what is the size of the free trade zone?", "6,292 ha"),
    # a part of the zone, named by its place, is the land in that place
    ("how many ha is the Nam Dinh Vu chunk of the FTZ?", "1,077 ha"),
    ("how big is the Nam Dinh Vu area of the FTZ?", "1,077 ha"),
    # a record's labelled field answers what its leading sentence lacks
    ("where is the Hai Phong portal located?", "18 Hoang Dieu"),
])
def test_informal_words_and_parts_are_answered(assistant: Assistant, question: str, fact: str) -> None:
    assert_answered_with(assistant, question, fact)


def test_an_attribute_question_gets_the_attribute_not_an_overview(assistant: Assistant) -> None:
    answer = assistant.answer("what is the theme of the investment conference")
    assert not answer.refused, answer.text
    assert "A Strategic Destination of the New Era" in answer.text
    assert len(answer.citations) == 1 and answer.text.count("\n- ") == 1, answer.text  # that sentence alone


@pytest.mark.parametrize("question", [
    # the city and the category ("cities") are in the documents; being twinned is not
    "Which cities is Hai Phong twinned with?",
    "Hải Phòng kết nghĩa với những thành phố nước ngoài nào?",
    "hai phong ket nghia voi nhung thanh pho nao",
    # the area of the whole zone is not given, only the FTZ land inside it
    "total size of the southern coastal economic zone itself (the whole zone, not just the FTZ part)?",
])
def test_a_list_of_what_the_documents_never_say_is_refused(assistant: Assistant, question: str) -> None:
    assert_refused(assistant, question)


def test_a_list_question_with_known_words_around_the_category_is_answered(assistant: Assistant) -> None:
    answer = assistant.answer("Nội dung trọng tâm thứ 6 nhắc tới những kênh đối ngoại nào?")
    assert not answer.refused, answer.text


def test_a_follow_up_naming_a_vietnamese_person_keeps_the_askers_language(chatting: Assistant) -> None:
    chatting.answer("who's the editor-in-chief of the Hai Phong portal?", chat_key="lang")
    answer = chatting.answer("what's his other job title?", chat_key="lang")
    assert answer.language == "en", answer.text
    assert not answer.refused and "Chief of staff" in answer.text, answer.text


def test_which_body_organised_it_is_answered_with_the_body(chatting: Assistant) -> None:
    chatting.answer("Hội nghị tổng kết công tác đối ngoại năm 2025 của Hải Phòng tổ chức ở đâu?", chat_key="body")
    answer = chatting.answer("Đơn vị nào đứng ra tổ chức?", chat_key="body")
    assert not answer.refused, answer.text
    first = answer.text.split("\n- ")[1]
    assert "Sở Ngoại vụ tổ chức" in first, answer.text  # not the people who attended


@pytest.mark.parametrize("question", [
    # "bao nhiêu dân" counts people: no number of residents is given (nor "how many people live")
    "hai phong co bao nhieu dan", "Hải Phòng có bao nhiêu dân?", "how many people live in Hai Phong",
    # an address is a house number and a street, not "47 tập thể" or "thành phố Hải Phòng"
    "Sở Ngoại vụ Hải Phòng có địa chỉ ở đâu?",
])
def test_a_count_or_an_address_the_documents_do_not_give_is_refused(assistant: Assistant, question: str) -> None:
    assert_refused(assistant, question)


def test_a_rate_question_gets_the_rate_not_an_overview(assistant: Assistant) -> None:
    answer = assistant.answer("what's the CIT rate for non-priority projects in the FTZ")
    assert not answer.refused, answer.text
    assert "other projects pay 10% for 15 years" in answer.text
    assert "Personal income tax" not in answer.text and "447" not in answer.text, answer.text


@pytest.mark.parametrize(("question", "fact"), [
    ("What incentives does a chip maker get in the Hai Phong FTZ?", "Corporate income tax"),
    ("dia chi cong thong tin hai phong", "số 18 Hoàng Diệu"),
])
def test_makers_and_addresses_are_answered(assistant: Assistant, question: str, fact: str) -> None:
    assert_answered_with(assistant, question, fact)


def test_tu_do_la_typed_without_marks_is_not_a_dollar_amount(assistant: Assistant) -> None:
    # "tự do là bao nhiêu" folds to "tu do la bao nhieu": "đô la" (dollars) is not asked, the 10% rate is
    answer = assistant.answer("thue suat thue tndn trong khu thuong mai tu do la bao nhieu")
    assert not answer.refused, answer.text
    assert "thuế suất 10%" in answer.text


@pytest.mark.parametrize(("question", "fact"), [
    # "spoke" is the remarks the documents report; "which deputy minister" asks a person
    ("which deputy minister spoke at the jan 6 external relations conference?", "Ngo Le Van"),
    ("Ai phát biểu chỉ đạo tại hội nghị tổng kết đối ngoại đầu năm 2026?", "Ngô Lê Văn"),
    # a "when" clause inside a "how many" question does not make it a "when" question
    ("how many votes did res 226 get when the NA passed it?", "447"),
    # "co-host" is the hosting the review writes of, not a word no document covers
    ("Which events did HP co-host in 2025?", "ABAC 3"),
    # "2 sự kiện ... là gì" asks for that many members: both events are named
    ("2 su kien lon nhat cua doi ngoai hp nam 2025 la gi", "ABAC 3"),
])
def test_speakers_counts_and_numbered_lists_are_answered(assistant: Assistant, question: str, fact: str) -> None:
    assert_answered_with(assistant, question, fact)


@pytest.mark.parametrize(("turns", "fact"), [
    # "hôm nào vậy" is the asking, so "ban hành" leans on the previous turn
    (["Chương trình hành động ngoại giao kinh tế của HP là số mấy?", "Ban hành hôm nào vậy?"], "27/3/2023"),
    # "khu" alone is the zone the conversation is about
    (["Khu thương mại tự do HP được thành lập theo quyết định nào?", "Tổng diện tích khu là bao nhiêu?"], "6.292 ha"),
])
def test_short_vietnamese_follow_ups_are_answered_in_context(chatting: Assistant, turns: list[str], fact: str) -> None:
    for turn in turns[:-1]:
        chatting.answer(turn, chat_key="vi-fu")
    answer = chatting.answer(turns[-1], chat_key="vi-fu")
    assert not answer.refused, answer.text
    assert fact in answer.text, answer.text


@pytest.mark.parametrize(("question", "fact"), [
    # "TNDN" is read as "thuế thu nhập doanh nghiệp", the counted subject a passage names
    ("thue tndn o khu tmtd hp la bao nhieu", "thuế suất 10%"),
    # "bớt bao nhiêu tiền thuế" asks for the cut, which is a share, not an amount of money
    ("chuyen gia lam o khu tmtd duoc bot bao nhieu tien thue thu nhap ca nhan", "giảm 50%"),
    # "extra pay" and "govt staff" are the extra income of civil servants; "at most" is its cap
    ("how much extra pay can govt staff get under res 226 at most?", "0.8"),
])
def test_informal_amount_questions_get_the_figure(assistant: Assistant, question: str, fact: str) -> None:
    assert_answered_with(assistant, question, fact)


@pytest.mark.parametrize("question", ["nghi quyet 226 noi ve gi", "Nghị quyết 226 là về cái gì vậy?"])
def test_what_a_document_is_about_is_answered_from_that_document(assistant: Assistant, question: str) -> None:
    answer = assistant.answer(question)
    assert not answer.refused, answer.text
    # the fact sheet on the resolution, not the 2025 review that mentions it
    assert answer.citations and all(c.doc_id.startswith("resolution-226-factsheet") for c in answer.citations), \
        [c.doc_id for c in answer.citations]
    assert "47 tập thể" not in answer.text, answer.text


@pytest.mark.parametrize("question", [
    # the documents give the incentive, not the conditions to meet for it, nor the papers to file
    "Chuyên gia cần đáp ứng điều kiện gì để được giảm thuế TNCN trong khu TMTD?",
    "Muốn được công nhận là nhà đầu tư chiến lược ở HP thì cần điều kiện gì?",
    "what documents does an expert need to file for a 10-year residence card in the FTZ?",
    "ho so xin mien thi thuc cho chuyen gia o khu tmtd gom giay to gi",
    # a rate per month is asked: the programme's total cost is not a monthly amount
    "thu nhap tang them cua cong chuc hp la bao nhieu tien mot thang",
])
def test_conditions_papers_and_rates_the_documents_do_not_give_are_refused(assistant: Assistant, question: str) -> None:
    assert_refused(assistant, question)


def test_a_procedure_the_documents_give_is_answered(assistant: Assistant) -> None:
    answer = assistant.answer("what procedure do foreign investors follow to set up a company in the FTZ?")
    assert not answer.refused, answer.text
    assert "same procedures as domestic investors" in answer.text, answer.text


@pytest.mark.parametrize("question, said", [
    ("when and where is ABAC 4 being held", "abac 4"),  # the documents report ABAC 3
    ("hoi nghi abac lan thu 4 o dau", "abac 4"),
    ("the fourth ABAC meeting: where?", "abac 4"),
])
def test_another_meeting_of_a_series_is_refused(assistant: Assistant, question: str, said: str) -> None:
    answer = assert_refused(assistant, question)
    assert not answer.citations, answer.text  # no ABAC 3 sentence passed off as ABAC 4
    assert assistant.explain(question)["reason"] == f"asks about {said}, which no document mentions"


def test_the_meeting_the_documents_report_is_still_answered(assistant: Assistant) -> None:
    assert_answered_with(assistant, "what was the 3rd ABAC meeting", "ABAC 3")


def test_which_day_is_not_answered_by_a_year(assistant: Assistant) -> None:
    # "kỳ họp cuối năm 2028" gives the year only: the day asked is not stated
    answer = assert_refused(assistant, "ky hop cuoi nam 2028 cua quoc hoi hop ngay nao")
    assert answer.text.startswith("Tài liệu trong kho không nêu rõ ngày cụ thể"), answer.text
    assert_answered_with(assistant, "nq 226 ky ngay nao", "27 tháng 6 năm 2025")


def test_a_duration_in_days_is_not_answered_by_years(assistant: Assistant) -> None:
    # "mất mấy ngày": the tax holiday's "4 năm" is no number of days for company registration
    answer = assert_refused(assistant, "Thủ tục thành lập doanh nghiệp ở Hải Phòng mất mấy ngày?")
    assert answer.text.startswith("Tài liệu trong kho không nêu rõ thời gian giải quyết thủ tục này"), answer.text
    assert_answered_with(assistant, "how many years does the CIT exemption last in the FTZ?", "4 years")


@pytest.mark.parametrize("question", ["thue tndn o khu cong nghiep trang due la bao nhieu",
                                      "CIT rate in Deep C industrial park?"])
def test_an_industrial_park_no_document_names_is_refused(assistant: Assistant, question: str) -> None:
    answer = assert_refused(assistant, question)
    assert not answer.citations, answer.text  # not the FTZ's rate


@pytest.mark.parametrize("question, fact", [
    ("do FTZ tenants have to pay anything for leasing the ground?", "exempt for the whole lease term"),
    ("tp co duoc ban nha tap the cu cua nha nuoc ko", "nhà chung cư thuộc tài sản công"),
    ("can the city sell old state housing?", "public apartment buildings"),
    ("does the econ diplomacy plan warn against doing things just for show?", "avoid formalism"),
])
def test_everyday_wording_finds_the_documents_terms(assistant: Assistant, question: str, fact: str) -> None:
    assert_answered_with(assistant, question, fact)


def test_which_agency_is_answered_with_an_agency(assistant: Assistant) -> None:
    answer = assistant.answer("which agency runs the free trade zone day to day?")
    assert "The pilot runs for five years" not in answer.text.split("\n")[1], answer.text  # capitals, no agency


def test_what_an_official_says_is_quoted_from_his_remarks(assistant: Assistant) -> None:
    answer = assistant.answer("which sectors is HP targeting for investment in 2026 per the deputy FM?")
    assert not answer.refused, answer.text
    for sector in ("high technology", "semiconductors", "green energy"):
        assert sector in answer.text, answer.text


def test_a_rate_set_by_the_council_is_the_rates_number(assistant: Assistant) -> None:
    # the council sets the rate: the number asked is the rate's ("0,8 hoặc 0,6 lần"), not the council's
    assert_answered_with(assistant, "HĐND thành phố quy định mức thu nhập tăng thêm cho công chức là bao nhiêu?",
                         "0,8 hoặc 0,6")


def test_ones_in_a_follow_up_stands_for_what_was_asked_before(chatting: Assistant) -> None:
    chatting.answer("how long is the CIT exemption for projects in the HP FTZ?", chat_key="ones")
    answer = chatting.answer("how many years does the 10% rate last for priority ones?", chat_key="ones")
    assert not answer.refused and "30 years" in answer.text, answer.text


def test_a_person_named_in_lower_case_is_whom_ong_ay_means(chatting: Assistant) -> None:
    chatting.answer("ngoai chuc thu truong bo ngoai giao, ong ngo le van con giu chuc vu gi", chat_key="ong")
    answer = chatting.answer("ong ay de nghi dao tao doi ngu the nao", chat_key="ong")
    assert not answer.refused and "đội ngũ cán bộ đối ngoại tinh gọn" in answer.text, answer.text


def test_how_long_a_procedure_takes_is_not_how_long_its_card_lasts(assistant: Assistant) -> None:
    # the cards are "of up to 10 years": that is how long they last, not how long getting one takes
    answer = assert_refused(assistant, "how long does it take to get a temporary residence card for FTZ experts?")
    assert answer.text.startswith("The documents do not state how long this procedure takes"), answer.text
    assert_answered_with(assistant, "how long does the PIT cut for FTZ experts last?", "10 years")


def test_the_next_conference_with_its_full_name_is_refused(assistant: Assistant) -> None:
    question = "When will the next Hai Phong Investment Promotion Conference take place?"
    assert_refused(assistant, question)  # the documents report the 2025 one only
    assert "next hai phong investment promotion conference" in assistant.explain(question)["reason"]


@pytest.mark.parametrize("question, fact", [
    # "when entering" opens a clause: the question asks yes or no, not for a date
    ("Do certified goods need specialised inspection when entering the free trade zone?", "no specialised inspection"),
    ("If I move to HP as a specialist in the FTZ, is there any break on my PIT?", "50% reduction"),
    ("how many people and groups got certificates of merit at the 2025 external relations review?", "47"),
])
def test_clauses_attributes_and_everyday_words_are_answered(assistant: Assistant, question: str, fact: str) -> None:
    assert_answered_with(assistant, question, fact)


def test_what_motto_is_answered_with_the_motto_not_the_plans_list(assistant: Assistant) -> None:
    answer = assistant.answer("What motto does the economic diplomacy action plan follow?")
    first = answer.text.split("\n")[1]
    assert "Creative thinking, drastic action" in first, answer.text
    assert "key contents" not in answer.text, answer.text  # the plan's list is not its motto


def test_which_company_needs_a_company(assistant: Assistant) -> None:
    # the review says FDI came into semiconductors, but names no company that invested
    answer = assert_refused(assistant, "cty nhat ban nao dau tu ban dan vao hai phong")
    assert answer.text.startswith("Tài liệu trong kho không nêu rõ tên doanh nghiệp được hỏi"), answer.text


@pytest.mark.parametrize("question, unseen", [
    ("viet kieu dau tu vao hp co uu dai gi khong", "viet kieu"),  # overseas Vietnamese: no document speaks of them
    ("Nghị quyết 226 quy định mức phạt như thế nào?", "muc phat"),  # fines: none in the documents
])
def test_subjects_the_documents_never_speak_of_are_refused(assistant: Assistant, question: str, unseen: str) -> None:
    answer = assert_refused(assistant, question)
    assert not answer.citations, answer.text
    assert unseen in assistant.explain(question)["reason"]


def test_a_theme_no_document_gives_is_not_stated(assistant: Assistant) -> None:
    # the documents report Techfest 2022 but give it no theme: the opening sentence is no theme
    answer = assert_refused(assistant, "What was the theme of Techfest 2022 in Hai Phong?")
    assert answer.text.startswith("The documents do not state the motto or theme asked for"), answer.text
    assert_answered_with(assistant, "what theme did the 2025 investment promotion conference have?",
                         "A Strategic Destination of the New Era")


def test_a_document_number_needs_a_number(assistant: Assistant) -> None:
    # the council's decision of 13 November 2025 is reported with its rates, not its number
    answer = assert_refused(assistant, "What is the number of the resolution the city council passed on 13 Nov 2025?")
    assert answer.text.startswith("The documents do not state the number of this document"), answer.text
    assert_answered_with(assistant, "what is the number of the decision that set up the FTZ?", "4068/QD-UBND")
    # the programme's own number, not the directive's ("Chỉ thị số 15-CT/TW") in the sentence before
    assert_answered_with(assistant, "Chương trình hành động về ngoại giao kinh tế của thành phố có số hiệu là gì?",
                         "01/CTr-UBND")


@pytest.mark.parametrize("question", [
    "which companies have already invested in the Hai Phong FTZ?",  # no company is named
    "thue vat trong ftz hai phong la bao nhieu %",  # the documents give no VAT rate, only CIT and PIT
    "Xin giấy phép lao động cho chuyên gia nước ngoài ở khu thương mại tự do cần những bước nào?",  # no permits
])
def test_companies_other_taxes_and_permits_the_documents_lack_are_refused(assistant: Assistant, question: str) -> None:
    assert_refused(assistant, question)


def test_a_share_asked_with_a_percent_sign_is_the_subjects(assistant: Assistant) -> None:
    assert_answered_with(assistant, "thuế tndn ưu đãi trong khu tmtd là bao nhiêu %", "10%")


@pytest.mark.parametrize("question, fact", [
    ("how many kilometres of national waterways does the city run now?", "489.2"),  # written "km"
    ("what share of the deputies said yes to res 226?", "93.51%"),  # "share" is how the figure is asked
    ("Nghị quyết 226 có bao nhiêu phiếu thuận?", "447/449"),  # votes are deputies in favour
    ("Cảng biển vốn từ bao nhiêu thì UBND thành phố được bật đèn xanh chủ trương đầu tư?", "2.300 tỷ đồng"),
])
def test_units_shares_votes_and_idioms_get_the_figure(assistant: Assistant, question: str, fact: str) -> None:
    assert_answered_with(assistant, question, fact)


def test_a_vietnamese_period_from_day_to_day_answers_from_when_to_when(assistant: Assistant) -> None:
    # "từ ngày 1 tháng 7 năm 2025 đến ngày 31 tháng 12 năm 2026": five words before each year
    assert_answered_with(assistant, "thu nhap tang them cho cong chuc ap dung tu bao gio den bao gio",
                         "31 tháng 12 năm 2026")


def test_an_issue_date_is_a_day_not_the_period_a_plan_covers(assistant: Assistant) -> None:
    # "for the period of 2021-2025" is no issue date: the sentence that says "On March 27, 2023" is
    assert_answered_with(assistant, "when was the economic diplomacy action program issued", "March 27, 2023")


def test_an_edition_named_a_few_words_before_its_year_is_another_edition(assistant: Assistant) -> None:
    # the documents report Techfest 2022 only; "Techfest Hải Phòng năm 2023" is another year's
    answer = assert_refused(assistant, "Techfest Hải Phòng năm 2023 được tổ chức vào ngày nào?")
    assert "techfest 2023" in assistant.explain("Techfest Hải Phòng năm 2023 được tổ chức vào ngày nào?")["reason"]
    assert "27/3/2023" not in answer.text


def test_which_official_texts_are_answered_by_their_numbers(assistant: Assistant) -> None:
    # "ct" is chat shorthand for chương trình; the texts it implements are named by their numbers
    assert_answered_with(assistant, "ct hanh dong 01 thuc hien nhung van ban nao cua dang", "217-KH/TU", "15-CT/TW")
    # the resolution's own number is not another text it replaces
    answer = assert_refused(assistant, "nghị quyết 226 thay thế văn bản nào")
    assert answer.text.startswith("Tài liệu trong kho không nêu rõ số hiệu văn bản này"), answer.text


@pytest.mark.parametrize("question, fact", [
    ("Các cơ chế đặc biệt dành cho Hải Phòng được áp dụng thử trong bao lâu?", "năm năm"),  # áp dụng thử = thí điểm
    ("hp dc tu quan bao nhieu km song ngoi cua trung uong", "489,2 km"),  # tự quản = quản lý
    ("nghi quyet 226 co may dieu", "12 điều"),  # folded "may" after "có" is "mấy"
    ("Nghị quyết 226 có bao nhiêu điều khoản?", "12 điều"),
    ("ftz duoc chia thanh may khu", "ba khu vực"),  # not the incentives under "Khu thương mại tự do"
])
def test_vietnamese_paraphrases_and_counts_get_the_fact(assistant: Assistant, question: str, fact: str) -> None:
    assert_answered_with(assistant, question, fact)


def test_a_number_of_years_is_not_a_number_of_projects(assistant: Assistant) -> None:
    # "... for the following 9 years; other projects pay" counts no projects licensed
    answer = assert_refused(assistant, "how many investment projects have been licensed in the free trade zone so far")
    assert answer.text.startswith("The documents do not state the figure asked for"), answer.text


def test_a_request_to_list_the_sites_gets_the_sites_alone(assistant: Assistant) -> None:
    # "Where ...? List the sites": the request is a list; the sentence that enumerates the three sites
    # after its colon is the whole list, so the incentives of the same document are not added
    answer = assistant.answer("Where exactly is the FTZ located? List the sites that make it up.")
    assert not answer.refused, answer.text
    for site in ("Chan Hung", "Nam Dinh Vu", "Cat Hai"):
        assert site in answer.text, answer.text
    assert "Corporate income tax" not in answer.text, answer.text
    # ... but an enumeration that names what is listed and nothing else the question asks is not the
    # whole answer: the carbon-credit mechanism is quoted too
    assert_answered_with(assistant, "nq 226 co co che gi lien quan den tin chi carbon", "tín chỉ các-bon")
