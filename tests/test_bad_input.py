"""Bad questions and parameters at the engine: a BadQueryError with a helpful message, or
a valid answer (with a note when the question had to be cut)."""

from __future__ import annotations

import json

import pytest

from qa.engine import MAX_K, MAX_QUESTION_CHARS, Engine, check_question, clean_question, validate_k, validate_mode
from qa.errors import BadQueryError


@pytest.fixture(scope="module")
def engine(tmp_path_factory, embedder):
    from conftest import TINY_DOCS, write_docs
    from qa.config import Settings

    root = tmp_path_factory.mktemp("bad-input")
    docs = write_docs(root / "docs", TINY_DOCS)
    return Engine.open(Settings(docs=(docs,), index_dir=root / "index"))


def check_answer(answer, engine: Engine) -> None:
    """Every result is a real passage of an indexed document, with in-bounds highlights."""
    assert answer.results, "a valid question gets passages"
    for r in answer.results:
        doc = engine.document(r.source)
        assert doc.text[r.start : r.end] == r.text
        for h in r.highlights:
            assert 0 <= h.start < h.end <= len(r.text) and r.text[h.start : h.end] == h.text
    json.dumps(answer.to_dict(), ensure_ascii=False)


@pytest.mark.parametrize(
    "question, message",
    [
        ("", "empty"),
        ("   \t\n  ", "empty"),
        ("\x00\x01\x1b\x7f", "empty"),
        ("?!... ---", "no words"),
        ("😀🚀🎉", "no words"),
        ("¿¡«»", "no words"),
        (None, "must be text"),
        (42, "must be text"),
        (b"bytes", "must be text"),
    ],
    ids=["empty", "whitespace", "controls-only", "punctuation", "emoji-only", "symbols", "none", "int", "bytes"],
)
def test_unanswerable_questions_raise_a_helpful_error(engine, question, message):
    with pytest.raises(BadQueryError, match=message):
        engine.ask(question)


@pytest.mark.parametrize(
    "question",
    [
        "How many moons does Mars have?\x00",
        "Which \x00planet\x07 has a red\x1b[31m storm?",
        "what guards the sheep 🐑🐕 at night?",
        "ما هو أكبر كوكب في النظام الشمسي؟",  # Arabic: which is the largest planet?
        "מהו כוכב הלכת הגדול ביותר?",  # Hebrew
        "Welcher Planet hat zwei kleine Monde?",  # German
        "火星有几颗卫星？",  # Chinese
        "planet\u200f mars\u202e moons",  # bidi marks
        "Mars \ud800 moons",  # a lone surrogate (from a broken JSON client)
        "42",
        "the of and",  # only stop words
    ],
    ids=["nul", "controls", "emoji", "arabic", "hebrew", "german", "chinese", "bidi", "surrogate", "digits", "stopwords"],
)
def test_odd_but_valid_questions_get_an_answer(engine, question):
    answer = engine.ask(question, k=3)
    check_answer(answer, engine)
    assert "\x00" not in answer.question and "\x1b" not in answer.question
    assert not any(0xD800 <= ord(ch) <= 0xDFFF for ch in answer.question)


def test_control_characters_do_not_change_the_answer(engine):
    plain = engine.ask("How many moons does Mars have?", k=2)
    noisy = engine.ask("How many\x00 moons\x07 does\r\nMars have?\x1f", k=2)
    assert noisy.question == plain.question
    assert [r.source for r in noisy.results] == [r.source for r in plain.results] == ["space.txt", "space.txt"]
    assert noisy.results[0].text.startswith("Mars is the fourth planet")


def test_ten_thousand_character_question_is_answered_with_a_note(engine):
    question = "Which planet has two small moons called Phobos and Deimos? " + "moons " * 1700
    assert len(question) > 10_000
    answer = engine.ask(question, k=2)
    check_answer(answer, engine)
    assert any("truncated to the model's 256-token window" in n for n in answer.notes)
    assert answer.to_dict()["notes"] == list(answer.notes)
    assert answer.best.text.startswith("Mars is the fourth planet")
    short = engine.ask("Which planet has two small moons?", k=1)
    assert "notes" not in short.to_dict()


def test_the_question_limit_is_the_constant_as_written(engine):
    """MAX_QUESTION_CHARS characters are read, not one more, and the note names that number."""
    words = "Jupiter storm " * (MAX_QUESTION_CHARS // 14 + 1)
    assert len(check_question(words[:MAX_QUESTION_CHARS + 5])) == MAX_QUESTION_CHARS
    at_limit = engine.ask(words[:MAX_QUESTION_CHARS], k=1)
    assert not any("cut to its first" in n for n in at_limit.notes)
    over = engine.ask(words[:MAX_QUESTION_CHARS + 1], k=1)
    assert f"question cut to its first {MAX_QUESTION_CHARS} characters" in over.notes


def test_a_million_characters_are_cut_first(engine):
    answer = engine.ask("Jupiter storm " * 80_000, k=1)
    assert any("cut to its first" in n for n in answer.notes)
    assert answer.best.source == "space.txt"


@pytest.mark.parametrize(
    "k",
    [0, -1, -100, MAX_K + 1, 10**12, 2.5, float("nan"), float("inf"), "abc", "", "5.5", True, None, [3], "1e999"],
    ids=lambda k: repr(k)[:12],
)
def test_bad_k_raises(engine, k):
    if k is None:
        assert len(engine.ask("Mars moons", k=k).results) <= engine.settings.k  # None means the default
        return
    with pytest.raises(BadQueryError, match=r"k must be a whole number from 1 to 100"):
        engine.ask("Mars moons", k=k)


@pytest.mark.parametrize("k, expected", [(1, 1), ("2", 2), (" 3 ", 3), (4.0, 4), ("5.0", 5), (MAX_K, MAX_K)])
def test_k_accepts_whole_numbers_in_any_form(k, expected):
    assert validate_k(k) == expected


def test_k_larger_than_the_collection_returns_every_passage(engine):
    answer = engine.ask("planets", k=MAX_K)
    assert len(answer.results) == len(engine.index.chunks)


@pytest.mark.parametrize("mode", ["fuzzy", "HYBRIDS", 3, ["dense"]])
def test_unknown_mode_raises(engine, mode):
    with pytest.raises(BadQueryError, match="unknown mode .*use one of hybrid, dense, bm25"):
        engine.ask("Mars moons", mode=mode)


@pytest.mark.parametrize("mode, expected", [(None, "hybrid"), ("", "hybrid"), ("Dense", "dense"), (" bm25 ", "bm25")])
def test_mode_is_forgiving_about_case_and_blanks(engine, mode, expected):
    assert validate_mode(mode, "hybrid") == expected
    assert engine.ask("Mars moons", k=1, mode=mode).best.source == "space.txt"


def test_batch_rejects_a_bare_string_and_reports_the_bad_question(engine):
    with pytest.raises(BadQueryError, match="list of texts"):
        engine.ask_batch("Mars moons")
    with pytest.raises(BadQueryError, match="empty"):
        engine.ask_batch(["Mars moons", "  "])


def test_validation_needs_no_model():
    assert clean_question("  a\x00b\t\nc \x85 d ") == "a b c d"
    assert clean_question("e\u0301") == "\u00e9"  # NFC
    assert clean_question("👩\u200d💻 code") == "👩\u200d💻 code"  # the zero-width joiner stays
    assert check_question("  Mars?  ") == "Mars?"
    with pytest.raises(BadQueryError):
        check_question("...")
