"""A big index made from a built one by repeating it (bench/scale.py --tile T).

On this shared 2-core machine the build's per-passage Python work (reading files, chunking,
tokenizing, flags) runs at about 4 ms a passage under load, so a real million-passage build
takes over an hour. The query side does not care how an index was made, so `tile` repeats a
real build T times: documents and passages under new names (text and offsets unchanged),
passage vectors perturbed per copy (cosine about 0.95 to the original, so copies are near
but not equal neighbours), sentence vectors, offsets and flags repeated, the BM25 matrix
repeated column by column (a term's postings point at every copy; its idf barely moves, as
passages and document frequencies both grow T times). The dense search is then built by the
real code (`build_dense`, IVF above the threshold, recall measured), and the index is saved
and loaded by the real code.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from qa.lexical import LexicalIndex
from qa.params import StoreParams
from qa.store import StoredIndex
from qa.store.arrays import PassageArrays
from qa.store.dense import build_dense
from qa.store.passages import MemoryPassages

NOISE = 0.33  # per-dimension noise times 1/sqrt(dim): a copy's cosine to its original is about 0.95


def tile(index: StoredIndex, copies: int, store: StoreParams, depth: int, seed: int = 0) -> StoredIndex:
    documents = tuple(replace(d, source=f"copy{t}/{d.source}") for t in range(copies) for d in index.documents)
    chunks = [replace(c, source=f"copy{t}/{c.source}") for t in range(copies) for c in index.chunks]
    arrays = _tile_arrays(index.arrays, len(index.documents), copies, seed)
    lexical = _tile_lexical(index.lexical, index.passages, copies)
    dense, record = build_dense(arrays.passage_vectors, store, depth)
    manifest = dict(index.manifest)
    manifest["documents"] = [{**d, "source": f"copy{t}/{d['source']}"} for t in range(copies)
                             for d in index.manifest["documents"]]
    manifest["counts"] = {k: v * copies for k, v in index.manifest["counts"].items()}
    manifest["store"] = {**index.manifest["store"], "dense": record}
    manifest["tiled"] = {"copies": copies, "noise": NOISE}
    return StoredIndex(documents, MemoryPassages(documents, chunks), arrays, lexical, manifest, dense)


def _tile_arrays(arrays: PassageArrays, documents: int, copies: int, seed: int) -> PassageArrays:
    rng = np.random.default_rng(seed)
    base = np.asarray(arrays.passage_vectors, dtype=np.float32)
    parts = [base]
    for _ in range(copies - 1):
        noisy = base + rng.standard_normal(base.shape, dtype=np.float32) * (NOISE / np.sqrt(base.shape[1]))
        parts.append(noisy / np.linalg.norm(noisy, axis=1, keepdims=True))
    sentences = int(arrays.sentence_start[-1])
    starts = np.concatenate([np.asarray(arrays.sentence_start[:-1]) + t * sentences for t in range(copies)]
                            + [[sentences * copies]])
    return PassageArrays(
        np.concatenate(parts).astype(np.float32),
        np.concatenate([np.asarray(arrays.sentence_vectors)] * copies),
        starts.astype(np.int64),
        np.concatenate([np.asarray(arrays.chunk_doc) + t * documents for t in range(copies)]).astype(np.int64),
        np.concatenate([np.asarray(arrays.flags)] * copies),
    )


def _tile_lexical(lexical: LexicalIndex, passages: int, copies: int) -> LexicalIndex:
    """bm25s's term-by-passage score matrix (CSC: one column of postings per term), each
    term's postings repeated for every copy of the passages."""
    retriever = lexical._retriever
    scores = retriever.scores
    data, indices, indptr = (np.asarray(scores[k]) for k in ("data", "indices", "indptr"))
    lengths = np.diff(indptr)
    term = np.repeat(np.arange(len(lengths)), lengths)
    order = np.argsort(np.tile(term, copies), kind="stable")  # postings grouped by term again
    tiled_indices = np.concatenate([indices + t * passages for t in range(copies)])[order]
    retriever.scores = {
        "data": np.tile(data, copies)[order],
        "indices": tiled_indices.astype(indices.dtype),
        "indptr": (indptr * copies).astype(indptr.dtype),
        "num_docs": passages * copies,
    }
    return LexicalIndex(retriever, passages * copies)
