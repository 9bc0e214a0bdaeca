"""What the ranking and the answer read from a store: candidates, their scores, their passages.

The engine's fusion, highlighting, answerability and JSON contract sit above this line; a
store only answers "which passages are candidates, and how do they score". Two stores
implement it: the FAISS folder store (`qa.store.StoredIndex`) and Qdrant
(`qa.distributed`). Rows are passage numbers, 0 .. passages - 1, stable for one build.

Every method that takes `rows` works on those rows only, so a store holding millions of
passages fetches, scores and flags just the few hundred candidates of a question. Scores
come back unrounded in float64; the retriever rounds them (`qa.retrieval.settle`).
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence

import numpy as np

from qa.answer_types import AnswerType
from qa.documents import Chunk, Document


class LexicalStats(Protocol):
    """Collection statistics of the BM25 side, used to weigh the question's words."""

    def idf(self, terms: Sequence[str]) -> dict[str, float]: ...

    def ideal_score(self, query: str) -> float: ...

    def known_terms(self, terms: Sequence[str]) -> list[str]: ...

    def max_idf(self) -> float: ...


class PassageStore(Protocol):
    """A built collection as the query path sees it."""

    documents: tuple[Document, ...]
    manifest: dict[str, Any]

    @property
    def passages(self) -> int:
        """How many passages (rows) the store holds."""

    @property
    def lexical_stats(self) -> LexicalStats: ...

    def chunks_at(self, rows: Sequence[int]) -> list[Chunk]:
        """The passages at `rows`, in that order."""

    def document_rows(self, rows: np.ndarray) -> np.ndarray:
        """The document row (into `documents`) of each passage row."""

    def passage_counts(self) -> np.ndarray:
        """Passages per document row."""

    def document_text(self, doc_row: int) -> str:
        """The full text of the document at `doc_row`: `documents` hold titles, sources,
        formats and pages but not texts, which are read when a document is viewed."""

    def document_lengths(self) -> np.ndarray:
        """Characters of each document's text, by document row."""

    def dense_candidates(self, query_vector: np.ndarray, depth: int) -> np.ndarray:
        """Up to `depth` rows nearest the (L2-normalised) question vector, best first;
        an approximate index may miss some of the exact top `depth`."""

    def dense_scores(self, query_vector: np.ndarray, rows: np.ndarray,
                     sentence_factors: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Exact cosine of each row's passage vector and of its best sentence's vector;
        `sentence_factors` (one per sentence of the rows, in order) scale the sentence
        cosines before the best is taken."""

    def sentence_vectors_of(self, row: int) -> np.ndarray:
        """One vector per sentence of the passage at `row` (for highlighting)."""

    def lexical_candidates(self, query: str, depth: int) -> tuple[np.ndarray, float]:
        """Up to `depth` rows with the highest BM25 scores for `query` (rows with a zero
        score may fill the list when fewer match), and the highest score of all."""

    def lexical_scores(self, query: str, rows: np.ndarray) -> np.ndarray:
        """BM25 score of each row for `query`."""

    def undamped(self, rows: np.ndarray) -> np.ndarray:
        """Per row, True when the passage ranks without the short-lines penalty (prose, or
        exactly its document's title); computed when the store is built."""

    def holds(self, kind: AnswerType, rows: np.ndarray) -> np.ndarray:
        """Per row, True when the passage holds an answer of `kind` (qa.answer_types)."""
