"""A `PassageStore` (qa.backend) served from Qdrant: candidates from the server, exact scores here.

Candidates come from the server's indexes (dense: the `dense` vector; BM25: the sparse `bm25`
vector with the server's IDF). The candidates' scores are then computed here, in float64, from
their stored vectors, exactly as the FAISS store computes them, so both stores rank alike:
the passage cosine and the best sentence's cosine from the fetched vectors, the BM25 score
from the fetched term weights and the IDF of the terms collection. The collection's own
data (manifest, documents, term document frequencies) is all a client needs: no local file.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from dataclasses import fields, replace
from typing import Any, Sequence

import numpy as np

from qa.answer_types import AnswerType
from qa.config import Settings
from qa.distributed.qdrant_schema import DENSE, SENTENCES, SPARSE, CollectionNames, QdrantUnavailableError, point_uuid
from qa.distributed.qdrant_write import read_meta, stored_documents
from qa.documents import Chunk, Document
from qa.lexical import content_terms, tokenize

_CHUNK_FIELDS = tuple(f.name for f in fields(Chunk))


def lucene_idf(passages: int, df: int) -> float:
    """BM25's inverse document frequency as Lucene, bm25s and Qdrant's `Modifier.IDF` compute it."""
    return float(np.log(1 + (passages - df + 0.5) / (df + 0.5)))


class QdrantLexicalStats:
    """The BM25 statistics of a collection (qa.backend.LexicalStats), read from its terms
    collection: each term's sparse index and document frequency, cached once read."""

    def __init__(self, client, names: CollectionNames, passages: int) -> None:
        self._client = client
        self._names = names
        self._passages = passages
        self._terms: dict[str, tuple[int, int]] = {}  # term -> (sparse index, df); (-1, 0) when unknown
        self._lock = threading.Lock()

    def _lookup(self, terms: Sequence[str]) -> dict[str, tuple[int, int]]:
        missing = sorted({t for t in terms if t not in self._terms})
        if missing:
            found = self._client.retrieve(self._names.terms, [point_uuid(t) for t in missing], with_payload=True)
            read = {p.payload["term"]: (int(p.payload["index"]), int(p.payload["df"])) for p in found}
            with self._lock:
                self._terms.update({t: read.get(t, (-1, 0)) for t in missing})
        return {t: self._terms[t] for t in terms}

    def idf(self, terms: Sequence[str]) -> dict[str, float]:
        known = self._lookup(terms)
        return {t: lucene_idf(self._passages, known[t][1]) for t in terms}

    def ideal_score(self, query: str) -> float:
        tokens = content_terms(tokenize([query])[0])
        idf = self.idf(tokens)
        return float(sum(idf[t] for t in tokens))

    def known_terms(self, terms: Sequence[str]) -> list[str]:
        known = self._lookup(terms)
        return [t for t in terms if known[t][1] > 0]

    def max_idf(self) -> float:
        return lucene_idf(self._passages, 0)

    def query_terms(self, query: str) -> dict[int, tuple[int, float]]:
        """Sparse index -> (times the question holds the term, its IDF), for the terms the
        collection holds (bm25s counts a repeated question word again)."""
        tokens = self.known_terms(tokenize([query])[0])
        known = self._lookup(tokens)
        return {known[t][0]: (n, lucene_idf(self._passages, known[t][1])) for t, n in Counter(tokens).items()}


class _PointCache:
    """Fetched passage points (payload and vectors) by row, least recently used dropped first."""

    def __init__(self, client, collection: str, capacity: int) -> None:
        self._client = client
        self._collection = collection
        self._capacity = max(1, capacity)
        self._points: OrderedDict[int, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, rows: Sequence[int]) -> list[Any]:
        rows = [int(r) for r in rows]
        with self._lock:
            have = {r: self._points[r] for r in rows if r in self._points}
        missing = sorted(set(rows) - have.keys())
        if missing:
            for point in self._client.retrieve(self._collection, missing, with_payload=True, with_vectors=True):
                have[int(point.id)] = point
            with self._lock:
                self._points.update((r, have[r]) for r in missing if r in have)
                while len(self._points) > self._capacity:
                    self._points.popitem(last=False)
        try:
            return [have[r] for r in rows]
        except KeyError as exc:
            raise QdrantUnavailableError(f"passage {exc} is not in Qdrant collection {self._collection}: "
                                         "the collection changed under this process; restart it") from None


class QdrantStore:
    """A built collection served from Qdrant (qa.backend.PassageStore); rows are point ids,
    stable across incremental updates (a deleted document leaves a gap)."""

    def __init__(self, client, names: CollectionNames, settings: Settings) -> None:
        meta = read_meta(client, names) if client.collection_exists(names.documents) else {}
        if not meta:
            raise QdrantUnavailableError(f"no Seed QA index in Qdrant collection {names.passages}: build it with "
                                         "`python -m qa build --store qdrant` and the same --qdrant or --qdrant-path")
        self._client = client
        self.names = names
        self.manifest: dict[str, Any] = dict(meta["manifest"])
        stored = sorted(stored_documents(client, names).values(), key=lambda d: min(d["rows"], default=0))
        full = [Document.from_dict(d["document"]) for d in stored]
        self._lengths = np.array([len(d.text) for d in full], dtype=np.int64)
        self.documents: tuple[Document, ...] = tuple(replace(d, text="") for d in full)  # texts on demand
        self._uids = [d["uid"] for d in stored]
        self._document_row = {d["uid"]: row for row, d in enumerate(stored)}
        self._counts = np.array([len(d["rows"]) for d in stored], dtype=np.int64)
        self._passages = int(client.count(names.passages, exact=True).count)
        self._stats = QdrantLexicalStats(client, names, self._passages)
        self._cache = _PointCache(client, names.passages, settings.qdrant_cached_points)

    def close(self) -> None:
        """Release the client (an embedded local Qdrant holds a lock on its folder)."""
        self._client.close()

    @property
    def passages(self) -> int:
        return self._passages

    @property
    def lexical_stats(self) -> QdrantLexicalStats:
        return self._stats

    def chunks_at(self, rows: Sequence[int]) -> list[Chunk]:
        return [Chunk.from_dict({k: p.payload[k] for k in _CHUNK_FIELDS}) for p in self._cache.get(rows)]

    def document_rows(self, rows: np.ndarray) -> np.ndarray:
        return np.array([self._document_row[p.payload["document"]] for p in self._cache.get(rows)], dtype=np.int64)

    def passage_counts(self) -> np.ndarray:
        return self._counts

    def document_text(self, doc_row: int) -> str:
        found = self._client.retrieve(self.names.documents, [point_uuid(self._uids[doc_row])], with_payload=True)
        if not found:
            raise QdrantUnavailableError(f"document {self.documents[doc_row].source} is not in Qdrant collection "
                                         f"{self.names.documents}: the collection changed under this process")
        return found[0].payload["document"]["text"]

    def document_lengths(self) -> np.ndarray:
        return self._lengths

    def dense_candidates(self, query_vector: np.ndarray, depth: int) -> np.ndarray:
        if depth <= 0 or not self._passages:
            return np.zeros(0, dtype=np.int64)
        found = self._client.query_points(self.names.passages, query=np.asarray(query_vector).tolist(), using=DENSE,
                                          limit=depth, with_payload=False)
        return np.array([int(p.id) for p in found.points], dtype=np.int64)

    def dense_scores(self, query_vector: np.ndarray, rows: np.ndarray,
                     sentence_factors: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        qv = np.asarray(query_vector, dtype=np.float32).astype(np.float64)
        points = self._cache.get(rows)
        passage = np.array([np.asarray(p.vector[DENSE], dtype=np.float32).astype(np.float64) @ qv for p in points])
        sims = [np.asarray(p.vector[SENTENCES], dtype=np.float32).astype(np.float64) @ qv for p in points]
        if sentence_factors is not None:
            ends = np.cumsum([len(s) for s in sims])
            sims = [s * f for s, f in zip(sims, np.split(np.asarray(sentence_factors, dtype=np.float64), ends[:-1]))]
        best = np.array([float(s.max()) for s in sims])
        return passage.reshape(-1), best.reshape(-1)

    def sentence_vectors_of(self, row: int) -> np.ndarray:
        return np.asarray(self._cache.get([row])[0].vector[SENTENCES], dtype=np.float32)

    def lexical_candidates(self, query: str, depth: int) -> tuple[np.ndarray, float]:
        from qdrant_client import models

        terms = self._stats.query_terms(query)
        if depth <= 0 or not terms:
            return np.zeros(0, dtype=np.int64), 0.0
        indices = sorted(terms)
        vector = models.SparseVector(indices=indices, values=[float(terms[i][0]) for i in indices])
        found = self._client.query_points(self.names.passages, query=vector, using=SPARSE, limit=depth,
                                          with_payload=False).points
        rows = np.array([int(p.id) for p in found], dtype=np.int64)
        return rows, float(self.lexical_scores(query, rows).max()) if len(rows) else 0.0

    def lexical_scores(self, query: str, rows: np.ndarray) -> np.ndarray:
        terms = self._stats.query_terms(query)
        out = np.zeros(len(rows), dtype=np.float64)
        if not terms:
            return out
        for i, point in enumerate(self._cache.get(rows)):
            sparse = point.vector.get(SPARSE)
            for index, weight in zip(sparse.indices, sparse.values) if sparse is not None else ():
                if index in terms:
                    count, idf = terms[index]
                    out[i] += count * idf * np.float32(weight)
        return out

    def undamped(self, rows: np.ndarray) -> np.ndarray:
        return np.array([bool(p.payload["undamped"]) for p in self._cache.get(rows)], dtype=bool)

    def holds(self, kind: AnswerType, rows: np.ndarray) -> np.ndarray:
        return np.array([kind.value in p.payload["holds"] for p in self._cache.get(rows)], dtype=bool)
