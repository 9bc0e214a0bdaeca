"""Sentences that ask rather than tell.

A question quoted in a document ("Is there parking at the new building?" in an e-mail
thread) shares the asker's words and meaning, so it sits closest to the question of all,
yet it never holds the answer: the reply does. Ranking and highlighting therefore weigh an
interrogative sentence down (`RankParams.question_sentence_factor`,
`HighlightParams.question_sentence_penalty`).
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

_ASKS = re.compile(r"\?[\"”’')\]]*\s*$")


def is_interrogative(sentence: str) -> bool:
    """Whether the sentence ends with a question mark (closing quotes and brackets aside)."""
    return "?" in sentence and _ASKS.search(sentence) is not None  # the test first: most sentences tell


def interrogative_mask(sentences: Sequence[str]) -> np.ndarray:
    """Per sentence, whether it asks (see `is_interrogative`)."""
    return np.fromiter((is_interrogative(s) for s in sentences), dtype=bool, count=len(sentences))
