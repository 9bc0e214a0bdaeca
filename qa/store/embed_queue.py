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


def centred(sentences: np.ndarray, passage: np.ndarray, weight: float) -> np.ndarray:
    """Pooled sentence vectors less `weight` times their passage's vector, normalised again:
    what the sentences share with their passage cannot tell them apart."""
    if weight == 0.0 or not len(sentences):
        return sentences
    out = sentences - weight * passage[None, :]
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


class EmbeddingQueue:
    """Fills preallocated vector arrays batch by batch, encoding each distinct text once.

    Identical texts (a repeated disclaimer, a copied paragraph, a one-sentence passage
    and its sentence) get the vector of their first occurrence, so repetitive input costs
    little, and memory beyond the final arrays is one batch.
    """

    def __init__(self, embedder: Embedder, targets: Sequence[np.ndarray], progress: bool, total: int,
                 previous: "_PreviousTexts | None" = None, watch: WatchedCounts | None = None,
                 centring: float = 0.0) -> None:
        self.embedder = embedder
        self.centring = centring  # StoreParams.sentence_centring
        self.watch = watch
        self.previous = previous
        self.fresh = [0] * len(targets)  # texts sent to the model, per target
        self.batch_limit = int(getattr(embedder, "batch_texts", EMBED_BUFFER))  # a cluster wants big blocks
        self.targets = targets
        self.seen: dict[bytes, tuple[int, int]] = {}
        self.batch: list[tuple[int, int, str]] = []
        self.pooled: list[tuple[int, str, list[tuple[int, int, int, str]]]] = []  # passage row, text, sentences
        self.copies: list[tuple[int, int, int, int]] = []
        self.encoded = 0
        self.bar = None
        if progress and total:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc="embedding", unit="text")

    def add_pooled(self, row: int, text: str, first: int, spans: Sequence[tuple[int, int]],
                   sentences: Sequence[str]) -> None:
        """A passage (target 0) and its sentences (target 1, rows from `first`), the sentences
        pooled from the passage's token embeddings (qa.span_pooling) when the passage goes to
        the model; a passage already seen or reused has its sentences added one by one."""
        key = _text_key(text)
        if key in self.seen or (self.previous is not None and self.previous.vector(key) is not None):
            self.add(0, row, text)
            for s_row, sentence in zip(range(first, first + len(sentences)), sentences):
                self.add(1, s_row, sentence)
            return
        self.seen[key] = (0, row)
        self.fresh[0] += 1
        pooled = []
        for s_row, span, sentence in zip(range(first, first + len(sentences)), spans, sentences):
            sentence_key = _text_key(sentence)
            if sentence_key in self.seen:  # e.g. a one-sentence passage: the passage's own vector
                self.copies.append((1, s_row, *self.seen[sentence_key]))
                self._settled(1)
            else:
                self.seen[sentence_key] = (1, s_row)
                pooled.append((s_row, *span, sentence))
        self.pooled.append((row, text, pooled))
        if len(self.pooled) + len(self.batch) >= self.batch_limit:
            self.flush()

    def add(self, target: int, row: int, text: str) -> None:
        key = _text_key(text)
        first = self.seen.get(key)
        if first is not None:
            self.copies.append((target, row, *first))
            self._settled(target)
            return
        self.seen[key] = (target, row)
        vector = self.previous.vector(key) if self.previous is not None else None
        if vector is not None:
            self.targets[target][row] = vector
            self._settled(target)
            return
        self.fresh[target] += 1
        self.batch.append((target, row, text))
        if len(self.batch) >= self.batch_limit:
            self.flush()

    def flush(self) -> None:
        """Encode the gathered texts, shortest first, so that each call pads its texts to
        about their own length (a passage and its short sentences are added together)."""
        if self.pooled:
            self._encode_pooled()
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

    def _encode_pooled(self) -> None:
        """Encode the gathered passages, shortest first; a sentence the pooling does not cover
        (beyond the model's window) joins the batch of texts encoded on their own."""
        ordered = sorted(self.pooled, key=lambda item: len(item[1]))
        self.pooled = []
        for start in range(0, len(ordered), EMBED_BATCH):
            part = ordered[start:start + EMBED_BATCH]
            if self.watch is not None:
                self.watch.publish()
            spans = [[(s, e) for _, s, e, _ in sentences] for _, _, sentences in part]
            passages, pooled = self.embedder.encode_pooled([text for _, text, _ in part], spans)
            for (row, _, sentences), vector, (vectors, covered) in zip(part, passages, pooled):
                self.targets[0][row] = vector
                vectors = centred(vectors, vector, self.centring)
                for (s_row, _, _, sentence), sentence_vector, ok in zip(sentences, vectors, covered):
                    if ok:
                        self.targets[1][s_row] = sentence_vector
                    else:
                        self.fresh[1] += 1
                        self.batch.append((1, s_row, sentence))
                self._count(0, 1)
                self._count(1, int(covered.sum()))
            self.encoded += len(part)
            if self.bar is not None:
                self.bar.update(len(part) + sum(int(c.sum()) for _, c in pooled))

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

    def _settled(self, target: int) -> None:
        """One text of `target` needs no model call (a copy, or a reused vector): count it."""
        self._count(target, 1)
        if self.bar is not None:
            self.bar.update(1)

    def _count(self, target: int, rows: int) -> None:
        if self.watch is not None:
            self.watch.rows(target == 0, rows)
