"""Pick the sentences of a passage that answer the question.

Sentence vectors are computed at build time, so scoring a passage's sentences is one small
matrix-vector product; an IDF-weighted term overlap breaks near-ties in favour of the
sentence that names what the question names.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.lexical import term_set

LEXICAL_WEIGHT = 0.3
SECOND_SENTENCE_RATIO = 0.97  # a runner-up this close to the best is highlighted too


@dataclass(frozen=True)
class Highlight:
    """A span inside a passage's text: `passage.text[start:end] == text`."""

    start: int
    end: int
    text: str
    score: float


def term_overlap(query_terms: dict[str, float], text: str) -> float:
    """Share of the question's IDF weight whose terms occur in `text` (0..1)."""
    total = sum(query_terms.values())
    if total <= 0:
        return 0.0
    present = term_set(text)  # cached per text: the same sentences recur across queries
    return sum(w for t, w in query_terms.items() if t in present) / total


def sentence_scores(
    query_vector: np.ndarray,
    sentence_vectors: np.ndarray,
    sentences: list[str],
    query_terms: dict[str, float],
    lexical_weight: float = LEXICAL_WEIGHT,
) -> np.ndarray:
    dense = sentence_vectors @ query_vector
    if not query_terms or lexical_weight == 0:
        return dense
    overlap = np.array([term_overlap(query_terms, s) for s in sentences], dtype=np.float32)
    return dense + lexical_weight * overlap


def highlight_passage(
    text: str,
    spans: tuple[tuple[int, int], ...],
    query_vector: np.ndarray,
    sentence_vectors: np.ndarray,
    query_terms: dict[str, float],
    max_highlights: int = 2,
) -> list[Highlight]:
    """The best-answering sentences of one passage, best first.

    Args:
        text: the passage text.
        spans: its sentence offsets, relative to `text`.
        query_vector: the encoded question.
        sentence_vectors: one row per span.
        query_terms: the question's stemmed terms with their IDF weights.
        max_highlights: at most this many sentences.
    """
    if not spans:
        return []
    sentences = [text[s:e] for s, e in spans]
    scores = sentence_scores(query_vector, sentence_vectors, sentences, query_terms)
    order = np.argsort(-scores, kind="stable")
    best = float(scores[order[0]])
    chosen = [order[0]] + [i for i in order[1:max_highlights] if scores[i] >= best * SECOND_SENTENCE_RATIO and best > 0]
    return [Highlight(spans[i][0], spans[i][1], sentences[i], float(scores[i])) for i in chosen]
