"""Retrieval metrics on hand-computed cases (BEIR / pytrec_eval conventions)."""

from __future__ import annotations

import math

import pytest

from qa.evaluation.metrics import (contains, dedupe, first_hit_rank, hit_at, mean, mrr_at, ndcg_at, normalize,
                                   percentile, recall_at, reciprocal_rank)


def test_ndcg_binary_by_hand():
    rel = {"a": 1, "b": 1}
    # a at rank 1, b at rank 3: DCG = 1 + 1/log2(4); ideal = 1 + 1/log2(3)
    expected = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert ndcg_at(["a", "x", "b"], rel, 10) == pytest.approx(expected)
    assert ndcg_at(["a", "b"], rel, 10) == pytest.approx(1.0)
    assert ndcg_at(["x", "y"], rel, 10) == 0.0
    assert ndcg_at(["a"], {}, 10) == 0.0


def test_ndcg_ideal_uses_min_of_relevant_and_k():
    rel = {d: 1 for d in "abcde"}
    # five relevant, k = 2: the ideal list has only two positions, so a perfect top 2 scores 1
    assert ndcg_at(["a", "b", "x"], rel, 2) == pytest.approx(1.0)
    # one hit at rank 2 out of k = 2: (1/log2 3) / (1 + 1/log2 3)
    assert ndcg_at(["x", "c"], rel, 2) == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))


def test_ndcg_graded():
    rel = {"a": 2, "b": 1}
    # b then a: DCG = 1 + 2/log2 3; ideal = 2 + 1/log2 3
    assert ndcg_at(["b", "a"], rel, 10) == pytest.approx((1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3)))
    # zero or negative grades never count as relevant in the ideal
    assert ndcg_at(["a", "b"], {"a": 2, "b": 1, "c": 0}, 10) == pytest.approx(1.0)


def test_duplicate_document_counts_once():
    rel = {"a": 1, "b": 1}
    # the second "a" is dropped, so b moves up to rank 2
    assert ndcg_at(["a", "a", "b"], rel, 10) == pytest.approx(1.0)
    assert ndcg_at(["a", "a", "b"], rel, 2) == pytest.approx(1.0)
    assert recall_at(["a", "a"], rel, 2) == 0.5
    assert dedupe(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]


def test_recall():
    rel = {"a": 1, "b": 1, "c": 1, "z": 0}
    assert recall_at(["a", "x", "c"], rel, 100) == pytest.approx(2 / 3)
    assert recall_at(["a", "x", "c"], rel, 2) == pytest.approx(1 / 3)
    assert recall_at(["a"], {"z": 0}, 10) == 0.0


def test_mrr():
    rel = {"b": 1}
    assert mrr_at(["a", "b"], rel, 10) == 0.5
    assert mrr_at(["a", "a", "b"], rel, 10) == 0.5  # duplicates dropped first
    assert mrr_at(["a", "c", "b"], rel, 2) == 0.0
    assert mrr_at([], rel, 10) == 0.0


def test_hits_and_ranks():
    assert first_hit_rank([False, True, True]) == 2
    assert first_hit_rank([False]) is None
    assert hit_at(3, 3) == 1.0 and hit_at(4, 3) == 0.0 and hit_at(None, 3) == 0.0
    assert reciprocal_rank(4, 10) == 0.25 and reciprocal_rank(None, 10) == 0.0


def test_percentile_and_mean():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10], 95) == 10
    assert percentile([], 50) == 0.0
    assert percentile([0, 10], 95) == pytest.approx(9.5)
    assert mean([]) == 0.0 and mean([1, 2]) == 1.5


def test_normalize_and_contains():
    assert normalize("  “Quoted”\u2014TEXT  here ") == '"quoted"-text here'
    assert contains("Release Date:  December 2, 2011", "release date: december 2")
