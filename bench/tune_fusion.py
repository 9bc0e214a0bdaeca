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
from qa.lexical import LexicalIndex, passage_text  # noqa: E402
from qa.retrieval import SHORT_LINES_PENALTY, fuse, undamped_passages  # noqa: E402
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
             dense_weight, mode="hybrid", depth=100, rrf_k=60, doc_lexical=None, doc_mix=0.0, prf=None,
             damp_short=True, index=None, qvecs=None, per_query=False, doc_context=0.0, lexical_full_share=0.0,
             ideal=None):
    """Replay Retriever._rank + beir.document_ranking for every query; return mean metrics.

    prf: (m, beta) for dense pseudo-relevance feedback: the query vector moves towards the
        mean of the m best fused candidates, and the dense side is scored again.
    lexical_full_share, ideal: scale BM25 in score fusion by min(1, best / (share * ideal[query]))
        as Retriever._lexical_strength does (0 turns it off).
    """
    damp = np.where(prose | (not damp_short), 1.0, SHORT_LINES_PENALTY).astype(np.float32)
    ndcg, rec, mrr = [], [], []
    starts = index.sentence_start if index is not None else None
    for qi, qid in enumerate(qids):
        pv, bv, lv = passage[qi], best[qi], lexical[qi]
        parts = []
        if mode != "bm25":
            parts.append(np.argpartition(-pv, depth - 1)[:depth])
        if mode != "dense":
            parts.append(np.argpartition(-lv, depth - 1)[:depth])
        rows = np.unique(np.concatenate(parts))
        dense = ((1 - sentence_weight) * pv[rows] + sentence_weight * bv[rows]) * damp[rows]
        lex = lv[rows] * damp[rows]
        if doc_lexical is not None and doc_mix:
            lex = (1 - doc_mix) * lex + doc_mix * doc_lexical[qi][chunk_doc[rows]]

        def score_of(dense, lex):
            if mode == "dense":
                return dense.astype(np.float64)
            if mode == "bm25":
                return lex.astype(np.float64)
            strength = 1.0
            if lexical_full_share and ideal is not None and ideal[qi] > 0:
                strength = min(1.0, float(lv.max()) / (lexical_full_share * ideal[qi]))
            return fuse(dense, lex, fusion, dense_weight, rrf_k=rrf_k, lexical_strength=strength)

        score = score_of(dense, lex)
        if prf is not None and mode != "bm25":
            m, beta = prf
            top = rows[np.argsort(-score, kind="stable")[:m]]
            q2 = qvecs[qi] + beta * index.passage_vectors[top].mean(axis=0)
            q2 /= np.linalg.norm(q2)
            p2 = index.passage_vectors[rows] @ q2
            b2 = np.array([(index.sentence_vectors[starts[r]:starts[r + 1]] @ q2).max() for r in rows])
            dense = ((1 - sentence_weight) * p2 + sentence_weight * b2) * damp[rows]
            score = score_of(dense, lex)
        if doc_context:
            score = score + doc_context * _runner_up_in_document(score, chunk_doc[rows])
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
    if per_query:
        return ndcg
    return mean(ndcg), mean(rec), mean(mrr)


def _runner_up_in_document(score, docs):
    """Per candidate: the best score among the other candidates of its document (0 if none)."""
    out = np.zeros_like(score)
    order = np.lexsort((-score, docs))
    d, sc = docs[order], score[order]
    first = np.r_[True, d[1:] != d[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(d)), 0))
    best = sc[start]
    second_idx = start + 1
    has_second = (second_idx < len(d)) & (d[np.minimum(second_idx, len(d) - 1)] == d)
    second = np.where(has_second, sc[np.minimum(second_idx, len(d) - 1)], 0.0)
    # the best passage gets the runner-up; every other passage gets the best
    val = np.where(first, second, best)
    out[order] = val
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--beir", default="/work/shared/bench/scifact")
    parser.add_argument("--cache", default=".cache/beir")
    parser.add_argument("--stage", default="all", help="comma-separated: base,bm25,dense,fusion,prf,doc,strength")
    args = parser.parse_args()
    stages = set(args.stage.split(","))

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
    prose = undamped_passages(index)
    titles = [index.documents[d].title for d in chunk_doc]
    plain = [c.text for c in index.chunks]
    titled = [passage_text(t, c.text, "title+passage") for c, t in zip(index.chunks, titles)]

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
        nd, rc, mr = evaluate(*common, lex, index=index, qvecs=qvecs, **cfg)
        print(f"{label:60s} nDCG@10 {nd:.4f}  R@100 {rc:.4f}  MRR@10 {mr:.4f}  ({time.perf_counter() - t0:.1f}s)",
              flush=True)
        return nd

    lp = lexical("plain", 1.2, 0.75)
    if "base" in stages or "all" in stages:
        for mode in ("dense", "bm25", "hybrid"):
            report(f"baseline {mode}", lp, mode=mode)
        report("hybrid no short-line damping", lp, damp_short=False)
    if "bm25" in stages or "all" in stages:
        for variant, (k1, b) in itertools.product(("plain", "titled"), ((1.2, 0.75), (0.9, 0.4), (1.5, 0.75))):
            report(f"bm25 {variant} k1={k1} b={b}", lexical(variant, k1, b), mode="bm25")
        docs_text = [d.text for d in index.documents]
        doc_lex = _bm25_matrix(docs_text, queries, 0.9, 0.4)
        for mix in (0.3, 0.5, 1.0):
            report(f"bm25 titled .9/.4 + doc-level mix={mix}", lexical("titled", 0.9, 0.4), mode="bm25",
                   doc_lexical=doc_lex, doc_mix=mix)
    if "dense" in stages or "all" in stages:
        for sw in (0.0, 0.3, 0.5, 0.7, 1.0):
            report(f"dense sentence_weight={sw}", lp, mode="dense", sentence_weight=sw)
    lt = lexical("titled", 0.9, 0.4)
    if "fusion" in stages or "all" in stages:
        for fusion, dw in itertools.product(("minmax", "zscore"), (0.3, 0.4, 0.5, 0.6, 0.7)):
            report(f"hybrid titled {fusion} dw={dw}", lt, fusion=fusion, dense_weight=dw)
        for rk in (10, 30, 60, 100):
            report(f"hybrid titled rrf k={rk}", lt, fusion="rrf", rrf_k=rk)
    if "doc" in stages or "all" in stages:
        for fusion, dw in (("zscore", 0.5), ("minmax", 0.5)):
            for g in (0.1, 0.2, 0.3, 0.5):
                report(f"hybrid titled {fusion} dw={dw} doc_context={g}", lt, fusion=fusion, dense_weight=dw,
                       doc_context=g)
    if "strength" in stages or "all" in stages:
        engine_lex = np.stack([index.lexical.scores(q) for q in queries]).astype(np.float32)
        ideal = np.array([index.lexical.ideal_score(q) for q in queries])
        for dw in (0.5, 0.6):
            report(f"engine bm25, minmax dw={dw}", engine_lex, dense_weight=dw)
            for share in (0.5, 0.7, 0.8, 1.0):
                report(f"engine bm25, minmax dw={dw} lexical_full_share={share}", engine_lex, dense_weight=dw,
                       lexical_full_share=share, ideal=ideal)
    if "prf" in stages or "all" in stages:
        for m, beta in ((3, 0.5), (5, 0.5), (5, 1.0), (10, 1.0)):
            report(f"hybrid titled zscore dw=0.5 prf m={m} beta={beta}", lt, fusion="zscore", dense_weight=0.5,
                   prf=(m, beta))


if __name__ == "__main__":
    main()
