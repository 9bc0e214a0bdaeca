"""Sentence vectors pooled from their passage's token embeddings ("late chunking").

A build encodes a passage once and takes each sentence's vector as the mean of the passage's
contextual token embeddings over the sentence's characters, L2-normalised as the model's
pooling is: the sentences need no model call of their own (they are about three quarters of
the texts a build encodes). A sentence the model did not read in full (the passage was cut
at the model's window) or that holds no word piece is reported uncovered, for the caller to
encode on its own.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np


def pool_spans(hidden: np.ndarray, offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]],
               cut: bool) -> tuple[np.ndarray, np.ndarray]:
    """Mean-pooled, normalised vectors of `spans` (character offsets into the encoded text).

    Args:
        hidden: (tokens, dim) the text's token embeddings, padding left out.
        offsets: (start, end) characters of each token; special tokens are (0, 0).
        spans: (start, end) characters of each sentence.
        cut: whether the text was truncated to the model's window (then a span that ends
            after the last token read is uncovered).

    Returns:
        (len(spans), dim) float32 vectors (zero where uncovered) and a bool array: covered.
    """
    out = np.zeros((len(spans), hidden.shape[1]), dtype=np.float32)
    covered = np.zeros(len(spans), dtype=bool)
    real = [i for i, (s, e) in enumerate(offsets) if e > s]
    if not real:
        return out, covered
    starts = np.asarray([offsets[i][0] for i in real])
    ends = np.asarray([offsets[i][1] for i in real])
    tokens = hidden[real].astype(np.float64)
    last_end = int(ends[-1])
    for k, (start, end) in enumerate(spans):
        lo = int(np.searchsorted(starts, start, side="left"))
        hi = int(np.searchsorted(ends, end, side="right"))
        if hi <= lo or (cut and end > last_end):
            continue
        mean = tokens[lo:hi].mean(axis=0)
        out[k] = mean / max(float(np.linalg.norm(mean)), 1e-12)
        covered[k] = True
    return out, covered


# One batch's passage vectors (n, dim) and, per text, its token embeddings (padding left
# out), their character offsets and whether the text was cut at the model's window.
BatchRun = Callable[[list[str]], tuple[np.ndarray, list[tuple[np.ndarray, Sequence[tuple[int, int]], bool]]]]


def encode_pooled(texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], batch_size: int, dimension: int,
                  run: BatchRun) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """Passage vectors and each text's sentence spans pooled from the same run's token
    embeddings, batch by batch through a backend's `run` (torch or ONNX)."""
    passages = np.zeros((len(texts), dimension), dtype=np.float32)
    pooled = []
    for first in range(0, len(texts), batch_size):
        vectors, tokens = run(list(texts[first:first + batch_size]))
        passages[first:first + len(tokens)] = vectors
        pooled.extend(pool_spans(hidden, offsets, spans[first + i], cut)
                      for i, (hidden, offsets, cut) in enumerate(tokens))
    return passages, pooled
