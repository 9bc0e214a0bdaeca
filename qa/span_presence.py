"""Which sentences hold an answer of the kind the question asks for.

The highlight prefers such a sentence ("Volunteers are coordinated by Daniel Kerr." for
"Who coordinates the volunteers?"), using the same rules that then mark the answer span
inside it (qa.answer_span): a candidate of the asked kind (a duration, a person, a place,
a code, ...) that is not made of the question's own words.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence

import numpy as np

from qa.answer_span import _Words, extend_to_counted_noun, restates_question
from qa.span_candidates import Asked, candidates
from qa.answer_types import span_kind
from qa.params import SpanParams


@lru_cache(maxsize=1024)
def _asked(question: str) -> Asked | None:
    """What `question` asks for (None: no kind the rules know); asked once per result of
    the same question, and its dozen patterns cost more than the rest of a check."""
    kind = span_kind(question)
    return None if kind is None else Asked.of(question, kind)


def sentences_holding_answer(question: str, sentences: Sequence[str], params: SpanParams) -> list[bool] | None:
    """Per sentence, whether it holds a span of the kind `question` asks for; None when the
    question asks for no kind the rules know."""
    asked = _asked(question)
    if asked is None:
        return None
    out = []
    for sentence in sentences:
        found = candidates(sentence, asked, params)
        # the words are read only for a sentence with candidates
        words = _Words.of(sentence, asked.stems) if found else None
        out.append(any(not restates_question(c, words, params) for c in found))
    return out


# People are counted as a population too: "the parish had a population of 6,842" answers
# "How many people live in ...?".
_PEOPLE = frozenset({"peopl", "person", "resid", "inhabit"})
_POPULATION = re.compile(r"\bpopulation\s+(?:of|was|is|stood\s+at|reached)\s+(?:about\s+|around\s+|roughly\s+|"
                         r"approximately\s+|some\s+|nearly\s+|over\s+|just\s+over\s+|almost\s+)?\d", re.I)


def sentences_counting(question: str, sentences: Sequence[str], params: SpanParams) -> list[bool] | None:
    """Per sentence, whether it holds a number reaching to the noun the question counts
    ("42 residential streets" for "How many streets ...?"); None when the question counts
    no noun."""
    asked = _asked(question)
    if asked is None or not asked.counted:
        return None
    out = []
    for sentence in sentences:
        found = candidates(sentence, asked, params)
        # the words are read only for a sentence with candidates (most of a question's cost)
        words = _Words.of(sentence, asked.stems) if found else None
        population = bool(asked.counted & _PEOPLE) and _POPULATION.search(sentence) is not None
        out.append(population or any(extend_to_counted_noun(c, words, sentence, asked, params) != c for c in found))
    return out


def counting_keeps(question: str, sentence_lists: Sequence[Sequence[str]], params: SpanParams) -> np.ndarray | None:
    """Per passage (its sentences), 1.0 when one of them counts the question's noun, else 0.0;
    None when the question counts no noun or no passage counts it (nothing to prefer)."""
    keeps = []
    for sentences in sentence_lists:
        counting = sentences_counting(question, sentences, params)
        if counting is None:
            return None
        keeps.append(float(any(counting)))
    return np.array(keeps) if any(keeps) else None


def lacks_asked_span(question: str, sentences: Sequence[str], params: SpanParams,
                     holding: Sequence[bool] | None = None) -> bool:
    """Whether no sentence holds the kind of answer `question` asks for: a passage on the
    asked topic without one names the topic but cannot answer (the answerable verdict's
    `asked_missing`); False when the question asks for no kind the rules know. `holding`:
    `sentences_holding_answer` of these sentences when the caller has it already."""
    if holding is None:
        holding = sentences_holding_answer(question, sentences, params)
    return holding is not None and not any(holding)
