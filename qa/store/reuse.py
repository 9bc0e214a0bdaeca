"""Vectors a build can take from the previous index instead of encoding again: whole
documents whose passages are unchanged (by path, or by content hash for a moved file), and
single texts by the hash of what they embed."""

from __future__ import annotations

import hashlib

import numpy as np

from qa.chunking import embedding_text, sentence_embedding_texts
from qa.tables import READ_FROM_STRUCTURE, is_table
from qa.config import Settings
from qa.documents import Chunk
from qa.embedding import Embedder
from qa.store.arrays import document_groups
from qa.store.index import StoredIndex
from qa.store.manifest import stale_reason


def document_key(doc) -> str:
    return f"{doc.collection}::{doc.source}"


def _read_alike(previous: StoredIndex, chunk: Chunk) -> bool:
    """Whether the previous index's model read `chunk` as this build's does: a table was read
    as pipes before structure version `READ_FROM_STRUCTURE` (qa.tables), so its vectors go."""
    return previous.manifest.get("structure_version", 0) >= READ_FROM_STRUCTURE or not is_table(chunk.text)


def _text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class _PreviousTexts:
    """The previous index's vectors by the hash of the text they embed, built on first use.

    Documents whose passages are unchanged reuse their vectors wholesale; this catches the rest:
    a changed document keeps the vectors of its unchanged paragraphs, and a new chunker version
    (different passage boundaries, the same sentences) re-embeds only the texts that changed.
    """

    def __init__(self, previous: StoredIndex) -> None:
        self.index = previous
        self._rows: dict[bytes, tuple[int, int]] | None = None

    def vector(self, key: bytes) -> np.ndarray | None:
        if self._rows is None:
            self._rows = {}
            for row, chunk in enumerate(self.index.chunks):  # read from disk once
                if not _read_alike(self.index, chunk):
                    continue
                self._rows.setdefault(_text_key(embedding_text(chunk)), (0, row))
                first = int(self.index.sentence_start[row])
                for i, text in enumerate(sentence_embedding_texts(chunk)):
                    self._rows.setdefault(_text_key(text), (1, first + i))
        found = self._rows.get(key)
        if found is None:
            return None
        target, row = found
        return (self.index.passage_vectors if target == 0 else self.index.sentence_vectors)[row]


def _layout(chunk: Chunk) -> tuple:
    """What a passage's vectors depend on besides the document's bytes: its span, heading
    context and sentence spans. Old vectors are reused only when all of it is unchanged."""
    return chunk.start, chunk.end, chunk.context, tuple(tuple(s) for s in chunk.sentences)


def _reusable_vectors(previous: StoredIndex | None, embedder: Embedder, settings: Settings):
    """Per document key, and per content hash: (sha256, passage spans, (passage vectors,
    sentence vectors, sentence offsets per passage)) from a compatible index. By hash, a
    moved or renamed file (or a folder given by another path) keeps its vectors."""
    if previous is None or stale_reason(previous.manifest, embedder, settings, None, vectors_only=True) is not None:
        return {}
    out = {}
    chunks = previous.chunks  # read from disk once
    groups = document_groups(previous.chunk_doc, len(previous.documents))
    sentence_start = np.asarray(previous.sentence_start)
    for row, doc in enumerate(previous.documents):
        rows = np.arange(groups[row], groups[row + 1])
        if len(rows) == 0 or not all(_read_alike(previous, chunks[r]) for r in rows):
            continue
        first = int(sentence_start[rows[0]])
        sent = slice(first, int(sentence_start[rows[-1] + 1]))
        spans = [_layout(chunks[r]) for r in rows]
        starts = sentence_start[rows] - first
        entry = (doc.sha256, spans, (previous.passage_vectors[rows], previous.sentence_vectors[sent], starts))
        out[document_key(doc)] = entry
        out.setdefault(doc.sha256, entry)
    return out
