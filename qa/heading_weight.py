"""How much of a question a section heading names (qa.retrieval lifts the passages under it)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from qa.exact_tokens import holds_all
from qa.lexical import term_set


def heading_shares(headings: Sequence[str], terms: dict[str, float], codes: tuple[str, ...],
                   code_weight: float) -> np.ndarray:
    """Per heading, the share of the question's weight it holds: its content terms by IDF,
    and each code it names exactly at `code_weight` (a code is as telling as the rarest term)."""
    total = sum(terms.values()) + code_weight * len(codes)
    if total <= 0:
        return np.zeros(len(headings))
    return np.array([(sum(w for t, w in terms.items() if t in term_set(h))
                      + code_weight * sum(holds_all(h, (c,)) for c in codes)) / total if h else 0.0
                     for h in headings])
