"""Is a question written in English? A cheap check, so that a question in another language
gets a note instead of a silent, low-confidence miss (the default model reads English).

Two signals, no model: the share of letters outside the Latin alphabet (Cyrillic, Greek,
Arabic, CJK ... scripts), and, for Latin-script text, whether the question's function words
are those of another language (the stop-word lists bm25s ships) rather than English ones.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WORD = re.compile(r"[^\W\d_]+")
OTHER_LANGUAGES = ("GERMAN", "FRENCH", "SPANISH", "ITALIAN", "PORTUGUESE", "DUTCH", "DANISH", "SWEDISH",
                   "NORWEGIAN", "TURKISH")


@lru_cache(maxsize=1)
def _function_words() -> tuple[frozenset[str], frozenset[str]]:
    """English function words, and those of other Latin-script languages that English lacks."""
    import bm25s.stopwords as lists

    english = frozenset(lists.STOPWORDS_EN_PLUS) | frozenset(lists.STOPWORDS_EN)
    other = frozenset(w for name in OTHER_LANGUAGES for w in getattr(lists, f"STOPWORDS_{name}")) - english
    return english, other


def _latin(ch: str) -> bool:
    return ch.isascii() or "LATIN" in unicodedata.name(ch, "")


def looks_english(question: str, min_other: int = 2, max_foreign_letters: float = 0.3) -> bool:
    """False when most letters are from another script, or when the question uses at least
    `min_other` function words of another language and more of them than English ones."""
    letters = [ch for ch in question if ch.isalpha()]
    if not letters:
        return True
    if sum(not _latin(ch) for ch in letters) / len(letters) > max_foreign_letters:
        return False
    english, other = _function_words()
    words = [w.lower() for w in _WORD.findall(question)]
    n_en = sum(w in english for w in words)
    n_other = sum(w in other for w in words)
    return not (n_other >= min_other and n_other > n_en)
