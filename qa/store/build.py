"""Building an index: chunk every document, embed each distinct text once (reusing the
vectors of unchanged documents and texts), index BM25, and describe it all in a manifest."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np

from qa.chunking import embedding_text, iter_chunks, lexical_text as passage_lexical_text, sentence_embedding_texts
from qa.config import Settings
from qa.documents import Chunk, Collection, Document
from qa.embedding import Embedder
from qa.lexical import LexicalIndex, passage_text
from qa.progress import BuildCounts, BuildWatch
from qa.store.arrays import FLAG_COLUMNS, FLAGS_VERSION, SENTENCE_DTYPE, PassageArrays, passage_flags, sentence_offsets
from qa.store.dense import build_dense
from qa.store.embed_queue import EmbeddingQueue
from qa.store.index import StoredIndex
from qa.store.manifest import build_manifest, stale_reason
from qa.store.passages import MemoryPassages
from qa.store.reuse import _layout, _PreviousTexts, _reusable_vectors, document_key
from qa.store.watch import WatchedCounts, stop_if_asked

log = logging.getLogger(__name__)


def lexical_text(doc: Document, chunk: Chunk, document_passages: int, title_max_passages: int) -> str:
    """What BM25 indexes for a passage: its heading trail (Markdown) and its text."""
    return passage_text(doc.title, passage_lexical_text(chunk), document_passages=document_passages,
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


TOKEN_CACHE = 4096


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


@dataclass
class _Plan:
    """The passages of a build, and where each document's vectors come from."""

    documents: list[Document]
    chunks: list[Chunk] = field(default_factory=list)
    chunk_doc: list[int] = field(default_factory=list)
    reused: dict[int, tuple] = field(default_factory=dict)  # document row -> its old vectors
    fresh_docs: set[int] = field(default_factory=set)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    repeated: int = 0


def build_index(
    collections: Sequence[Collection],
    embedder: Embedder,
    settings: Settings,
    previous: StoredIndex | None = None,
    progress: bool | BuildWatch = False,
) -> tuple[StoredIndex, BuildReport]:
    """Chunk and embed every document, reusing the vectors of unchanged documents, and
    compute what queries need per passage (flags, offsets, BM25, the dense search).

    Memory stays bounded: vectors are written into arrays allocated once for the whole
    index and encoded in calls of `EMBED_BATCH` texts (gathered `EMBED_BUFFER` at a time and
    sorted by length), and a text is encoded only once
    however often it occurs. A passage whose text occurs earlier in the same document is
    indexed once (the first occurrence is cited), so a large but repetitive file (a log, a
    crawl with the same page chrome everywhere) costs what its distinct text costs.

    Args:
        collections: the loaded collection folders.
        embedder: the embedding model.
        settings: index settings (chunking, model, store layout).
        previous: an index built with the same model and settings, whose vectors for
            documents with the same content hash are reused instead of re-embedded.
        progress: True shows a progress bar; a `BuildWatch` gets the counts instead, and
            the build stops between documents and between batches (raising
            `BuildCancelled`, nothing written) once the watch is cancelled.
    """
    started = time.perf_counter()
    watch = progress if isinstance(progress, BuildWatch) else None
    plan = _plan(collections, embedder, settings, previous, watch)
    chunk_doc = np.asarray(plan.chunk_doc, dtype=np.int64)
    sentence_start = sentence_offsets(plan.chunks)
    passage_vectors, sentence_vectors, embedded = _embed(plan, sentence_start, embedder, settings, previous,
                                                         progress is True, watch)
    if watch is not None:
        watch.phase("indexing keywords")
    per_doc_passages = np.bincount(chunk_doc, minlength=len(plan.documents))
    lexical = LexicalIndex.build(
        [lexical_text(plan.documents[d], c, int(per_doc_passages[d]), settings.lexical.title_max_passages)
         for c, d in zip(plan.chunks, plan.chunk_doc)], settings.lexical)
    arrays = PassageArrays(passage_vectors, sentence_vectors.astype(SENTENCE_DTYPE), sentence_start, chunk_doc,
                           passage_flags(plan.documents, plan.chunks, chunk_doc))
    del sentence_vectors
    dense, dense_record = build_dense(passage_vectors, settings.store, max(settings.rank.candidates, 10))
    report = _report(collections, plan, previous, embedded, int(sentence_start[-1]), time.perf_counter() - started)
    store = {"text_block_chars": settings.store.text_block_chars,
             "flags": list(FLAG_COLUMNS), "flags_version": FLAGS_VERSION,
             "sentence_dtype": np.dtype(SENTENCE_DTYPE).name, "dense": dense_record,
             "sentence_vectors": settings.store.sentence_vectors,
             "sentence_centring": settings.store.sentence_centring}
    manifest = build_manifest(collections, plan.documents, chunk_doc, embedder, settings, report, store)
    records = MemoryPassages(plan.documents, plan.chunks)
    return StoredIndex(tuple(plan.documents), records, arrays, lexical, manifest, dense), report


def _plan(collections: Sequence[Collection], embedder: Embedder, settings: Settings,
          previous: StoredIndex | None, watch: BuildWatch | None) -> _Plan:
    """Chunk every document and decide, per document, whether its old vectors still serve."""
    plan = _Plan([doc for c in collections for doc in c.documents])
    reusable = _reusable_vectors(previous, embedder, settings)
    old_hashes = {document_key(d): d.sha256 for d in previous.documents} if previous else {}
    count_tokens = lru_cache(maxsize=TOKEN_CACHE)(embedder.count_tokens)
    for row, doc in enumerate(plan.documents):
        if watch is not None:
            watch.publish(BuildCounts("reading documents", row, len(plan.documents)))
            stop_if_asked(watch)
        key = document_key(doc)
        doc_chunks, dropped = _distinct_chunks(
            iter_chunks(doc, settings.max_chunk_tokens, settings.min_prose_words, count_tokens)
        )
        plan.repeated += dropped
        spans = [_layout(c) for c in doc_chunks]
        old = reusable.get(key)
        if old is not None and old[0] == doc.sha256 and old[1] == spans:
            plan.reused[row] = old[2]
            plan.unchanged.append(key)
        else:
            (plan.changed if key in old_hashes else plan.added).append(key)
            same_content = reusable.get(doc.sha256)
            if same_content is not None and same_content[1] == spans:
                plan.reused[row] = same_content[2]  # the same text under another name
            else:
                plan.fresh_docs.add(row)
        plan.chunks.extend(doc_chunks)
        plan.chunk_doc.extend([row] * len(doc_chunks))
    return plan


def _embed(plan: _Plan, sentence_start: np.ndarray, embedder: Embedder, settings: Settings,
           previous: StoredIndex | None, progress: bool,
           watch: BuildWatch | None) -> tuple[np.ndarray, np.ndarray, int]:
    """Passage and sentence vectors (float32), and how many passages were sent to the model."""
    chunks, chunk_doc = plan.chunks, plan.chunk_doc
    passage_vectors = np.zeros((len(chunks), embedder.dimension), dtype=np.float32)
    sentence_vectors = np.zeros((int(sentence_start[-1]), embedder.dimension), dtype=np.float32)
    fresh_rows = [i for i, d in enumerate(chunk_doc) if d in plan.fresh_docs]
    total = sum(1 + len(chunks[i].sentences) for i in fresh_rows)
    if progress and fresh_rows:
        log.info("embedding %d passages and their sentences", len(fresh_rows))
    texts_reusable = previous is not None and stale_reason(previous.manifest, embedder, settings, None,
                                                            model_only=True) is None
    fresh_ends = np.cumsum([n for d, n in enumerate(np.bincount(chunk_doc, minlength=len(plan.documents)))
                            if d in plan.fresh_docs]).tolist() if chunk_doc else []
    watched = WatchedCounts(watch, fresh_ends, len(plan.documents), len(chunks), total) if watch is not None else None
    embedding = EmbeddingQueue(embedder, (passage_vectors, sentence_vectors), progress, total,
                           _PreviousTexts(previous) if texts_reusable else None, watched,
                           settings.store.sentence_centring)
    if watched is not None:
        watched.publish()
    pool = pooled_sentences(embedder, settings)
    position: dict[int, int] = {}  # reused document row -> next passage within it
    for row, chunk in enumerate(chunks):
        doc_row = chunk_doc[row]
        s0, s1 = int(sentence_start[row]), int(sentence_start[row + 1])
        if doc_row in plan.fresh_docs and pool and not chunk.context:
            embedding.add_pooled(row, chunk.text, s0, chunk.sentences, chunk.sentence_texts())
        elif doc_row in plan.fresh_docs:  # a heading trail shifts the text: its sentences are encoded
            embedding.add(0, row, embedding_text(chunk))
            for s_row, text in zip(range(s0, s1), sentence_embedding_texts(chunk)):
                embedding.add(1, s_row, text)
        else:
            i = position.get(doc_row, 0)
            old_passages, old_sentences, old_start = plan.reused[doc_row]
            passage_vectors[row] = old_passages[i]
            sentence_vectors[s0:s1] = old_sentences[old_start[i] : old_start[i] + (s1 - s0)]
            position[doc_row] = i + 1
    embedding.finish()
    plan.reused.clear()
    return passage_vectors, sentence_vectors, embedding.fresh[0]


def pooled_sentences(embedder: Embedder, settings: Settings) -> bool:
    """Whether sentence vectors come from their passage's token embeddings (`StoreParams.
    sentence_vectors`); an embedder without token outputs (a Ray cluster) encodes them."""
    return (settings.store.sentence_vectors == "pooled" and hasattr(embedder, "encode_pooled")
            and not hasattr(embedder, "iter_encoded"))


def _report(collections: Sequence[Collection], plan: _Plan, previous: StoredIndex | None, embedded: int,
            sentences: int, seconds: float) -> BuildReport:
    current = {document_key(d) for d in plan.documents}
    removed = sorted(document_key(d) for d in previous.documents if document_key(d) not in current) if previous else []
    return BuildReport(
        tuple(plan.added),
        tuple(plan.changed),
        tuple(removed),
        tuple(plan.unchanged),
        tuple(f"{_collection_name(c)}/{s.path}: {s.reason}" for c in collections for s in c.skipped),
        embedded,
        sentences,
        seconds,
        tuple(f"{_collection_name(c)}/{w}" for c in collections for w in c.warnings),
        plan.repeated,
    )

def _collection_name(collection: Collection) -> str:
    return str(collection.documents[0].collection) if collection.documents else ""


