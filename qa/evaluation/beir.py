"""Run the engine on a BEIR-format dataset and score it (nDCG@10, Recall@100, MRR@10).

A document's score is its best passage's. The corpus index is cached under
`.cache/beir/<name>-<key>/`, keyed by the corpus file's hash and the index settings.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

from qa.config import Settings
from qa.documents import Collection, Document, content_hash
from qa.embedding import load_embedder
from qa.opening import open_index
from qa.errors import CollectionError
from qa.evaluation.metrics import mean, mrr_at, ndcg_at, percentile, recall_at
from qa.retrieval import Retriever
from qa.store import StoredIndex

RUN_DEPTH = 100
PASSAGE_DEPTH = 1000


@dataclass(frozen=True)
class BeirDataset:
    name: str
    corpus_file: Path
    documents: tuple[Document, ...]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


@dataclass(frozen=True)
class BeirReport:
    dataset: str
    mode: str
    queries: int
    ndcg_at_10: float
    recall_at_100: float
    mrr_at_10: float
    latency_p50_ms: float
    latency_p95_ms: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _open_text(path: Path):
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with _open_text(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """`query-id corpus-id score` lines, tab-separated, with or without a header."""
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or not parts[2].strip().lstrip("-").isdigit():
                continue  # header or blank
            qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    return qrels


def load_beir(folder: Path | str, qrels_file: Path | str | None = None) -> BeirDataset:
    """Load corpus.jsonl(.gz), queries.jsonl and a qrels file (default: the only or the
    test file in qrels/), keeping only queries that have judgements.

    The documents' collection is the dataset's name, not the folder as spelled, so the
    cached index serves `../shared/bench/scifact` and `/work/shared/bench/scifact` alike."""
    folder = Path(folder)
    corpus_file = next((folder / n for n in ("corpus.jsonl", "corpus.jsonl.gz") if (folder / n).is_file()), None)
    if corpus_file is None:
        raise CollectionError(f"{folder} has no corpus.jsonl or corpus.jsonl.gz: is it a BEIR dataset folder?")
    if qrels_file is None:
        candidates = sorted((folder / "qrels").glob("*.tsv"))
        if not candidates:
            raise CollectionError(f"{folder}/qrels has no .tsv file: pass --qrels FILE")
        by_name = {p.stem: p for p in candidates}
        qrels_file = by_name.get("test") or (candidates[0] if len(candidates) == 1 else by_name.get("train", candidates[0]))
    qrels = read_qrels(Path(qrels_file))
    queries = {str(q["_id"]): q["text"] for q in _read_jsonl(folder / "queries.jsonl")}
    queries = {qid: text for qid, text in queries.items() if qid in qrels}
    documents = []
    for row in _read_jsonl(corpus_file):
        title, body = (row.get("title") or "").strip(), (row.get("text") or "").strip()
        text = f"{title}\n\n{body}" if title else body
        documents.append(Document(str(row["_id"]), folder.name, title or str(row["_id"]), text,
                                  content_hash(text.encode("utf-8"))))
    return BeirDataset(folder.name, corpus_file, tuple(documents), queries, qrels)


def cache_dir_for(dataset: BeirDataset, settings: Settings, root: Path) -> Path:
    key = hashlib.sha256()
    key.update(Path(dataset.corpus_file).read_bytes())
    key.update(json.dumps(settings.index_settings(), sort_keys=True).encode())
    return root / f"{dataset.name}-{key.hexdigest()[:12]}"


def document_ranking(retriever: Retriever, queries: Sequence[str], mode: str) -> list[tuple[list[tuple[str, float]], float]]:
    """Per query: the top documents (best passage's score) and the query's latency."""
    out = []
    index = retriever.index
    for query in queries:
        started = time.perf_counter()
        ranking = retriever.search(query, PASSAGE_DEPTH, mode)
        docs: dict[str, float] = {}
        doc_rows = index.document_rows([hit.row for hit in ranking.hits])
        for hit, doc_row in zip(ranking.hits, doc_rows):
            source = index.documents[int(doc_row)].source
            if source not in docs:
                docs[source] = hit.score
            if len(docs) >= RUN_DEPTH:
                break
        out.append((list(docs.items()), (time.perf_counter() - started) * 1000))
    return out


def open_beir_index(dataset: BeirDataset, settings: Settings, cache_root: Path = Path(".cache/beir"),
                    progress: bool = True) -> tuple[StoredIndex, Any]:
    """The model and the corpus index: loaded from the cache, else built into it."""
    embedder = load_embedder(settings.model, settings.device)
    index_settings = settings.replace(index_dir=cache_dir_for(dataset, settings, cache_root))
    index, _ = open_index(index_settings, embedder, [Collection(dataset.documents)], progress=progress)
    return index, embedder


def score_beir(dataset: BeirDataset, retriever: Retriever, mode: str, run_out: Path | None = None,
               tag: str | None = None) -> BeirReport:
    """Rank every judged query in one mode and score the document rankings."""
    qids = list(dataset.queries)
    retriever.search("warm-up", 10, mode)
    ranked = document_ranking(retriever, [dataset.queries[q] for q in qids], mode)
    if run_out is not None:
        write_run(Path(run_out), qids, ranked, tag=tag or f"qa-{mode}")
    ndcg = [ndcg_at([d for d, _ in docs], dataset.qrels[q], 10) for q, (docs, _) in zip(qids, ranked)]
    recall = [recall_at([d for d, _ in docs], dataset.qrels[q], 100) for q, (docs, _) in zip(qids, ranked)]
    mrr = [mrr_at([d for d, _ in docs], dataset.qrels[q], 10) for q, (docs, _) in zip(qids, ranked)]
    latency = [ms for _, ms in ranked]
    return BeirReport(dataset.name, mode, len(qids), mean(ndcg), mean(recall), mean(mrr),
                      percentile(latency, 50), percentile(latency, 95))


def run_beir(
    dataset: BeirDataset,
    settings: Settings,
    modes: Sequence[str],
    cache_root: Path = Path(".cache/beir"),
    run_out: Path | None = None,
    progress: bool = True,
) -> list[BeirReport]:
    """Index the corpus (cached), rank every judged query in each mode, and score.

    Args:
        run_out: write a TREC run file (`qid Q0 docid rank score tag`) here; with several
            modes, the mode name is added before the suffix.
    """
    index, embedder = open_beir_index(dataset, settings, cache_root, progress)
    retriever = Retriever.from_settings(index, embedder, settings)
    reports = []
    for mode in modes:
        path = None
        if run_out is not None:
            path = Path(run_out) if len(modes) == 1 else Path(run_out).with_suffix(f".{mode}{Path(run_out).suffix}")
        reports.append(score_beir(dataset, retriever, mode, path))
    return reports


def write_run(path: Path, qids: Sequence[str], ranked, tag: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for qid, (docs, _) in zip(qids, ranked):
            for rank, (doc_id, score) in enumerate(docs, start=1):
                handle.write(f"{qid} Q0 {doc_id} {rank} {score:.6f} {tag}\n")


def format_beir_reports(reports: Sequence[BeirReport]) -> str:
    from qa.evaluation.harness import format_table

    rows = [["metric"] + [r.mode for r in reports]]
    rows.append(["queries"] + [str(r.queries) for r in reports])
    rows.append(["nDCG@10"] + [f"{r.ndcg_at_10:.4f}" for r in reports])
    rows.append(["Recall@100"] + [f"{r.recall_at_100:.4f}" for r in reports])
    rows.append(["MRR@10"] + [f"{r.mrr_at_10:.4f}" for r in reports])
    rows.append(["latency p50 (ms)"] + [f"{r.latency_p50_ms:.1f}" for r in reports])
    rows.append(["latency p95 (ms)"] + [f"{r.latency_p95_ms:.1f}" for r in reports])
    return f"{reports[0].dataset if reports else ''}\n" + format_table(rows)
