"""Tables and lists of structured documents: they rank as prose (an ingredient list or a
timetable holds the body's figures, not menu debris), and the model reads a table's rows
with their column names. Documents written here; the index is real, on disk."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import write_docs
from qa.chunking import chunk_document, embedding_text, lexical_text
from qa.config import Settings
from qa.documents import document_from_bytes
from qa.engine import Engine
from qa.tables import reading, sentence_readings

TIMETABLE = """# A weekend on Valmora

## Getting there

The crossing from Port Ansel takes about 75 minutes in normal weather.

| Ferry timetable by season |  |  |
|---|---|---|
| Season | Sailings | Notes |
|---|---|---|
| April to October | Five sailings a day | Extra evening sailing on Fridays |
| November to March | Two sailings a day, none on Tuesdays | Sailings may be cancelled in strong winds |

## Ingredients

- 300 g split red lentils
- 2 teaspoons smoked paprika

## Links

- Home
- Blog

## Contents

- [How to book the ferry to the island](#getting-there)
- [What to pack for a weekend on Valmora](#packing)
"""


def passages(text: str, name: str = "guide.md"):
    return chunk_document(document_from_bytes(text.encode(), name, "docs"))


def test_tables_and_lists_of_words_rank_as_prose_but_a_menu_of_links_does_not():
    chunks = {c.context.split(" › ")[-1] + ("|" if c.text.startswith("|") else ""): c for c in passages(TIMETABLE)}
    assert chunks["Getting there|"].prose is True
    assert chunks["Ingredients"].prose is True
    assert chunks["Links"].prose is False
    assert chunks["Contents"].prose is False


def test_a_table_row_is_read_with_its_column_names_and_the_caption_alone():
    table = next(c for c in passages(TIMETABLE) if c.text.startswith("|"))
    read = reading(table.text).splitlines()
    assert read[0] == "Ferry timetable by season."
    assert read[-1] == ("Season: November to March; Sailings: Two sailings a day, none on Tuesdays; "
                        "Notes: Sailings may be cancelled in strong winds.")
    rows = sentence_readings(table.text, table.sentence_texts())
    assert rows[-1] == read[-1] and len(rows) == len(table.sentences)
    assert "|" not in embedding_text(table) and lexical_text(table).endswith(table.text)


def test_text_that_is_no_table_is_read_as_written():
    prose = "Fees | are paid | at the desk.\nAnd nothing here is a table."
    assert reading(prose) == prose
    assert sentence_readings(prose, ["a", "b"]) == ["a", "b"]


@pytest.mark.slow
def test_the_index_holds_the_vectors_of_the_rows_as_read(tmp_path, embedder):
    docs = write_docs(tmp_path / "docs", {"guide.md": TIMETABLE})
    engine = Engine.open(Settings(docs=(docs,), index_dir=tmp_path / "index"))
    index = engine.index
    row = next(r for r in range(index.passages) if index.chunks[r].text.startswith("|"))
    table = index.chunks[row]
    stored = index.sentence_vectors_of(row)[-1]
    as_read, as_pipes = embedder.encode_documents([sentence_readings(table.text, table.sentence_texts())[-1],
                                                   table.sentence_texts()[-1]])
    assert float(np.dot(stored, as_read)) > 0.99 > float(np.dot(stored, as_pipes))
    best = engine.ask("How many ferry sailings a day are there from November to March?").best
    assert best.text.startswith("|") and "none on Tuesdays" in best.highlights[0].text
