"""Rank passages for a question: dense (FAISS), lexical (BM25) or a fusion of both.

Every mode scores the same candidate set (the union of the dense and BM25 top lists) so
that fused scores compare like with like. A passage's dense score blends its own vector
with its best sentence's, which lifts paragraphs whose answer is one sentence among many.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from qa.config import FUSIONS, MODES
from qa.errors import BadQueryError
from qa.answer_types import answer_type
from qa.backend import PassageStore
from qa.chunking import CONTEXT_SEPARATOR
from qa.exact_tokens import exact_tokens, holds_all
from qa.interrogative import interrogative_mask
from qa.lexical import content_terms, tokenize
from qa.params import RankParams, SpanParams
from qa.span_presence import counting_keeps
from qa.heading_weight import heading_shares as heading_shares  # re-exported
from qa.documents import Chunk

RRF_K = 60  # Cormack, Clarke & Buettcher (2009), "Reciprocal rank fusion outperforms ..."
# The tuned numbers (candidates, short-lines penalty, answer-type and exact-token bonuses, the
# BM25 strength share) are in qa.params.RankParams. Why two of them exist: for a question
# asking how many / when / how much money, the neighbour that names the topic often outscores
# the passage holding the figure; and min-max scaling would stretch a BM25 match on one
# common word ("DHS") into a full-strength signal, though a paraphrased question's telling
# words are not in the collection (a passage of average length holding every content term of
# the question once scores about 1 / (1 + k1) = 0.53 of the ideal BM25 score).
# Scores that decide ranks are rounded to this many decimals (in float64): a float32 product
# gives a row different last digits depending on where it sits in the matrix and which CPU
# kernel runs, so scores equal in exact arithmetic would otherwise rank differently by machine.
SCORE_DECIMALS = 6


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
    # The two best candidates as (row, score), whatever k is: a hit's lead over the best other
    # candidate (qa.answerability's margin) must not change with how many results are asked for.
    leaders: tuple[tuple[int, float], ...] = ()
    # The hits' passages, as ranking read them (in the order of `hits`): answering reuses
    # them instead of fetching them from the store again.
    chunks: tuple[Chunk, ...] = ()

    def runner_up(self, row: int) -> float | None:
        """The best score of a candidate other than `row`; None when there is none."""
        return next((score for other, score in self.leaders if other != row), None)


def settle(x: np.ndarray) -> np.ndarray:
    """`x` in float64, rounded to `SCORE_DECIMALS`: the same on every CPU and thread count."""
    return np.round(np.asarray(x, dtype=np.float64), SCORE_DECIMALS)


def minmax(x: np.ndarray) -> np.ndarray:
    """Scale to [0, 1]; all zeros when every value is the same."""
    x = np.asarray(x, dtype=np.float64)
    span = float(x.max() - x.min()) if len(x) else 0.0
    return (x - x.min()) / span if span > 0 else np.zeros_like(x)


def zscore(x: np.ndarray) -> np.ndarray:
    """Centre on the mean and divide by the (population) standard deviation; all zeros
    when every value is the same."""
    x = np.asarray(x, dtype=np.float64)
    std = float(x.std()) if len(x) else 0.0
    return (x - x.mean()) / std if std > 0 else np.zeros_like(x)


def ranks(x: np.ndarray) -> np.ndarray:
    """1-based competition ranks, best (highest) first; equal scores share the better rank."""
    x = np.asarray(x)
    # rank = 1 + how many scores are strictly higher
    return 1 + (len(x) - np.searchsorted(np.sort(x), x, side="right")).astype(np.int64)


def rrf(rank_lists: Sequence[np.ndarray], k: int = RRF_K) -> np.ndarray:
    """Reciprocal-rank fusion: per candidate, the sum of 1 / (k + rank) over the lists.

    Args:
        rank_lists: per list, each candidate's 1-based rank (`np.inf` where a list
            does not hold the candidate, which then gets nothing from it).
        k: the RRF constant; 60 in the original paper.
    """
    fused = np.zeros(len(rank_lists[0]) if rank_lists else 0, dtype=np.float64)
    for r in rank_lists:
        fused += 1.0 / (k + np.asarray(r, dtype=np.float64))
    return fused


def fuse(dense: np.ndarray, lexical: np.ndarray, method: str, dense_weight: float, rrf_k: int = RRF_K,
         lexical_strength: float = 1.0) -> np.ndarray:
    """Combine two score arrays over the same candidates into one ranking score.

    `minmax` and `zscore` are `w * norm(dense) + (1 - w) * lexical_strength * norm(bm25)`
    (a convex combination at full strength); `rrf` ignores the weights and sums reciprocal ranks.
    """
    if method == "rrf":
        return rrf([ranks(dense), ranks(lexical)], rrf_k)
    if method not in ("minmax", "zscore"):
        raise BadQueryError(f"unknown fusion {method!r}: use one of {', '.join(FUSIONS)}")
    norm = minmax if method == "minmax" else zscore
    return dense_weight * norm(dense) + (1 - dense_weight) * lexical_strength * norm(lexical)


class Retriever:
    """Dense, BM25 and hybrid ranking over one store (qa.backend.PassageStore)."""

    def __init__(self, index: PassageStore, embedder, sentence_weight: float = 0.5,
                 dense_weight: float = 0.6, fusion: str = "minmax", rrf_k: int = RRF_K,
                 reranker=None, rerank_depth: int = 20, params: RankParams = RankParams(),
                 span_params: SpanParams = SpanParams()) -> None:
        """
        Args:
            index: the store the candidates and their scores come from (qa.backend).
            embedder: encodes the questions.
            sentence_weight: share of a passage's dense score taken from its best sentence.
            dense_weight: weight of the dense side in `minmax` / `zscore` fusion.
            fusion: one of `FUSIONS`.
            rrf_k: the constant of `rrf` fusion.
            reranker: an object with `score(query, passages) -> array` (see qa.rerank),
                or None for no second stage.
            rerank_depth: how many first-stage hits the re-ranker re-scores.
            params: the tuned numbers of the ranking (qa.params.RankParams).
        """
        if fusion not in FUSIONS:
            raise BadQueryError(f"unknown fusion {fusion!r}: use one of {', '.join(FUSIONS)}")
        self.index = index
        self.embedder = embedder
        self.sentence_weight = sentence_weight
        self.dense_weight = dense_weight
        self.fusion = fusion
        self.rrf_k = rrf_k
        self.reranker = reranker
        self.rerank_depth = rerank_depth
        self.params = params
        self.span_params = span_params

    @classmethod
    def from_settings(cls, index: PassageStore, embedder, settings) -> "Retriever":
        """A retriever configured by `Settings` (loading the re-ranker when one is named)."""
        reranker = None
        if settings.reranker:
            from qa.rerank import load_reranker

            reranker = load_reranker(settings.reranker, settings.device)
        return cls(index, embedder, sentence_weight=settings.sentence_weight, dense_weight=settings.dense_weight,
                   fusion=settings.fusion, rrf_k=settings.rrf_k, reranker=reranker,
                   rerank_depth=settings.rerank_depth, params=settings.rank, span_params=settings.spans)

    def search(self, query: str, k: int, mode: str = "hybrid") -> Ranking:
        return self.search_batch([query], k, mode)[0]

    def search_batch(self, queries: Sequence[str], k: int, mode: str = "hybrid") -> list[Ranking]:
        if mode not in MODES:
            raise BadQueryError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        # Encoded in every mode: highlighting needs the vector even when BM25 ranks.
        vectors = self.embedder.encode_queries(list(queries))
        return [self._rank(query, qv, k, mode) for query, qv in zip(queries, vectors)]

    def _candidates(self, query: str, qv: np.ndarray, mode: str, k: int) -> tuple[np.ndarray, float]:
        """The union of the dense and BM25 top lists, and the best BM25 score of all."""
        depth = min(self.index.passages, max(self.params.candidates, k))
        parts, lexical_best = [], 0.0
        if mode != "bm25":
            parts.append(self.index.dense_candidates(qv, depth))
        lexical_rows, lexical_best = self.index.lexical_candidates(query, depth)
        if mode != "dense":
            parts.append(lexical_rows)
        return np.unique(np.concatenate(parts)).astype(np.int64), lexical_best

    def _dense_scores(self, qv: np.ndarray, rows: np.ndarray, chunks: Sequence[Chunk]) -> tuple[np.ndarray, np.ndarray]:
        """Each candidate's blend of passage and best-sentence cosine; a sentence that asks a
        question counts at `question_sentence_factor` of its cosine (it does not answer)."""
        factors = None
        if self.params.question_sentence_factor != 1.0:
            asks = interrogative_mask([s for c in chunks for s in c.sentence_texts()])
            factors = np.where(asks, self.params.question_sentence_factor, 1.0)
        passage, sentence = self.index.dense_scores(qv, rows, factors)
        best = settle(sentence)
        w = self.sentence_weight
        return settle((1 - w) * settle(passage) + w * best), best

    def _rank(self, query: str, qv: np.ndarray, k: int, mode: str) -> Ranking:
        rows, lexical_best = self._candidates(query, qv, mode, k)
        chunks = self.index.chunks_at(rows)
        dense, best_sentence = self._dense_scores(qv, rows, chunks)
        lexical = settle(self.index.lexical_scores(query, rows))
        # Groups of short lines (menus, dates, headings) give way to prose that scores alike.
        damp = np.where(self.index.undamped(rows), 1.0, self.params.short_lines_penalty)
        dense, lexical = settle(dense * damp), settle(lexical * damp)
        if mode == "dense":
            score = dense
        elif mode == "bm25":
            score = lexical
        else:
            score = settle(fuse(dense, lexical, self.fusion, self.dense_weight, self.rrf_k,
                                self._lexical_strength(query, lexical_best)))
        score = self._give_way(score, self.params.answer_type_bonus, self._answer_type_mask(query, rows))
        score = self._give_way(score, self.params.counted_noun_bonus, self._counting_mask(query, chunks, score))
        score = self._give_way(score, self.params.exact_token_bonus, self._exact_mask(query, chunks))
        score = self._heading_lift(query, chunks, score)
        order = np.lexsort((rows, -score))  # best first, ties by passage row
        if self.reranker is not None and self.rerank_depth > 0:
            order, score = self._rerank(query, rows, chunks, order, score)
        leaders = tuple((int(rows[i]), float(score[i])) for i in order[:2])
        order = order[:k]
        hits = tuple(
            Hit(int(rows[i]), float(score[i]), float(dense[i]), float(lexical[i]), float(best_sentence[i]))
            for i in order
        )
        return Ranking(hits, qv, leaders, tuple(chunks[i] for i in order))

    @staticmethod
    def _give_way(score: np.ndarray, share: float, keeps: np.ndarray | None) -> np.ndarray:
        """Candidates give up `share` of their lead over the weakest candidate times how far
        they miss the condition (`keeps`: per candidate 1 when met, 0 when not, or the share
        met; None for no condition); scores stay within their range."""
        if keeps is None or not share or not len(score):
            return score
        floor = float(score.min())
        missed = 1.0 - np.asarray(keeps, dtype=np.float64)
        return settle(floor + (score - floor) * (1 - share * missed))

    def _heading_lift(self, query: str, chunks: Sequence[Chunk], score: np.ndarray) -> np.ndarray:
        """Lift passages whose own section heading holds the question's telling words or
        the codes it names (a section headed "4.2.1 (withdrawn)" is about version 4.2.1)."""
        if not self.params.heading_bonus or not len(score):
            return score
        headings = [c.context.split(CONTEXT_SEPARATOR)[-1] if CONTEXT_SEPARATOR in c.context else "" for c in chunks]
        if not any(headings):
            return score
        lexical = self.index.lexical_stats
        terms = lexical.idf(content_terms(tokenize([query])[0]))
        shares = heading_shares(headings, terms, exact_tokens(query), lexical.max_idf())
        span = float(score.max() - score.min())
        return settle(score + self.params.heading_bonus * span * shares)

    def _answer_type_mask(self, query: str, rows: np.ndarray) -> np.ndarray | None:
        wanted = answer_type(query)
        return None if wanted is None else self.index.holds(wanted, rows)

    def _counting_mask(self, query: str, chunks: Sequence[Chunk], score: np.ndarray) -> np.ndarray | None:
        """For "how many <noun>" questions, 0 for each of the `counting_depth` best candidates
        holding no number that reaches to that noun (qa.span_presence); the rest keep 1."""
        if not self.params.counted_noun_bonus or not len(score):
            return None
        top = np.argsort(-score, kind="stable")[: self.params.counting_depth]
        found = counting_keeps(query, [chunks[i].sentence_texts() for i in top], self.span_params)
        if found is None:
            return None
        keeps = np.ones(len(score))
        keeps[top] = found
        return keeps

    def _exact_mask(self, query: str, chunks: Sequence[Chunk]) -> np.ndarray | None:
        """Per candidate, the share of the codes the question names that it holds exactly
        (heading context included): a claim naming three genes does not bury an abstract
        holding two of them as deep as one holding none."""
        tokens = exact_tokens(query)
        if not tokens:
            return None
        texts = [f"{c.context}\n{c.text}" for c in chunks]
        return np.array([sum(holds_all(t, (code,)) for code in tokens) / len(tokens) for t in texts])

    def _lexical_strength(self, query: str, lexical_best: float) -> float:
        """How far BM25 is trusted for this query (1 = full weight); see RankParams."""
        share = self.params.lexical_full_share
        if share <= 0 or not self.index.passages:
            return 1.0
        ideal = self.index.lexical_stats.ideal_score(query)
        if ideal <= 0:
            return 1.0
        return float(settle(min(1.0, lexical_best / (share * ideal))))

    def _rerank(self, query: str, rows: np.ndarray, chunks: Sequence[Chunk], order: np.ndarray, score: np.ndarray):
        """Re-order the first `rerank_depth` hits by the cross-encoder's scores; the rest keep
        their order, with scores shifted to stay below the re-ranked block."""
        top, tail = order[: self.rerank_depth], order[self.rerank_depth :]
        ce = np.asarray(self.reranker.score(query, [chunks[i].text for i in top]), dtype=np.float64)
        new = np.array(score, dtype=np.float64)
        block = np.lexsort((rows[top], -ce))
        new[top] = ce
        if len(tail):
            new[tail] = score[tail] - score[tail].max() + ce.min() - 1.0
        return np.concatenate([top[block], tail]), new
