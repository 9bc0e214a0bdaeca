"""The index a query reads: FAISS passage vectors, sentence vectors, BM25, passages and a
manifest, written into a build folder (qa.store.folder) and loaded back with checks.

Files of a build: manifest.json, documents.jsonl, chunks.jsonl, passages.faiss,
sentences.npy, bm25/.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from qa.answer_types import AnswerType
from qa.answer_types import holds as holds_answer
from qa.documents import Chunk, Document
from qa.errors import IndexFormatError
from qa.lexical import LexicalIndex
from qa.store.folder import current_build, publish
from qa.store.manifest import FORMAT_VERSION, _sha256_file, read_build_manifest, seal

@dataclass
class StoredIndex:
    """Everything a query needs, in memory. Passage i is `chunks[i]`, vector row i."""

    documents: tuple[Document, ...]
    chunks: tuple[Chunk, ...]
    chunk_doc: np.ndarray  # chunk row -> document row
    passage_vectors: np.ndarray  # (passages, dim), L2-normalised
    sentence_vectors: np.ndarray  # (sentences, dim), L2-normalised
    sentence_start: np.ndarray  # chunk row -> first sentence row; one extra entry at the end
    lexical: LexicalIndex
    manifest: dict[str, Any]
    faiss_index: Any = field(default=None, repr=False)
    _undamped: np.ndarray | None = field(default=None, init=False, repr=False)
    _holds: dict = field(default_factory=dict, init=False, repr=False)
    _last_lexical: tuple = field(default=("", None), init=False, repr=False)

    def __post_init__(self) -> None:
        if self.faiss_index is None:
            self.faiss_index = make_faiss_index(self.passage_vectors)

    @property
    def built_at(self) -> str:
        return self.manifest.get("created", "")

    def document(self, chunk_row: int) -> Document:
        return self.documents[int(self.chunk_doc[chunk_row])]

    def sentence_rows(self, chunk_row: int) -> slice:
        return slice(int(self.sentence_start[chunk_row]), int(self.sentence_start[chunk_row + 1]))

    # --- the query path (qa.backend.PassageStore) ---------------------------------------------

    @property
    def passages(self) -> int:
        return len(self.chunks)

    @property
    def lexical_stats(self) -> LexicalIndex:
        return self.lexical

    def chunks_at(self, rows: Sequence[int]) -> list[Chunk]:
        return [self.chunks[int(r)] for r in rows]

    def document_rows(self, rows: np.ndarray) -> np.ndarray:
        return self.chunk_doc[np.asarray(rows, dtype=np.int64)]

    def passage_counts(self) -> np.ndarray:
        return np.bincount(self.chunk_doc, minlength=len(self.documents))

    def dense_candidates(self, query_vector: np.ndarray, depth: int) -> np.ndarray:
        if depth <= 0 or not self.passages:
            return np.zeros(0, dtype=np.int64)
        _, ids = self.faiss_index.search(np.asarray(query_vector, dtype=np.float32)[None, :], depth)
        return ids[0][ids[0] >= 0].astype(np.int64)

    def dense_scores(self, query_vector: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        qv = np.asarray(query_vector, dtype=np.float64)
        passage = self.passage_vectors[rows].astype(np.float64) @ qv
        counts = np.diff(self.sentence_start)[rows]
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        # every sentence row of every candidate, in one gather (a passage has at least one)
        sentence_rows = np.repeat(self.sentence_start[rows] - offsets, counts) + np.arange(int(counts.sum()))
        sims = self.sentence_vectors[sentence_rows].astype(np.float64) @ qv
        return passage, np.maximum.reduceat(sims, offsets) if len(rows) else sims

    def sentence_vectors_of(self, row: int) -> np.ndarray:
        return self.sentence_vectors[self.sentence_rows(row)]

    def lexical_candidates(self, query: str, depth: int) -> tuple[np.ndarray, float]:
        scores = self._lexical_all(query)
        n = len(scores)
        if not n or depth <= 0:
            return np.zeros(0, dtype=np.int64), 0.0
        rows = np.argpartition(-scores, depth - 1)[:depth] if depth < n else np.arange(n)
        return rows.astype(np.int64), float(scores.max())

    def lexical_scores(self, query: str, rows: np.ndarray) -> np.ndarray:
        return self._lexical_all(query)[rows].astype(np.float64)

    def _lexical_all(self, query: str) -> np.ndarray:
        # the last query's scores: the retriever asks for candidates, then for their scores
        last = self._last_lexical  # one read: another thread may replace it meanwhile
        if last[0] != query:
            last = (query, self.lexical.scores(query))
            self._last_lexical = last
        return last[1]

    def undamped(self, rows: np.ndarray) -> np.ndarray:
        if self._undamped is None:
            titles = [d.title.strip() for d in self.documents]
            self._undamped = np.array(
                [c.prose or c.text.strip() == titles[int(d)] for c, d in zip(self.chunks, self.chunk_doc)], dtype=bool)
        return self._undamped[rows]

    def holds(self, kind: AnswerType, rows: np.ndarray) -> np.ndarray:
        if kind not in self._holds:
            self._holds[kind] = np.array([holds_answer(c.text, kind) for c in self.chunks], dtype=bool)
        return self._holds[kind][rows]


def make_faiss_index(vectors: np.ndarray):
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def save_index(index: StoredIndex, index_dir: Path) -> Path:
    """Write `index` as a new build folder, then switch CURRENT to it atomically
    (qa.store.folder.publish; call it holding the build lock).

    Returns:
        the new build folder.
    """
    import faiss

    written: dict[str, Any] = {}

    def write(staging: Path) -> None:
        _write_jsonl(staging / "documents.jsonl", (d.to_dict() for d in index.documents))
        _write_jsonl(
            staging / "chunks.jsonl",
            ({**c.to_dict(), "doc": int(d)} for c, d in zip(index.chunks, index.chunk_doc)),
        )
        faiss.write_index(index.faiss_index, str(staging / "passages.faiss"))
        np.save(staging / "sentences.npy", index.sentence_vectors)
        index.lexical.save(staging / "bm25")
        written["manifest"] = seal(index.manifest, staging)
        (staging / "manifest.json").write_text(json.dumps(written["manifest"], indent=2, ensure_ascii=False),
                                               encoding="utf-8")

    final = publish(index_dir, write)
    index.manifest = written["manifest"]
    return final


def load_index(index_dir: Path, verify: bool = True, attempts: int = 3) -> StoredIndex | None:
    """Load the live build; None when there is none yet.

    CURRENT is read once per attempt, so a build finishing meanwhile cannot mix two
    builds; when loading fails because CURRENT moved on (an old build was cleaned up under
    a slow reader), the new build is loaded instead.

    Raises:
        IndexFormatError: CURRENT, the manifest or a file is missing, truncated or fails
            its checksum.
    """
    for attempt in range(attempts):
        build = current_build(index_dir)
        if build is None:
            return None
        try:
            return _load_build(build, verify)
        except IndexFormatError:
            if attempt + 1 < attempts:
                try:
                    if current_build(index_dir) != build:
                        continue
                except IndexFormatError:
                    pass
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def _load_build(build: Path, verify: bool) -> StoredIndex:
    import faiss

    manifest = read_build_manifest(build)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexFormatError(
            f"index format {manifest.get('format_version')} is not {FORMAT_VERSION}: it needs a rebuild"
        )
    if verify:
        files = manifest.get("files")
        if not isinstance(files, dict) or not files:
            raise IndexFormatError(f"manifest of {build} lists no files")
        for name, expected in files.items():
            path = build / name
            try:
                ok = path.is_file() and _sha256_file(path) == expected
            except OSError:
                ok = False
            if not ok:
                raise IndexFormatError(f"index file {path} is missing or corrupted (checksum mismatch)")
    try:
        documents = tuple(Document.from_dict(d) for d in _read_jsonl(build / "documents.jsonl"))
        rows = _read_jsonl(build / "chunks.jsonl")
        chunk_doc = np.asarray([r.pop("doc") for r in rows], dtype=np.int64)
        chunks = tuple(Chunk.from_dict(r) for r in rows)
        faiss_index = faiss.read_index(str(build / "passages.faiss"))
        passage_vectors = faiss_index.reconstruct_n(0, faiss_index.ntotal) if faiss_index.ntotal else np.zeros(
            (0, manifest["dimension"]), dtype=np.float32
        )
        sentence_vectors = np.load(build / "sentences.npy", allow_pickle=False)
        lexical = LexicalIndex.load(build / "bm25", len(chunks))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexFormatError(f"index at {build} cannot be read ({exc})") from exc
    counts = np.array([len(c.sentences) for c in chunks], dtype=np.int64)
    sentence_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    if (len(passage_vectors) != len(chunks) or len(sentence_vectors) != int(sentence_start[-1])
            or (len(chunk_doc) and not 0 <= int(chunk_doc.min()) <= int(chunk_doc.max()) < len(documents))):
        raise IndexFormatError(f"index at {build} is inconsistent")
    return StoredIndex(
        documents, chunks, chunk_doc, np.asarray(passage_vectors, dtype=np.float32), sentence_vectors,
        sentence_start, lexical, manifest, faiss_index,
    )
