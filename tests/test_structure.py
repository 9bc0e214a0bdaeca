"""Structure in every format: HTML h1-h6 and PDF title and section headings become the
context of the passages under them, never passages of their own; PDF running headers,
footers and page numbers are dropped; a list or a table stays under its heading; a
paragraph cut by a page break is one passage. Documents written here (fpdf2 for the PDF)."""

from __future__ import annotations


import pytest

from conftest import write_docs
from qa.chunking import chunk_document
from qa.config import Settings
from qa.documents import document_from_bytes
from qa.engine import Engine

HEADER = "Orbis Kettles | KT-9 Travel Kettle | Owner's Guide"
TITLE = "KT-9 Travel Kettle: Owner's Guide"
SECTIONS = [
    ("1. Filling the kettle",
     ["Open the lid with the button on the handle and fill the kettle with cold water up to the line marked "
      "MAX. Never boil less than one cup of water, because the element can overheat when it is not covered."]),
    ("2. Descaling",
     ["In hard water areas a white crust builds up on the element. Fill the kettle half full with equal parts "
      "of water and white vinegar, leave it for one hour, then rinse it three times with clean water before "
      "the next use so that no taste of vinegar remains in your tea."] * 3),
    ("3. Indicator lights",
     ["- Blue light: the kettle is heating.", "- Green light: the water has boiled and the kettle is off.",
      "- Flashing red light: the kettle is empty and the dry-boil guard has switched it off."]),
]


def make_manual() -> bytes:
    """Two pages: a small running header and a 'Page N of M' footer on each, a bold title,
    bold section headings, body text that runs over the page break."""
    from fpdf import FPDF

    class Manual(FPDF):
        def header(self):
            self.set_font("Helvetica", size=8)
            self.cell(0, 6, HEADER, new_x="LMARGIN", new_y="NEXT")

        def footer(self):
            self.set_y(-15)
            self.set_font("Helvetica", size=8)
            self.cell(0, 6, f"Page {self.page_no()} of {{nb}}")

    pdf = Manual()
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=16)
    pdf.multi_cell(0, 9, TITLE, new_x="LMARGIN", new_y="NEXT")
    for heading, paragraphs in SECTIONS:
        pdf.set_font("Helvetica", style="B", size=12)
        pdf.multi_cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=10)
        for text in paragraphs:
            pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3 if not text.startswith("-") else 0)
        if heading.startswith("1."):
            pdf.ln(178)  # pushes the descaling text over the page break
    return bytes(pdf.output())


PAGE = """<!doctype html><html><head><title>Harbour Swim Club</title></head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/join">Join us</a></li></ul></nav>
<main><article>
<h1>Harbour Swim Club</h1>
<p>The club swims in the outdoor harbour pool all year round, whatever the weather brings.</p>
<h2>Membership</h2>
<h3>Fees</h3>
<ul><li>Adults pay 120 pounds for the whole year.</li><li>Juniors under 16 pay 45 pounds.</li></ul>
<h3>Sessions</h3>
<table><tr><th>Day</th><th>Time</th></tr><tr><td>Tuesday</td><td>Early bird swim at 6:30</td></tr>
<tr><td>Saturday</td><td>Family session at 10:00</td></tr></table>
<h2>Returns policy</h2>
<p>Goggles and caps bought at the desk can be brought back unused within thirty days for a full refund.</p>
</article></main></body></html>"""


@pytest.fixture(scope="module")
def manual():
    return document_from_bytes(make_manual(), "kt9.pdf", "docs")


@pytest.fixture(scope="module")
def page():
    return document_from_bytes(PAGE.encode(), "club.html", "docs")


def test_pdf_running_header_and_page_footer_are_not_indexed(manual):
    assert len(manual.pages) == 2
    assert "Orbis Kettles" not in manual.text and "Page 1 of" not in manual.text and "Page 2" not in manual.text
    for chunk in chunk_document(manual):
        assert "Orbis Kettles" not in chunk.text and "Page " not in chunk.text


def test_pdf_title_and_headings_are_context_never_passages(manual):
    chunks = chunk_document(manual)
    assert manual.title == TITLE
    headings = [TITLE] + [h for h, _ in SECTIONS]
    assert not any(h in c.text for c in chunks for h in headings)
    under = {c.text.split(".")[0]: c.context for c in chunks}
    assert under["Open the lid with the button on the handle and fill the kettle with cold water up to the line "
                 "marked MAX"] == f"{TITLE} › 1. Filling the kettle"
    lights = next(c for c in chunks if "Blue light" in c.text)
    assert lights.context.endswith("3. Indicator lights") and "Flashing red light" in lights.text  # list kept whole


def test_pdf_paragraph_cut_by_the_page_break_is_one_passage(manual):
    last = [c for c in chunk_document(manual) if c.context.endswith("2. Descaling")][-1]
    assert last.text.endswith("no taste of vinegar remains in your tea.")
    assert last.text.startswith("In hard water areas")
    assert manual.page_of(last.start) == 1 and manual.page_of(last.end - 1) == 2


def test_html_headings_are_context_and_lists_and_tables_stay_under_them(page):
    chunks = chunk_document(page)
    assert not any(c.text.strip().lstrip("#").strip() in ("Harbour Swim Club", "Membership", "Fees", "Sessions",
                                                           "Returns policy") for c in chunks)
    fees = next(c for c in chunks if "120 pounds" in c.text)
    assert fees.context == "Harbour Swim Club › Membership › Fees" and "Juniors under 16" in fees.text
    sessions = next(c for c in chunks if "Early bird swim" in c.text)
    assert sessions.context == "Harbour Swim Club › Membership › Sessions" and "Family session" in sessions.text
    assert "Join us" not in page.text


@pytest.mark.slow
def test_a_question_repeating_a_heading_finds_the_passage_under_it(tmp_path, embedder):
    docs = write_docs(tmp_path / "docs", {"club.html": PAGE})
    (docs / "kt9.pdf").write_bytes(make_manual())
    engine = Engine.open(Settings(docs=(docs,), index_dir=tmp_path / "index"))
    for question, phrase in [("What is the returns policy of the swim club?", "thirty days"),
                             ("How do I descale the travel kettle?", "white vinegar"),
                             ("What does the flashing red indicator light mean?", "dry-boil guard")]:
        best = engine.ask(question).best
        assert phrase in best.text, question
        assert best.text.strip() not in (TITLE, "Harbour Swim Club")
