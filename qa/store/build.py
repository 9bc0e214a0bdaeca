"""Building an index: chunk every document, embed each distinct text once (reusing the
vectors of unchanged documents and texts), index BM25, and describe it all in a manifest."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np

from qa.chunking import embedding_text, iter_chunks
from qa.config import Settings
from qa.documents import Chunk, Collection, Document
from qa.embedding import Embedder
from qa.lexical import LexicalIndex, passage_text
from qa.store.index import StoredIndex
from qa.store.manifest import build_manifest, stale_reason

log = logging.getLogger(__name__)


def document_key(doc: Document) -> str:
    return f"{doc.collection}::{doc.source}"


def lexical_text(doc: Document, chunk: Chunk, document_passages: int) -> str:
    """What BM25 indexes for a passage: its heading trail (Markdown) and its text."""
    return passage_text(doc.title, embedding_text(chunk), document_passages=document_passages)


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
        [lexical_text(documents[d], c, int(per_doc_passages[d])) for c, d in zip(chunks, chunk_doc)]
    )
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
    manifest = build_manifest(collections, documents, chunk_doc, embedder, settings, report)
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
