"""bench/scale.py's stand-in embedder: a question is hashed without scikit-learn's per-call
checks, and must land on the same vector as the passages' hashing, or the benchmark's
candidates and recall would be those of another embedder."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from scale import HashingEmbedder, questions  # noqa: E402


def test_question_hashing_matches_the_passages_hashing():
    embedder = HashingEmbedder()
    asked = questions(400) + ["", "?!", "Ünïcödé naïve café", "the the the THE", "x " * 300]
    for question in asked:
        assert np.array_equal(embedder.encode_queries([question]), embedder.encode_documents([question])), question
    assert np.array_equal(embedder.encode_queries(asked[:9]), embedder.encode_documents(asked[:9]))


def test_question_hashing_is_not_a_constant():
    vectors = HashingEmbedder().encode_queries(["Who repaired the bridge?", "How many bells were sold?"])
    assert vectors.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)
    assert float(vectors[0] @ vectors[1]) < 0.9
