"""Optional second stage: a cross-encoder re-scores the fused top candidates.

Off by default (`Settings.reranker` empty). When set, it names a local sentence-transformers
CrossEncoder folder (or a name already in the local cache: nothing is downloaded). The
re-ranker reads (question, passage) pairs and re-orders the first `rerank_depth` hits; hits
below that depth keep their fused order, after the re-ranked ones.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Sequence

import numpy as np

from qa.errors import ModelLoadError


class CrossEncoderReranker:
    """A sentence-transformers CrossEncoder, loaded offline."""

    def __init__(self, model: str, device: str = "cpu", batch_size: int = 32) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import CrossEncoder

        try:
            self._model = CrossEncoder(model, device=device, local_files_only=True)
        except Exception as exc:  # the library raises many kinds; all mean "cannot load"
            raise ModelLoadError(
                f"cannot load re-ranker {model!r}: {exc}. Give a local cross-encoder folder."
            ) from exc
        self.name = model
        self.batch_size = batch_size

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray:
        """One relevance score per passage (higher is better)."""
        if not passages:
            return np.zeros(0, dtype=np.float32)
        scores = self._model.predict(
            [(query, p) for p in passages], batch_size=self.batch_size, show_progress_bar=False,
            convert_to_numpy=True,
        )
        return np.asarray(scores, dtype=np.float32).reshape(len(passages))


@lru_cache(maxsize=2)
def load_reranker(model: str, device: str = "cpu") -> CrossEncoderReranker:
    """One loaded cross-encoder per (model, device) in a process."""
    return CrossEncoderReranker(model, device)

