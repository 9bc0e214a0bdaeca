"""What kind of answer a question asks for, and whether a text holds one.

Only kinds that a regular expression can recognise reliably are named: a date or time
("When ...?"), a number or amount ("How many ...?"), a sum of money ("How much money
...?", "What was the budget ...?") and a reason ("Why ...?", held by "because", "due to",
...). A question of another kind has no answer type, and nothing is checked for it.

Ranking prefers passages holding the wanted kind; highlighting prefers sentences holding
it; and the no-answer check lowers its confidence when the top passage holds none, since
a passage without a date cannot say when ("When was Program Global Shield launched?").
A reason is the exception there: it can be given without a marker word ("the name refers
to ..."), so its absence is no sign of a missing answer (VERDICT_TYPES).
"""

from __future__ import annotations

import re
from enum import Enum

from qa.lexical import content_terms, tokenize


class AnswerType(str, Enum):
    DATE = "date"
    NUMBER = "number"
    MONEY = "money"
    REASON = "reason"


# The kinds whose absence from a passage tells the no-answer check it cannot answer.
VERDICT_TYPES = frozenset({AnswerType.DATE, AnswerType.NUMBER, AnswerType.MONEY})


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
    r"(year|date|day|month|decade|century|season|time(?!\s+zones?)))\b",
    re.I,
)
_ASKS_NUMBER = re.compile(
    _LEAD + r"(how\s+(many|much|long|often|old|frequently)|"
    r"(what|which)\s+(share|percentage|percent|proportion|fraction|number|amount|age|portion|ratio|rate))\b",
    re.I,
)
_ASKS_REASON = re.compile(_LEAD + r"(why|for\s+what\s+reasons?|(what|which)\s+(is|was|are|were)\s+the\s+"
                          r"(\w+\s+)?(reasons?|causes?))\b", re.I)

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
# Units of time, shared with the span rules (qa.span_patterns).
TIME_UNIT = r"(?:second|minute|hour|day|night|week|fortnight|month|year|decade|centur(?:y|ies))s?"
_DATE = (rf"\b(1[5-9]\d\d|20\d\d)\b|\b\d{{1,2}}/\d{{1,2}}\b|\b({_MONTHS})(?!\w)|"
         rf"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|tomorrow|tonight|ago)\b|"
         rf"\b(last|next|this|past|coming|previous|same|that|each|every)\s+({_PERIODS})\b|"
         rf"\b(spring|summer|autumn|winter)\s+of\b|"
         # a time of day ("8:47 p.m.", "10am", "19:30", "noon") or a time set by an event
         # ("one week after the second injection", "two days before departure")
         # ("1:10 dilution" and "John 3:16" are no times: a bare h:mm needs a word before it)
         rf"(\b(at|by|until|till|from|before|after|between|around|about|to|and)|[-–])\s*\d{{1,2}}:\d{{2}}\b|"
         rf"\b\d{{1,2}}([:.]\d{{2}})?\s?(a\.?m\b\.?|p\.?m\b\.?)|\b(noon|midday|midnight|o'clock)\b|"
         rf"\b(\d+|{_NUMBER_WORDS}|a|an)\s+{TIME_UNIT}\s+(after|before|later|earlier|beforehand)\b")

_HOLDS = {
    AnswerType.DATE: re.compile(_DATE, re.I),
    AnswerType.NUMBER: re.compile(rf"\d|\b({_NUMBER_WORDS})\b", re.I),
    AnswerType.MONEY: re.compile(r"[$€£¥]|\b(dollars?|euros?|pounds?|cents?|usd|eur|gbp|million|billion|trillion)\b",
                                 re.I),
    # "since" and "as" are left out: they date and compare more often than they explain.
    AnswerType.REASON: re.compile(r"\b(because|due\s+to|owing\s+to|as\s+a\s+result|so\s+that|in\s+order\s+to|"
                                  r"caused\s+by|reasons?|named\s+(after|for)|refers?\s+to|on\s+account\s+of)\b",
                                  re.I),
}


# An opening clause before the question itself: "When restoring a snapshot, how can I ...?"
# asks how, not when; "In 2012-3, what number of people ...?" asks for a number.
_OPENING_CLAUSE = re.compile(
    r"^\W*(?:when|if|while|after|before|once|since|as|in|on|at|during|for|from|with|without|besides|apart\s+from)"
    r"\b[^,?]{1,80},\s*(?=(?:who|whom|whose|what|which|when|where|why|how|is|are|was|were|do|does|did|can|could|"
    r"should|will|would)\b)", re.I)


def main_clause(question: str) -> str:
    """`question` without an opening clause that the question itself follows."""
    return _OPENING_CLAUSE.sub("", question, count=1)


def answer_type(question: str) -> AnswerType | None:
    """The kind of answer `question` asks for, or None when it is none of the kinds named."""
    question = main_clause(question)
    if _ASKS_MONEY.search(question):
        return AnswerType.MONEY
    if _ASKS_DATE.search(question):
        return AnswerType.DATE
    if _ASKS_NUMBER.search(question):
        return AnswerType.NUMBER
    if _ASKS_REASON.search(question):
        return AnswerType.REASON
    return None


def holds(text: str, kind: AnswerType | None) -> bool:
    """Whether `text` holds an answer of `kind` (always true when there is no kind)."""
    return kind is None or _HOLDS[kind].search(text) is not None


class SpanKind(str, Enum):
    """The finer kinds of answer that qa.answer_span can find inside a sentence."""

    DATE = "date"
    DURATION = "duration"
    NUMBER = "number"
    MONEY = "money"
    PERCENT = "percent"
    PHONE = "phone"
    CODE = "code"
    PERSON = "person"
    PLACE = "place"
    ORGANISATION = "organisation"


_PEOPLE = (r"person|people|man|woman|author|writer|journalist|reporter|critic|actor|actress|singer|artist|"
           r"president|premier|minister|director|producer|founder|composer|king|queen|leader|chairman|"
           r"chairwoman|ceo|manager|captain|coach|player|architect|inventor|scientist|engineer|designer|"
           r"copywriter|owner|mayor|councillor|councilor|teacher|character|villain|hero|enemy|doctor|lawyer")
_PLACES = (r"city|cities|country|countries|town|village|state|county|region|island|street|place|location|"
           r"borough|continent|province|venue|building|district|neighbou?rhood|park|airport|station|river|"
           r"lake|mountain|capital")
_ORGANISATIONS = (r"agency|agencies|organi[sz]ations?|company|companies|firm|university|college|school|institution|"
                  r"institute|bureau|department|newspaper|publication|website|label|team|club|band|party|court|"
                  r"committee|council|ministry|association|foundation|charity|brand|network|studio|airline|bank|"
                  r"magazine|journal|publisher|manufacturer|broadcaster")
_CODES = (r"code|version|release|variable|command|flag|option|setting|key|port|zone|model|id|identifier|"
          r"standard|serial|sku|ticket|reference|extension|file\s*name|filename|error")
# "what / which" and up to two describing words before the noun that names the kind
# ("which French minister", "what error code"), but no verb ("what action did President ...").
_WHICH = (r"\b(?:(?:what|which)\s+(?:(?!(?:is|was|are|were|did|does|do|has|have|had|will|can|could|would|"
          r"should)\b)[\w'-]+\s+){0,2}?|(?:what|which)\s+(?:is|was|are|were)\s+the\s+name\s+of\s+(?:the|a|an)\s+)")
# Tried in order: the first that matches names the kind. Money, percent, phone, code and
# duration come before the broad date and number questions they would otherwise fall into.
_ASKS_SPAN = (
    (SpanKind.MONEY, _ASKS_MONEY),
    (SpanKind.MONEY, re.compile(r"\bhow\s+much\s+(does|did|do|will|would|is|was)\b.{0,200}?\b(cost|charge|pay|earn)|"
                                r"\b(what|which)\s+(is|was|are|were)\s+the\s+(\w+\s+){0,3}?(fee|fare|rent|deposit|"
                                r"charge|price|cost)s?\b", re.I)),
    (SpanKind.PERCENT, re.compile(r"\b(what|which)\s+(share|percentage|percent|proportion|fraction|portion)\b", re.I)),
    (SpanKind.PHONE, re.compile(r"\b(phone|telephone|hotline|helpline|fax)\b|"
                                r"\b(what|which)\s+number\b.*\b(call|dial|ring|text)\b", re.I)),
    (SpanKind.CODE, re.compile(_WHICH + rf"({_CODES})s?\b", re.I)),
    (SpanKind.DURATION, re.compile(r"\b(for\s+)?how\s+long\b(?!\s+ago)|"
                                   r"\b(what|which)\s+(is|was)\s+the\s+(duration|length)\s+of|\bhow\s+much\s+time|"
                                   r"\bhow\s+many\s+(seconds|minutes|hours|days|weeks|months|years)\b", re.I)),
    (SpanKind.DATE, _ASKS_DATE),
    (SpanKind.DATE, re.compile(_WHICH + r"(year|date|day|month|decade|century|time)s?\b|\bby\s+when\b|"
                               r"\buntil\s+when\b", re.I)),
    (SpanKind.NUMBER, _ASKS_NUMBER),
    (SpanKind.NUMBER, re.compile(r"\bhow\s+(many|much)\b|\b(what|which)\s+number\s+of\b", re.I)),
    (SpanKind.PERSON, re.compile(_LEAD + r"(who|whom|whose)\b|" + _WHICH + rf"({_PEOPLE})s?\b", re.I)),
    (SpanKind.PLACE, re.compile(_LEAD + r"where\b|" + _WHICH + rf"({_PLACES})\b", re.I)),
    (SpanKind.ORGANISATION, re.compile(_WHICH + rf"({_ORGANISATIONS})\b", re.I)),
)


def span_kind(question: str) -> SpanKind | None:
    """The kind of answer span `question` asks for (see qa.answer_span), or None when its
    answer is of no kind a rule can recognise ("What does the Coast Guard assess?")."""
    question = main_clause(question)
    for kind, pattern in _ASKS_SPAN:
        if pattern.search(question):
            return kind
    return None


# "Which floor ...?", "What colour ...?": the word after the interrogative names the kind of
# thing asked for. Left out: words that name no kind ("What sort of ..."), the kinds the
# answer types already see ("What year ...": the answer says "1934", not "year"), and verbs
# ("What happened ...", "What caused ...", "What led ...").
_ASKED_NOUN = re.compile(r"^\W*(?:\w+\W+){0,2}?(?:what|which)\s+(?!(?:is|was|are|were|did|does|do|has|have|had|will|"
                         r"can|could|would|should|kind|kinds|sort|sorts|type|types|part|parts|way|ways|one|ones|"
                         r"other|else|of|year|years|date|dates|day|days|month|months|decade|decades|century|"
                         r"centuries|season|seasons|time|times|led|made|went|took|came|got|gave|makes|goes|happens|"
                         r"causes|means)\b)([a-z][\w'-]*)", re.I)


def asked_term(question: str) -> str | None:
    """The stem of the word naming what a which/what question asks for ("floor" in "Which
    floor of Quayside House ...?"), or None."""
    found = _ASKED_NOUN.search(main_clause(question))
    if found is None or found.group(1).lower().endswith("ed"):
        return None
    terms = content_terms(tokenize([found.group(1)])[0])
    return terms[0] if len(terms) == 1 else None
