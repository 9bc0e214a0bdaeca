"""The answer itself inside the highlighted sentence: the extractor on hand-written
sentences, then the real engine, the JSON contract, the CLI and the UI on the seeds."""

import json

import pytest
from typer.testing import CliRunner

from qa.answer_span import Span, find_answer
from qa.answer_types import SpanKind, span_kind
from qa.cli import app
from qa.params import SpanParams
from qa.evaluation.metrics import span_hit
from qa.render import render_answer
from qa.span_presence import lacks_asked_span, sentences_holding_answer
from tests.conftest import SEEDS


def span(question: str, sentence: str, before: str = "Intro text. ") -> str | None:
    """The span found in `sentence`, placed after `before` so offsets are checked too."""
    text = before + sentence + " Outro text."
    found = find_answer(question, text, len(before), len(before) + len(sentence), SpanParams())
    if found is None:
        return None
    assert text[found.start : found.end] == found.text
    assert len(before) <= found.start < found.end <= len(before) + len(sentence)
    return found.text


@pytest.mark.parametrize("question, sentence, expected", [
    ("When did the library reopen?", "After the flood the library reopened on 14 March 2022 with a new roof.",
     "on 14 March 2022"),
    ("In what year was the bridge finished?",
     "The bridge was finished on June 2, 1934, three years after work began in May 1931.", "1934"),
    ("How long is the ferry crossing?", "The ferry crossing from Port Ansel takes about 75 minutes in calm weather.",
     "about 75 minutes"),
    ("For how long is the warranty valid?", "The warranty is valid for 2 years from the date of purchase.", "2 years"),
    ("How much did the new roof cost?", "The new roof cost $1.2 million, paid from the reserve fund.", "$1.2 million"),
    ("What percentage of members renewed?", "Last year 82% of members renewed, up from 75 last spring.", "82%"),
    ("How many volunteers joined the clean-up?", "On Saturday 140 volunteers joined the clean-up at the beach.",
     "140 volunteers"),
    ("How many people does the hall seat?", "The roof cost $1.2 million and the hall seats 400 people.", "400 people"),
    ("What phone number should I call for support?",
     "For support call 0800 555 0199 between 9am and 5pm on weekdays.", "0800 555 0199"),
    ("Which error code means the VPN certificate expired?",
     "If the VPN certificate expired, the client shows error E-204 and disconnects.", "E-204"),
    ("What environment variable sets the cache folder?",
     "Set the cache folder with the `QM_CACHE_DIR` environment variable before starting.", "QM_CACHE_DIR"),
    ("Who chairs the parks committee?", "The parks committee is chaired by Councillor Ada Brightwell since May.",
     "Councillor Ada Brightwell"),
    ("In which city was the conference held?", "Last spring the conference was held in Budapest for the first time.",
     "Budapest"),
    ("Which agency inspects the lifts?", "Since 2019 the lifts have been inspected by the Northbeam Safety Bureau.",
     "the Northbeam Safety Bureau"),
    # how often, an extension, a code noun with a number, a version after the asked name,
    # a duration with a word before its unit
    ("How often should the filter be cleaned?", "Clean the filter once a week with a soft brush.", "once a week"),
    # a month alone names no company; an adverb opening the sentence names no one
    ("Which company sued the maker?", "In September the maker was sued by Burst.com over its patents.", "Burst.com"),
    ("Which journalist criticised the controls?",
     "Regarding the controls, GameSpot's Jeff Gerstmann wrote that they felt tacked on.", "GameSpot's Jeff Gerstmann"),
    ("When can the puppy go out?", "Keep the puppy indoors until one week after the second injection, because it "
     "is not yet protected.", "until one week after the second injection"),
    ("When can the puppy go out?", "One week after the second injection the puppy can go out.",
     "One week after the second injection"),
    ("When did they come back?", "A week later they came back from the coast.", "A week later"),
    ("What is the phone extension for the helpdesk?", "Call the helpdesk on extension 4410 on weekdays.",
     "extension 4410"),
    ("What port does the preview server use?", "The preview server listens on port 8040 by default.", "port 8040"),
    ("Which version of Python do I need?", "The tool needs Python 3.9 or later.", "Python 3.9"),
    ("For how many days can staff work abroad?", "Staff may work abroad for up to 20 working days.",
     "up to 20 working days"),
])
def test_finds_the_answer_of_the_kind_asked(question, sentence, expected):
    assert span(question, sentence) == expected


@pytest.mark.parametrize("question, sentence", [
    # no kind a rule can recognise: nothing is guessed
    ("What does the Coast Guard assess abroad?", "The Coast Guard assesses seaports and shipping companies."),
    # a date asked, none in the sentence
    ("When was the bridge finished?", "The bridge was finished after many delays and a change of contractor."),
    # the only name is the question's own
    ("Who welcomed the Secretary to Paris?", "The Secretary was welcomed warmly in Paris."),
    # two numbers and no word of the question beside either: no confident choice
    ("How many tickets were sold?", "Attendance rose to 4,000 from 3,200."),
])
def test_no_confident_span_means_none(question, sentence):
    assert span(question, sentence) is None


def test_span_kinds_of_questions():
    assert span_kind("When was the treaty signed?") is SpanKind.DATE
    assert span_kind("How long does the battery last?") is SpanKind.DURATION
    assert span_kind("How long ago did it close?") is SpanKind.DATE
    assert span_kind("How much did the renovation cost?") is SpanKind.MONEY
    assert span_kind("What share of voters turned out?") is SpanKind.PERCENT
    assert span_kind("What is the helpline number?") is SpanKind.PHONE
    assert span_kind("Which version added dark mode?") is SpanKind.CODE
    assert span_kind("Who wrote the report?") is SpanKind.PERSON
    assert span_kind("Which journalist criticised the plan?") is SpanKind.PERSON
    assert span_kind("Where is the head office?") is SpanKind.PLACE
    assert span_kind("Which company makes the pump?") is SpanKind.ORGANISATION
    assert span_kind("How many people attended?") is SpanKind.NUMBER
    assert span_kind("What action did President Obama take?") is None  # a title is not a "which person"
    assert span_kind("What does the Coast Guard assess?") is None


def test_span_hit_is_containment_within_three_times_the_length():
    assert span_hit("Budapest", "Budapest") and span_hit("in Budapest", "budapest")
    assert span_hit("“Stop.  Think.”", '"stop. think."')
    assert not span_hit("This past April, I was in Budapest", "Budapest")  # a sentence is not a span
    assert not span_hit("Budapest", "in Budapest") and not span_hit("anything", "")


def test_span_serialises_as_the_contract():
    assert Span(3, 11, "Budapest").to_dict() == {"start": 3, "end": 11, "text": "Budapest"}


BUDAPEST = "In which city was the European Cybercrime Forum held?"


def test_engine_marks_the_answer_in_the_top_result(seeds_engine):
    top = seeds_engine.ask(BUDAPEST, k=3).best
    assert top.answer is not None and top.answer.text == "Budapest"
    assert top.text[top.answer.start : top.answer.end] == "Budapest"
    h = top.highlights[0]
    assert h.start <= top.answer.start < top.answer.end <= h.end  # inside the highlighted sentence


def test_engine_spans_on_seed_questions(seeds_engine):
    expected = {
        "In how many countries does DHS have personnel stationed?": "75 different countries",
        "On what date were the remarks released?": "December 2, 2011",
        "Who welcomed the Secretary at the start of the speech?": "Vice Admiral Laborde",
        "For how long does the new PNR agreement limit access to most travelers' PNR?": "6 months",
    }
    answers = seeds_engine.ask_batch(list(expected))
    assert [a.best.answer.text if a.best.answer else None for a in answers] == list(expected.values())


def test_json_has_answer_only_on_the_top_result_and_only_when_found(seeds_engine):
    data = seeds_engine.ask(BUDAPEST, k=3).to_dict()
    top = data["results"][0]
    assert top["answer"]["text"] == "Budapest"
    assert top["text"][top["answer"]["start"] : top["answer"]["end"]] == "Budapest"
    assert all("answer" not in r for r in data["results"][1:])
    untyped = seeds_engine.ask("Which chemical made up most of the seizures?", k=3).to_dict()
    assert all("answer" not in r for r in untyped["results"])
    unanswerable = seeds_engine.ask("What is the population of Tokyo?", k=3).to_dict()
    assert not unanswerable["answerable"] and all("answer" not in r for r in unanswerable["results"])


def test_cli_json_and_text_show_the_answer(seeds_settings, seeds_engine):
    runner = CliRunner()
    args = ["ask", "--docs", str(SEEDS), "--index", str(seeds_settings.index_dir), "--k", "2", BUDAPEST]
    result = runner.invoke(app, args[:1] + ["--json"] + args[1:])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["results"][0]["answer"]["text"] == "Budapest"
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "I was in **Budapest** during" in result.output


def test_ui_makes_the_answer_strong_inside_the_mark(seeds_engine):
    page = render_answer(seeds_engine.ask(BUDAPEST, k=2))
    strong = '<strong class="qa-answer-span">Budapest</strong>'
    assert page.count(strong) == 2  # the answer box and passage [1]
    answer_box = page[page.index('class="qa-answer-text"') :]
    assert answer_box.index("<mark") < answer_box.index(strong) < answer_box.index("</mark>")


def test_a_passage_without_the_asked_kind_of_answer_lacks_it():
    sentences = ["Kestrel Ford is a market town.", "The council meets in the Wool Hall every month."]
    assert lacks_asked_span("How many people live in Kestrel Ford?", sentences, SpanParams())
    assert not lacks_asked_span("How many people live in Kestrel Ford?",
                                sentences + ["About 6,842 people live there."], SpanParams())
    # a question of no kind the rules know lacks nothing
    assert not lacks_asked_span("Why is the town called Kestrel Ford?", sentences, SpanParams())


def test_a_street_a_building_or_a_day_is_no_answer_to_who():
    # "Ferris Road" and "Saturday" are capitalised runs but no person: the sentence naming
    # neither a person is not preferred for a who-question, the next one is
    question = "Who runs the puppy parties at the clinic?"
    sentences = ["Puppy parties run on Saturday in the waiting room at our Ferris Road clinic.",
                 "They are led by our head nurse, Tom Okafor."]
    assert sentences_holding_answer(question, sentences, SpanParams()) == [False, True]
    assert span(question, sentences[1]) == "Tom Okafor"
    assert span("Who opened the new wing?", "The new wing on Ferris Road was opened on Monday.") is None
    # words that are surnames too stay names; a place after "of" is cut off the person
    assert span("Who founded the band?", "The band was founded by Stuart Hall in 1970.") == "Stuart Hall"
    assert span("Who chairs the board?", "The board is chaired by Jane Park.") == "Jane Park"
    assert span("Who leads the parties?", "The parties are led by Tom Okafor of Ferris Road.") == "Tom Okafor"
    # a count after a name is no version
    assert span("Who found the comet?", "The comet was found by Marie Curie 8 years later.") == "Marie Curie"
    # a capitalised word before a version number is a product, no person
    assert sentences_holding_answer("Who maintains the tool?", ["The tool needs Python 3.9 or later."],
                                    SpanParams()) == [False]
    # a place is still a place when asked for one
    assert span("Where is the clinic?", "The clinic is on Ferris Road, next to the library.") == "Ferris Road"


def test_a_number_counts_the_asked_noun_and_a_population_counts_people():
    from qa.span_presence import sentences_counting

    sentences = ["At the 2021 census the parish had a population of 6,842.", "We surveyed 42 residential streets.",
                 "The town has 3 schools and a population density that is rising."]
    assert sentences_counting("How many people live in the parish?", sentences, SpanParams()) == [True, False, False]
    assert sentences_counting("How many streets were surveyed?", sentences, SpanParams()) == [False, True, False]
    # a population counts people, not streets
    assert sentences_counting("How many streets are in the parish?", sentences[:1], SpanParams()) == [False]
    assert sentences_counting("Where is the parish?", sentences, SpanParams()) is None
