"""Answer units follow the document's structure; phrase maps read informal words as the documents'."""

from __future__ import annotations

from pathlib import Path

from bot.answering.question import question_kind
from indexer.phrases import PhraseMap, load_synonyms
from indexer.units import document_units, inline_items

PLAN = [
    ("d#0", "", "The action plan was issued in 2023.\nThe action plan included the following key contents:"),
    ("d#1", "", "1. Propaganda to raise awareness\n2. Expand the relationship"),
    ("d#2", "", "3. Improve integration\nPhotos were taken at the event."),
]


def test_a_list_cut_by_a_chunk_boundary_is_one_unit_with_its_introduction() -> None:
    units = document_units("d", PLAN, "en")
    lists = [u for u in units if u.kind == "list"]
    assert len(lists) == 1
    assert lists[0].intro == "The action plan included the following key contents:"
    assert lists[0].items == ("Propaganda to raise awareness", "Expand the relationship", "Improve integration")
    assert lists[0].chunk_ids == ("d#1", "d#2") and lists[0].numbered
    items = [u for u in units if u.kind == "item"]
    assert [u.label for u in items] == ["item 1", "item 2", "item 3"]
    # the introduction is never quoted alone
    assert [u.kind for u in units if u.text.endswith("key contents:")] == ["intro"]


def test_legal_labels_come_from_headings_and_lines() -> None:
    units = document_units("r", [("r#0", "How long it runs (Article 11)", "- The pilot runs for five years.\n"
                                  "- The zone pilot runs for ten years."),
                                 ("r#1", "Phạm vi (Điều 1)", "Các cơ chế thí điểm gồm: a; b; c.")], "vi")
    assert {u.label for u in units if u.chunk_id == "r#0"} == {"Article 11"}  # bullets carry no number
    assert units[-1].label == "Điều 1"


def test_text_about_the_document_itself_is_marked() -> None:
    units = document_units("f", [("f#0", "", "This fact sheet gathers facts about Resolution 226. "
                                  "It took effect on 1 July 2025.\nBản tóm tắt này tập hợp các thông tin.")], "en")
    assert [u.about_document for u in units] == [True, False, True]


def test_inline_enumerations_are_counted() -> None:
    assert inline_items("The pilot mechanisms cover: investment; finance; planning; and science.") == 4
    assert inline_items("The city hosted ABAC 3 and a conference.") == 0
    assert inline_items("Attending were Mr. A; Mr. B; representatives; and guests.") == 0  # no colon


def test_synonyms_read_informal_words_as_the_documents_words() -> None:
    synonyms = load_synonyms(Path(__file__).resolve().parent.parent / "knowledge" / "synonyms.yaml")
    assert synonyms.rewrite("When did res 226 come into force in the FTZ?") == \
        "When did resolution 226 take effect in the free trade zone?"
    assert synonyms.rewrite("thue TNDN o ktmtd") == "thuế thu nhập doanh nghiệp o khu thương mại tự do"
    assert synonyms.rewrite("programme 01/CTr-UBND") == "action plan 01/CTr-UBND"  # a code is left whole
    # a possessive is read as its word; a word no synonym knows keeps its "'s"
    assert synonyms.rewrite("the FTZ's incentives") == "the free trade zone incentives"
    assert synonyms.rewrite("the zone's area") == "the zone's area"


def test_diacritics_are_restored_only_where_none_were_typed() -> None:
    restore = PhraseMap([(["nghị quyết"], "nghị quyết"), (["dân số"], "dân số")], only_unmarked=True)
    assert restore.rewrite("nghi quyet 226") == "nghị quyết 226"
    assert restore.rewrite("Dân sổ") == "Dân sổ"  # typed with marks: left as typed


def test_question_kinds() -> None:
    assert question_kind("When did Resolution 226 come into force?", "en").kind == "when"
    assert question_kind("Which big international events did Hai Phong host in 2025?", "en").kind == "list"
    assert question_kind("gom nhung noi dung chinh nao", "vi").kind == "list"
    assert question_kind("nghi quyet 226 uu dai gi", "vi").kind == "list"
    assert question_kind("Nghị quyết 226 được thông qua với bao nhiêu phiếu?", "vi").kind == "how-many"
    assert question_kind("How long does the FTZ pilot run?", "en").kind == "how-long"
    assert question_kind("Who signed it?", "en").kind == "who"
    assert question_kind("Do investors pay land rent in the FTZ?", "en").kind == "yes-no"
