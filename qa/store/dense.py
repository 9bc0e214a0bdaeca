"""Dense candidates: every passage compared (exact) or, from `StoreParams.approximate_from`
passages on, a FAISS `IVF{lists},SQ8` index whose candidates the retriever re-scores exactly
from the float32 vectors (qa.store.index `dense_scores`).

The exact search reads the memory-mapped vectors in place (`faiss.knn`, the kernel of
IndexFlatIP, so rankings are those of IndexFlatIP), with no second copy in memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.params import StoreParams

APPROXIMATE_FILE = "passages.ivf.faiss"
RECALL_DEPTH = 10


@dataclass(frozen=True)
class DenseSearch:
    """Nearest passages to a question vector; `index` is None for the exact search."""

    vectors: np.ndarray
    index: Any = None
    nprobe: int = 16

    @property
    def approximate(self) -> bool:
        return self.index is not None

    def search(self, query_vectors: np.ndarray, depth: int) -> np.ndarray:
        """Rows of the `depth` nearest passages per question (-1 where there are fewer)."""
        import faiss

        queries = np.ascontiguousarray(np.atleast_2d(query_vectors), dtype=np.float32)
        depth = min(depth, len(self.vectors))
        if depth <= 0:
            return np.zeros((len(queries), 0), dtype=np.int64)
        if self.index is None:
            _, ids = faiss.knn(queries, self.vectors, depth, metric=faiss.METRIC_INNER_PRODUCT)
            return ids
        params = faiss.SearchParametersIVF(nprobe=self.nprobe)
        _, ids = self.index.search(queries, depth, params=params)
        return ids

    def save(self, folder: Path) -> None:
        if self.index is not None:
            import faiss

            faiss.write_index(self.index, str(folder / APPROXIMATE_FILE))

    @classmethod
    def load(cls, folder: Path, vectors: np.ndarray, record: dict[str, Any], params: StoreParams) -> "DenseSearch":
        import faiss

        faiss.omp_set_num_threads(max(1, params.search_threads))
        if record.get("kind") != "ivf":
            return cls(vectors)

        # Memory-mapped, as the vectors are: the lists (1M passages: 394 MB of SQ8 codes) are not
        # read whole into memory at load, only the pages a question's nprobe lists touch. The
        # mapped lists' prefetch (32 threads started per search) is off: at 1M it made a
        # search 2.5 ms slower than lists read whole (6.9 vs 4.3 ms), and without it 3.9 vs 3.8.
        index = faiss.read_index(str(folder / APPROXIMATE_FILE), faiss.IO_FLAG_MMAP)
        lists = faiss.downcast_InvertedLists(index.invlists)
        if isinstance(lists, faiss.OnDiskInvertedLists):
            lists.prefetch_nthread = 0
        return cls(vectors, index, params.nprobe)


def build_dense(vectors: np.ndarray, params: StoreParams, depth: int, seed: int = 0) -> tuple[DenseSearch, dict]:
    """The dense search for `vectors`, and what the manifest records of it: the kind, and
    for an approximate index its lists, nprobe and recall@10 against exact search (passage
    vectors as questions, candidates re-scored exactly, as the retriever does)."""
    rows = len(vectors)
    if rows < max(params.approximate_from, 1):
        return DenseSearch(vectors), {"kind": "exact"}
    import faiss

    lists = max(1, int(round(params.lists_per_sqrt * math.sqrt(rows))))
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(rows, size=min(rows, lists * params.train_per_list), replace=False))
    index = faiss.index_factory(vectors.shape[1], f"IVF{lists},SQ8", faiss.METRIC_INNER_PRODUCT)
    index.train(np.ascontiguousarray(vectors[sample], dtype=np.float32))
    for start in range(0, rows, 65_536):  # bounded memory: one block of vectors at a time
        index.add(np.ascontiguousarray(vectors[start : start + 65_536], dtype=np.float32))
    search = DenseSearch(vectors, index, params.nprobe)
    queries = vectors[np.sort(rng.choice(rows, size=min(rows, params.recall_sample), replace=False))]
    record = {"kind": "ivf", "factory": f"IVF{lists},SQ8", "lists": lists, "nprobe": params.nprobe,
              "trained_on": int(len(sample)), "recall_depth": depth,
              "recall_at_10": round(recall_at_10(search, queries, depth), 4), "recall_queries": int(len(queries))}
    return search, record


def rescored_top(search: DenseSearch, queries: np.ndarray, depth: int, k: int = RECALL_DEPTH) -> np.ndarray:
    """Per question, the `k` best of `depth` candidates re-scored exactly (as the retriever does)."""
    ids = search.search(queries, depth)
    out = np.full((len(queries), k), -1, dtype=np.int64)
    for i, (query, rows) in enumerate(zip(np.asarray(queries, dtype=np.float32), ids)):
        rows = rows[rows >= 0]
        exact = np.asarray(search.vectors[np.sort(rows)], dtype=np.float32) @ query
        top = np.sort(rows)[np.lexsort((np.sort(rows), -exact))][:k]
        out[i, : len(top)] = top
    return out


def recall_at_10(search: DenseSearch, queries: np.ndarray, depth: int) -> float:
    """Share of the exact top 10 that the approximate search, re-scored, also returns; a
    passage scoring the same as the exact 10th counts as found (ties are equally right)."""
    if not len(queries):
        return 1.0
    queries = np.asarray(queries, dtype=np.float32)
    exact = DenseSearch(search.vectors).search(queries, RECALL_DEPTH)
    found = rescored_top(search, queries, depth)
    hits = total = 0
    for query, want, got in zip(queries, exact, found):
        want, got = want[want >= 0], got[got >= 0]
        if not len(want):
            continue
        tenth = float(np.asarray(search.vectors[want[-1]], dtype=np.float32) @ query)
        scores = np.asarray(search.vectors[np.sort(got)], dtype=np.float32) @ query if len(got) else np.zeros(0)
        hits += min(len(want), int((scores >= tenth - 1e-6).sum()))
        total += len(want)
    return hits / max(1, total)
