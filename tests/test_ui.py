"""The UI's handlers and rendering, without a browser: escaping, answer-first layout,
the no-answer state, friendly messages."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa.answers import Answer, Result
from qa.highlight import Highlight
from qa.citations import cite, section_of, view_url
from qa.formats import SUPPORTED_EXTENSIONS
from qa.render import EMPTY_MESSAGE, NO_ANSWER, esc, marked, relevance, render_answer
from qa.ui import ask_html, build_ui, default_examples, opening_html, upload_types, welcome_html

HOSTILE = 'Beware <script>alert(1)</script> and <img src=x onerror=alert(1)> plus ${alert(2)} {{constructor}} `x`.'


def result(text: str = "Alpha beta. The forum was in Budapest. Gamma.", rank: int = 1, score: float = 0.8,
           source: str = "dir/a b.txt", title: str = "A <b>title</b>") -> Result:
    start = text.index("The") if "The" in text else 0
    end = text.index(".", start) + 1 if "." in text[start:] else len(text)
    return Result(rank, score, source, title, 3, 100, 100 + len(text), text,
                  (Highlight(start, end, text[start:end], 0.9),))


def answer(answerable: bool = True, results: tuple[Result, ...] | None = None, question: str = "Where?") -> Answer:
    if results is None:
        results = (result(), result("Second passage. Nothing here.", 2, 0.4, "b.md", "B"))
    return Answer(question, "docs", answerable, 0.9 if answerable else 0.2, results)


def visible_text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def test_esc_neutralises_markup_and_template_syntax():
    out = esc(HOSTILE)
    assert "<" not in out and ">" not in out
    assert "${" not in out and "{{" not in out and "`" not in out
    assert html.unescape(out) == HOSTILE


@given(st.text(max_size=80), st.lists(st.tuples(st.integers(-5, 90), st.integers(-5, 90)), max_size=4))
def test_marked_keeps_the_text_and_escapes_it(text, spans):
    out = marked(text, spans)
    assert visible_text(out) == text
    assert re.sub(r"</?mark>", "", out).count("<") == 0


def test_marked_wraps_the_span():
    assert marked("a <b> c", [(2, 5)]) == "a <mark>&lt;b&gt;</mark> c"


def test_answer_first_layout_with_citation_and_cards():
    out = render_answer(answer())
    first = out.index('class="qa-answer"')
    assert first < out.index('class="qa-card"')
    answer_block = out[first:out.index('class="qa-card"')]
    assert '<mark class="qa-answer-mark">The forum was in Budapest.</mark>' in answer_block
    assert "[1]" in answer_block
    for part in ("dir/a b.txt", "¶3", "chars 100–", "View in document"):
        assert part in answer_block
    assert out.count('class="qa-card"') == 2
    assert "<mark>The forum was in Budapest.</mark>" in out
    assert "A &lt;b&gt;title&lt;/b&gt;" in out and "<b>title</b>" not in out
    assert 'style="width:100%"' in out and 'style="width:50%"' in out
    assert 'href="/view/dir/a%20b.txt?start=100&amp;end=' in out


def test_no_answer_state_still_shows_the_closest_passages():
    out = render_answer(answer(answerable=False, question="Who won <the> cup?"))
    assert NO_ANSWER in out
    assert 'class="qa-answer"' not in out and "qa-answer-mark" not in out
    assert out.count('class="qa-card"') == 2
    assert "Closest passages" in out
    assert "Who won &lt;the&gt; cup?" in out


def test_no_results_at_all():
    out = render_answer(answer(answerable=False, results=()))
    assert NO_ANSWER in out


def test_hostile_document_text_renders_as_text():
    out = render_answer(answer(results=(result(HOSTILE + " The end.", title="<img src=x onerror=alert(1)>",
                                               source="<script>.txt"),)))
    assert "<script" not in out and "<img" not in out and "${" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out
    assert HOSTILE in visible_text(out)


def test_view_url_quotes_the_source():
    assert view_url("a b/ü?.txt", 1, 5) == "/view/a%20b/%C3%BC%3F.txt?start=1&end=5#passage"
    assert view_url("x.txt", base="/app") == "/app/view/x.txt#passage"


def test_relevance_is_relative_to_the_best():
    rs = [result(score=2.0), result(score=1.0), result(score=-0.5)]
    assert relevance(rs) == [1.0, 0.5, 0.0]
    assert relevance([result(score=0.0)]) == [0.0]


class NeverAsked:
    """An engine stand-in: an empty question must not reach the engine."""

    def ask(self, *args, **kwargs):  # pragma: no cover - failing path
        raise AssertionError("the engine was asked")


@pytest.mark.parametrize("question", ["", "   ", None, "\n\t"])
def test_empty_question_is_a_friendly_message(question):
    out = ask_html(NeverAsked(), question)  # type: ignore[arg-type]
    assert "qa-message" in out and esc(EMPTY_MESSAGE) in out and "qa-error" not in out


def test_handler_answers_with_the_real_engine(seeds_engine):
    out = ask_html(seeds_engine, "Where was the European Cybercrime Forum held?", 3, "hybrid")
    mark = re.search(r'<mark class="qa-answer-mark">(.*?)</mark>', out)
    assert mark and "Budapest" in mark.group(1)
    assert out.count('class="qa-card"') == 3
    assert "000_a17f7510e5746d01.txt" in out


def test_handler_unanswerable_question(seeds_engine):
    out = ask_html(seeds_engine, "Who won the 2010 FIFA World Cup?", 5, "hybrid")
    assert NO_ANSWER in out and 'class="qa-card"' in out


@pytest.mark.parametrize("k, mode", [(5, "fuzzy"), (0, "hybrid"), ("many", "dense")])
def test_bad_settings_are_a_message_not_an_exception(seeds_engine, k, mode):
    out = ask_html(seeds_engine, "Where was the forum?", k, mode)
    assert "qa-error" in out


def test_punctuation_only_question_is_a_message(seeds_engine):
    out = ask_html(seeds_engine, "?!", 5, "hybrid")
    assert "qa-message" in out and "Traceback" not in out


def test_build_ui_has_the_expected_elements(seeds_engine):
    import gradio as gr

    demo = build_ui(seeds_engine)
    assert isinstance(demo, gr.Blocks)
    ids = {getattr(block, "elem_id", None) for block in demo.blocks.values()}
    assert {"question", "ask", "results", "qa-settings", "qa-k", "qa-mode"} <= ids


def test_the_app_passes_the_seed_examples_in():
    import app

    assert "Where was the European Cybercrime Forum held?" in app.examples_for([app.SEEDS])
    assert app.examples_for(["/somewhere/else"]) is None


def test_default_examples_for_another_collection(tmp_path):
    from types import SimpleNamespace

    docs = [SimpleNamespace(title="One two three four five six seven eight nine ten"), SimpleNamespace(title="Short")]
    engine = SimpleNamespace(settings=SimpleNamespace(docs=(tmp_path,)), documents=lambda: docs)
    assert default_examples(engine) == ["What is “One two three four five six seven eight…” about?",
                                        "What is “Short” about?"]


def test_upload_picker_offers_every_format_the_loader_reads():
    assert ".markdown" in upload_types() and set(upload_types()) == set(SUPPORTED_EXTENSIONS)


def test_section_is_the_heading_above_the_passage():
    text = "# Guide\n\nIntro.\n\n## Budget lines\n\nThe budget grew.\n\n### Staff\n\nTen people.\n"
    assert section_of(text, text.index("The budget"), "Guide") == "Budget lines"
    assert section_of(text, text.index("Ten people"), "Guide") == "Staff"
    assert section_of(text, text.index("Intro"), "Guide") is None  # only the title above it
    assert section_of("No headings here.", 5) is None


def test_citation_reads_as_title_page_section_paragraph_and_copies_as_text():
    r = Result(2, 0.7, "reports/q3.pdf", "A very long report title that must wrap, never be cut", 4, 500, 640,
               "Before. Revenue rose by 12% in the third quarter. After.",
               (Highlight(8, 49, "Revenue rose by 12% in the third quarter.", 0.9),), "docs", page=3)
    c = cite(r, "Results")
    assert c.place() == "p. 3 · § Results · ¶4"
    assert c.plain() == ("“Revenue rose by 12% in the third quarter.” — A very long report title that must wrap, "
                         "never be cut, p. 3 · § Results · ¶4 (reports/q3.pdf, characters 500–640)")
    out = render_answer(Answer("How much?", "docs", True, 0.9, (r,)), section_of=lambda _: "Results")
    main = out[out.index('class="qa-cite-main"'):out.index('class="qa-cite-meta"')]
    assert "A very long report title that must wrap, never be cut" in main and "p. 3" in main
    assert "§ Results" in main and "¶4" in main and "q3.pdf" not in main  # the file is on the quiet line
    assert f'data-citation="{esc(c.plain())}"' in out and ">Copy citation</button>" in out


def test_opening_the_page_with_a_question_answers_it(seeds_engine):
    question, out = opening_html(seeds_engine, "Where was the European Cybercrime Forum held?")
    assert question.startswith("Where was") and "Budapest" in out and "qa-answer-mark" in out
    assert opening_html(seeds_engine, None)[0] == "" and "qa-welcome" in opening_html(seeds_engine, "  ")[1]


def test_handler_cites_the_markdown_section(tmp_path, embedder):
    from qa.config import Settings
    from qa.engine import Engine

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text("# Harbour guide\n\nWelcome aboard.\n\n## Ferries\n\n"
                                   "The morning ferry to Sandvik leaves at 07:40 from pier 3.\n", encoding="utf-8")
    engine = Engine.open(Settings(docs=(docs,), index_dir=tmp_path / "index"))
    out = ask_html(engine, "When does the morning ferry to Sandvik leave?", 1)
    assert '<span class="qa-section">§ Ferries</span>' in out


def test_library_lists_filters_and_removes(tmp_path, embedder):
    from conftest import TINY_DOCS, write_docs
    from qa.config import Settings
    from qa.engine import Engine
    from qa.ui import library_choices, library_html, remove_html

    docs = write_docs(tmp_path / "docs", TINY_DOCS)
    engine = Engine.open(Settings(docs=(docs,), index_dir=tmp_path / "index", uploads_dir=tmp_path / "up"))
    table = library_html(engine)
    assert "2 of 2 documents" in table and "Animals of the farm" in table and "space.txt" in table
    assert 'data-label="Format">markdown</td>' in table and 'data-label="From">folder</td>' in table
    assert "1 of 2 documents" in library_html(engine, "SOLAR") and "animals.md" not in library_html(engine, "solar")
    assert "No document matches" in library_html(engine, "zebra")
    [(label, key)] = library_choices(engine, "space")
    # the remove control names the collection as clients see it, never a server folder
    assert label == "Notes on the solar system — space.txt" and key == f"{docs.name}\nspace.txt"
    assert str(tmp_path) not in table
    out = remove_html(engine, key)
    assert "Removed “Notes on the solar system” (space.txt)" in out and "left in its folder" in out
    assert (docs / "space.txt").exists() and [d.source for d in engine.documents()] == ["animals.md"]
    assert "Choose a document" in remove_html(engine, None)
    assert "qa-error" in remove_html(engine, key)  # already removed


def test_a_page_opened_before_the_first_index_says_indexing(tiny_settings):
    from qa.engine import Engine
    from qa.ui import progress_html, status_html

    engine = Engine.starting(tiny_settings)  # no build requested: nothing is served
    assert "being indexed" in welcome_html(engine) and "no index served yet" in status_html(engine)
    out = ask_html(engine, "How many moons does Mars have?")
    assert "no index" in out and "qa-error" not in out
    assert progress_html(engine) == ""  # no build has run yet


def test_the_progress_bar_shows_counts_and_a_cancel_button():
    from qa.progress import BuildStatus, Progress
    from qa.render_progress import render_progress

    running = Progress("embedding", 2, 3, 96, 4096, 31.0, 130.4, "2026-11-26T14:25:47+00:00")
    out = render_progress(BuildStatus("building", running, 2, 96), "/base")
    assert "2 of 3 documents, 96 of 4,096 passages, 31 texts/s, about 2 min 10 s left" in out
    assert 'aria-valuenow="2"' in out and 'data-cancel-url="/base/api/build/cancel"' in out
    assert "2 documents are answered meanwhile" in out
    assert "previous index is still served" in render_progress(BuildStatus("cancelled", running, 2, 96))
    assert render_progress(BuildStatus("idle", running, 3, 4096)) == ""
