"""How the FAISS folder store scales: build, disk, memory, load time and query latency at N passages.

    python bench/scale.py --passages N [--json] [--work DIR] [--model hashing|real] [--queries 100]

Writes a generated collection of about N passages (template sentences mixed with real
sentences from seeds/ and data/eval) into DIR/docs, builds it through the real store code
(qa.store.build_index + save_index: chunking, embedding, BM25, flags, SQLite, the IVF index
above StoreParams.approximate_from), then measures in a fresh process: RSS after loading
(the whole process, Python and libraries included; the increase over the process before
loading is printed too), load time (of the index, the libraries - faiss, bm25s with scipy,
sqlite3 - imported before and timed apart, `import_s`), and per mode the p50 / p95 of `Engine.ask` (a full
answer: encoding, candidates, ranking, highlights) over the eval questions, and recall@10 of
the dense candidates (re-scored exactly) against exact search over every passage, for the
questions and for 200 passage vectors used as questions (as a build measures it).

`--model hashing` (default) embeds with a cheap deterministic embedder (word hashes into 384
dimensions) so a million passages build in minutes; questions are then encoded by the real
model too (its ONNX export, the time counted, the vector discarded), so latencies include a
real question encoding. `--model real` embeds everything with all-MiniLM-L6-v2 (use at ~10k).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from qa.config import Settings  # noqa: E402
from qa.params import StoreParams, with_values  # noqa: E402

EVAL = ROOT / "data" / "eval"
QUESTION_FILES = [EVAL / "seed_questions.jsonl", EVAL / "mixed" / "questions.jsonl", EVAL / "squad2" / "questions.jsonl"]
PASSAGES_PER_DOCUMENT = 20
DOCUMENTS_PER_FOLDER = 1000
MODES = ("dense", "bm25", "hybrid")


class HashingEmbedder:
    """Words hashed (scikit-learn's HashingVectorizer, murmurhash) into 384 signed buckets,
    L2-normalised: deterministic, no model, and texts sharing words get close vectors, so
    candidates and recall behave like real ones."""

    name = "hashing-384 (bench/scale.py)"
    dimension = 384
    max_tokens = 256
    _word = re.compile(r"\w+")  # for count_tokens

    def __init__(self, query_model=None) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer

        self.query_model = query_model  # encodes each question too, so its time is counted
        self._analyzer = None
        self._hashing = HashingVectorizer(n_features=self.dimension, alternate_sign=True, norm="l2",
                                          token_pattern=r"(?u)\b\w+\b", dtype=np.float32)

    def encode_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._hashing.transform(list(texts)).toarray().astype(np.float32)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if self.query_model is not None:
            self.query_model.encode_queries(list(texts))
        return np.concatenate([self._hashed(text) for text in texts]) if texts else self.encode_documents(texts)

    def _hashed(self, text: str) -> np.ndarray:
        """`encode_documents([text])` without scikit-learn's per-call checks (0.46 -> 0.02 ms a
        question; the same bits): this stand-in's own cost is not a real question's."""
        from sklearn.utils import murmurhash3_32

        if self._analyzer is None:
            self._analyzer = self._hashing.build_analyzer()
        vector = np.zeros(self.dimension, dtype=np.float64)
        for token in self._analyzer(text):
            h = murmurhash3_32(token, seed=0)  # as sklearn's FeatureHasher, with alternate_sign
            vector[(2**31 - 1 - (self.dimension - 1)) % self.dimension if h == -2**31 else abs(h) % self.dimension] += (
                1.0 if h >= 0 else -1.0)
        norm = np.sqrt((vector * vector).sum())
        return (vector / norm if norm else vector).astype(np.float32)[None]

    def count_tokens(self, text: str) -> int:
        return len(self._word.findall(text)) * 4 // 3 + 2


# --- the collection ------------------------------------------------------------------------


def real_sentences() -> list[str]:
    """Sentences of 6 to 40 words from the seeds and the eval collections."""
    folders = [ROOT / "seeds", EVAL / "mixed" / "docs", EVAL / "squad2" / "docs"]
    out = []
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".txt", ".md") and path.is_file():
                text = path.read_text(encoding="utf-8", errors="replace")
                out.extend(s.strip() for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
                           if 6 <= len(s.split()) <= 40)
    return sorted(set(out))


WORDS = dict(
    subject="engineer farmer river committee train bird council harbour library orchestra factory school".split(),
    verb="inspected painted measured described repaired counted moved opened closed sold".split(),
    thing="bridge barrels roof lanterns fence turbines ledgers carriages pumps bells".split(),
    place="Arden Belmar Corvel Dunmoor Elsby Farrow Glenholt Harwick Istow Jarlen".split(),
)


def template_sentence(rng: np.random.Generator) -> str:
    w = {k: v[int(rng.integers(len(v)))] for k, v in WORDS.items()}
    return (f"The {w['subject']} of {w['place']} {w['verb']} {int(rng.integers(2, 999))} {w['thing']} "
            f"in {int(rng.integers(1800, 2030))} for {int(rng.integers(1, 9999))} crowns.")


def write_collection(folder: Path, passages: int, seed: int = 0) -> int:
    """Documents of PASSAGES_PER_DOCUMENT paragraphs (two template sentences around a real
    one), in folders of DOCUMENTS_PER_FOLDER files; returns the number of paragraphs."""
    rng = np.random.default_rng(seed)
    sentences = real_sentences()
    documents = -(-passages // PASSAGES_PER_DOCUMENT)
    for d in range(documents):
        part = folder / f"part{d // DOCUMENTS_PER_FOLDER:04d}"
        part.mkdir(parents=True, exist_ok=True)
        count = min(PASSAGES_PER_DOCUMENT, passages - d * PASSAGES_PER_DOCUMENT)
        paragraphs = [f"{template_sentence(rng)} {sentences[int(rng.integers(len(sentences)))]} "
                      f"{template_sentence(rng)}" for _ in range(count)]
        (part / f"doc{d:07d}.txt").write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return passages


def questions(limit: int) -> list[str]:
    out = []
    for path in QUESTION_FILES:
        with open(path, encoding="utf-8") as handle:
            out.extend(json.loads(line)["question"] for line in handle if line.strip())
    return out[:limit]


# --- build (this process) and measure (a fresh one) ----------------------------------------


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def build(work: Path, passages: int, model: str, store: StoreParams, copies: int = 1) -> dict:
    """Write the collection and build its index through the real store code; with `copies`
    > 1, build passages / copies and repeat that index (bench/scale_tile.py)."""
    from dataclasses import replace

    from qa.documents import load_collection
    from qa.embedding import load_embedder
    from qa.store import build_index, current_build, save_index

    docs, index_dir = work / "docs", work / "index"
    shutil.rmtree(work, ignore_errors=True)
    write_collection(docs, passages // copies)
    base_store = store if copies == 1 else replace(store, approximate_from=passages * copies + 1)
    settings = Settings(docs=(docs,), index_dir=index_dir, store=base_store)
    embedder = HashingEmbedder() if model == "hashing" else load_embedder("", "cpu")
    started = time.perf_counter()
    index, _ = build_index([load_collection(docs)], embedder, settings)
    base_s = time.perf_counter() - started
    if copies > 1:
        from scale_tile import tile

        index = tile(index, copies, store, max(settings.rank.candidates, 10))
    save_index(index, index_dir)
    seconds = time.perf_counter() - started
    live = current_build(index_dir)
    return {"passages": index.passages, "build_s": round(seconds, 1),
            "disk_bytes_per_passage": round(folder_bytes(live) / max(1, index.passages)),
            "dense_index": index.manifest["store"]["dense"],
            **({"built": f"{passages // copies} passages built in {base_s:.0f} s, tiled {copies} times"}
               if copies > 1 else {})}


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def query_model(settings: Settings = Settings()):
    """The real model's ONNX export (exported into the bench folder once), for question
    encoding, with the threads and padding a served index encodes questions with (Settings)."""
    from qa.embedding import model_name
    from qa.onnx_encoder import export_folder, export_model, load_onnx_encoder

    folder = ROOT / ".cache" / "scale-onnx"
    load = lambda: load_onnx_encoder(folder, model_name(""), settings.query_threads,  # noqa: E731
                                     settings.query_token_bucket)
    encoder = load()
    if encoder is None:
        from qa.embedding import resolve_model_path

        export_model(resolve_model_path(""), model_name(""), export_folder(folder))
        encoder = load()
    return encoder


def time_modes(engine, asked: list[str]) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Milliseconds of each `Engine.ask` per mode, wall clock and this process's CPU time (on a
    shared machine the wall clock also counts the waits for a core), after a few questions to
    warm the files."""
    for question in asked[:5]:
        engine.ask(question, mode="hybrid")
    wall: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    for mode in MODES:
        wall[mode], cpu[mode] = [], []
        for question in asked:
            started, started_cpu = time.perf_counter(), time.process_time()
            engine.ask(question, mode=mode)
            wall[mode].append((time.perf_counter() - started) * 1000)
            cpu[mode].append((time.process_time() - started_cpu) * 1000)
    return wall, cpu


def measure(work: Path, model: str, count: int, store: StoreParams) -> dict:
    """In a fresh process: load, then time `Engine.ask` per mode and measure dense recall@10."""
    import importlib

    started = time.perf_counter()
    for library in ("faiss", "bm25s", "sqlite3"):  # what any process serving an index imports
        importlib.import_module(library)
    import_s = time.perf_counter() - started

    from qa.engine import Engine
    from qa.store import load_index
    from qa.store.dense import recall_at_10

    settings = Settings(docs=(work / "docs",), index_dir=work / "index", onnx_queries=False, store=store)
    before = rss_mb()
    started = time.perf_counter()
    index = load_index(settings.index_dir, params=settings.store)
    load_s = time.perf_counter() - started
    after = rss_mb()
    embedder = HashingEmbedder(query_model()) if model == "hashing" else query_model()
    engine = Engine(settings, index, embedder)
    asked = questions(count)
    timings, cpu = time_modes(engine, asked)
    vectors = np.asarray(embedder.encode_documents(asked) if model == "hashing" else embedder.encode_queries(asked))
    recall = recall_at_10(index.dense, vectors, max(settings.rank.candidates, 10))
    sample = np.random.default_rng(1).choice(index.passages, size=min(index.passages, 200), replace=False)
    sample_recall = recall_at_10(index.dense, np.asarray(index.passage_vectors[np.sort(sample)]),
                                 max(settings.rank.candidates, 10))
    return {"rss_mb": round(after), "rss_increase_mb": round(after - before), "rss_after_queries_mb": round(rss_mb()),
            "load_s": round(load_s, 2), "import_s": round(import_s, 2),
            "p50_ms": {m: round(float(np.percentile(t, 50)), 1) for m, t in timings.items()},
            "p95_ms": {m: round(float(np.percentile(t, 95)), 1) for m, t in timings.items()},
            "cpu_p50_ms": {m: round(float(np.percentile(t, 50)), 1) for m, t in cpu.items()},
            "recall_at_10": round(recall, 4), "recall_at_10_passages": round(sample_recall, 4),
            "nprobe": index.dense.nprobe if index.dense.approximate else None, "questions": len(asked)}


def table(result: dict) -> str:
    rows = [("passages", f"{result['passages']:,}"), ("build", f"{result['build_s']} s"),
            ("disk per passage", f"{result['disk_bytes_per_passage']:,} B"),
            ("dense index", result["dense_index"].get("factory", "exact (flat)")),
            ("RSS after load", f"{result['rss_mb']} MB (+{result['rss_increase_mb']} MB by loading)"),
            ("load", f"{result['load_s']} s (after importing the libraries: {result['import_s']} s)")]
    rows += [(f"{m} p50 / p95", f"{result['p50_ms'][m]} / {result['p95_ms'][m]} ms "
                                f"(CPU p50 {result['cpu_p50_ms'][m]} ms)") for m in MODES]
    rows += [("recall@10 vs exact", f"{result['recall_at_10']} on the questions, {result['recall_at_10_passages']} "
                                    f"on 200 passage vectors (nprobe {result['nprobe']})"),
             ("load average", " ".join(f"{x:.2f}" for x in result["load_average"]))]
    if "built" in result:
        rows.insert(2, ("made as", result["built"]))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, required=True)
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    parser.add_argument("--work", type=Path, default=None, help="folder for the collection and index "
                        "(default .cache/scale-N; replaced)")
    parser.add_argument("--model", choices=("hashing", "real"), default="hashing")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--tile", type=int, default=1, metavar="T",
                        help="build passages / T and repeat that index T times (bench/scale_tile.py)")
    parser.add_argument("--store", action="append", default=[], metavar="NAME=VALUE",
                        help="a StoreParams value, e.g. approximate_from=50000 or nprobe=32 (repeatable)")
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)  # the fresh process
    args = parser.parse_args()
    work = args.work or ROOT / ".cache" / f"scale-{args.passages}"
    store = with_values(StoreParams(), dict(item.split("=", 1) for item in args.store))
    if args.measure_only:
        print(json.dumps(measure(work, args.model, args.queries, store)))
        return
    result = build(work, args.passages, args.model, store, args.tile)
    fresh = subprocess.run([sys.executable, __file__, "--passages", str(args.passages), "--work", str(work),
                            "--model", args.model, "--queries", str(args.queries), "--measure-only",
                            *(f"--store={item}" for item in args.store)],
                           capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    result.update(json.loads(fresh.stdout.strip().splitlines()[-1]))
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result) if args.json else table(result))


if __name__ == "__main__":
    main()
