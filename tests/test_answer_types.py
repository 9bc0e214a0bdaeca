"""Answer types: what a question asks for, whether a passage holds it, and what that does to
ranking and to the no-answer verdict."""

import pytest

from qa.answer_types import AnswerType, SpanKind, answer_type, holds, span_kind
from qa.config import Settings
from qa.engine import Engine
from tests.conftest import write_docs


@pytest.mark.parametrize("question, kind", [
    ("When was the first joint transatlantic cyber tabletop exercise held?", AnswerType.DATE),
    ("On what date were the remarks released?", AnswerType.DATE),
    ("And in which year did the programme start?", AnswerType.DATE),
    ("What time did the meeting finish?", AnswerType.DATE),
    ("What time zone is the office in?", None),
    ("How many countries participate in Program Global Shield?", AnswerType.NUMBER),
    ("For how long does the agreement limit access?", AnswerType.NUMBER),
    ("What share of high-risk people were first identified through PNR?", AnswerType.NUMBER),
    ("How much money did the machines catch?", AnswerType.MONEY),
    ("What was the DHS budget request for fiscal year 2013?", AnswerType.MONEY),
    ("What was the total value of the goods seized?", AnswerType.MONEY),
    ("Why was version 4.2.1 withdrawn?", AnswerType.REASON),
    ("What was the main reason for the delay?", AnswerType.REASON),
    ("Who approves the agreement?", None),
    ("Where was the forum held?", None),
    ("What does the Coast Guard assess abroad?", None),
    ("Which chemical made up most of the seizures?", None),
])
def test_answer_type_of_a_question(question, kind):
    assert answer_type(question) is kind


@pytest.mark.parametrize("text, kind, expected", [
    ("Release Date: December 2, 2011", AnswerType.DATE, True),
    ("This past April, I was in Budapest.", AnswerType.DATE, True),
    ("We met last year in Paris.", AnswerType.DATE, True),
    ("in 1776 the republic began", AnswerType.DATE, True),
    ("We launched Program Global Shield with 80 countries.", AnswerType.DATE, False),
    # a time of day, or a time set by an event, answers "when" too
    ("The meeting was adjourned at 8:47 p.m.", AnswerType.DATE, True),
    ("Doors open at 10am.", AnswerType.DATE, True),
    ("Keep your puppy indoors until one week after the second injection.", AnswerType.DATE, True),
    ("The vaccine course takes three weeks.", AnswerType.DATE, False),
    ("Take 3.5 ml twice.", AnswerType.DATE, False),
    ("Dilute it 1:10 in water.", AnswerType.DATE, False),  # a bare h:mm needs a word before it
    ("Open 9:00 - 17:30 on weekdays.", AnswerType.DATE, True),
    ("The records are kept for six months.", AnswerType.NUMBER, True),
    ("More than 3,000 cases were found.", AnswerType.NUMBER, True),
    ("We work with our partners.", AnswerType.NUMBER, False),
    ("The budget is $60 billion.", AnswerType.MONEY, True),
    ("It cost 2 million euros.", AnswerType.MONEY, True),
    ("It seized 140 metric tons of chemicals.", AnswerType.MONEY, False),
    ("It was withdrawn because it deleted reminders.", AnswerType.REASON, True),
    ("The work was put off due to the rain.", AnswerType.REASON, True),
    ("Since 2019 the office has been in Leeds.", AnswerType.REASON, False),
    ("Anything at all.", None, True),
])
def test_holds_an_answer_type(text, kind, expected):
    assert holds(text, kind) is expected


@pytest.fixture(scope="module")
def shield_engine(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shield")
    docs = write_docs(folder / "docs", {"shield.txt": (
        "As part of this effort we launched Program Global Shield, an initiative to protect the supply "
        "chain by preventing the theft or illegal diversion of precursor chemicals used in explosives.\n\n"
        "More than 80 nations now participate in the program and it has already led to large seizures.\n\n"
        "The European Cybercrime Forum met in Budapest in April 2011 to discuss online crime.\n"
    )})
    return Engine.open(Settings(docs=(docs,), index_dir=folder / "index"))


def test_a_passage_without_the_asked_for_kind_is_no_confident_answer(shield_engine):
    """The programme's passage names the topic but holds no date: it cannot say when."""
    undated = shield_engine.ask("When was Program Global Shield launched?")
    assert "launched Program Global Shield" in undated.results[0].text
    assert not undated.answerable
    # The same passage answers a question of no particular kind ...
    assert shield_engine.ask("What does Program Global Shield try to prevent?").answerable
    # ... and a dated passage answers a when-question.
    dated = shield_engine.ask("When did the European Cybercrime Forum meet?")
    assert "April 2011" in dated.results[0].highlights[0].text and dated.answerable


def test_a_reason_without_a_marker_word_is_no_missing_answer(shield_engine):
    """"Because" is preferred for a why-question, but its absence says nothing: a passage can
    explain without it ("an initiative to protect the supply chain")."""
    why = shield_engine.ask("Why was Program Global Shield launched?")
    assert "launched Program Global Shield" in why.results[0].text
    assert why.evidence.type_missing == 0.0 and why.answerable


def test_the_verb_may_is_no_month_and_todays_world_no_date():
    assert not holds("These are challenges we may face in today's world.", AnswerType.DATE)
    assert holds("The strategy was released in May.", AnswerType.DATE)


@pytest.mark.parametrize("question, kind, span", [
    # the opening clause is no question: what follows the comma is
    ("When restoring a snapshot, how can I put the files in another folder?", None, None),
    ("If I lose my card, who should I call?", None, SpanKind.PERSON),
    ("In 2012-3, what number of people saw a show on Broadway?", AnswerType.NUMBER, SpanKind.NUMBER),
    # a question that is only a "when" clause still asks when
    ("When was the bridge built?", AnswerType.DATE, SpanKind.DATE),
])
def test_an_opening_clause_does_not_say_what_is_asked(question, kind, span):
    assert answer_type(question) == kind and span_kind(question) == span
