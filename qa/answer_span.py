"""The answer itself: the shortest span inside the highlighted sentence that answers.

No extractive QA or NER model is available offline, so this is rules. The question says
what kind of answer it wants (qa.answer_types.span_kind: a date, a duration, a number, a
sum, a percentage, a phone number, a code, a person or a place); regular expressions find
the sentence's spans of that kind; spans made only of the question's own words are
dropped (they restate it: "In which city was the European Cybercrime Forum held?" does
not want "European Cybercrime Forum"); and the span nearest the question's words wins,
since a sentence puts an answer beside what it is about. A question of no such kind, or a
sentence with no span of the kind, gets no span: nothing is guessed.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from qa.answer_types import span_kind
from qa.lexical import tokenize
from qa.params import SpanParams
from qa.span_candidates import YEAR_RANGE, Asked, Candidate, candidates
from qa.span_patterns import COMMON_WORDS, WORD


@dataclass(frozen=True)
class Span:
    """The answer inside a passage: `text == passage.text[start:end]`."""

    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, int | str]:
        return {"start": self.start, "end": self.end, "text": self.text}


# --- choosing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Words:
    """The sentence's words with their stems, which of them the question names, and
    running counts of content words and punctuation marks, so that the distance between
    any two words is two subtractions."""

    spans: tuple[tuple[int, int], ...]
    stems: tuple[frozenset[str], ...]
    asked: tuple[bool, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    content_before: tuple[int, ...]  # content words (not "of", "the", ...) before word i
    marks_before: tuple[int, ...]  # punctuation marks before word i
    asked_at_or_before: tuple[int, ...]  # the last question word at or before word i (-1: none)
    asked_at_or_after: tuple[int, ...]  # the first question word at or after word i (len: none)
    numeric: tuple[bool, ...] = ()  # word i holds a digit

    @classmethod
    def of(cls, sentence: str, question_stems: frozenset[str]) -> "_Words":
        spans, stems, content, marks, numeric = _sentence_words(sentence)
        asked = [bool(s & question_stems) for s in stems]
        before, after, last, first = [], [], -1, len(asked)
        for i, (here, there) in enumerate(zip(asked, reversed(asked))):
            last = i if here else last
            first = len(asked) - 1 - i if there else first
            before.append(last)
            after.append(first)
        return cls(spans, stems, tuple(asked), tuple(s for s, _ in spans), tuple(e for _, e in spans), content,
                   marks, tuple(before), tuple(reversed(after)), numeric)

    def inside(self, c: Candidate) -> range:
        """The indices of the words the candidate covers."""
        first = bisect.bisect_right(self.ends, c.start)
        stop = bisect.bisect_left(self.starts, c.end)
        return range(first, max(first, stop))

    def apart(self, left: int, right: int, punctuation_gap: float) -> float:
        """1, plus the content words strictly between words `left` < `right`, plus
        `punctuation_gap` for each punctuation mark between them."""
        between = self.content_before[right] - self.content_before[left + 1]
        return 1.0 + between + punctuation_gap * (self.marks_before[right] - self.marks_before[left])


@lru_cache(maxsize=8192)
def _sentence_words(sentence: str) -> tuple[tuple, tuple, tuple, tuple, tuple]:
    """What _Words holds that does not depend on the question (memoised with the candidates):
    word spans, stems, content words and punctuation marks before each word, digits."""
    matches = list(WORD.finditer(sentence))
    stems = tuple(frozenset(t) for t in tokenize([m.group() for m in matches])) if matches else ()
    content, marks, at = [0], [0], 0
    for m in matches:
        content.append(content[-1] + (m.group().lower() not in COMMON_WORDS))
        marks.append(marks[-1] + sum(not ch.isspace() for ch in sentence[at : m.start()]))
        at = m.end()
    return (tuple(m.span() for m in matches), stems, tuple(content), tuple(marks[1:]),
            tuple(any(ch.isdigit() for ch in m.group()) for m in matches))


def restates_question(c: Candidate, words: _Words, params: SpanParams) -> bool:
    """Whether more than `params.max_asked_share` of the candidate's words are the
    question's own ("New York City" for "What New York borough ...?")."""
    # a number counts as a word of the answer though it has no stem ("Python 3.9")
    stemmed = [i for i in words.inside(c) if words.stems[i] or words.numeric[i]]
    return bool(stemmed) and sum(words.asked[i] for i in stemmed) > params.max_asked_share * len(stemmed)


def distance(c: Candidate, words: _Words, params: SpanParams) -> float | None:
    """How far the candidate is from the nearest question word outside it: 1, plus one
    for each content word between them and `params.punctuation_gap` for each punctuation
    mark ("borough of Queens" is 1, "Bolivian) populations" is 1 + the bracket); None when
    the sentence holds no question word. The nearest on each side is the closest, since
    every step adds."""
    ids = words.inside(c)
    if not ids:
        return None
    left = words.asked_at_or_before[ids.start - 1] if ids.start > 0 else -1
    right = words.asked_at_or_after[ids.stop] if ids.stop < len(words.spans) else len(words.spans)
    gaps = ([words.apart(left, ids.start, params.punctuation_gap)] if left >= 0 else []) + (
        [words.apart(ids.stop - 1, right, params.punctuation_gap)] if right < len(words.spans) else [])
    return min(gaps) if gaps else None


def extend_to_counted_noun(c: Candidate, words: _Words, sentence: str, asked: Asked,
                           params: SpanParams) -> Candidate:
    """"75 different countries" for "In how many countries ...": a number reaches to the
    counted noun when it starts within `params.counted_noun_window` words after it."""
    ids, end, started = words.inside(c), c.end, False
    if not ids or not asked.counted:
        return c
    for i in range(ids.stop, len(words.spans)):
        joined = re.fullmatch(r"[ -]", sentence[words.spans[i - 1][1] : words.spans[i][0]]) is not None
        counted = bool(words.stems[i] & asked.counted)
        if not joined or (started and not counted) or (not started and i - ids.stop >= params.counted_noun_window):
            break
        if counted:
            end, started = words.spans[i][1], True
    return Candidate(c.start, end, c.penalty)


def choose(found: Sequence[Candidate], words: _Words, sentence: str, asked: Asked,
           params: SpanParams) -> Candidate | None:
    """The candidate nearest the question's words, its kind's penalty added; None when
    there is none, or several and no question word in the sentence to choose by. The
    sentence was highlighted as the answering one, so a lone candidate is taken."""
    kept = [c for c in found if not restates_question(c, words, params)]
    gaps = [distance(c, words, params) for c in kept]
    if not kept or (len(kept) > 1 and all(g is None for g in gaps)):
        return None
    far = max((g for g in gaps if g is not None), default=0.0) + 1.0
    scored = [(c.penalty + (far if g is None else g), c.start, c) for c, g in zip(kept, gaps)]
    if asked.counted:  # "400 people" for "How many people ...?"
        scored = [(score - params.counted_noun_bonus * (extend_to_counted_noun(c, words, sentence, asked, params) != c),
                   start, c) for score, start, c in scored]
    return min(scored, key=lambda item: item[:2])[2]


def find_answer(question: str, text: str, start: int, end: int, params: SpanParams) -> Span | None:
    """The answer span to `question` inside `text[start:end]` (the highlighted sentence),
    with offsets into `text`; None when the question asks for no recognisable kind or the
    sentence holds no confident span of it."""
    kind = span_kind(question)
    if kind is None or not 0 <= start < end <= len(text):
        return None
    sentence = text[start:end]
    asked = Asked.of(question, kind)
    words = _Words.of(sentence, asked.stems)
    best = choose(candidates(sentence, asked, params), words, sentence, asked, params)
    if best is None:
        return None
    best = extend_to_counted_noun(best, words, sentence, asked, params)
    if asked.year:  # "In what year ...?" wants "1934", not "on June 2, 1934"
        year = YEAR_RANGE.search(sentence, best.start, best.end)
        best = Candidate(year.start(), year.end()) if year else best
    return Span(start + best.start, start + best.end, sentence[best.start : best.end])
