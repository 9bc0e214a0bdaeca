"""Sweep query-time retrieval parameters on a BEIR dataset without re-embedding anything.

Loads the index that `python -m qa eval --beir DIR` cached under .cache/beir/, encodes every
query once, precomputes the per-passage signals (passage cosine, best-sentence cosine, BM25
for several k1/b and text variants) and then replays the engine's ranking rule for each
configuration in numpy. Prints one line per configuration (nDCG@10, Recall@100, MRR@10).

    python bench/tune_fusion.py --beir /work/shared/bench/scifact [--quick]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.config import Settings  # noqa: E402
from qa.embedding import load_embedder  # noqa: E402
from qa.evaluation.beir import cache_dir_for, load_beir  # noqa: E402
from qa.evaluation.metrics import mean, mrr_at, ndcg_at, recall_at  # noqa: E402
from qa.lexical import LexicalIndex, tokenize  # noqa: E402
from qa.retrieval import SHORT_LINES_PENALTY, fuse  # noqa: E402
from qa.store import load_index  # noqa: E402


def _signals(index, qvecs):
    """Passage cosines and best-sentence cosines, (queries, passages) each."""
    passage = qvecs @ index.passage_vectors.T
    starts = index.sentence_start
    best = np.empty_like(passage)
    step = 64
    for i in range(0, len(qvecs), step):
        sims = qvecs[i:i + step] @ index.sentence_vectors.T
        best[i:i + step] = np.maximum.reduceat(sims, starts[:-1], axis=1)
    return passage.astype(np.float32), best.astype(np.float32)


def _bm25_matrix(texts, queries, k1, b):
    lex = LexicalIndex.build(texts, k1=k1, b=b)
    return np.stack([lex.scores(q) for q in queries]).astype(np.float32)


def evaluate(ds, qids, doc_ids, chunk_doc, prose, passage, best, lexical, *, sentence_weight, fusion,
             dense_weight, mode="hybrid", depth=100, rrf_k=60, doc_lexical=None, doc_mix=0.0, prf=None):
    """Replay Retriever._rank + beir.document_ranking for every query; return mean metrics."""
    damp = np.where(prose, 1.0, SHORT_LINES_PENALTY).astype(np.float32)
    ndcg, rec, mrr = [], [], []
    n = passage.shape[1]
    for qi, qid in enumerate(qids):
        pv, bv, lv = passage[qi], best[qi], lexical[qi]
        dense_all = (1 - sentence_weight) * pv + sentence_weight * bv
        parts = []
        if mode != "bm25":
            parts.append(np.argpartition(-pv, depth - 1)[:depth])
        if mode != "dense":
            parts.append(np.argpartition(-lv, depth - 1)[:depth])
        rows = np.unique(np.concatenate(parts))
        dense = dense_all[rows] * damp[rows]
        lex = lv[rows] * damp[rows]
        if doc_lexical is not None and doc_mix:
            lex = (1 - doc_mix) * lex + doc_mix * doc_lexical[qi][chunk_doc[rows]]
        if mode == "dense":
            score = dense.astype(np.float64)
        elif mode == "bm25":
            score = lex.astype(np.float64)
        else:
            score = fuse(dense, lex, fusion, dense_weight, rrf_k=rrf_k)
        order = np.lexsort((rows, -score))
        docs, seen = [], set()
        for i in order:
            d = doc_ids[chunk_doc[rows[i]]]
            if d not in seen:
                seen.add(d)
                docs.append(d)
        rel = ds.qrels[qid]
        ndcg.append(ndcg_at(docs, rel, 10))
        rec.append(recall_at(docs, rel, 100))
        mrr.append(mrr_at(docs, rel, 10))
    return mean(ndcg), mean(rec), mean(mrr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--beir", default="/work/shared/bench/scifact")
    parser.add_argument("--cache", default=".cache/beir")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()

    ds = load_beir(args.beir)
    settings = Settings()
    folder = cache_dir_for(ds, settings, Path(args.cache))
    index = load_index(folder, verify=False)
    if index is None:
        sys.exit(f"no cached index in {folder}: run `python -m qa eval --beir {args.beir}` first")
    embedder = load_embedder("")
    qids = list(ds.queries)
    queries = [ds.queries[q] for q in qids]
    t = time.perf_counter()
    qvecs = embedder.encode_queries(queries)
    passage, best = _signals(index, qvecs)
    print(f"signals in {time.perf_counter() - t:.1f}s; {passage.shape[1]} passages", flush=True)
    chunk_doc = index.chunk_doc
    doc_ids = [d.source for d in index.documents]
    prose = np.array([c.prose for c in index.chunks])
    titles = [index.documents[d].title for d in chunk_doc]
    plain = [c.text for c in index.chunks]
    titled = [c.text if c.paragraph == 1 else f"{t}\n{c.text}" for c, t in zip(index.chunks, titles)]

    base = dict(sentence_weight=0.5, fusion="minmax", dense_weight=0.6)
    common = (ds, qids, doc_ids, chunk_doc, prose, passage, best)
    lex_cache = {}

    def lexical(variant, k1, b):
        key = (variant, k1, b)
        if key not in lex_cache:
            texts = {"plain": plain, "titled": titled}[variant]
            lex_cache[key] = _bm25_matrix(texts, queries, k1, b)
        return lex_cache[key]

    def report(label, lex, **kw):
        cfg = {**base, **kw}
        t0 = time.perf_counter()
        nd, rc, mr = evaluate(*common, lex, **cfg)
        print(f"{label:60s} nDCG@10 {nd:.4f}  R@100 {rc:.4f}  MRR@10 {mr:.4f}  ({time.perf_counter() - t0:.1f}s)",
              flush=True)
        return nd

    lp = lexical("plain", 1.2, 0.75)
    for mode in ("dense", "bm25", "hybrid"):
        report(f"baseline {mode}", lp, mode=mode)
    for variant, (k1, b) in itertools.product(("plain", "titled"), ((1.2, 0.75), (0.9, 0.4), (1.5, 0.75))):
        report(f"bm25 {variant} k1={k1} b={b}", lexical(variant, k1, b), mode="bm25")
    for sw in (0.0, 0.3, 0.5, 0.7, 1.0):
        report(f"dense sentence_weight={sw}", lp, mode="dense", sentence_weight=sw)
    if args.quick:
        return
    lt = lexical("titled", 0.9, 0.4)
    for fusion, dw in itertools.product(("minmax", "zscore"), (0.3, 0.4, 0.5, 0.6, 0.7)):
        report(f"hybrid titled {fusion} dw={dw}", lt, fusion=fusion, dense_weight=dw)
    for rk in (10, 30, 60, 100):
        report(f"hybrid titled rrf k={rk}", lt, fusion="rrf", rrf_k=rk)


if __name__ == "__main__":
    main()
