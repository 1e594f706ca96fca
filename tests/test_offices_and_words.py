"""The right office for a question's topic, from the staff-editable contacts documents, and the
words that ask for an officer or agree to forward a question."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.handoff import is_consent, officer_request
from bot.offices import Offices
from tests.conftest import KNOWLEDGE


def test_office_for_names_the_office_that_fits_the_topic_in_the_askers_language() -> None:
    offices = Offices(KNOWLEDGE)
    heza = offices.office_for("Do investors pay land rent in the free trade zone?", "en")
    assert heza is not None and heza.name == "Hai Phong Economic Zone Authority (HEZA)"
    vi = offices.office_for("khu thuong mai tu do co mien tien thue dat khong", "vi")  # no diacritics
    assert vi is not None and vi.name == "Ban Quản lý Khu kinh tế Hải Phòng (HEZA)"
    dofa = offices.office_for("Who receives foreign delegations and embassies?", "en")
    assert dofa is not None and dofa.name == "Hai Phong Department of Foreign Affairs"
    assert offices.office_for("Đoàn công tác của đại sứ quán liên hệ ai?", "vi").name == "Sở Ngoại vụ thành phố Hải Phòng"
    fallback = offices.office_for("What is the weather today?", "en")
    assert fallback is not None and fallback.default and "18 Hoang Dieu" in fallback.line("en")
    # every office names its source; no office carries a made-up phone number or e-mail
    for lang in ("en", "vi"):
        for office in offices.offices(lang):
            assert office.source
            assert "@" not in office.contact and not any(ch.isdigit() for ch in office.contact.replace("18 Ho", ""))


def test_contacts_document_is_reread_when_staff_edit_it_and_a_broken_edit_keeps_the_last(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    offices = Offices(knowledge)
    assert offices.office_for("free trade zone land rent", "en").id == "heza"
    path = knowledge / "offices.en.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("name: \"Hai Phong Economic Zone Authority (HEZA)\"",
                                                               "name: \"HEZA (renamed)\""), encoding="utf-8")
    import os
    os.utime(path, (1, 1))
    assert offices.office_for("free trade zone land rent", "en").name == "HEZA (renamed)"
    path.write_text("offices: [unclosed", encoding="utf-8")
    os.utime(path, (2, 2))
    assert offices.office_for("free trade zone land rent", "en").name == "HEZA (renamed)"


def test_asking_for_an_officer_in_either_language() -> None:
    for text in ("talk to an officer", "Talk to an officer!", "I want to speak to a person", "ask an officer",
                 "gặp cán bộ", "hoi can bo", "Hỏi cán bộ", "cho tôi gặp cán bộ", "toi muon noi chuyen voi can bo"):
        assert officer_request(text) == "", text
    assert officer_request("gặp cán bộ: thủ tục thuê đất ở Cát Hải?") == "thủ tục thuê đất ở Cát Hải?"
    assert officer_request("talk to an officer about the land rent exemption") == "the land rent exemption"
    for text in ("What does an officer earn under Resolution 226?", "cán bộ được tăng thu nhập bao nhiêu?", ""):
        assert officer_request(text) is None, text


def test_consent_words() -> None:
    for text in ("yes", "Yes!", "có", "Co", "đồng ý", "dong y", "OK"):
        assert is_consent(text), text
    for text in ("yes, but what about land rent in the free trade zone?", "không", "no"):
        assert not is_consent(text), text
