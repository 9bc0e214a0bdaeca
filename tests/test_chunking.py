"""Passages and sentences keep exact offsets and split where a reader would."""

from qa.chunking import approx_tokens, chunk_document, heading_spans, is_prose, split_sentences
from qa.documents import Document, guess_title, load_collection
from tests.conftest import SEEDS


def doc(text: str, source: str = "d.txt") -> Document:
    return Document(source, "c", "t", text, "h")


def texts(chunks):
    return [c.text for c in chunks]


def test_blank_line_and_single_newline_paragraphs_both_split():
    text = (
        "The first paragraph is a full sentence of prose.\n\nThe second paragraph follows a blank line here.\n"
        "The third paragraph follows a single newline only.\r\nThe fourth one ends with Windows newlines too.\r\n"
    )
    chunks = chunk_document(doc(text))
    assert texts(chunks) == [
        "The first paragraph is a full sentence of prose.",
        "The second paragraph follows a blank line here.",
        "The third paragraph follows a single newline only.",
        "The fourth one ends with Windows newlines too.",
    ]
    assert [c.paragraph for c in chunks] == [1, 2, 3, 4]


def test_offsets_slice_the_seed_documents_exactly():
    for d in load_collection(SEEDS).documents:
        chunks = chunk_document(d)
        assert len(chunks) > 5
        for c in chunks:
            assert d.text[c.start : c.end] == c.text
            for s, e in c.sentences:
                assert 0 <= s < e <= len(c.text)


def test_menu_debris_groups_into_one_short_lines_passage():
    text = (
        "Home\nAbout Us\nNews\nContact\n\nWas this page helpful?\n\n"
        "The committee approved the budget for the new bridge after a long debate.\n\n"
        "Last Updated: 09/20/2018\n"
    )
    chunks = chunk_document(doc(text))
    assert texts(chunks)[0] == "Home\nAbout Us\nNews\nContact\n\nWas this page helpful?"
    assert chunks[0].prose is False
    assert chunks[1].prose is True and chunks[1].text.startswith("The committee")
    assert chunks[2].text == "Last Updated: 09/20/2018" and chunks[2].prose is False


def test_title_stays_with_its_date_and_place_lines():
    text = (
        'Remarks on "Strong Partnerships Across the Atlantic"\n\nRelease Date: December 2, 2011\n\n'
        "Paris, France\nSome Institute of Defence\n\nThank you for that warm welcome to this forum today.\n"
    )
    first = chunk_document(doc(text))[0]
    assert first.text.startswith("Remarks on") and first.text.endswith("Some Institute of Defence")
    assert first.sentence_texts() == [
        'Remarks on "Strong Partnerships Across the Atlantic"',
        "Release Date: December 2, 2011",
        "Paris, France",
        "Some Institute of Defence",
    ]


def test_broken_one_word_line_joins_the_paragraph_below():
    text = "U.S.\nImmigration and Customs Enforcement also works with partners to seize counterfeit goods.\n"
    (chunk,) = chunk_document(doc(text))
    assert chunk.text == text.strip()


def test_long_paragraph_splits_at_sentence_boundaries_within_the_token_budget():
    sentence = "Each of these sentences carries about a dozen words of plain text. "
    text = (sentence * 40).strip()
    chunks = chunk_document(doc(text), max_tokens=60, count_tokens=approx_tokens)
    assert len(chunks) > 1
    for c in chunks:
        assert approx_tokens(c.text) <= 60
        assert c.text.startswith("Each") and c.text.endswith("text.")
        assert text[c.start : c.end] == c.text


def test_a_single_sentence_longer_than_the_window_is_cut_at_words():
    text = " ".join(["word"] * 500) + "."
    chunks = chunk_document(doc(text), max_tokens=50, count_tokens=approx_tokens)
    assert len(chunks) > 5
    assert all(approx_tokens(c.text) <= 50 for c in chunks)
    assert "".join(c.text for c in chunks).replace(" ", "") == text.replace(" ", "")


def test_sentences_respect_abbreviations_quotes_and_numbering():
    text = (
        'The first is protecting U.S. federal networks. A campaign called "Stop. Think. Connect." '
        "runs now. Mr. Smith agreed. It works!"
    )
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "The first is protecting U.S. federal networks.",
        'A campaign called "Stop. Think. Connect." runs now.',
        "Mr. Smith agreed.",
        "It works!",
    ]
    numbered = "1. Home\n2. About Us"
    assert [numbered[s:e] for s, e in split_sentences(numbered)] == ["1. Home", "2. About Us"]
    # a numbering abbreviation before its number is no sentence end; the same word before
    # a capital still is one
    works = "Liszt was the dedicatee of Chopin's Op. 10 Etudes. See pp. 34-41 of Vol. 2 there. A work of art. The end."
    assert [works[s:e] for s, e in split_sentences(works)] == [
        "Liszt was the dedicatee of Chopin's Op. 10 Etudes.", "See pp. 34-41 of Vol. 2 there.", "A work of art.",
        "The end."]


def test_prose_needs_words_and_a_sentence_end():
    assert is_prose("This line is a real sentence of prose.", 6)
    assert not is_prose('Remarks on "Our Shared Responsibility: The Importance of Partnerships"', 6)
    assert not is_prose("Paris, France", 6)


# --- fenced code is not Markdown structure (#11: a `# comment` in code became the title) --------

FENCED = (
    "```bash\n# install the tools first\npip install seed-qa\n```\n\n"
    "~~~python\n# a Python comment\nprint('```')\n~~~\n\n"
    "```\n# still code\n```python\n# code again, the line above is no closing fence\n```\n\n"
    "# Garden notes\n\nWater the tomatoes twice a week in summer.\n"
)


def test_comment_in_fenced_code_is_not_the_title():
    assert guess_title(FENCED, "fallback") == "Garden notes"
    assert guess_title("```\n# only code here\n```\n", "fallback") == "fallback"


def test_comment_in_fenced_code_is_no_heading_or_context():
    doc_ = Document("notes.md", "c", "t", FENCED, "h", "markdown")
    assert [FENCED[s:e] for s, e in heading_spans(FENCED)] == ["# Garden notes"]
    chunks = chunk_document(doc_)
    assert [c.context for c in chunks] == ["", "", "", "Garden notes"]
    assert chunks[2].text == "```\n# still code\n```python\n# code again, the line above is no closing fence\n```"


PLAIN_POLICY = (
    "NORTHWIND LTD\nREMOTE WORKING POLICY\n\nPolicy number: HR-9\n\n"
    "1. PURPOSE\n1.1 This policy explains how staff may split their week between home and office.\n\n"
    "2. OFFICE ATTENDANCE\n2.1 Staff are expected in the office on at least two days each week.\n\n"
    "Travel\n------\nTrips abroad need the approval of a line manager first.\n"
)


def test_plain_text_headings_are_context_not_passages():
    """Capitals and underlined lines head the passages under them, as Markdown headings do;
    a title over a subtitle is one heading, and a numbered heading is a section under it."""
    chunks = chunk_document(Document("p.txt", "c", "t", PLAIN_POLICY, "0"))
    texts = [c.text for c in chunks]
    assert not any(t.isupper() or t.startswith(("1. PURPOSE", "Travel")) for t in texts)
    by_text = {c.text[:4]: c.context for c in chunks}
    title = "NORTHWIND LTD - REMOTE WORKING POLICY"
    assert by_text["Poli"] == title
    assert by_text["1.1 "] == f"{title} › 1. PURPOSE"
    assert by_text["2.1 "] == f"{title} › 2. OFFICE ATTENDANCE"
    assert by_text["Trip"] == f"{title} › Travel"


def test_a_plain_text_of_headings_alone_keeps_them_as_passages():
    chunks = chunk_document(Document("h.txt", "c", "t", "ANNUAL REPORT\n\nCONTENTS\n", "0"))
    assert "ANNUAL REPORT" in chunks[0].text and all(not c.context for c in chunks)
