"""Does the top passage answer the question? Features the engine already has, and a small
logistic model over them (weights in `Settings.answerability`).

- best_sentence: cosine of the top passage's best sentence with the question;
- dense: the top passage's dense score (its own vector blended with its best sentence);
- coverage: share of the question's IDF weight found in the top passage (and its headings);
- known: share of the question's IDF weight the collection holds at all (off-topic
  questions and greetings name things no document mentions);
- type_missing: 1 when the question asks for a date, number or sum and the top passage has
  none (it names the topic but cannot answer);
- margin: how far the top passage's score leads the second's;
- sentence_coverage: share of the question's IDF weight in the highlighted sentence;
- sentence_type_missing: 1 when the question asks for a date, number, sum or (who?) a person
  and the highlighted sentence holds none (a name: a capitalised word the question lacks);
- missing_max: IDF of the most telling question term the top passage lacks, over the
  highest IDF the collection can give (an on-topic question about something the documents
  do not say: the treasurer, the price in decibels).

The last three split the question's terms in two: those naming the top passage's document
(words of its title or file name: "Brightwell", "dishwasher" in "How loud is the Brightwell
DW-450 dishwasher in decibels?") and the rest, which say what is asked about it. A question
about a document's subject matches its passages on the name alone; whether the answer is
there shows in the rest ("loud", "decibel"):

- focus: share of the IDF weight of the terms that do not name the document which the top
  passage (with its headings) holds; 1 when every term names it;
- focus_sentence: the same share in the highlighted sentence;
- named: share of the question's IDF weight that names the document (how much of the
  match the name alone explains);
- asked_missing: 1 when the question asks for a finer kind of answer the span rules know (a
  person, a duration, a code, a phone number, ...; qa.span_presence) and no sentence of the
  top passage holds one that is not the question's own words.
"""

from __future__ import annotations

import math
import re
from dataclasses import astuple, dataclass, fields
from pathlib import PurePosixPath
from typing import Mapping

from qa.answer_types import AnswerType, holds
from qa.lexical import tokenize
from qa.params import AnswerabilityParams

_WHO = re.compile(r"^\W*(who|whom|whose)\b", re.I)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+")
_SEPARATORS = re.compile(r"[_.\-/\\]+")


@dataclass(frozen=True)
class Evidence:
    """The features of one answer (see the module docstring); all about 0..1."""

    best_sentence: float
    dense: float
    coverage: float
    known: float
    type_missing: float
    margin: float
    sentence_coverage: float
    sentence_type_missing: float
    missing_max: float
    focus: float
    focus_sentence: float
    named: float
    asked_missing: float

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


FEATURES = tuple(f.name for f in fields(Evidence))


def weighted_share(weights: Mapping[str, float], present, empty: float = 0.0) -> float:
    """Share of the total of `weights` whose keys are in `present` (`empty` when there is none)."""
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in present) / total if total > 0 else empty


def name_terms(title: str, source: str) -> frozenset[str]:
    """Stemmed terms naming a document: its title's and its file name's (without folders or
    extension: `kestrel-ford.html`, `Frederic_Chopin.txt`)."""
    stem = PurePosixPath(source.replace("\\", "/")).stem
    return frozenset(tokenize([f"{title}\n{_SEPARATORS.sub(' ', stem)}"])[0])


def probability(evidence: Evidence, params: AnswerabilityParams) -> float:
    """The model's probability that the documents answer the question."""
    z = params.bias + sum(getattr(params, name) * value for name, value in zip(FEATURES, astuple(evidence)))
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def is_heading_only(text: str, prose: bool, title: str) -> bool:
    """A passage that is only a title or a heading line: it names a topic, it answers nothing."""
    stripped = text.strip()
    return stripped == title.strip() or (not prose and "\n" not in stripped and len(stripped.split()) <= 12
                                         and not stripped.endswith((".", "!", "?")))


def holds_person(sentence: str, question: str) -> bool:
    """A capitalised word, not at the start of the sentence, that the question does not use."""
    own = {w.lower() for w in re.findall(r"\w+", question)}
    return any(m.group().lower() not in own and not holds(m.group(), AnswerType.DATE)  # "May" is no name
               for m in _NAME.finditer(sentence.strip()))


def sentence_lacks_answer(sentence: str, question: str, wanted: AnswerType | None) -> bool:
    """Whether the highlighted sentence holds no answer of the kind the question asks for."""
    if wanted is not None:
        return not holds(sentence, wanted)
    if _WHO.search(question):
        return not holds_person(sentence, question)
    return False


@dataclass(frozen=True)
class Reading:
    """What the engine read for the top passage, to measure its evidence from."""

    top_terms: frozenset[str]  # stemmed terms of the top passage and its heading context
    sentence: str  # its first highlighted sentence ("" when none)
    sentence_terms: frozenset[str]
    type_missing: bool  # the question asks for a kind of answer the passage does not hold
    sentence_type_missing: bool
    name_terms: frozenset[str] = frozenset()  # stemmed terms of its document's title and file name
    asked_missing: bool = False  # no sentence of it holds the finer kind of answer asked for


def measure(hits, reading: Reading, terms: Mapping[str, float], known: set[str], max_idf: float,
            runner_up: float | None = None) -> Evidence:
    """The evidence of a ranking whose first hit is the answer (`hits` best first, at least one).

    Args:
        hits: qa.retrieval.Hit objects.
        reading: what the top passage holds.
        terms: the question's content terms with their IDF weights.
        known: those of `terms` the collection holds.
        max_idf: the highest IDF a term can have in this collection.
        runner_up: the best score of any other candidate (not only of the hits asked for, so
            the margin is the same whatever k is); None when there is no other candidate.
    """
    margin = hits[0].score - runner_up if runner_up is not None else 1.0
    missing = [w for t, w in terms.items() if t not in reading.top_terms]
    rest = {t: w for t, w in terms.items() if t not in reading.name_terms}
    return Evidence(hits[0].best_sentence, hits[0].dense, weighted_share(terms, reading.top_terms),
                    weighted_share(terms, known), float(reading.type_missing), max(0.0, min(1.0, margin)),
                    weighted_share(terms, reading.sentence_terms), float(reading.sentence_type_missing),
                    max(missing, default=0.0) / max_idf if max_idf > 0 else 0.0,
                    weighted_share(rest, reading.top_terms, empty=1.0),
                    weighted_share(rest, reading.sentence_terms, empty=1.0),
                    weighted_share(terms, reading.name_terms), float(reading.asked_missing))
