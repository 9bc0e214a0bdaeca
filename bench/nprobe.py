"""Recall@10 against exact search and search time per IVF list count and nprobe, on a
bench/scale.py index's passage vectors.

    python bench/nprobe.py --work .cache/scale-100000 [--lists-per-sqrt 1 4] [--nprobe 8 16 32 64 128]

For each list count the IVF index is trained and filled by the real code (`build_dense`,
StoreParams), then per nprobe: recall@10 of the candidates re-scored exactly (as the retriever
does) for the eval questions (embedded like bench/scale.py's passages, by its hashing
embedder) and for 200 passage vectors used as questions (what a build records), and the
milliseconds of one question's FAISS search (one thread, as a served store searches).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from qa.config import Settings  # noqa: E402
from qa.params import StoreParams  # noqa: E402


def search_ms(search, queries: np.ndarray, depth: int) -> float:
    """Median milliseconds of one question's search, asked one at a time."""
    times = []
    for query in queries:
        started = time.perf_counter()
        search.search(query[None, :], depth)
        times.append((time.perf_counter() - started) * 1000)
    return float(np.median(times))


def main() -> None:
    import faiss

    from scale import HashingEmbedder, questions

    from qa.store import load_index
    from qa.store.dense import build_dense, recall_at_10

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--lists-per-sqrt", type=float, nargs="+", default=[1.0, 4.0])
    parser.add_argument("--nprobe", type=int, nargs="+", default=[8, 16, 32, 64, 128])
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)
    index = load_index(args.work / "index")
    vectors = np.asarray(index.passage_vectors)
    depth = max(Settings().rank.candidates, 10)
    asked = HashingEmbedder().encode_documents(questions(args.queries))
    rng = np.random.default_rng(1)
    sample = vectors[np.sort(rng.choice(len(vectors), size=min(len(vectors), 200), replace=False))]
    for per_sqrt in args.lists_per_sqrt:
        started = time.perf_counter()
        search, record = build_dense(vectors, replace(StoreParams(), lists_per_sqrt=per_sqrt, approximate_from=1), depth)
        build_s = time.perf_counter() - started
        for nprobe in args.nprobe:
            probe = replace(search, nprobe=nprobe)
            print(json.dumps({"passages": len(vectors), "lists": record["lists"], "build_s": round(build_s, 1),
                              "nprobe": nprobe, "recall_questions": round(recall_at_10(probe, asked, depth), 4),
                              "recall_passages": round(recall_at_10(probe, sample, depth), 4),
                              "search_ms": round(search_ms(probe, asked, depth), 2),
                              "load_average": [round(x, 2) for x in os.getloadavg()]}), flush=True)


if __name__ == "__main__":
    main()
