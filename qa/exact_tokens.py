"""Codes, versions and identifiers a question names, and whether a text holds them exactly.

Word embeddings and a stemmed BM25 blur `E4` with `E1` and `4.1.2` with `4.2.1` (BM25's
tokenizer even drops one-character pieces, so `4.1.2` leaves no term at all). When a question
names such a token, a passage that holds it exactly is the one to read: qa.retrieval ranks
passages without it lower and qa.highlight prefers the sentence with it.

A token counts as a code when it mixes letters and digits (`E4`, `QM103`, `DW-450`), is a
dotted version (`4.1.2`), an identifier with an underscore (`SHELFWISE_BACKUP_KEEP`), or a
number of three or more digits that is not a year (`812`, an error number). Ordinary words,
small counts and years are left to the other signals.
"""

from __future__ import annotations

import re
from functools import lru_cache

_CANDIDATE = re.compile(r"(?<![\w.])[A-Za-z0-9_][\w.\-]*[A-Za-z0-9_]|(?<![\w.])\w(?![\w.])")
_VERSION = re.compile(r"^v?\d+(\.\d+){1,3}$", re.I)
_YEAR = re.compile(r"^(1[5-9]|20)\d\d$")


def is_code(token: str) -> bool:
    has_digit = any(c.isdigit() for c in token)
    has_alpha = any(c.isalpha() for c in token)
    if "_" in token and len(token) > 2:
        return True
    if has_digit and has_alpha:
        return True
    if _VERSION.match(token):
        return token.count(".") >= 2 or token.lower().startswith("v")
    return token.isdigit() and len(token) >= 3 and not _YEAR.match(token)


@lru_cache(maxsize=4096)
def exact_tokens(question: str) -> tuple[str, ...]:
    """The codes `question` names, in order, without repeats (a trailing full stop is not
    part of a token)."""
    found = [t.rstrip(".-") for t in _CANDIDATE.findall(question)]
    return tuple(dict.fromkeys(t for t in found if t and is_code(t)))


@lru_cache(maxsize=4096)
def _pattern(token: str) -> re.Pattern[str]:
    # not inside a longer token: "E4" is not in "E40" or "SE4", "4.1.2" not in "4.1.23"
    return re.compile(rf"(?<![\w.]){re.escape(token)}(?!\w|\.\w)", re.I)


def holds_all(text: str, tokens: tuple[str, ...]) -> bool:
    """Whether `text` holds every token exactly (case-insensitive, as a whole token)."""
    return all(_pattern(t).search(text) for t in tokens)
