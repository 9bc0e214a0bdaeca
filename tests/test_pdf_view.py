"""'View in document' for a PDF: the printed page rendered by pdfium, the cited passage found
on it, page navigation. A real two-page PDF made with fpdf2, the real model and index."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient

from conftest import write_docs
from qa.config import Settings
from qa.engine import Engine
from qa.pdf_view import PdfPages, line_boxes, matched_chars
from test_formats import make_pdf

QUESTION = "How far is the new lantern of the Skarv lighthouse visible?"


@pytest.fixture(scope="module")
def harbour(tmp_path_factory, embedder):
    from qa.server import create_app

    root = tmp_path_factory.mktemp("pdfview")
    docs = write_docs(root / "docs", {"notes.txt": "Bakery notes\n\nThe sourdough starter is fed every evening.\n"})
    (docs / "report.pdf").write_bytes(make_pdf())
    engine = Engine.open(Settings(docs=(docs,), index_dir=root / "index"))
    with TestClient(create_app(engine, ui=False), raise_server_exceptions=False) as client:
        yield engine, client, docs


def test_words_are_matched_across_different_spacing():
    page = "Lighthouse\r\nThe keeper of the Skarv light-\r\nhouse replaced the lamp."
    chars = matched_chars(page, "The keeper of the Skarv light-house")
    assert page[chars[0]:chars[0] + 3] == "The" and "".join(page[i] for i in chars).startswith("Thekeeperofthe")
    assert matched_chars(page, "") == [] and matched_chars(page, "nothing alike here at all") == []


def test_character_boxes_merge_into_one_box_a_line():
    chars = [(10, 100, 15, 110), (15, 100, 20, 110), (10, 80, 14, 90), (14, 80, 30, 90)]
    assert line_boxes(chars) == [(10, 100, 20, 110), (10, 80, 30, 90)]


def test_the_passage_is_found_on_its_page(harbour):
    engine, _, docs = harbour
    doc = engine.document("report.pdf")
    second = doc.text[doc.pages[1]:]
    boxes = PdfPages(1.5).boxes(docs / "report.pdf", 2, second[second.index("The keeper"):])
    assert 2 <= len(boxes) <= 3  # the sentence is printed on two or three lines
    assert all(0 <= b.left < 1 and 0 <= b.top < 0.3 and 0 < b.width <= 1 and 0 < b.height < 0.05 for b in boxes)
    assert boxes == sorted(boxes, key=lambda b: b.top)
    assert PdfPages(1.5).boxes(docs / "report.pdf", 1, second[second.index("The keeper"):]) == []


def test_view_shows_the_cited_page_marked_with_navigation(harbour):
    engine, client, _ = harbour
    r = engine.ask(QUESTION, 1).results[0]
    assert r.source == "report.pdf" and r.page == 2
    page = client.get(f"/view/{r.source}", params={"start": r.start, "end": r.end})
    assert page.status_code == 200 and "page 2 of 2" in page.text
    assert '<img src="/page-image/2/report.pdf"' in page.text
    assert '<mark id="passage"><span class="pdf-mark"' in page.text
    assert 'rel="prev"' in page.text and 'rel="next"' not in page.text
    first = client.get(f"/view/{r.source}", params={"start": r.start, "end": r.end, "page": 1})
    assert "page 1 of 2" in first.text and 'id="passage"' not in first.text and 'rel="next"' in first.text


def test_page_images_are_pngs_of_indexed_pdfs_only(harbour):
    from PIL import Image

    _, client, _ = harbour
    reply = client.get("/page-image/2/report.pdf")
    assert reply.status_code == 200 and reply.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(reply.content))
    assert image.size == (round(595.28 * 1.5), round(841.89 * 1.5))  # A4 at the default scale
    for path in ("/page-image/3/report.pdf", "/page-image/1/notes.txt", "/page-image/1/nope.pdf",
                 "/page-image/1/../../etc/passwd"):
        assert client.get(path).status_code == 404, path


def test_a_text_document_keeps_the_text_view(harbour):
    _, client, _ = harbour
    page = client.get("/view/notes.txt", params={"start": 14, "end": 40})
    assert '<main id="document">' in page.text and '<mark id="passage">' in page.text


def gym_pdf(lines, title=None) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    for text in lines:
        pdf.multi_cell(0, 7, text)
        pdf.ln(5)
    return bytes(pdf.output())


def test_a_pdf_without_title_metadata_is_titled_by_its_first_heading():
    from qa.documents import document_from_bytes

    rules = ("Gym rules", "Members wipe down every machine after use and return the weights to the rack.")
    assert document_from_bytes(gym_pdf(rules), "gym.pdf", "docs").title == "Gym rules"
    assert document_from_bytes(gym_pdf(rules, "House rules of the gym"), "gym.pdf", "docs").title == \
        "House rules of the gym"
    assert document_from_bytes(gym_pdf(rules[1:]), "gym.pdf", "docs").title == "gym"
