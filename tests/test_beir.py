"""The BEIR loader and the run file, on a tiny BEIR folder written here."""

from __future__ import annotations

import gzip
import json

import pytest

from qa.config import Settings
from qa.errors import CollectionError
from qa.evaluation.beir import RUN_DEPTH, load_beir, read_qrels, run_beir, write_run

CORPUS = [
    {"_id": "d1", "title": "Mars moons", "text": "Mars has two small moons, Phobos and Deimos."},
    {"_id": "d2", "title": "Jupiter", "text": "Jupiter is the largest planet and has a giant red storm."},
    {"_id": "d3", "title": "", "text": "Cows give milk every morning and graze in the meadow."},
    {"_id": "d4", "title": "Sheep dogs", "text": "The farm dog guards the sheep from foxes at night."},
]
QUERIES = [
    {"_id": "q1", "text": "How many moons does Mars have?"},
    {"_id": "q2", "text": "Which animal gives milk?"},
    {"_id": "q3", "text": "A query without judgements"},
]


def write_beir(folder, gz=False, header=True):
    folder.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(row) + "\n" for row in CORPUS)
    if gz:
        with gzip.open(folder / "corpus.jsonl.gz", "wt", encoding="utf-8") as handle:
            handle.write(lines)
    else:
        (folder / "corpus.jsonl").write_text(lines, encoding="utf-8")
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in QUERIES), encoding="utf-8")
    (folder / "qrels").mkdir(exist_ok=True)
    body = ("query-id\tcorpus-id\tscore\n" if header else "") + "q1\td1\t1\nq2\td3\t2\nq2\td4\t0\n"
    (folder / "qrels" / "test.tsv").write_text(body, encoding="utf-8")
    return folder


@pytest.mark.parametrize("gz", [False, True])
def test_load_beir(tmp_path, gz):
    ds = load_beir(write_beir(tmp_path / "tiny", gz=gz))
    assert ds.name == "tiny"
    assert ds.corpus_file.name == ("corpus.jsonl.gz" if gz else "corpus.jsonl")
    assert [d.source for d in ds.documents] == ["d1", "d2", "d3", "d4"]
    assert ds.documents[0].text == "Mars moons\n\nMars has two small moons, Phobos and Deimos."
    assert ds.documents[2].text == CORPUS[2]["text"] and ds.documents[2].title == "d3"
    assert ds.queries == {"q1": QUERIES[0]["text"], "q2": QUERIES[1]["text"]}  # q3 has no judgements
    assert ds.qrels == {"q1": {"d1": 1}, "q2": {"d3": 2, "d4": 0}}


def test_qrels_with_and_without_header(tmp_path):
    with_header = read_qrels(write_beir(tmp_path / "a") / "qrels" / "test.tsv")
    without = read_qrels(write_beir(tmp_path / "b", header=False) / "qrels" / "test.tsv")
    assert with_header == without == {"q1": {"d1": 1}, "q2": {"d3": 2, "d4": 0}}


def test_load_beir_errors(tmp_path):
    with pytest.raises(CollectionError):
        load_beir(tmp_path)
    folder = write_beir(tmp_path / "x")
    for p in (folder / "qrels").iterdir():
        p.unlink()
    with pytest.raises(CollectionError):
        load_beir(folder)


def test_write_run_format(tmp_path):
    ranked = [([("d1", 0.9), ("d2", 0.5)], 1.0), ([(f"d{i}", 1.0 / (i + 1)) for i in range(3)], 2.0)]
    path = tmp_path / "runs" / "run.txt"
    write_run(path, ["q1", "q2"], ranked, tag="qa-hybrid")
    lines = path.read_text().splitlines()
    assert lines[0] == "q1 Q0 d1 1 0.900000 qa-hybrid"
    assert lines[1] == "q1 Q0 d2 2 0.500000 qa-hybrid"
    assert lines[2].split() == ["q2", "Q0", "d0", "1", "1.000000", "qa-hybrid"]
    assert len(lines) == 5


def test_run_beir_end_to_end(tmp_path, embedder):
    ds = load_beir(write_beir(tmp_path / "tiny"))
    run = tmp_path / "run.txt"
    reports = run_beir(ds, Settings(), ["hybrid", "bm25"], cache_root=tmp_path / "cache", run_out=run,
                       progress=False)
    assert [r.mode for r in reports] == ["hybrid", "bm25"]
    for report in reports:
        assert report.queries == 2
        assert report.ndcg_at_10 == pytest.approx(1.0)  # both queries find their document first
        assert report.recall_at_100 == pytest.approx(1.0)
        assert report.mrr_at_10 == pytest.approx(1.0)
    for mode in ("hybrid", "bm25"):
        lines = (tmp_path / f"run.{mode}.txt").read_text().splitlines()
        per_query: dict[str, list[list[str]]] = {}
        for line in lines:
            fields = line.split()
            assert len(fields) == 6 and fields[1] == "Q0" and fields[5] == f"qa-{mode}"
            per_query.setdefault(fields[0], []).append(fields)
        assert set(per_query) == {"q1", "q2"}
        for rows in per_query.values():
            assert len(rows) <= RUN_DEPTH
            assert [int(r[3]) for r in rows] == list(range(1, len(rows) + 1))
            assert len({r[2] for r in rows}) == len(rows)  # a document once per query
            scores = [float(r[4]) for r in rows]
            assert scores == sorted(scores, reverse=True)
    # the cached index is reused on a second run
    assert len(list((tmp_path / "cache").iterdir())) == 1


def test_the_cached_index_serves_any_spelling_of_the_folder(tmp_path, embedder, monkeypatch, caplog):
    """A relative and an absolute path to the same dataset name the same documents, so the
    second run loads the cached index instead of rebuilding it."""
    write_beir(tmp_path / "tiny")
    monkeypatch.chdir(tmp_path)
    relative, absolute = load_beir("tiny"), load_beir(tmp_path / "tiny")
    assert {d.collection for d in relative.documents} == {d.collection for d in absolute.documents} == {"tiny"}
    run_beir(relative, Settings(), ["bm25"], cache_root=tmp_path / "cache", progress=False)
    with caplog.at_level("INFO", logger="qa"):
        run_beir(absolute, Settings(), ["bm25"], cache_root=tmp_path / "cache", progress=False)
    assert not [r for r in caplog.records if "building index" in r.getMessage()]
