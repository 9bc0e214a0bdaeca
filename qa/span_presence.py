"""Which sentences hold an answer of the kind the question asks for.

The highlight prefers such a sentence ("Volunteers are coordinated by Daniel Kerr." for
"Who coordinates the volunteers?"), using the same rules that then mark the answer span
inside it (qa.answer_span): a candidate of the asked kind (a duration, a person, a place,
a code, ...) that is not made of the question's own words.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

from qa.answer_span import Asked, _Words, candidates, restates_question
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
