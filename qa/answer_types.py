"""What kind of answer a question asks for, and whether a text holds one.

Only kinds that a regular expression can recognise reliably are named: a date or time
("When ...?"), a number or amount ("How many ...?") and a sum of money ("How much money
...?", "What was the budget ...?"). A question of another kind has no answer type, and
nothing is checked for it.

Ranking prefers passages holding the wanted kind; highlighting prefers sentences holding
it; and the no-answer check lowers its confidence when the top passage holds none, since
a passage without a date cannot say when ("When was Program Global Shield launched?").
"""

from __future__ import annotations

import re
from enum import Enum


class AnswerType(str, Enum):
    DATE = "date"
    NUMBER = "number"
    MONEY = "money"


# The question's first words say what it asks for; up to two words may come first
# ("And when ...", "In which year ...").
_LEAD = r"^\W*(?:\w+\W+){0,2}?"
_ASKS_MONEY = re.compile(
    _LEAD + r"(how\s+much\s+(money|did|does|do|will|would|is|was)\b.*\b(cost|spend|spent|pay|paid|worth|fund)"
    r"|how\s+much\s+money|(what|which)\s+(was|is|were|are|will\s+be)\s+the\s+(\w+\s+){0,3}?"
    r"(budget|cost|price|value|worth|funding|fine|salary|revenue)s?)\b",
    re.I,
)
_ASKS_DATE = re.compile(
    _LEAD + r"(when|how\s+long\s+ago|since\s+when|(what|which|in\s+what|in\s+which|on\s+what|on\s+which)\s+"
    r"(year|date|day|month|decade|century|season))\b",
    re.I,
)
_ASKS_NUMBER = re.compile(
    _LEAD + r"(how\s+(many|much|long|often|old|frequently)|"
    r"(what|which)\s+(share|percentage|percent|proportion|fraction|number|amount|age|portion|ratio|rate))\b",
    re.I,
)

# Capitalised, so that the verbs "may" and "march" are not taken for months.
_MONTHS = (r"(?-i:January|February|March|April|May|June|July|August|September|October|November|December|"
           r"Jan\.|Feb\.|Mar\.|Apr\.|Jun\.|Jul\.|Aug\.|Sep\.|Sept\.|Oct\.|Nov\.|Dec\.)")
_NUMBER_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
                 r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
                 r"hundreds?|thousands?|millions?|billions?|trillions?|dozens?|half|halves|quarters?|thirds?|"
                 r"twice|double|triple|single|several|once|daily|weekly|monthly|yearly|annually|every")
_PERIODS = r"weeks?|months?|years?|decades?|centur(y|ies)|spring|summer|autumn|fall|winter|weekend"
# A date or a point in time: a year, a month, a weekday, a season or period named relative to
# now ("this past April", "last year"), or "ago". Bare "today" and "now" are left out: a
# speech says "today's world" without dating anything.
_DATE = (rf"\b(1[5-9]\d\d|20\d\d)\b|\b\d{{1,2}}/\d{{1,2}}\b|\b({_MONTHS})(?!\w)|"
         rf"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|tomorrow|tonight|ago)\b|"
         rf"\b(last|next|this|past|coming|previous|same|that|each|every)\s+({_PERIODS})\b|"
         rf"\b(spring|summer|autumn|winter)\s+of\b")

_HOLDS = {
    AnswerType.DATE: re.compile(_DATE, re.I),
    AnswerType.NUMBER: re.compile(rf"\d|\b({_NUMBER_WORDS})\b", re.I),
    AnswerType.MONEY: re.compile(r"[$€£¥]|\b(dollars?|euros?|pounds?|cents?|usd|eur|gbp|million|billion|trillion)\b",
                                 re.I),
}


def answer_type(question: str) -> AnswerType | None:
    """The kind of answer `question` asks for, or None when it is none of the kinds named."""
    if _ASKS_MONEY.search(question):
        return AnswerType.MONEY
    if _ASKS_DATE.search(question):
        return AnswerType.DATE
    if _ASKS_NUMBER.search(question):
        return AnswerType.NUMBER
    return None


def holds(text: str, kind: AnswerType | None) -> bool:
    """Whether `text` holds an answer of `kind` (always true when there is no kind)."""
    return kind is None or _HOLDS[kind].search(text) is not None
