"""Highlight choice on real sentence vectors: the answering sentence, not the echo."""

import numpy as np

from qa.answer_types import answer_type
from qa.highlight import echo, highlight_passage, term_overlap
from qa.lexical import content_terms, tokenize


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
    out = highlight_passage(text, tuple(spans), qv, sv, st, terms, answer_type(question))
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
