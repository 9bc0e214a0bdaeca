"""The persisted index: FAISS passage vectors, sentence vectors, BM25, passages and a manifest.

Layout of the index folder:

    CURRENT              name of the live build folder (replaced atomically)
    .build.lock          held while a build writes, so two builds never interleave
    <build-id>/          manifest.json, documents.jsonl, chunks.jsonl, passages.faiss,
                         sentences.npy, bm25/

A build writes a new `<build-id>/` folder and only then points CURRENT at it with an atomic
rename, so an interrupted build leaves the previous index untouched and a reader never sees
a half-written one. The manifest records the settings, the model, every document's hash
and every file's checksum; loading verifies them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from qa.chunking import chunk_document
from qa.config import Settings
from qa.documents import Chunk, Collection, Document
from qa.embedding import Embedder
from qa.errors import IndexFormatError
from qa.lexical import LexicalIndex, passage_text
from qa.lexical import config as lexical_config

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
POINTER = "CURRENT"
LOCK = ".build.lock"
KEEP_BUILDS = 2  # the live build and the one before it, which a slow reader may still be loading


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


def make_faiss_index(vectors: np.ndarray):
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


# --- building -----------------------------------------------------------------------------


def document_key(doc: Document) -> str:
    return f"{doc.collection}::{doc.source}"


def lexical_text(doc: Document, chunk: Chunk) -> str:
    return passage_text(doc.title, chunk.text)


@dataclass(frozen=True)
class BuildReport:
    """What a build did, for the summary line and the tests."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    passages_embedded: int = 0
    sentences: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        parts = [
            f"{len(self.added)} added",
            f"{len(self.changed)} changed",
            f"{len(self.removed)} removed",
            f"{len(self.unchanged)} unchanged",
            f"{len(self.skipped)} skipped",
        ]
        return ", ".join(parts) + f"; {self.passages_embedded} passages embedded in {self.seconds:.1f}s"


def build_index(
    collections: Sequence[Collection],
    embedder: Embedder,
    settings: Settings,
    previous: StoredIndex | None = None,
    progress: bool = False,
) -> tuple[StoredIndex, BuildReport]:
    """Chunk and embed every document, reusing the vectors of unchanged documents.

    Args:
        collections: the loaded collection folders.
        embedder: the embedding model.
        settings: index settings (chunking, model).
        previous: an index built with the same model and settings, whose vectors for
            documents with the same content hash are reused instead of re-embedded.
        progress: show progress bars.
    """
    started = time.perf_counter()
    documents = [doc for c in collections for doc in c.documents]
    reusable = _reusable_vectors(previous, embedder, settings)
    old_hashes = {document_key(d): d.sha256 for d in previous.documents} if previous else {}
    chunks: list[Chunk] = []
    chunk_doc: list[int] = []
    to_embed: list[int] = []  # document rows needing fresh vectors
    per_doc: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    added, changed, unchanged = [], [], []
    for row, doc in enumerate(documents):
        key = document_key(doc)
        doc_chunks = chunk_document(doc, settings.max_chunk_tokens, settings.min_prose_words, embedder.count_tokens)
        if key in reusable and reusable[key][0] == doc.sha256:
            per_doc[row] = reusable[key][1]
            unchanged.append(key)
        else:
            to_embed.append(row)
            (changed if key in old_hashes else added).append(key)
        chunks.extend(doc_chunks)
        chunk_doc.extend([row] * len(doc_chunks))

    fresh_rows = [i for i, d in enumerate(chunk_doc) if d in set(to_embed)]
    passage_texts = [chunks[i].text for i in fresh_rows]
    sentence_texts = [s for i in fresh_rows for s in chunks[i].sentence_texts()]
    if progress and passage_texts:
        log.info("embedding %d passages and %d sentences", len(passage_texts), len(sentence_texts))
    fresh_passages = embedder.encode_documents(passage_texts, progress=progress)
    fresh_sentences = embedder.encode_documents(sentence_texts, progress=progress)

    passage_vectors, sentence_vectors = _assemble_vectors(
        chunks, chunk_doc, per_doc, fresh_rows, fresh_passages, fresh_sentences, embedder.dimension
    )
    sentence_counts = np.array([len(c.sentences) for c in chunks], dtype=np.int64)
    sentence_start = np.concatenate([[0], np.cumsum(sentence_counts)]).astype(np.int64)
    lexical = LexicalIndex.build([lexical_text(documents[d], c) for c, d in zip(chunks, chunk_doc)])
    current = {document_key(d) for d in documents}
    removed = sorted(k for k in old_hashes if k not in current)
    report = BuildReport(
        tuple(added),
        tuple(changed),
        tuple(removed),
        tuple(unchanged),
        tuple(f"{c.documents[0].collection if c.documents else ''}/{s.path}: {s.reason}" for c in collections for s in c.skipped),
        len(fresh_rows),
        int(sentence_start[-1]),
        time.perf_counter() - started,
    )
    manifest = _manifest(collections, documents, chunk_doc, embedder, settings, report)
    index = StoredIndex(
        tuple(documents),
        tuple(chunks),
        np.asarray(chunk_doc, dtype=np.int64),
        passage_vectors,
        sentence_vectors,
        sentence_start,
        lexical,
        manifest,
    )
    return index, report


def _reusable_vectors(previous: StoredIndex | None, embedder: Embedder, settings: Settings):
    """Per document key: (sha256, (passage vectors, sentence vectors)) from a compatible index."""
    if previous is None or stale_reason(previous.manifest, embedder, settings, None, vectors_only=True) is not None:
        return {}
    out = {}
    for row, doc in enumerate(previous.documents):
        rows = np.flatnonzero(previous.chunk_doc == row)
        if len(rows) == 0:
            continue
        sent = slice(int(previous.sentence_start[rows[0]]), int(previous.sentence_start[rows[-1] + 1]))
        out[document_key(doc)] = (doc.sha256, (previous.passage_vectors[rows], previous.sentence_vectors[sent]))
    return out


def _assemble_vectors(chunks, chunk_doc, per_doc, fresh_rows, fresh_passages, fresh_sentences, dim):
    passages = np.zeros((len(chunks), dim), dtype=np.float32)
    total_sentences = sum(len(c.sentences) for c in chunks)
    sentences = np.zeros((total_sentences, dim), dtype=np.float32)
    fresh_at = {row: i for i, row in enumerate(fresh_rows)}
    fresh_sentence_at, pos = {}, 0
    for row in fresh_rows:
        fresh_sentence_at[row] = pos
        pos += len(chunks[row].sentences)
    reused_pos: dict[int, tuple[int, int]] = {}  # document row -> (next passage, next sentence)
    s_pos = 0
    for row, chunk in enumerate(chunks):
        n_sent = len(chunk.sentences)
        if row in fresh_at:
            passages[row] = fresh_passages[fresh_at[row]]
            start = fresh_sentence_at[row]
            sentences[s_pos : s_pos + n_sent] = fresh_sentences[start : start + n_sent]
        else:
            doc_row = chunk_doc[row]
            p_i, s_i = reused_pos.get(doc_row, (0, 0))
            old_passages, old_sentences = per_doc[doc_row]
            passages[row] = old_passages[p_i]
            sentences[s_pos : s_pos + n_sent] = old_sentences[s_i : s_i + n_sent]
            reused_pos[doc_row] = (p_i + 1, s_i + n_sent)
        s_pos += n_sent
    return passages, sentences


def _versions() -> dict[str, str]:
    import bm25s
    import faiss
    import sentence_transformers

    return {
        "python": platform.python_version(),
        "faiss": faiss.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "bm25s": getattr(bm25s, "__version__", "unknown"),
    }


def _manifest(collections, documents, chunk_doc, embedder, settings, report) -> dict[str, Any]:
    counts = np.bincount(np.asarray(chunk_doc, dtype=np.int64), minlength=len(documents))
    return {
        "format_version": FORMAT_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "build_seconds": round(report.seconds, 2),
        "model": embedder.name,
        "dimension": embedder.dimension,
        "settings": settings.index_settings(),
        "lexical": lexical_config(),
        "collections": sorted({str(c.documents[0].collection) for c in collections if c.documents}),
        "documents": [
            {
                "collection": d.collection,
                "source": d.source,
                "title": d.title,
                "sha256": d.sha256,
                "passages": int(counts[row]),
            }
            for row, d in enumerate(documents)
        ],
        "counts": {
            "documents": len(documents),
            "passages": len(chunk_doc),
            "sentences": report.sentences,
        },
        "skipped": list(report.skipped),
        "versions": _versions(),
    }


def stale_reason(
    manifest: dict[str, Any],
    embedder: Embedder,
    settings: Settings,
    collections: Sequence[Collection] | None,
    vectors_only: bool = False,
) -> str | None:
    """Why an index no longer matches the model, settings or documents; None when it does.

    With `vectors_only`, whether its vectors are still good (BM25 settings are not checked)."""
    if manifest.get("format_version") != FORMAT_VERSION:
        return f"index format {manifest.get('format_version')} is not {FORMAT_VERSION}"
    if manifest.get("model") != embedder.name or manifest.get("dimension") != embedder.dimension:
        return f"model changed ({manifest.get('model')} -> {embedder.name})"
    if manifest.get("settings") != settings.index_settings():
        return "chunking settings changed"
    if not vectors_only and manifest.get("lexical") != lexical_config():
        return "BM25 settings changed"
    if collections is None:
        return None
    indexed = {(d["collection"], d["source"]): d["sha256"] for d in manifest.get("documents", [])}
    current = {(d.collection, d.source): d.sha256 for c in collections for d in c.documents}
    if indexed != current:
        added = len(current.keys() - indexed.keys())
        removed = len(indexed.keys() - current.keys())
        changed = sum(1 for k in current.keys() & indexed.keys() if current[k] != indexed[k])
        return f"documents changed ({added} added, {changed} changed, {removed} removed)"
    return None


# --- saving and loading --------------------------------------------------------------------


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())


def save_index(index: StoredIndex, index_dir: Path) -> Path:
    """Write `index` as a new build folder, then switch CURRENT to it atomically.

    Returns:
        the new build folder.
    """
    import faiss

    index_dir.mkdir(parents=True, exist_ok=True)
    build_id = f"build-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    staging = index_dir / f".{build_id}.tmp"
    staging.mkdir()
    try:
        _write_jsonl(staging / "documents.jsonl", (d.to_dict() for d in index.documents))
        _write_jsonl(
            staging / "chunks.jsonl",
            ({**c.to_dict(), "doc": int(d)} for c, d in zip(index.chunks, index.chunk_doc)),
        )
        faiss.write_index(index.faiss_index, str(staging / "passages.faiss"))
        np.save(staging / "sentences.npy", index.sentence_vectors)
        index.lexical.save(staging / "bm25")
        files = sorted(p for p in staging.rglob("*") if p.is_file())
        manifest = dict(index.manifest)
        manifest["files"] = {p.relative_to(staging).as_posix(): _sha256_file(p) for p in files}
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        _fsync_tree(staging)
        final = index_dir / build_id
        os.rename(staging, final)
        pointer_tmp = index_dir / f".{POINTER}.{uuid.uuid4().hex[:8]}"
        pointer_tmp.write_text(build_id + "\n", encoding="utf-8")
        with open(pointer_tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(pointer_tmp, index_dir / POINTER)
        index.manifest = manifest
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _remove_old_builds(index_dir, keep=build_id)
    return final


def _remove_old_builds(index_dir: Path, keep: str) -> None:
    builds = sorted((p for p in index_dir.glob("build-*") if p.is_dir()), key=lambda p: p.name)
    old = [p for p in builds if p.name != keep][: max(0, len(builds) - KEEP_BUILDS)]
    for path in old:
        shutil.rmtree(path, ignore_errors=True)
    for tmp in index_dir.glob(".build-*.tmp"):
        # A staging folder left by a killed build; safe to drop while we hold the lock.
        shutil.rmtree(tmp, ignore_errors=True)


def current_build(index_dir: Path) -> Path | None:
    pointer = index_dir / POINTER
    if not pointer.is_file():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    if not name or "/" in name or name.startswith("."):
        raise IndexFormatError(f"{pointer} is damaged: delete {index_dir} and build again")
    return index_dir / name


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    build = current_build(index_dir)
    if build is None:
        return None
    try:
        return json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexFormatError(f"manifest of {build} is unreadable ({exc}); rebuild with `python -m qa build`") from exc


def load_index(index_dir: Path, verify: bool = True) -> StoredIndex | None:
    """Load the live build; None when there is none yet.

    Raises:
        IndexFormatError: a file is missing, truncated or fails its checksum.
    """
    import faiss

    manifest = read_manifest(index_dir)
    if manifest is None:
        return None
    build = current_build(index_dir)
    assert build is not None
    if verify:
        for name, expected in manifest.get("files", {}).items():
            path = build / name
            if not path.is_file() or _sha256_file(path) != expected:
                raise IndexFormatError(f"index file {path} is missing or corrupted")
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
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise IndexFormatError(f"index at {build} cannot be read ({exc}); rebuild with `python -m qa build`") from exc
    counts = np.array([len(c.sentences) for c in chunks], dtype=np.int64)
    sentence_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    if len(passage_vectors) != len(chunks) or len(sentence_vectors) != int(sentence_start[-1]):
        raise IndexFormatError(f"index at {build} is inconsistent; rebuild with `python -m qa build`")
    return StoredIndex(
        documents, chunks, chunk_doc, np.asarray(passage_vectors, dtype=np.float32), sentence_vectors,
        sentence_start, lexical, manifest, faiss_index,
    )
