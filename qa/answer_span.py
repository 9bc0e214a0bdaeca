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

from qa.answer_types import SpanKind, span_kind
from qa.params import SpanParams
from qa.lexical import content_terms, tokenize
from qa.span_patterns import COMMON_WORDS, DATE_LEAD, FREQUENCY, NAME_JOINERS, PATTERNS, TITLES, WORD, YEAR


@dataclass(frozen=True)
class Span:
    """The answer inside a passage: `text == passage.text[start:end]`."""

    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, int | str]:
        return {"start": self.start, "end": self.end, "text": self.text}


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
_YEAR_RANGE = re.compile(rf"\b{YEAR}(?:\s*(?:-|–|to|and)\s*{YEAR})?\b")


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
        if year and _YEAR_RANGE.search(text) is None:
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
        lead = first - 1 if first > 0 and words[first - 1].group() == "the" else first
        found.append(Candidate(words[lead].start(), words[last].end(),
                               _name_penalty(words, first, last, kind, params)))
        i = last + 1
    return tuple(found)


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
        year = _YEAR_RANGE.search(sentence, best.start, best.end)
        best = Candidate(year.start(), year.end()) if year else best
    return Span(start + best.start, start + best.end, sentence[best.start : best.end])
