"""What a query needs per passage, as arrays computed when the store is built and saved as
.npy files that a loaded store memory-maps: vectors, sentence offsets, the document of each
passage, and flags (ranks without the short-lines penalty; holds a number, date, sum).

So no question loops over every passage in Python: it indexes these arrays at its candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from qa.answer_types import AnswerType
from qa.answer_types import holds as holds_answer
from qa.documents import Chunk, Document

# Columns of the flags array: whether the passage ranks undamped, then one per answer type.
FLAG_COLUMNS = ("undamped", *(kind.value for kind in AnswerType))
# Bump when what a flag means changes (qa.answer_types' patterns): stored flags are then stale.
# 2: a time of day and a time set by an event ("one week after ...") hold a date.
FLAGS_VERSION = 2


def flag_rules(store: Mapping[str, Any]) -> tuple:
    """What a build's flags mean, from its manifest's store record: the columns and the
    version of their patterns (a build that recorded neither: today's columns, version 1)."""
    return tuple(store.get("flags", FLAG_COLUMNS)), store.get("flags_version", 1)
SENTENCE_DTYPE = np.float16  # highlighting and the best-sentence score need no more (bench/quality.py)


@dataclass(frozen=True)
class PassageArrays:
    """Per passage (row): its vectors, sentences, document and flags.

    Attributes:
        passage_vectors: (passages, dim) float32, L2-normalised.
        sentence_vectors: (sentences, dim) float16, L2-normalised.
        sentence_start: passage row -> first sentence row; one extra entry at the end.
        chunk_doc: passage row -> document row.
        flags: (passages, len(FLAG_COLUMNS)) bool.
    """

    passage_vectors: np.ndarray
    sentence_vectors: np.ndarray
    sentence_start: np.ndarray
    chunk_doc: np.ndarray
    flags: np.ndarray

    FILES = {"passage_vectors": "passages.npy", "sentence_vectors": "sentences.npy",
             "sentence_start": "sentence_start.npy", "chunk_doc": "chunk_doc.npy", "flags": "flags.npy"}

    def save(self, folder: Path) -> None:
        for name, file in self.FILES.items():
            np.save(folder / file, getattr(self, name), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> "PassageArrays":
        """Memory-mapped: pages are read when a question touches them, and shared by processes.
        Held as plain ndarray views of the maps (numpy.memmap's indexing runs Python code: 8%
        of the server's samples under load)."""
        return cls(**{name: np.load(folder / file, mmap_mode="r", allow_pickle=False).view(np.ndarray)
                      for name, file in cls.FILES.items()})

    def consistent(self, documents: int, flag_columns: int = len(FLAG_COLUMNS)) -> bool:
        """`flag_columns`: the columns its build recorded (an older build may have fewer)."""
        rows = len(self.passage_vectors)
        return (len(self.sentence_start) == rows + 1 and len(self.chunk_doc) == rows
                and self.flags.shape == (rows, flag_columns)
                and len(self.sentence_vectors) == (int(self.sentence_start[-1]) if rows else len(self.sentence_vectors))
                and (not rows or 0 <= int(self.chunk_doc.min()) <= int(self.chunk_doc.max()) < documents))


def sentence_offsets(chunks: Sequence[Chunk]) -> np.ndarray:
    counts = np.array([len(c.sentences) for c in chunks], dtype=np.int64)
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def passage_flags(documents: Sequence[Document], chunks: Sequence[Chunk], chunk_doc: np.ndarray) -> np.ndarray:
    """FLAG_COLUMNS per passage: prose or exactly its document's title (no short-lines
    penalty), and whether it holds an answer of each type (qa.answer_types)."""
    titles = [d.title.strip() for d in documents]
    flags = np.zeros((len(chunks), len(FLAG_COLUMNS)), dtype=bool)
    for row, (chunk, doc) in enumerate(zip(chunks, chunk_doc.tolist())):
        flags[row, 0] = chunk.prose or chunk.text.strip() == titles[doc]
        for column, kind in enumerate(AnswerType, start=1):
            flags[row, column] = holds_answer(chunk.text, kind)
    return flags


def flag_column(kind: AnswerType | str, columns: Sequence[str] = FLAG_COLUMNS) -> int | None:
    """The column of `kind` among a build's `columns`; None when that build has none for it."""
    name = kind.value if isinstance(kind, AnswerType) else kind
    return columns.index(name) if name in columns else None


def document_groups(chunk_doc: np.ndarray, documents: int) -> np.ndarray:
    """Per document row, its first passage row (one extra entry at the end): a build appends
    a document's passages together, in document order."""
    return np.searchsorted(np.asarray(chunk_doc), np.arange(documents + 1), side="left").astype(np.int64)
