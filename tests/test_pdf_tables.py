"""A table in a PDF (cells printed as separate runs in columns) is one passage that ranks as
prose, a row a line with tabs between the cells, so the model reads each row with its column
names while the text shown and matched is what a PDF reader extracts; the prose around it
stays as it was. The PDF is written here with fpdf2."""

from __future__ import annotations

import pytest

from qa.chunking import chunk_document, embedding_text, sentence_embedding_texts
from qa.documents import document_from_bytes

INTRO = ("Hardness has no legal limit and is not a health concern, but customers often ask for it when "
         "setting up dishwashers and water softeners.")
ROWS = [("Zone", "Area", "Hardness"), ("LW-03", "Linthorpe town centre", "96 mg/l"),
        ("LW-04", "Castleford Heights", "148 mg/l"), ("LW-05", "Northgate and Pellow", "212 mg/l")]
AFTER = "You can find your zone by entering your postcode on the water quality page of our website."


def make_report() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=14)
    pdf.multi_cell(0, 8, "Water hardness by supply zone", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(0, 5, INTRO, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    with pdf.table(first_row_as_headings=False) as table:
        for cells in ROWS:
            row = table.row()
            for cell in cells:
                row.cell(cell)
    pdf.ln(4)
    pdf.multi_cell(0, 5, AFTER, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


@pytest.fixture(scope="module")
def chunks():
    return chunk_document(document_from_bytes(make_report(), "water.pdf", "docs"))


def test_a_pdf_table_is_one_prose_passage_read_with_its_column_names(chunks):
    table = [c for c in chunks if "LW-04" in c.text]
    assert len(table) == 1 and table[0].prose
    assert "Zone Area Hardness LW-03 Linthorpe town centre 96 mg/l LW-04" in " ".join(table[0].text.split())
    assert table[0].context.endswith("Water hardness by supply zone")
    assert "Zone: LW-04; Area: Castleford Heights; Hardness: 148 mg/l." in embedding_text(table[0])
    rows = sentence_embedding_texts(table[0])
    assert "Zone: LW-05; Area: Northgate and Pellow; Hardness: 212 mg/l." in rows  # a row is a sentence


def test_the_prose_around_a_pdf_table_stays_as_it_was(chunks):
    texts = [" ".join(c.text.split()) for c in chunks]
    assert INTRO in texts and AFTER in texts
    assert not any("\t" in c.text or "|" in c.text for c in chunks if "LW-04" not in c.text)
