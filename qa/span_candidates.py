"""Spans of the kind a question asks for inside one sentence: regular expressions for dates,
durations, numbers, sums, percentages, phone numbers and codes (qa.span_patterns), runs of
capitalised words for people, places and organisations. qa.answer_span chooses among them;
qa.span_presence asks whether a sentence holds any.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from qa.answer_types import SpanKind
from qa.lexical import content_terms, tokenize
from qa.params import SpanParams
from qa.span_patterns import (CALENDAR_WORDS, COMMON_WORDS, DATE_LEAD, FREQUENCY, NAME_JOINERS, PATTERNS, PLACE_ENDINGS,
                              TITLES, WORD, YEAR)


@dataclass(frozen=True)
class Candidate:
    """A span of the wanted kind inside one sentence (offsets into the sentence), with a
    penalty in words that its kind's rule adds to its distance from the question."""

    start: int
    end: int
    penalty: float = 0.0


# --- candidates --------------------------------------------------------------------------


@dataclass(frozen=True)
class Asked:
    """What the question asks for: the kind, the stems of its content words, the stems of
    the noun it counts ("how many metric tons" -> metric, ton) and whether it wants a year."""

    kind: SpanKind
    stems: frozenset[str]
    counted: frozenset[str]
    year: bool
    often: bool = False  # "how often": a frequency answers it ("once a week")

    @classmethod
    def of(cls, question: str, kind: SpanKind) -> "Asked":
        counted = _COUNTED.search(question)
        return cls(kind, frozenset(content_terms(tokenize([question])[0])),
                   frozenset(content_terms(tokenize([counted.group(1)])[0])) if counted else frozenset(),
                   kind is SpanKind.DATE and _ASKS_YEAR.search(question) is not None,
                   kind is SpanKind.NUMBER and _ASKS_OFTEN.search(question) is not None)


# "how many metric tons of ...": the words up to the first plural (at most three), before
# any verb or preposition.
_BREAK = r"(?:of|is|are|was|were|did|does|do|has|have|had|will|can|could|would|should|in|on|at|for)\b"
_COUNTED = re.compile(rf"\bhow\s+(?:many|much)\s+((?:(?!{_BREAK})[\w'-]+?\s+){{0,2}}?"
                      rf"(?:[\w'-]+s\b|[\w'-]+(?=\s+{_BREAK})))", re.I)
_ASKS_YEAR = re.compile(r"\b(?:what|which)\s+(?:\w+\s+)?years?\b", re.I)
_ASKS_OFTEN = re.compile(r"\bhow\s+(?:often|frequently)\b", re.I)
YEAR_RANGE = re.compile(rf"\b{YEAR}(?:\s*(?:-|–|to|and)\s*{YEAR})?\b")


def pattern_candidates(sentence: str, asked: Asked) -> tuple[Candidate, ...]:
    """Spans of the asked kind that a regular expression finds in `sentence`; bare years
    are no count, and a question asking for a year wants a date with one."""
    return _pattern_spans(sentence, asked.kind, asked.year, asked.often)


# Memoised, as _name_spans: a kind's pattern costs about 0.1 ms a sentence, and the
# sentences of the passages that answer come back question after question.
@lru_cache(maxsize=8192)
def _pattern_spans(sentence: str, kind: SpanKind, year: bool, often: bool) -> tuple[Candidate, ...]:
    found = [Candidate(*m.span()) for m in FREQUENCY.finditer(sentence)] if often else []
    for match in PATTERNS[kind].finditer(sentence):
        group = 1 if match.lastindex and match.group(1) else 0  # the inside of `code`
        start, end = match.span(group)
        text = sentence[start:end].rstrip(".,;:")
        if (kind is SpanKind.PHONE and not 7 <= sum(ch.isdigit() for ch in text) <= 15
                and not text[:1].isalpha()):  # an extension ("extension 4410") is short
            continue
        if kind is SpanKind.NUMBER and re.fullmatch(rf"{DATE_LEAD}{YEAR}", text):
            continue
        if year and YEAR_RANGE.search(text) is None:
            continue
        if text.strip():
            found.append(Candidate(start, start + len(text)))
    return tuple(found)


def name_candidates(sentence: str, kind: SpanKind, params: SpanParams) -> tuple[Candidate, ...]:
    """Runs of capitalised words (names of people, places, organisations), with a "the"
    before them ("the British", "the U.S. Department of State")."""
    return _name_spans(sentence, kind, params)


@lru_cache(maxsize=8192)
def _name_spans(sentence: str, kind: SpanKind, params: SpanParams) -> tuple[Candidate, ...]:
    words = list(WORD.finditer(sentence))
    found, i = [], 0
    while i < len(words):
        run = _name_run(words, i, sentence)
        if not run:
            i += 1
            continue
        first, last = run
        i = last + 1
        if first == last and words[first].group().lower() in CALENDAR_WORDS:
            continue  # a day or month alone ("Saturday", "September") names no one
        if kind is SpanKind.PERSON:
            last = _person_part(words, first, last, sentence)
            if last is None:
                continue
        lead = first - 1 if first > 0 and words[first - 1].group() == "the" else first
        found.append(Candidate(words[lead].start(), words[last].end(),
                               _name_penalty(words, first, last, kind, params)))
    return tuple(found)


# A version after a name makes it a product ("Python 3.9 or later", "Android 9 and iOS 15"),
# where a count does not ("Marie Curie 8 years later").
_VERSION_AFTER = re.compile(r" (?:\d+(?:\.\d+)+|\d+(?=[,;:)+]|\.?$|\.\s| or\b| and\b))")


def _person_part(words: Sequence[re.Match], first: int, last: int, sentence: str) -> int | None:
    """The last word of the person a run of capitalised words names, or None when it names
    none: a product before its version ("Python 3.9"), a street or building ("Ferris Road");
    "Tom Okafor of Ferris Road" is "Tom Okafor"."""
    if _VERSION_AFTER.match(sentence, words[last].end()):
        return None
    if words[last].group().lower().rstrip(".") not in PLACE_ENDINGS:
        return last
    joiner = next((j for j in range(first + 1, last) if words[j].group().lower() in NAME_JOINERS), None)
    return joiner - 1 if joiner is not None else None


def _is_capitalised(word: str) -> bool:
    return word[0].isupper()


def _joins(sentence: str, words: Sequence[re.Match], i: int) -> bool:
    """Whether word `i` is followed by one space and then a word."""
    return i + 1 < len(words) and sentence[words[i].end() : words[i + 1].start()] == " "


def _name_run(words: Sequence[re.Match], i: int, sentence: str) -> tuple[int, int] | None:
    """The (first, last) word indices of the name starting at word `i`, if one does:
    capitalised words, joined by "of", "de", ... or "and" ("Rome and London")."""
    word = words[i].group()
    if not _is_capitalised(word) or word.lower() in COMMON_WORDS:
        return None
    last = i
    while _joins(sentence, words, last):
        nxt = words[last + 1].group()
        if _is_capitalised(nxt) and nxt.lower() not in COMMON_WORDS:
            last += 1
        elif (nxt.lower() in NAME_JOINERS or nxt == "and") and _joins(sentence, words, last + 1) \
                and _is_capitalised(words[last + 2].group()) and words[last + 2].group().lower() not in COMMON_WORDS:
            last += 2
        else:
            break
    return i, last


def _name_penalty(words: Sequence[re.Match], first: int, last: int, kind: SpanKind, params: SpanParams) -> float:
    """Prefer full names for people ("Vice Admiral Laborde" over "Thank"), and the
    sentence's subject ("Zhu Yuanzhang then established ..., ruling as ...")."""
    if kind is not SpanKind.PERSON:
        return 0.0
    penalty = -params.person_subject_bonus if first == 0 else 0.0
    if first == last and words[first].group().lower().rstrip(".") not in TITLES:
        penalty += params.single_word_name_penalty
    return penalty


def candidates(sentence: str, asked: Asked, params: SpanParams) -> tuple[Candidate, ...]:
    """Every span of the asked kind in `sentence`."""
    if asked.kind in (SpanKind.PERSON, SpanKind.PLACE, SpanKind.ORGANISATION):
        return name_candidates(sentence, asked.kind, params)
    return pattern_candidates(sentence, asked)
