"""The index a query reads (qa.backend.PassageStore), saved into a build folder
(qa.store.folder) and loaded back disk-backed.

Files of a build:

    manifest.json        versions, settings, documents, each file's size and sha256
    passages.sqlite      documents (text in blocks) and passages (offsets), qa.store.passages
    passages.npy         passage vectors, float32, memory-mapped
    sentences.npy        sentence vectors, float16, memory-mapped
    sentence_start.npy, chunk_doc.npy, flags.npy   per-passage arrays (qa.store.arrays)
    passages.ivf.faiss   the approximate index, only above StoreParams.approximate_from
    bm25/                bm25s, memory-mapped

Loading checks the manifest and the files' sizes; `python -m qa verify` checks every
checksum (a build writes them).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from qa.answer_types import AnswerType
from qa.documents import Chunk, Document
from qa.errors import IndexFormatError
from qa.lexical import LexicalIndex
from qa.params import StoreParams
from qa.store.arrays import FLAG_COLUMNS, PassageArrays, flag_column
from qa.store.dense import DenseSearch
from qa.store.folder import current_build, publish
from qa.store.manifest import FORMAT_VERSION, check_sizes, read_build_manifest, seal
from qa.store.passages import DATABASE, MemoryPassages, SqlitePassages, write_database

# numpy (and bm25s through it) parses .npy headers with ast.literal_eval, which CPython 3.11
# before 3.11.8 cannot run in two threads at once ("AST constructor recursion depth mismatch",
# python/cpython#106905): two threads loading builds at once take turns reading the files.
NPY_HEADERS = threading.Lock()


@dataclass
class StoredIndex:
    """A built collection: documents and passages (`records`), per-passage arrays, BM25 and
    the dense search. Passage i is row i of every array. Built in memory; loaded from disk."""

    documents: tuple[Document, ...]
    records: MemoryPassages | SqlitePassages = field(repr=False)
    arrays: PassageArrays = field(repr=False)
    lexical: LexicalIndex = field(repr=False)
    manifest: dict[str, Any]
    dense: DenseSearch = field(repr=False)
    # per thread, its last question's BM25 matches (see _lexical_matches)
    _last_lexical: threading.local = field(default_factory=threading.local, init=False, repr=False, compare=False)

    @property
    def built_at(self) -> str:
        return self.manifest.get("created", "")

    @property
    def chunk_doc(self) -> np.ndarray:
        return self.arrays.chunk_doc

    @property
    def passage_vectors(self) -> np.ndarray:
        return self.arrays.passage_vectors

    @property
    def sentence_vectors(self) -> np.ndarray:
        return self.arrays.sentence_vectors

    @property
    def sentence_start(self) -> np.ndarray:
        return self.arrays.sentence_start

    @property
    def chunks(self) -> list[Chunk]:
        """Every passage, in row order (read whole from disk: for rebuilds and tests, never a question)."""
        return self.records.all()

    def document(self, chunk_row: int) -> Document:
        return self.documents[int(self.chunk_doc[chunk_row])]

    def document_text(self, doc_row: int) -> str:
        """The full text of a document (read when it is viewed; not kept in memory)."""
        return self.records.document_text(doc_row)

    def document_lengths(self) -> np.ndarray:
        """Characters of each document's text, by document row."""
        return self.records.document_chars

    def sentence_rows(self, chunk_row: int) -> slice:
        return slice(int(self.sentence_start[chunk_row]), int(self.sentence_start[chunk_row + 1]))

    # --- the query path (qa.backend.PassageStore) ---------------------------------------------

    @property
    def passages(self) -> int:
        return len(self.records)

    @property
    def lexical_stats(self) -> LexicalIndex:
        return self.lexical

    def chunks_at(self, rows: Sequence[int]) -> list[Chunk]:
        return self.records.at(rows)

    def document_rows(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.chunk_doc[np.asarray(rows, dtype=np.int64)], dtype=np.int64)

    def passage_counts(self) -> np.ndarray:
        return np.bincount(self.chunk_doc, minlength=len(self.documents))

    def dense_candidates(self, query_vector: np.ndarray, depth: int) -> np.ndarray:
        if depth <= 0 or not self.passages:
            return np.zeros(0, dtype=np.int64)
        ids = self.dense.search(query_vector, depth)[0]
        return ids[ids >= 0].astype(np.int64)

    def dense_scores(self, query_vector: np.ndarray, rows: np.ndarray,
                     sentence_factors: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        qv = np.asarray(query_vector, dtype=np.float64)
        rows = np.asarray(rows, dtype=np.int64)
        passage = np.asarray(self.passage_vectors[rows], dtype=np.float64) @ qv
        starts = np.asarray(self.sentence_start[rows], dtype=np.int64)
        counts = np.asarray(self.sentence_start[rows + 1], dtype=np.int64) - starts
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        # every sentence row of every candidate, in one gather (a passage has at least one)
        sentence_rows = np.repeat(starts - offsets, counts) + np.arange(int(counts.sum()))
        sims = np.asarray(self.sentence_vectors[sentence_rows], dtype=np.float64) @ qv
        if sentence_factors is not None:
            sims = sims * sentence_factors
        return passage, np.maximum.reduceat(sims, offsets) if len(rows) else sims

    def sentence_vectors_of(self, row: int) -> np.ndarray:
        return np.asarray(self.sentence_vectors[self.sentence_rows(row)])

    def lexical_candidates(self, query: str, depth: int) -> tuple[np.ndarray, float]:
        matched, scores = self._lexical_matches(query)
        n = self.passages
        if not n or depth <= 0:
            return np.zeros(0, dtype=np.int64), 0.0
        best = float(scores.max()) if len(scores) else 0.0
        if depth < len(matched):  # only passages holding a query term: a few of a million
            return matched[np.argpartition(-scores, depth - 1)[:depth]], best
        # every match, and passages with a zero score fill the list (as bm25s' full vector ranks them)
        full = np.zeros(n, dtype=np.float32)
        full[matched] = scores
        rows = np.argpartition(-full, depth - 1)[:depth] if depth < n else np.arange(n)
        return rows.astype(np.int64), best

    def lexical_scores(self, query: str, rows: np.ndarray) -> np.ndarray:
        matched, scores = self._lexical_matches(query)
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros(len(rows), dtype=np.float64)
        if len(matched):  # a row's score is where it sits among the matches, if it is one
            at = np.minimum(np.searchsorted(matched, rows), len(matched) - 1)
            found = matched[at] == rows
            out[found] = scores[at[found]]
        return out

    def _lexical_matches(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        """The retriever asks for candidates, then for their scores, in the same thread: the
        matches are read once. Kept per thread, so concurrent questions do not evict each
        other's (one slot shared by every thread missed under load)."""
        last = getattr(self._last_lexical, "matches", ("", None))
        if last[0] != query:
            last = (query, self.lexical.matches(query))
            self._last_lexical.matches = last
        return last[1]

    def undamped(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.arrays.flags[np.asarray(rows, dtype=np.int64), 0], dtype=bool)

    def holds(self, kind: AnswerType, rows: np.ndarray) -> np.ndarray:
        """An index built before `kind` was flagged (served while its rebuild runs) says every
        passage holds one: nothing is preferred, as when it was built."""
        column = flag_column(kind, self.manifest.get("store", {}).get("flags", FLAG_COLUMNS))
        if column is None:
            return np.ones(len(rows), dtype=bool)
        return np.asarray(self.arrays.flags[np.asarray(rows, dtype=np.int64), column], dtype=bool)


def save_index(index: StoredIndex, index_dir: Path) -> Path:
    """Write `index` as a new build folder, then switch CURRENT to it atomically
    (qa.store.folder.publish; call it holding the build lock).

    Returns:
        the new build folder.
    """
    written: dict[str, Any] = {}

    def write(staging: Path) -> None:
        block_chars = int(index.manifest["store"]["text_block_chars"])
        write_database(staging / DATABASE, _with_texts(index), index.records.all(), np.asarray(index.chunk_doc),
                       block_chars)
        index.arrays.save(staging)
        index.dense.save(staging)
        index.lexical.save(staging / "bm25")
        written["manifest"] = seal(index.manifest, staging)
        (staging / "manifest.json").write_text(json.dumps(written["manifest"], indent=2, ensure_ascii=False),
                                               encoding="utf-8")

    final = publish(index_dir, write)
    index.manifest = written["manifest"]
    return final


def _with_texts(index: StoredIndex) -> list[Document]:
    if isinstance(index.records, MemoryPassages):
        return list(index.records.documents)
    return [Document(d.source, d.collection, d.title, index.document_text(row), d.sha256, d.format, d.pages)
            for row, d in enumerate(index.documents)]


def load_index(index_dir: Path, verify: bool = True, attempts: int = 3,
               params: StoreParams | None = None) -> StoredIndex | None:
    """Load the live build, disk-backed; None when there is none yet. `verify` checks that
    every file the manifest lists has its recorded size (`qa verify` checks the checksums);
    `params` sets the approximate search's nprobe and FAISS's threads (default StoreParams()).

    CURRENT is read once per attempt, so a build finishing meanwhile cannot mix two
    builds; when loading fails because CURRENT moved on (an old build was cleaned up under
    a slow reader), the new build is loaded instead.

    Raises:
        IndexFormatError: CURRENT, the manifest or a file is missing, truncated or unreadable.
    """
    for attempt in range(attempts):
        build = current_build(index_dir)
        if build is None:
            return None
        try:
            return _load_build(build, verify, params)
        except IndexFormatError:
            if attempt + 1 < attempts:
                try:
                    if current_build(index_dir) != build:
                        continue
                except IndexFormatError:
                    pass
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def _load_build(build: Path, verify: bool, params: StoreParams | None) -> StoredIndex:
    manifest = read_build_manifest(build)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexFormatError(
            f"index format {manifest.get('format_version')} is not {FORMAT_VERSION}: it needs a rebuild"
        )
    if verify:
        check_sizes(build, manifest)
    params = params if params is not None else StoreParams()
    try:
        store = manifest["store"]
        records = SqlitePassages(build / DATABASE, int(store["text_block_chars"]))
        with NPY_HEADERS:
            arrays = PassageArrays.load(build)
            dense = DenseSearch.load(build, arrays.passage_vectors, store["dense"], params)
            lexical = LexicalIndex.load(build / "bm25", len(records), mmap=True)
    except Exception as exc:  # OSError, ValueError, KeyError, sqlite3.Error, faiss's RuntimeError ...
        raise IndexFormatError(f"index at {build} cannot be read ({exc})") from exc
    columns = len(store.get("flags", FLAG_COLUMNS))
    if len(records) != len(arrays.passage_vectors) or not arrays.consistent(len(records.documents), columns):
        raise IndexFormatError(f"index at {build} is inconsistent")
    return StoredIndex(records.documents, records, arrays, lexical, manifest, dense)
