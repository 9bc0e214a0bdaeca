"""The disk-backed store: memory-mapped vectors and flags, passages and document texts in
SQLite (read per candidate, across text blocks), the approximate (IVF) dense search above a
size threshold with its recall recorded, and `qa verify`. Real model, real indexes on disk."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, TINY_DOCS, write_docs
from qa.config import Settings
from qa.documents import load_collection
from qa.engine import Engine, open_index
from qa.params import StoreParams
from qa.store import build_index, current_build, load_index, save_index
from qa.store.dense import APPROXIMATE_FILE, DenseSearch, recall_at_10

# Paragraphs of distinct facts, so dense search has something to tell apart.
TOWNS = ["Arden", "Belmar", "Corvel", "Dunmoor", "Elsby", "Farrow", "Glenholt", "Harwick", "Istow", "Jarlen"]
TRADES = ["bakes rye bread", "repairs fishing boats", "brews dark ale", "weaves wool blankets",
          "carves oak chairs", "keeps honey bees", "forges iron gates", "grows winter pears"]


def town_docs() -> dict[str, str]:
    docs = {}
    for i, town in enumerate(TOWNS):
        paragraphs = [f"In {town}, the family at house {j + 1} {trade} and sells it at the market every "
                      f"{['Monday', 'Thursday', 'Saturday'][(i + j) % 3]}." for j, trade in enumerate(TRADES)]
        docs[f"towns/{town.lower()}.txt"] = f"Trades of {town}\n\n" + "\n\n".join(paragraphs) + "\n"
    return docs


def collections_of(settings: Settings):
    return [load_collection(folder) for folder in settings.docs]


@pytest.fixture(scope="module")
def towns(tmp_path_factory) -> Path:
    return write_docs(tmp_path_factory.mktemp("towns") / "docs", town_docs())


def test_a_loaded_index_reads_its_passages_and_texts_from_disk_across_text_blocks(tmp_path, embedder):
    long_text = "Notes\n\n" + "\n\n".join(f"Paragraph {i} says the lighthouse keeper counted {i * 7} gulls "
                                           f"on the rocks of the northern cape." for i in range(40)) + "\n"
    docs = write_docs(tmp_path / "docs", {**TINY_DOCS, "long.txt": long_text})
    settings = Settings(docs=(docs,), index_dir=tmp_path / "index", store=StoreParams(text_block_chars=64))
    built, _ = build_index(collections_of(settings), embedder, settings)
    save_index(built, settings.index_dir)
    loaded = load_index(settings.index_dir)

    assert isinstance(loaded.passage_vectors.base, np.memmap) and loaded.passage_vectors.dtype == np.float32
    assert isinstance(loaded.sentence_vectors.base, np.memmap) and loaded.sentence_vectors.dtype == np.float16
    assert isinstance(loaded.arrays.flags.base, np.memmap)  # views of the maps, not copies
    assert all(d.text == "" for d in loaded.documents), "memory holds no document's text"
    assert [loaded.document_text(i) for i in range(len(loaded.documents))] == [d.text for d in built.documents]
    assert loaded.document_lengths().tolist() == [len(d.text) for d in built.documents]
    assert loaded.chunks == built.chunks
    rows = np.array([len(built.chunks) - 1, 3, 0, 3])  # any order, repeats
    assert loaded.chunks_at(rows) == [built.chunks[r] for r in rows]
    np.testing.assert_array_equal(loaded.passage_vectors, built.passage_vectors)
    for kind in ("number", "date", "money"):
        from qa.answer_types import AnswerType

        every = np.arange(loaded.passages)
        assert loaded.holds(AnswerType(kind), every).tolist() == built.holds(AnswerType(kind), every).tolist()
    assert loaded.undamped(np.arange(loaded.passages)).any()


def test_concurrent_questions_read_the_same_passages_and_bm25_scores_as_one_at_a_time(towns, tmp_path, embedder):
    """Threads fetch passages through the store's pool of SQLite readers and its kept decoded
    passages, and ask BM25 for candidates then scores (each thread's last matches are kept):
    every thread gets what a lone caller gets, on a cold store and on a warm one."""
    from concurrent.futures import ThreadPoolExecutor

    from qa.store import passages

    settings = Settings(docs=(towns,), index_dir=tmp_path / "index")
    built, _ = build_index(collections_of(settings), embedder, settings)
    save_index(built, settings.index_dir)
    loaded = load_index(settings.index_dir)
    rng = np.random.default_rng(0)
    row_sets = [rng.choice(loaded.passages, size=12) for _ in range(64)]  # repeats within and across sets
    queries = [f"Who {trade} in {town}?" for town in TOWNS for trade in TRADES[:4]]

    def lexical(store, query: str) -> tuple[list[int], list[float]]:
        rows, _ = store.lexical_candidates(query, 10)
        return rows.tolist(), store.lexical_scores(query, rows).tolist()

    expected_chunks = [[built.chunks[r] for r in rows] for rows in row_sets]
    expected_lexical = [lexical(built, q) for q in queries]
    for _ in range(2):  # cold (nothing kept yet), then warm (every passage read before)
        with ThreadPoolExecutor(max_workers=passages.READERS * 2) as pool:
            assert list(pool.map(loaded.chunks_at, row_sets)) == expected_chunks
            assert list(pool.map(lambda q: lexical(loaded, q), queries)) == expected_lexical


def test_the_engine_serves_document_texts_from_the_store(tiny_settings, embedder):
    index, _ = open_index(tiny_settings, embedder, collections_of(tiny_settings))
    engine = Engine(tiny_settings, index, embedder)
    doc = engine.document("space.txt")
    assert doc.text == TINY_DOCS["space.txt"]
    assert engine.chars(engine.documents()[0]) == len(TINY_DOCS[engine.documents()[0].source])


def test_below_the_threshold_dense_search_is_exact(towns, tmp_path, embedder):
    settings = Settings(docs=(towns,), index_dir=tmp_path / "index")
    index, _ = open_index(settings, embedder, collections_of(settings))
    assert index.manifest["store"]["dense"] == {"kind": "exact"}
    assert not index.dense.approximate
    assert not (current_build(settings.index_dir) / APPROXIMATE_FILE).exists()


def test_above_the_threshold_an_ivf_index_serves_and_its_recall_is_recorded(towns, tmp_path, embedder):
    store = StoreParams(approximate_from=50, lists_per_sqrt=1.0, nprobe=2, recall_sample=40)
    settings = Settings(docs=(towns,), index_dir=tmp_path / "index", store=store)
    index, report = open_index(settings, embedder, collections_of(settings))
    assert report is not None and index.passages >= 80
    record = index.manifest["store"]["dense"]
    assert record["kind"] == "ivf" and record["factory"] == f"IVF{round(np.sqrt(index.passages))},SQ8"
    assert record["recall_queries"] == 40 and 0.0 < record["recall_at_10"] <= 1.0
    assert (current_build(settings.index_dir) / APPROXIMATE_FILE).is_file()
    assert index.dense.approximate and index.dense.nprobe == 2

    # The recorded figure is the one the loaded index reproduces (same sample, same search).
    rng = np.random.default_rng(0)
    lists = record["lists"]
    rng.choice(index.passages, size=min(index.passages, lists * store.train_per_list), replace=False)
    sample = np.sort(rng.choice(index.passages, size=40, replace=False))
    recall = recall_at_10(index.dense, np.asarray(index.passage_vectors[sample]), record["recall_depth"])
    assert round(recall, 4) == record["recall_at_10"]
    # Searching every list is exact again.
    assert recall_at_10(DenseSearch(index.passage_vectors, index.dense.index, lists),
                        np.asarray(index.passage_vectors[sample]), record["recall_depth"]) == 1.0

    # Loaded, the IVF lists are memory-mapped from the build folder (not read into memory),
    # and search as the lists read whole do.
    import faiss

    loaded = load_index(settings.index_dir, params=store)
    lists = faiss.downcast_InvertedLists(loaded.dense.index.invlists)
    assert isinstance(lists, faiss.OnDiskInvertedLists) and lists.prefetch_nthread == 0
    whole = faiss.read_index(str(current_build(settings.index_dir) / APPROXIMATE_FILE))
    queries = np.asarray(index.passage_vectors[sample], dtype=np.float32)
    assert np.array_equal(loaded.dense.search(queries, 10), DenseSearch(index.passage_vectors, whole, 2).search(queries, 10))

    engine = Engine(settings, index, embedder)
    best = engine.ask("Who brews dark ale in Corvel?", k=3).best
    assert best.source == "towns/corvel.txt" and "brews dark ale" in best.text


def _verify(index_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qa", "verify", "--index", str(index_dir)], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)


def test_qa_verify_passes_an_intact_index_and_names_a_corrupted_file(tiny_settings, embedder):
    open_index(tiny_settings, embedder, collections_of(tiny_settings))
    intact = _verify(tiny_settings.index_dir)
    assert intact.returncode == 0 and "intact" in intact.stdout, intact.stderr
    path = current_build(tiny_settings.index_dir) / "passages.npy"
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x40  # same size: loading (sizes only) still succeeds, verify must not
    path.write_bytes(bytes(data))
    assert load_index(tiny_settings.index_dir) is not None
    damaged = _verify(tiny_settings.index_dir)
    assert damaged.returncode == 1 and "passages.npy" in damaged.stderr and "checksum" in damaged.stderr


def test_qa_verify_without_an_index_says_so(tmp_path):
    result = _verify(tmp_path / "none")
    assert result.returncode == 2 and "no index" in result.stderr
