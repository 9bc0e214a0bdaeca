"""Highlight choice on real sentence vectors: the answering sentence, not the echo."""

import numpy as np

from qa.answer_types import answer_type, asked_term
from qa.config import Settings
from qa.engine import Engine
from qa.highlight import echo, highlight_passage, term_overlap
from qa.lexical import content_terms, tokenize
from tests.conftest import write_docs


def highlight(embedder, question, sentences, idf=None):
    text = " ".join(sentences)
    spans, pos = [], 0
    for s in sentences:
        start = text.index(s, pos)
        spans.append((start, start + len(s)))
        pos = start + len(s)
    qv = embedder.encode_queries([question])[0]
    sv = embedder.encode_documents(sentences)
    terms = {t: (idf or {}).get(t, 1.0) for t in content_terms(tokenize([question])[0])}
    st = [set(t) for t in tokenize(sentences)]
    out = highlight_passage(text, tuple(spans), qv, sv, st, terms, answer_type(question),
                            asked=asked_term(question))
    for h in out:
        assert text[h.start : h.end] == h.text
    return out


def test_highlights_the_sentence_that_answers(embedder):
    out = highlight(embedder, "Where was the European Cybercrime Forum held?", [
        "We face a range of cybercrimes, including fraud.",
        "This past April, I was in Budapest during the European Cybercrime Forum.",
        "This group focuses on managing incidents.",
    ])
    assert "Budapest" in out[0].text


def test_a_sentence_that_only_restates_the_question_loses(embedder):
    out = highlight(embedder, "What are the department's two specific roles in cybersecurity?", [
        "My department has two specific roles in this effort.",
        "The first is protecting federal civilian government agencies' cyber networks.",
        "The second is leading the protection of critical infrastructure.",
    ])
    assert out[0].text.startswith("The first")


def test_quantity_questions_prefer_sentences_with_numbers(embedder):
    out = highlight(embedder, "For how long does the agreement keep the records?", [
        "The agreement includes innovative solutions to protect the privacy of the public.",
        "These include a tiered retention system that keeps records for 6 months.",
    ])
    assert "6 months" in out[0].text


def test_term_overlap_and_echo_are_shares():
    terms = {"budapest": 3.0, "forum": 1.0}
    assert term_overlap(terms, {"budapest"}) == 0.75
    assert term_overlap({}, {"x"}) == 0.0
    assert echo(terms, {"budapest", "forum"}) == 1.0
    assert echo(terms, {"budapest", "april", "travel", "group"}) == 0.25


def test_no_sentences_no_highlights():
    assert highlight_passage("", (), np.zeros(3), np.zeros((0, 3)), [], {}) == []


def _highlight_with(embedder, question, sentences, params):
    """The first highlight with the span presence and question-sentence rules given `params`."""
    from qa.params import SpanParams
    from qa.span_presence import sentences_holding_answer

    text = " ".join(sentences)
    spans = []
    for s in sentences:
        start = text.index(s)
        spans.append((start, start + len(s)))
    qv = embedder.encode_queries([question])[0]
    terms = {t: 1.0 for t in content_terms(tokenize([question])[0])}
    holding = sentences_holding_answer(question, sentences, SpanParams())
    out = highlight_passage(text, tuple(spans), qv, embedder.encode_documents(sentences),
                            [set(t) for t in tokenize(sentences)], terms, answer_type(question), params=params,
                            holding=holding)
    return out[0].text


def test_a_sentence_holding_the_kind_of_answer_asked_for_is_preferred(embedder):
    """"Who ...?" wants a person: with the span-presence bonus the sentence naming one wins
    over the one that only restates the topic; without it, the topic sentence wins."""
    from dataclasses import replace

    from qa.params import HighlightParams

    sentences = ["The library could not open without its volunteers, who give their time every week.",
                 "The volunteer programme is run by Daniel Kerr from the front desk."]
    question = "Who coordinates the volunteers at the library?"
    off = replace(HighlightParams(), answer_span_weight=0.0)
    assert _highlight_with(embedder, question, sentences, off) == sentences[0]
    assert _highlight_with(embedder, question, sentences, HighlightParams()) == sentences[1]


def test_a_sentence_that_asks_does_not_answer(embedder):
    from dataclasses import replace

    from qa.params import HighlightParams

    sentences = ["Is there parking at the new building, and how do we get a space?",
                 "There are 12 parking spaces in the basement, so they will be allocated by ballot for the first six months."]
    question = "How are the parking spaces at the new office handed out?"
    off = replace(HighlightParams(), question_sentence_penalty=0.0)
    assert _highlight_with(embedder, question, sentences, off) == sentences[0]
    assert _highlight_with(embedder, question, sentences, HighlightParams()) == sentences[1]


def test_a_which_question_prefers_the_sentence_naming_what_it_asks_for(embedder):
    # the sentence about the move is closer to the question; the one naming a floor answers it
    sentences = ["As you know, we are moving to Quayside House, 18 Wharf Road, on Friday 6 September.",
                 "We will be on the fourth floor of Quayside House, and the office will be closed to clients."]
    out = highlight(embedder, "Which floor of Quayside House is Halden & Price moving to?", sentences)
    assert "fourth floor" in out[0].text
    assert asked_term("Which floor of Quayside House is it?") == "floor"
    assert asked_term("What colour is the home kit?") == "colour"
    assert asked_term("What is the maximum speed?") is None  # a verb follows: no noun named
    assert asked_term("What sort of response do they demand?") is None  # names no kind
    assert asked_term("In what year was it built?") is None  # the date type sees it
    for verb in ("What happened to the bridge?", "What caused the delay?", "What led to it?", "What about it?",
                 "What must I bring?", "What the?"):
        assert asked_term(verb) is None


def test_the_engine_highlights_the_sentence_naming_what_a_which_question_asks_for(tmp_path):
    docs = write_docs(tmp_path / "docs", {"move.txt": (
        "As you know, we are moving to Quayside House, 18 Wharf Road, on Friday 6 September. "
        "We will be on the fourth floor of Quayside House, and the office will be closed to clients.\n\n"
        "Parking at the new office is shared with two other firms.\n")})
    engine = Engine.open(Settings(docs=(docs,), index_dir=tmp_path / "index"))
    top = engine.ask("Which floor of Quayside House is Halden & Price moving to?").results[0]
    assert "fourth floor" in top.highlights[0].text
