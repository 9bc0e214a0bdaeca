"""What answers of each kind look like in text: the regular expressions and word lists
that qa.answer_span finds candidate spans with."""

from __future__ import annotations

import re

from qa.answer_types import TIME_UNIT, SpanKind
from qa.lexical import QUESTION_WORDS

_QUALIFIER = (r"(?:(?:about|around|approximately|roughly|nearly|almost|over|under|some|only|just|exactly|"
              r"up\s+to|at\s+least|at\s+most|more\s+than|less\s+than|fewer\s+than|as\s+many\s+as|"
              r"as\s+much\s+as|close\s+to|upwards\s+of)\s+)?")
_DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:/\d+)?"
_WORD_NUMBER = (r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
                r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
                r"several|dozens|hundreds|thousands|millions|a\s+dozen)"
                r"(?:[\s-](?:one|two|three|four|five|six|seven|eight|nine))?")
_SCALE = r"(?:\s+(?:hundred|thousand|million|billion|trillion))?"
_NUMBER = rf"(?:{_DIGITS}|\b{_WORD_NUMBER}\b){_SCALE}"
_RANGE = rf"{_NUMBER}(?:\s*(?:-|–|to|and|or)\s*{_NUMBER})?"
_FRACTION = (r"\b(?:one|a|two|three|four)[\s-](?:half|halves|thirds?|quarters?|fifths?|tenths?)\b|"
             r"\bhalf\b|\bone\s+in\s+(?:two|three|four|five|six|seven|eight|nine|ten)\b")
_TIME_UNIT = TIME_UNIT
_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
          r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?")
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
YEAR = r"(?:1[0-9]\d\d|20\d\d)"
# "20 working days", "three full months"
_UNIT_MODIFIER = r"(?:working|business|calendar|full|whole|clear|consecutive|school|extra|additional|more|further)"
# "once a week", "three times a day", "every two hours", "monthly": the answers to "how often"
FREQUENCY = re.compile(rf"\b(?:once|twice|(?:{_NUMBER})\s+times)\s+(?:a|an|per|each|every)\s+{_TIME_UNIT}\b"
                       rf"|\bevery\s+(?:other\s+|{_NUMBER}\s+)?{_TIME_UNIT}\b"
                       r"|\b(?:daily|weekly|fortnightly|monthly|quarterly|yearly|annually|hourly|nightly)\b", re.I)
# The words after "one week after ..." reach up to four, never past a clause's start and
# never ending on a function word ("after the second injection", not "... injection the").
_CLAUSE = r"(?:because|and|but|so|when|which|that|is|are|was|were)\b"
_FUNCTION = r"(?:the|a|an|of|to|in|on|at|for|by|with|from|his|her|their|its|your|our|my)\b"
_DATE_CORE = (
    rf"(?:{_WEEKDAY},?\s+)?(?:{_MONTH}\s+{_DAY}(?:,?\s+{YEAR})?|{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{YEAR})?|"
    rf"{_MONTH}(?:,?\s+{YEAR}|\s+of\s+(?:this|that|last|next)\s+year)?)(?![\w])"
    rf"|{_WEEKDAY}|\b\d{{4}}-\d{{2}}-\d{{2}}\b|\b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b"
    rf"|\b(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)\s+century\b|\b(?:the\s+)?(?:1[0-9]|20)\d0s\b"
    rf"|\b{YEAR}(?:\s*(?:-|–|to|and)\s*(?:{YEAR}|\d\d))?\b"
    rf"|\b\d{{1,2}}(?::\d\d)?\s*(?:a\.m\.|p\.m\.|am|pm)(?!\w)|\b\d{{1,2}}:\d\d\b"
    rf"|\b(?:this|last|next)\s+(?:week|month|year|spring|summer|autumn|fall|winter)\b|\b\w+\s+ago\b"
    # a time set by an event: "one week after the second injection", "Two days later"
    rf"|(?i:\b(?:{_NUMBER}|a|an)\s+{_TIME_UNIT}\s+(?:after|before)(?:\s+(?!{_CLAUSE})[\w'-]+){{0,3}}?"
    rf"\s+(?!{_CLAUSE}|{_FUNCTION})[\w'-]+(?![\w'-]*\s+(?!{_CLAUSE}|{_FUNCTION})[\w'-])"
    rf"|\b(?:{_NUMBER}|a|an)\s+{_TIME_UNIT}\s+(?:later|earlier|beforehand)\b)"
)
DATE_LEAD = (r"(?i:(?:\b(?:in|on|by|since|until|from|during|before|after)\s+)?"
              r"(?:\b(?:this\s+past|early|late|mid|the\s+end\s+of|the\s+start\s+of)[\s-]+)?)")
_CURRENCY = r"(?:US|C|A|NZ|HK)?[$€£¥]"
_MONEY_WORDS = r"(?:dollars?|euros?|pounds?|cents?|pence|francs?|yen|yuan|rupees?|USD|EUR|GBP)\b"

PATTERNS = {
    SpanKind.DATE: re.compile(rf"{DATE_LEAD}(?:{_DATE_CORE})(?:\s*(?:-|–|to|until)\s*(?:{_DATE_CORE}))?"),
    SpanKind.DURATION: re.compile(rf"{_QUALIFIER}\b(?:{_RANGE}|a|an|half\s+an?)[\s-]+"
                                  rf"(?:{_UNIT_MODIFIER}\s+)?{_TIME_UNIT}\b(?:\s+and\s+a\s+half)?", re.I),
    SpanKind.MONEY: re.compile(rf"{_QUALIFIER}(?:{_CURRENCY}\s?{_RANGE}(?:\s?(?:m|bn|k)\b)?"
                               rf"|(?<![\w.,]){_RANGE}\s+{_MONEY_WORDS})", re.I),
    SpanKind.PERCENT: re.compile(rf"{_QUALIFIER}(?:{_RANGE}\s?(?:%|percent\b|per\s+cent\b)|{_FRACTION})", re.I),
    SpanKind.NUMBER: re.compile(rf"{_QUALIFIER}(?:(?<![\w.,$€£¥]){_RANGE}(?:\s?%)?|{_FRACTION})", re.I),
    SpanKind.PHONE: re.compile(r"\b(?:ext\.?|extension)\s?\d{2,6}\b"
                               r"|(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,5}\)[\s.-]?)?\d{2,5}(?:[\s.-]\d{2,5}){1,4}(?![\w])"),
    # `inline code`, a token mixing letters with digits, dots, dashes or underscores
    # (E-204, v2.3.1, DW-450, QM_HOME), or a capitalised word and a number (ISO 9050, Zone 4), or a
    # code noun and a number (port 8040, version 3).
    SpanKind.CODE: re.compile(r"`([^`\n]{1,80})`|(?<![\w.-])(?:(?=[\w.+/#-]*\d)(?=[\w.+/#-]*[A-Za-z_.-])"
                              r"[A-Za-z0-9][\w.+/#-]*[\w+#]|[A-Z][A-Z0-9]*_[A-Z0-9_]+|[A-Z][\w-]*\s\d[\w.-]*"
                              r"|\b(?:port|version|release|build|model|room|gate|platform|zone|channel|exit|route)"
                              r"\s\d[\w.-]*)"),
}

WORD = re.compile(r"(?:[A-Z]\.)+|[^\W_][\w'’.-]*[^\W_]|[^\W_]")
# Words that may join a name's capitalised words ("Institut des Hautes Études",
# "University of Notre Dame") and titles that may start one ("Dr. Ada Lane").
NAME_JOINERS = frozenset("of for de des du la le del della di da van von der den al bin".split())
TITLES = frozenset("dr dr. mr mr. mrs mrs. ms ms. st st. prof prof. sir".split())
# Last words that make a run of capitalised words a place, not a person ("Ferris Road",
# "Ashcombe Rec"); words that are surnames as well (Hall, Park, Lane, Close, House, Green)
# are left out. And names of days and months, which alone name no one: a lone "May" or
# "March" is taken for the month, as holds_person does.
PLACE_ENDINGS = frozenset(
    "road rd street avenue ave drive crescent terrace square gardens rec clinic hospital surgery centre "
    "center library station airport bridge river lake mountain island harbour beach city county "
    "village".split())
CALENDAR_WORDS = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday january february march april may june july "
    "august september october november december".split())
# Words that start no name ("The", "However", "Thank" opening a sentence) and that do
# not set a candidate apart from a question word ("borough of Queens").
COMMON_WORDS = frozenset(QUESTION_WORDS) | frozenset(
    "a an and the in on at by for to of this that these those it its as but or if so yet however although "
    "though while after before since during following according thank thanks today yesterday tomorrow "
    "unlike despite both each every many most some several one two three first then there here once "
    "when where later meanwhile also still "
    # adverbs that open a sentence capitalised ("Regarding the controls, GameSpot's Jeff ...")
    "regarding concerning instead overall furthermore moreover additionally nevertheless nonetheless therefore "
    "thus hence indeed similarly likewise finally initially eventually currently recently originally ultimately "
    "unfortunately fortunately notably specifically generally typically usually sometimes perhaps please".split())
