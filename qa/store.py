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
from functools import lru_cache
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from qa.chunking import CHUNKER_VERSION, STRUCTURE_VERSION, embedding_text, iter_chunks
from qa.config import Settings
from qa.documents import Chunk, Collection, Document
from qa.embedding import Embedder
from qa.errors import IndexFormatError
from qa.lexical import LexicalIndex, passage_text
from qa.lexical import config as lexical_config

log = logging.getLogger(__name__)

FORMAT_VERSION = 3  # 2: manifest checksum; repeated passages indexed once; 3: formats, pages, context
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


def lexical_text(doc: Document, chunk: Chunk, document_passages: int, title_max_passages: int) -> str:
    """What BM25 indexes for a passage: its heading trail (Markdown) and its text."""
    return passage_text(doc.title, embedding_text(chunk), document_passages=document_passages,
                        title_max_passages=title_max_passages)


@dataclass(frozen=True)
class BuildReport:
    """What a build did, for the summary line and the tests.

    Attributes:
        skipped: "<collection>/<file>: <reason>" for every file left out.
        warnings: "<file>: <note>" for files indexed with a caveat (e.g. not UTF-8).
        passages_embedded: passages that needed fresh vectors (identical texts count once).
        repeated: passages left out because the same text occurs earlier in the document.
    """

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    passages_embedded: int = 0
    sentences: int = 0
    seconds: float = 0.0
    warnings: tuple[str, ...] = ()
    repeated: int = 0

    def summary(self) -> str:
        parts = [
            f"{len(self.added)} added",
            f"{len(self.changed)} changed",
            f"{len(self.removed)} removed",
            f"{len(self.unchanged)} unchanged",
            f"{len(self.skipped)} skipped",
        ]
        tail = f"; {self.passages_embedded} passages embedded in {self.seconds:.1f}s"
        if self.repeated:
            tail += f"; {self.repeated} repeated passages indexed once"
        return ", ".join(parts) + tail


EMBED_BATCH = 256  # texts encoded per call: bounds the memory a build needs beyond the index
TOKEN_CACHE = 4096


class _Embedding:
    """Fills preallocated vector arrays batch by batch, encoding each distinct text once.

    Identical texts (a repeated disclaimer, a copied paragraph, a one-sentence passage
    and its sentence) get the vector of their first occurrence, so repetitive input costs
    little, and memory beyond the final arrays is one batch.
    """

    def __init__(self, embedder: Embedder, targets: Sequence[np.ndarray], progress: bool, total: int,
                 previous: "_PreviousTexts | None" = None) -> None:
        self.embedder = embedder
        self.previous = previous
        self.fresh = [0] * len(targets)  # texts sent to the model, per target
        self.batch_limit = int(getattr(embedder, "batch_texts", EMBED_BATCH))  # a cluster wants big blocks
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
            if self.bar is not None:
                self.bar.update(1)
            return
        self.seen[key] = (target, row)
        vector = self.previous.vector(key) if self.previous is not None else None
        if vector is not None:
            self.targets[target][row] = vector
            if self.bar is not None:
                self.bar.update(1)
            return
        self.fresh[target] += 1
        self.batch.append((target, row, text))
        if len(self.batch) >= self.batch_limit:
            self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        texts = [t for _, _, t in self.batch]
        # A cluster embedder returns batches as they finish; a local one, the whole block.
        iter_encoded = getattr(self.embedder, "iter_encoded", None)
        parts = iter_encoded(texts) if iter_encoded else [(range(len(texts)), self.embedder.encode_documents(texts))]
        for positions, vectors in parts:
            for position, vector in zip(positions, vectors):
                target, row, _ = self.batch[position]
                self.targets[target][row] = vector
            if self.bar is not None:
                self.bar.update(len(vectors))
        self.encoded += len(self.batch)
        self.batch = []

    def finish(self) -> None:
        self.flush()
        for target, row, src_target, src_row in self.copies:
            self.targets[target][row] = self.targets[src_target][src_row]
        self.copies = []
        if self.bar is not None:
            self.bar.close()


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
            for row, chunk in enumerate(self.index.chunks):
                self._rows.setdefault(_text_key(embedding_text(chunk)), (0, row))
                first = int(self.index.sentence_start[row])
                for i, text in enumerate(chunk.sentence_texts()):
                    self._rows.setdefault(_text_key(text), (1, first + i))
        found = self._rows.get(key)
        if found is None:
            return None
        target, row = found
        return (self.index.passage_vectors if target == 0 else self.index.sentence_vectors)[row]


def _distinct_chunks(chunks: Iterable[Chunk]) -> tuple[list[Chunk], int]:
    """Drop passages whose exact text already occurs earlier in the same document (the
    first occurrence is the one cited). Paragraph numbers keep the chunker's numbering.
    Reads `chunks` lazily and remembers 16-byte digests, not texts."""
    seen: set[bytes] = set()
    kept = []
    dropped = 0
    for chunk in chunks:
        key = hashlib.blake2b(chunk.text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        if key in seen:
            dropped += 1
            continue
        seen.add(key)
        kept.append(chunk)
    return kept, dropped


def build_index(
    collections: Sequence[Collection],
    embedder: Embedder,
    settings: Settings,
    previous: StoredIndex | None = None,
    progress: bool = False,
) -> tuple[StoredIndex, BuildReport]:
    """Chunk and embed every document, reusing the vectors of unchanged documents.

    Memory stays bounded: vectors are written into arrays allocated once for the whole
    index and encoded in batches of `EMBED_BATCH` texts, and a text is encoded only once
    however often it occurs. A passage whose text occurs earlier in the same document is
    indexed once (the first occurrence is cited), so a large but repetitive file (a log, a
    crawl with the same page chrome everywhere) costs what its distinct text costs.

    Args:
        collections: the loaded collection folders.
        embedder: the embedding model.
        settings: index settings (chunking, model).
        previous: an index built with the same model and settings, whose vectors for
            documents with the same content hash are reused instead of re-embedded.
        progress: show a progress bar.
    """
    started = time.perf_counter()
    documents = [doc for c in collections for doc in c.documents]
    reusable = _reusable_vectors(previous, embedder, settings)
    old_hashes = {document_key(d): d.sha256 for d in previous.documents} if previous else {}
    count_tokens = lru_cache(maxsize=TOKEN_CACHE)(embedder.count_tokens)
    chunks: list[Chunk] = []
    chunk_doc: list[int] = []
    reused: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # document row -> its old vectors
    fresh_docs: set[int] = set()
    added, changed, unchanged = [], [], []
    repeated = 0
    for row, doc in enumerate(documents):
        key = document_key(doc)
        doc_chunks, dropped = _distinct_chunks(
            iter_chunks(doc, settings.max_chunk_tokens, settings.min_prose_words, count_tokens)
        )
        repeated += dropped
        spans = [_layout(c) for c in doc_chunks]
        old = reusable.get(key)
        if old is not None and old[0] == doc.sha256 and old[1] == spans:
            reused[row] = old[2]
            unchanged.append(key)
        else:
            (changed if key in old_hashes else added).append(key)
            same_content = reusable.get(doc.sha256)
            if same_content is not None and same_content[1] == spans:
                reused[row] = same_content[2]  # the same text under another name
            else:
                fresh_docs.add(row)
        chunks.extend(doc_chunks)
        chunk_doc.extend([row] * len(doc_chunks))
    del reusable

    sentence_counts = np.array([len(c.sentences) for c in chunks], dtype=np.int64)
    sentence_start = np.concatenate([[0], np.cumsum(sentence_counts)]).astype(np.int64)
    passage_vectors = np.zeros((len(chunks), embedder.dimension), dtype=np.float32)
    sentence_vectors = np.zeros((int(sentence_start[-1]), embedder.dimension), dtype=np.float32)
    fresh_rows = [i for i, d in enumerate(chunk_doc) if d in fresh_docs]
    total = sum(1 + len(chunks[i].sentences) for i in fresh_rows)
    if progress and fresh_rows:
        log.info("embedding %d passages and their sentences", len(fresh_rows))
    texts_reusable = previous is not None and stale_reason(previous.manifest, embedder, settings, None,
                                                            model_only=True) is None
    embedding = _Embedding(embedder, (passage_vectors, sentence_vectors), progress, total,
                           _PreviousTexts(previous) if texts_reusable else None)
    position: dict[int, int] = {}  # reused document row -> next passage within it
    for row, chunk in enumerate(chunks):
        doc_row = chunk_doc[row]
        s0, s1 = int(sentence_start[row]), int(sentence_start[row + 1])
        if doc_row in fresh_docs:
            embedding.add(0, row, embedding_text(chunk))
            for s_row, text in zip(range(s0, s1), chunk.sentence_texts()):
                embedding.add(1, s_row, text)
        else:
            i = position.get(doc_row, 0)
            old_passages, old_sentences, old_start = reused[doc_row]
            passage_vectors[row] = old_passages[i]
            sentence_vectors[s0:s1] = old_sentences[old_start[i] : old_start[i] + (s1 - s0)]
            position[doc_row] = i + 1
    embedding.finish()
    del reused

    per_doc_passages = np.bincount(np.asarray(chunk_doc, dtype=np.int64), minlength=len(documents))
    lexical = LexicalIndex.build(
        [lexical_text(documents[d], c, int(per_doc_passages[d]), settings.lexical.title_max_passages)
         for c, d in zip(chunks, chunk_doc)], settings.lexical)
    current = {document_key(d) for d in documents}
    removed = sorted(k for k in old_hashes if k not in current)
    report = BuildReport(
        tuple(added),
        tuple(changed),
        tuple(removed),
        tuple(unchanged),
        tuple(f"{_collection_name(c)}/{s.path}: {s.reason}" for c in collections for s in c.skipped),
        embedding.fresh[0],
        int(sentence_start[-1]),
        time.perf_counter() - started,
        tuple(f"{_collection_name(c)}/{w}" for c in collections for w in c.warnings),
        repeated,
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


def _collection_name(collection: Collection) -> str:
    return str(collection.documents[0].collection) if collection.documents else ""


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
    for row, doc in enumerate(previous.documents):
        rows = np.flatnonzero(previous.chunk_doc == row)
        if len(rows) == 0:
            continue
        first = int(previous.sentence_start[rows[0]])
        sent = slice(first, int(previous.sentence_start[rows[-1] + 1]))
        spans = [_layout(previous.chunks[r]) for r in rows]
        starts = previous.sentence_start[rows] - first
        entry = (doc.sha256, spans, (previous.passage_vectors[rows], previous.sentence_vectors[sent], starts))
        out[document_key(doc)] = entry
        out.setdefault(doc.sha256, entry)
    return out


def _versions() -> dict[str, str]:
    import faiss
    import sentence_transformers

    from qa.lexical import import_bm25s

    bm25s = import_bm25s()

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
        "chunker_version": CHUNKER_VERSION,
        "structure_version": STRUCTURE_VERSION,
        "parameters": settings.tuned(),  # query-time numbers at build time (a record, not a check)
        "lexical": lexical_config(settings.lexical),
        "collections": sorted({str(c.documents[0].collection) for c in collections if c.documents}),
        "documents": [
            {
                "collection": d.collection,
                "source": d.source,
                "title": d.title,
                "sha256": d.sha256,
                "format": d.format,
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
    model_only: bool = False,
) -> str | None:
    """Why an index no longer matches the model, settings or documents; None when it does.

    With `vectors_only`, whether its passages and vectors are still good (BM25 settings are not
    checked); with `model_only`, whether a vector it holds for a text is that text's vector."""
    if manifest.get("format_version") != FORMAT_VERSION:
        return f"index format {manifest.get('format_version')} is not {FORMAT_VERSION}"
    if manifest.get("model") != embedder.name or manifest.get("dimension") != embedder.dimension:
        return f"model changed ({manifest.get('model')} -> {embedder.name})"
    if model_only:
        return None
    if manifest.get("settings") != settings.index_settings() or manifest.get("chunker_version") != CHUNKER_VERSION:
        return "chunking settings changed"
    if not vectors_only and manifest.get("structure_version") != STRUCTURE_VERSION:
        return "HTML and PDF extraction changed"
    if not vectors_only and manifest.get("lexical") != lexical_config(settings.lexical):
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


def manifest_checksum(manifest: dict[str, Any]) -> str:
    """sha256 of the manifest's canonical JSON without its own `manifest_sha256` field."""
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def save_index(index: StoredIndex, index_dir: Path) -> Path:
    """Write `index` as a new build folder, then switch CURRENT to it atomically.

    Call it holding the build lock (`open_index` does): it also removes what killed
    builds left behind. Every file is written and fsynced in a hidden staging folder,
    which is renamed into place before CURRENT is replaced, so whenever the process dies
    the previous build stays live and intact.

    Returns:
        the new build folder.
    """
    import faiss

    index_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    build_id = f"build-{stamp}-{uuid.uuid4().hex[:8]}"
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
        manifest["manifest_sha256"] = manifest_checksum(manifest)
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        _fsync_tree(staging)
        final = index_dir / build_id
        os.rename(staging, final)
        pointer_tmp = index_dir / f".{POINTER}.{uuid.uuid4().hex[:8]}"
        pointer_tmp.write_text(build_id + "\n", encoding="utf-8")
        with open(pointer_tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(pointer_tmp, index_dir / POINTER)
        _fsync_dir(index_dir)
        index.manifest = manifest
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _remove_old_builds(index_dir, keep=build_id)
    return final


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _remove_old_builds(index_dir: Path, keep: str) -> None:
    """Keep the live build and the one before it; drop older ones and the debris of
    killed builds (staging folders, pointer temp files). Needs the build lock."""
    builds = sorted((p for p in index_dir.glob("build-*") if p.is_dir()), key=lambda p: p.name)
    old = [p for p in builds if p.name != keep][: max(0, len(builds) - KEEP_BUILDS)]
    for path in old:
        shutil.rmtree(path, ignore_errors=True)
    for tmp in index_dir.glob(".build-*.tmp"):
        shutil.rmtree(tmp, ignore_errors=True)
    for tmp in index_dir.glob(f".{POINTER}.*"):
        tmp.unlink(missing_ok=True)


def current_build(index_dir: Path) -> Path | None:
    """The live build folder named by CURRENT; None when there is no index yet.

    Raises:
        IndexFormatError: CURRENT is unreadable or names no build folder.
    """
    pointer = index_dir / POINTER
    try:
        raw = pointer.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except IsADirectoryError:
        raise IndexFormatError(f"{pointer} is damaged (a folder, not a file)") from None
    except OSError as exc:
        raise IndexFormatError(f"{pointer} cannot be read ({exc.strerror or exc})") from None
    try:
        name = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        name = ""
    if not name.startswith("build-") or "/" in name or "\\" in name or not (index_dir / name).is_dir():
        raise IndexFormatError(f"{pointer} is damaged: it names no build folder ({raw[:60]!r})")
    return index_dir / name


def _read_manifest(build: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexFormatError(f"{build / 'manifest.json'} is unreadable ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("manifest_sha256") != manifest_checksum(manifest):
        if isinstance(manifest, dict) and manifest.get("format_version") != FORMAT_VERSION:
            # An index from another version of Seed QA: not damaged, just stale.
            return manifest
        raise IndexFormatError(f"manifest {build / 'manifest.json'} is corrupted (checksum mismatch)")
    return manifest


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    build = current_build(index_dir)
    return None if build is None else _read_manifest(build)


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

    manifest = _read_manifest(build)
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
