"""Rank passages for a question: dense (FAISS), lexical (BM25) or a fusion of both.

Every mode scores the same candidate set (the union of the dense and BM25 top lists) so
that fused scores compare like with like. A passage's dense score blends its own vector
with its best sentence's, which lifts paragraphs whose answer is one sentence among many.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from qa.config import MODES
from qa.errors import BadQueryError
from qa.store import StoredIndex

FUSIONS = ("minmax", "zscore", "rrf")
RRF_K = 60  # Cormack, Clarke & Buettcher (2009), "Reciprocal rank fusion outperforms ..."
CANDIDATES = 100
SHORT_LINES_PENALTY = 0.85  # menus, dates and headings rank below prose that scores the same


@dataclass(frozen=True)
class Hit:
    """A ranked passage and the signals behind its score.

    Attributes:
        row: the passage's row in the index.
        score: the fused score used for ranking (in [0, 1] for score fusions).
        dense: cosine of the passage blended with its best sentence's.
        lexical: raw BM25 score.
        best_sentence: cosine of the passage's best sentence.
    """

    row: int
    score: float
    dense: float
    lexical: float
    best_sentence: float


@dataclass(frozen=True)
class Ranking:
    """What a retriever returns for one question: hits, best first, and the query vector
    (reused for highlighting, so the question is encoded once)."""

    hits: tuple[Hit, ...]
    query_vector: np.ndarray


def _minmax(x: np.ndarray) -> np.ndarray:
    span = float(x.max() - x.min()) if len(x) else 0.0
    return (x - x.min()) / span if span > 0 else np.zeros_like(x)


def _zscore(x: np.ndarray) -> np.ndarray:
    std = float(x.std()) if len(x) else 0.0
    return (x - x.mean()) / std if std > 0 else np.zeros_like(x)


def rrf(rank_lists: Sequence[np.ndarray], size: int, k: int = RRF_K) -> np.ndarray:
    """Reciprocal-rank fusion: sum of 1 / (k + rank) over the lists (rank from 1).

    Args:
        rank_lists: each an array of candidate positions, best first.
        size: number of candidates.
        k: the RRF constant; 60 in the original paper.
    """
    fused = np.zeros(size, dtype=np.float64)
    for order in rank_lists:
        fused[order] += 1.0 / (k + np.arange(1, len(order) + 1))
    return fused


def fuse(dense: np.ndarray, lexical: np.ndarray, method: str, dense_weight: float) -> np.ndarray:
    """Combine two score arrays over the same candidates into one ranking score."""
    if method == "rrf":
        size = len(dense)
        return rrf([np.argsort(-dense, kind="stable"), np.argsort(-lexical, kind="stable")], size)
    norm = _minmax if method == "minmax" else _zscore
    return dense_weight * norm(dense) + (1 - dense_weight) * norm(lexical)


class Retriever:
    """Dense, BM25 and hybrid ranking over one StoredIndex."""

    def __init__(self, index: StoredIndex, embedder, sentence_weight: float = 0.5,
                 dense_weight: float = 0.6, fusion: str = "minmax") -> None:
        if fusion not in FUSIONS:
            raise BadQueryError(f"unknown fusion {fusion!r}: use one of {', '.join(FUSIONS)}")
        self.index = index
        self.embedder = embedder
        self.sentence_weight = sentence_weight
        self.dense_weight = dense_weight
        self.fusion = fusion
        self._prose = np.array([c.prose for c in index.chunks], dtype=bool)
        starts = index.sentence_start
        # sentence row -> passage row, for a per-passage max with one numpy call
        self._sentence_owner = np.repeat(np.arange(len(index.chunks)), np.diff(starts))

    def search(self, query: str, k: int, mode: str = "hybrid") -> Ranking:
        return self.search_batch([query], k, mode)[0]

    def search_batch(self, queries: Sequence[str], k: int, mode: str = "hybrid") -> list[Ranking]:
        if mode not in MODES:
            raise BadQueryError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        # Encoded in every mode: highlighting needs the vector even when BM25 ranks.
        vectors = self.embedder.encode_queries(list(queries))
        return [self._rank(query, qv, k, mode) for query, qv in zip(queries, vectors)]

    def _candidates(self, qv: np.ndarray, lexical: np.ndarray, mode: str, k: int) -> np.ndarray:
        n = len(self.index.chunks)
        depth = min(n, max(CANDIDATES, k))
        parts = []
        if mode != "bm25":
            _, ids = self.index.faiss_index.search(qv[None, :].astype(np.float32), depth)
            parts.append(ids[0][ids[0] >= 0])
        if mode != "dense":
            parts.append(np.argpartition(-lexical, depth - 1)[:depth] if depth < n else np.arange(n))
        return np.unique(np.concatenate(parts))

    def _dense_scores(self, qv: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        idx = self.index
        passage = idx.passage_vectors[rows] @ qv
        starts, ends = idx.sentence_start[rows], idx.sentence_start[rows + 1]
        sent_rows = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends)])
        sims = idx.sentence_vectors[sent_rows] @ qv
        best = np.maximum.reduceat(sims, np.concatenate([[0], np.cumsum(ends - starts)[:-1]]))
        w = self.sentence_weight
        return (1 - w) * passage + w * best, best

    def _rank(self, query: str, qv: np.ndarray, k: int, mode: str) -> Ranking:
        lexical_all = self.index.lexical.scores(query)
        rows = self._candidates(qv, lexical_all, mode, k)
        dense, best_sentence = self._dense_scores(qv, rows)
        lexical = lexical_all[rows]
        # Groups of short lines (menus, dates, headings) give way to prose that scores alike.
        damp = np.where(self._prose[rows], 1.0, SHORT_LINES_PENALTY)
        dense, lexical = dense * damp, lexical * damp
        if mode == "dense":
            score = dense.astype(np.float64)
        elif mode == "bm25":
            score = lexical.astype(np.float64)
        else:
            score = fuse(dense, lexical, self.fusion, self.dense_weight)
        order = np.lexsort((rows, -score))[:k]  # best first, ties by passage row
        hits = tuple(
            Hit(int(rows[i]), float(score[i]), float(dense[i]), float(lexical[i]), float(best_sentence[i]))
            for i in order
        )
        return Ranking(hits, qv)
