"""Embedding a build's texts: each distinct text once, reused vectors copied in, the rest
gathered, sorted by length and sent to the model in calls (cancel and progress between calls)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from qa.embedding import Embedder
from qa.store.reuse import _PreviousTexts, _text_key
from qa.store.watch import WatchedCounts


EMBED_BATCH = 256  # texts encoded per model call; cancel and progress are checked between calls
EMBED_BUFFER = 8192  # texts gathered, then sorted by length, before they go to the model in calls


class EmbeddingQueue:
    """Fills preallocated vector arrays batch by batch, encoding each distinct text once.

    Identical texts (a repeated disclaimer, a copied paragraph, a one-sentence passage
    and its sentence) get the vector of their first occurrence, so repetitive input costs
    little, and memory beyond the final arrays is one batch.
    """

    def __init__(self, embedder: Embedder, targets: Sequence[np.ndarray], progress: bool, total: int,
                 previous: "_PreviousTexts | None" = None, watch: WatchedCounts | None = None) -> None:
        self.embedder = embedder
        self.watch = watch
        self.previous = previous
        self.fresh = [0] * len(targets)  # texts sent to the model, per target
        self.batch_limit = int(getattr(embedder, "batch_texts", EMBED_BUFFER))  # a cluster wants big blocks
        self.targets = targets
        self.seen: dict[bytes, tuple[int, int]] = {}
        self.batch: list[tuple[int, int, str]] = []
        self.copies: list[tuple[int, int, int, int]] = []
        self.encoded = 0
        self.bar = None
        if progress and total:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc="embedding", unit="text")

    def add(self, target: int, row: int, text: str) -> None:
        key = _text_key(text)
        first = self.seen.get(key)
        if first is not None:
            self.copies.append((target, row, *first))
            self._count(target, 1)
            if self.bar is not None:
                self.bar.update(1)
            return
        self.seen[key] = (target, row)
        vector = self.previous.vector(key) if self.previous is not None else None
        if vector is not None:
            self.targets[target][row] = vector
            self._count(target, 1)
            if self.bar is not None:
                self.bar.update(1)
            return
        self.fresh[target] += 1
        self.batch.append((target, row, text))
        if len(self.batch) >= self.batch_limit:
            self.flush()

    def flush(self) -> None:
        """Encode the gathered texts, shortest first, so that each call pads its texts to
        about their own length (a passage and its short sentences are added together)."""
        if not self.batch:
            return
        iter_encoded = getattr(self.embedder, "iter_encoded", None)
        if iter_encoded is not None:  # a cluster embedder takes the block whole, batches as they finish
            self._encode(self.batch, iter_encoded([t for _, _, t in self.batch]))
        else:
            ordered = sorted(self.batch, key=lambda item: len(item[2]))
            for start in range(0, len(ordered), EMBED_BATCH):
                part = ordered[start:start + EMBED_BATCH]
                self._encode(part, [(range(len(part)), self.embedder.encode_documents([t for _, _, t in part]))])
        self.encoded += len(self.batch)
        self.batch = []

    def _encode(self, items: Sequence[tuple[int, int, str]], parts) -> None:
        if self.watch is not None:
            self.watch.publish()  # and stop here, between model calls, when asked to
        for positions, vectors in parts:
            for position, vector in zip(positions, vectors):
                target, row, _ = items[position]
                self.targets[target][row] = vector
                self._count(target, 1)
            if self.bar is not None:
                self.bar.update(len(vectors))

    def finish(self) -> None:
        self.flush()
        for target, row, src_target, src_row in self.copies:
            self.targets[target][row] = self.targets[src_target][src_row]
        self.copies = []
        if self.watch is not None:
            self.watch.publish()
        if self.bar is not None:
            self.bar.close()

    def _count(self, target: int, rows: int) -> None:
        if self.watch is not None:
            self.watch.rows(target == 0, rows)
