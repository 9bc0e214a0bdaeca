"""Checks of a question and its parameters that need no model, so every front end (the CLI,
the API, the UI) rejects bad input before loading anything."""

from __future__ import annotations

import re
import unicodedata

from qa.config import MODES
from qa.errors import BadQueryError

MAX_K = 100
MAX_QUESTION_CHARS = 10_000


def clean_question(question: str) -> str:
    """NFC-normalise, turn control characters (NUL, escapes, C1 controls) into spaces,
    drop lone surrogates (they cannot be encoded), and squeeze white space.

    Format characters such as the zero-width joiner of emoji sequences and the
    right-to-left marks of Arabic or Hebrew text are kept.
    """
    question = unicodedata.normalize("NFC", _SURROGATE.sub("", question or ""))
    question = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in question)
    return " ".join(question.split())


_SURROGATE = re.compile("[\ud800-\udfff]")


def validate_k(k: object, limit: int = MAX_K) -> int:
    """`k` as an int from 1 to `limit`; whole-number strings and floats are accepted.

    Raises:
        BadQueryError: anything else (0, negative, too large, fractional, not a number).
    """
    message = f"k must be a whole number from 1 to {limit}, not {k!r}"
    if isinstance(k, bool):
        raise BadQueryError(message)
    if isinstance(k, str):
        k = k.strip()
    try:
        value = int(k)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        try:
            as_float = float(k)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            raise BadQueryError(message) from None
        if not as_float.is_integer():
            raise BadQueryError(message) from None
        value = int(as_float)
    if isinstance(k, float) and not k.is_integer() or not 1 <= value <= limit:
        raise BadQueryError(message)
    return value


def validate_mode(mode: object, default: str = "hybrid") -> str:
    """`mode` lower-cased, or `default` when None or empty.

    Raises:
        BadQueryError: not one of `MODES`.
    """
    if mode is None or (isinstance(mode, str) and not mode.strip()):
        return default
    if not isinstance(mode, str) or mode.strip().lower() not in MODES:
        raise BadQueryError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    return mode.strip().lower()


def check_question(question: object) -> str:
    """The cleaned question, or a BadQueryError that says what is wrong with it.

    Needs no model, so front ends can reject bad input before loading anything.
    """
    if not isinstance(question, str):
        raise BadQueryError(f"the question must be text, not {type(question).__name__}")
    cleaned = clean_question(question[:MAX_QUESTION_CHARS])
    if not cleaned:
        raise BadQueryError("Type a question first: it is empty.")
    if not any(ch.isalnum() for ch in cleaned):
        raise BadQueryError(
            "The question has no words to search for (only punctuation, symbols or emoji): use letters or digits."
        )
    return cleaned
