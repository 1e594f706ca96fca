"""Loaders and chunking: every supported format becomes a Document with citation metadata, and a
document becomes chunks of whole sentences that carry the title and record their position."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from indexer.chunking import chunk_document, split_sentences
from indexer.documents import Document, UnreadableDocument, load_all, load_file
from tests.conftest import KNOWLEDGE

PORTAL_PAGE = """<!doctype html><html lang="en"><head><title>Hai Phong welcomes Korean investors</title>
<meta property="og:title" content="Hai Phong welcomes Korean investors">
<meta property="article:published_time" content="2026-02-10">
<link rel="canonical" href="https://en.haiphong.gov.vn/news/hai-phong-welcomes-korean-investors-900001">
</head><body>
<nav><a href="/">Home</a> | <a href="/news">News</a> | QR Code</nav>
<article><h1>Hai Phong welcomes Korean investors</h1>
<p>On February 10, the City People's Committee received a delegation of Korean electronics investors
who are studying sites in the free trade zone near Lach Huyen port.</p>
<p>The delegation asked about land rent exemptions and customs procedures in the zone, and the city
promised a one-stop service for licensing.</p>
</article><footer>Editor-in-chief: Chief of staff Tran Huy Kien</footer></body></html>"""


def test_bundled_documents_load_with_their_metadata() -> None:
    loaded = load_all(KNOWLEDGE)
    assert not loaded.skipped and not loaded.warnings
    docs = {d.doc_id: d for d in loaded.documents}
    article = docs["external-relations-2025-review.en.md"]
    assert article.url.startswith("https://en.haiphong.gov.vn/news/")
    assert article.published == "2026-01-06" and article.language == "en" and article.kind == "article"
    translation = docs["external-relations-2025-review.vi.md"]
    assert translation.translation_of == "external-relations-2025-review.en.md"
    assert translation.unofficial_translation
    assert docs["resolution-226-factsheet.en.md"].url == ""  # no known link: none invented
    assert any(d.kind == "contact" for d in docs.values())


def test_html_page_gives_main_text_title_date_and_link(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(PORTAL_PAGE, encoding="utf-8")
    doc = load_file(tmp_path / "page.html", tmp_path)
    assert doc.title == "Hai Phong welcomes Korean investors"
    assert doc.published == "2026-02-10"
    assert doc.url == "https://en.haiphong.gov.vn/news/hai-phong-welcomes-korean-investors-900001"
    assert "Lach Huyen" in doc.text and "QR Code" not in doc.text and "Home" not in doc.text


def test_pdf_and_docx_are_read_and_a_sidecar_adds_metadata(tmp_path: Path) -> None:
    pdf = tmp_path / "plan.pdf"
    c = canvas.Canvas(str(pdf), pagesize=A4)
    c.setTitle("Investment promotion plan 2026")
    c.drawString(72, 760, "The city will hold an investment promotion conference in Seoul in May 2026.")
    c.save()
    (tmp_path / "plan.pdf.meta.yaml").write_text('url: "https://example.gov.vn/plan"\npublished: 2026-01-20\n'
                                                 "kind: plan\n", encoding="utf-8")
    word = docx.Document()
    word.core_properties.title = "Kế hoạch xúc tiến đầu tư"
    word.add_paragraph("Thành phố tổ chức hội nghị xúc tiến đầu tư tại Seoul vào tháng 5 năm 2026.")
    word.save(str(tmp_path / "ke-hoach.docx"))

    loaded = load_all(tmp_path)
    assert not loaded.skipped
    docs = {d.doc_id: d for d in loaded.documents}
    assert docs["plan.pdf"].title == "Investment promotion plan 2026"
    assert "Seoul" in docs["plan.pdf"].text
    assert (docs["plan.pdf"].url, docs["plan.pdf"].published, docs["plan.pdf"].kind) == (
        "https://example.gov.vn/plan", "2026-01-20", "plan")
    assert docs["ke-hoach.docx"].language == "vi" and "Seoul" in docs["ke-hoach.docx"].text


@pytest.mark.parametrize("name,content,reason", [
    ("broken.pdf", b"%PDF-1.4 garbage", "PDF"),
    ("broken.docx", b"PK\x03\x04 not a zip", "DOCX"),
    ("bad-date.md", b"---\ntitle: x\npublished: 6 January\n---\ntext\n", "ISO date"),
    ("bad-lang.md", b"---\ntitle: x\nlanguage: fr\n---\ntext\n", "en or vi"),
    ("latin1.md", "Hải Phòng".encode("utf-16"), "UTF-8"),
    ("empty.md", b"---\ntitle: x\n---\n   \n", "no text"),
])
def test_unreadable_files_are_skipped_with_a_reason(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    (tmp_path / name).write_bytes(content)
    (tmp_path / "good.md").write_text("---\ntitle: Good\n---\nA readable document.\n", encoding="utf-8")
    loaded = load_all(tmp_path)
    assert [d.doc_id for d in loaded.documents] == ["good.md"]
    assert len(loaded.skipped) == 1 and loaded.skipped[0].path == name
    assert reason in loaded.skipped[0].reason
    with pytest.raises(UnreadableDocument):
        load_file(tmp_path / name, tmp_path)


def test_chunks_keep_sentences_whole_carry_the_title_and_record_positions() -> None:
    sentences = [f"Sentence number {i} talks about the free trade zone and its incentives for investors." for i in range(30)]
    doc = Document(doc_id="long.md", title="A long plan", text="# A long plan\n\n## Incentives\n\n" + " ".join(sentences))
    chunks = chunk_document(doc, max_chars=400)
    assert len(chunks) > 3
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert all(c.chunk_id == f"long.md#{c.position}" for c in chunks)
    for chunk in chunks:
        assert len(chunk.text) <= 400
        assert all(s in sentences for s in split_sentences(chunk.text))  # no sentence cut
        assert chunk.section == "Incentives"
        assert chunk.embedding_text(doc.title).startswith("A long plan — Incentives")
        assert doc.text[chunk.char_start:chunk.char_end].strip()


def test_sentence_splitter_respects_numbers_codes_and_abbreviations() -> None:
    text = ('On March 27, 2023, the city issued Action Plan No. 01/CTr-UBND. It passed with 93.51% of votes. '
            'Mr. Ngo Le Van spoke under the theme "A New Era." Then the meeting closed.')
    assert split_sentences(text) == [
        "On March 27, 2023, the city issued Action Plan No. 01/CTr-UBND.",
        "It passed with 93.51% of votes.",
        'Mr. Ngo Le Van spoke under the theme "A New Era."',
        "Then the meeting closed.",
    ]
