"""Serving from Qdrant (embedded local mode): the same answers as the FAISS folder store."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from qa.cli import main
from qa.config import Settings
from qa.distributed.qdrant_schema import QdrantUnavailableError, connect
from qa.engine import Engine
from qa.evaluation.harness import load_questions
from qa.evaluation.metrics import contains, first_hit_rank, hit_at, mean
from qa.lexical import content_terms, tokenize

from conftest import ROOT, SEED_QUESTIONS, write_docs

pytest.importorskip("qdrant_client", reason="requirements-distributed.txt is not installed")

from qa.distributed.qdrant_engine import build_engine, close_engine, open_engine  # noqa: E402
from qa.distributed.qdrant_schema import SPARSE  # noqa: E402

MIXED = ROOT / "data" / "eval" / "mixed"


def test_missing_qdrant_client_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "qdrant_client", None)  # as if the package were not installed
    with pytest.raises(QdrantUnavailableError, match="pip install -r requirements-distributed.txt"):
        connect(Settings(backend="qdrant", qdrant_path=str(tmp_path / "q")))


def test_cli_without_qdrant_client_exits_2_with_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "qdrant_client", None)
    with pytest.raises(SystemExit) as exit_info:
        main(["ask", "Who spoke?", "--store", "qdrant", "--qdrant-path", str(tmp_path / "q")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: Qdrant support is not installed: pip install -r requirements-distributed.txt"]


def test_qdrant_store_needs_a_url_or_a_path():
    with pytest.raises(QdrantUnavailableError, match="--qdrant URL"):
        connect(Settings(backend="qdrant"))


def test_asking_an_empty_qdrant_says_to_build(tmp_path):
    with pytest.raises(QdrantUnavailableError, match="no Seed QA index"):
        open_engine(Settings(backend="qdrant", qdrant_path=str(tmp_path / "q")))


def _engines(settings: Settings):
    qdrant, _ = build_engine(settings)
    return Engine.open(settings), qdrant


@pytest.fixture(scope="module")
def seed_pair(seeds_settings, tmp_path_factory, embedder):
    folder, qdrant = _engines(seeds_settings.replace(backend="qdrant", qdrant_path=str(tmp_path_factory.mktemp("q"))))
    yield folder, qdrant
    close_engine(qdrant)


@pytest.fixture(scope="module")
def mixed_pair(tmp_path_factory, embedder):
    scratch = tmp_path_factory.mktemp("mixed")
    folder, qdrant = _engines(Settings(docs=(MIXED / "docs",), index_dir=scratch / "index", backend="qdrant",
                                       qdrant_path=str(scratch / "qdrant")))
    yield folder, qdrant
    close_engine(qdrant)


@pytest.mark.slow
@pytest.mark.parametrize("pair, questions", [("seed_pair", SEED_QUESTIONS), ("mixed_pair", MIXED / "questions.jsonl")])
def test_qdrant_answers_like_the_faiss_store(pair, questions, request):
    folder, qdrant = request.getfixturevalue(pair)
    items = load_questions(questions)
    assert qdrant.index.passages == folder.index.passages
    texts = [q.question for q in items]
    from_folder, from_qdrant = folder.ask_batch(texts, k=10), qdrant.ask_batch(texts, k=10)
    for a, b in zip(from_folder, from_qdrant):
        assert [r.source for r in a.results[:3]] == [r.source for r in b.results[:3]], a.question
    assert abs(_hit_at_1(items, from_folder) - _hit_at_1(items, from_qdrant)) <= 0.03


def _hit_at_1(items, answers) -> float:
    """Hit@1 as the evaluation harness counts it (the evidence in the first passage)."""
    ranks = [first_hit_rank([contains(r.text, q.evidence) for r in a.results]) if q.evidence else None
             for q, a in zip(items, answers) if q.answerable]
    return mean([hit_at(rank, 1) for rank in ranks])


@pytest.mark.slow
def test_qdrant_scores_equal_faiss_when_every_passage_is_a_candidate(seed_pair):
    """The seeds hold fewer passages than the candidate depth, so both stores score the same
    candidates: the scores and the verdicts agree, not only the order."""
    folder, qdrant = seed_pair
    texts = [q.question for q in load_questions(SEED_QUESTIONS)]
    for a, b in zip(folder.ask_batch(texts), qdrant.ask_batch(texts)):
        assert [r.score for r in a.results] == pytest.approx([r.score for r in b.results], abs=1e-5)
        assert a.answerable == b.answerable and a.confidence == pytest.approx(b.confidence, abs=1e-5)
        assert [h.text for r in a.results for h in r.highlights] == [h.text for r in b.results for h in r.highlights]


def _run(args, capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out = capsys.readouterr()
    assert exit_info.value.code == 0, out.err
    return out.out


@pytest.mark.slow
def test_cli_builds_into_qdrant_and_answers_with_the_same_json(tiny_docs, tmp_path, capsys, embedder):
    where = ["--docs", str(tiny_docs), "--index", str(tmp_path / "index")]
    qdrant = ["--store", "qdrant", "--qdrant-path", str(tmp_path / "qdrant")]
    built = _run(["build", *where, *qdrant], capsys)
    assert "qdrant: 2 documents upserted" in built
    question = ["ask", "Which moons does Mars have?", "--json"]
    from_folder = json.loads(_run([*question, *where], capsys))
    # the reader needs no index folder: another, empty one is given
    from_qdrant = json.loads(_run([*question, "--docs", str(tiny_docs), "--index", str(tmp_path / "none"), *qdrant],
                                  capsys))
    assert from_qdrant == from_folder
    assert not (tmp_path / "none").exists()


def _server_bm25(store, query: str) -> dict[int, float]:
    from qdrant_client import models

    terms = store.lexical_stats.query_terms(query)
    if not terms:
        return {}
    indices = sorted(terms)
    vector = models.SparseVector(indices=indices, values=[float(terms[i][0]) for i in indices])
    found = store._client.query_points(store.names.passages, query=vector, using=SPARSE, limit=store.passages)
    return {int(p.id): p.score for p in found.points}


@pytest.mark.slow
@pytest.mark.parametrize("pair, questions", [("seed_pair", SEED_QUESTIONS), ("mixed_pair", MIXED / "questions.jsonl")])
def test_bm25_with_server_idf_equals_bm25s(pair, questions, request):
    """Term weights from this client times Qdrant's IDF give bm25s's scores (within 1e-5), and
    the statistics read back from the terms collection are the folder's."""
    folder, qdrant = request.getfixturevalue(pair)
    lexical, stats = folder.index.lexical, qdrant.index.lexical_stats
    assert stats.max_idf() == pytest.approx(lexical.max_idf(), abs=1e-9)
    for item in load_questions(questions):
        expected = lexical.scores(item.question)
        server = _server_bm25(qdrant.index, item.question)
        assert set(server) == set(np.flatnonzero(expected > 0).tolist()), item.question
        rows = np.array(sorted(server), dtype=np.int64)
        np.testing.assert_allclose([server[r] for r in rows], expected[rows], atol=1e-5)
        np.testing.assert_allclose(qdrant.index.lexical_scores(item.question, rows), expected[rows], atol=1e-5)
        terms = content_terms(tokenize([item.question])[0])
        assert stats.idf(terms) == pytest.approx(lexical.idf(terms), abs=1e-9)
        assert stats.known_terms(terms) == lexical.known_terms(terms)
        assert stats.ideal_score(item.question) == pytest.approx(lexical.ideal_score(item.question), abs=1e-9)


def _qdrant_sources(engine) -> set[str]:
    store = engine.index
    points, _ = store._client.scroll(store.names.passages, limit=10_000, with_payload=["source"])
    return {p.payload["source"] for p in points}


@pytest.mark.slow
def test_incremental_update_upserts_and_deletes_by_document(tmp_path, embedder):
    docs = write_docs(tmp_path / "docs", {
        "farm.txt": "Cows give milk every morning and graze in the meadow.\n\nThe farm dog guards the sheep.\n",
        "space.txt": "Mars is the fourth planet from the Sun. It has two small moons, Phobos and Deimos.\n",
    })
    settings = Settings(docs=(docs,), index_dir=tmp_path / "index", backend="qdrant",
                        qdrant_path=str(tmp_path / "qdrant"))
    first, _ = build_engine(settings)
    space_rows = {r.paragraph: r for r in first.ask("Which moons does Mars have?").results if r.source == "space.txt"}
    close_engine(first)

    write_docs(docs, {"volcano.txt": "Olympus Mons on Mars is the tallest volcano in the solar system.\n"})
    (docs / "farm.txt").unlink()
    second, report = build_engine(settings)
    try:
        assert report.added == (f"{docs}::volcano.txt",) and report.removed == (f"{docs}::farm.txt",)
        assert report.kept == 1 and report.reweighted > 0  # the mean passage length moved
        assert _qdrant_sources(second) == {"space.txt", "volcano.txt"}
        assert second.index.passages == Engine.open(settings).index.passages
        answer = second.ask("What does the farm dog guard?", k=5)
        assert "farm.txt" not in {r.source for r in answer.results}
        assert second.index.lexical_stats.known_terms(["sheep", "cow"]) == []
        assert second.ask("What is the tallest volcano?").results[0].source == "volcano.txt"
        kept = {r.paragraph: r for r in second.ask("Which moons does Mars have?").results if r.source == "space.txt"}
        assert kept.keys() == space_rows.keys()
        folder = Engine.open(settings).index.lexical
        rows = second.index.lexical_candidates("Mars moons volcano", 10)[0]
        mine = second.index.lexical_scores("Mars moons volcano", rows)
        expected = folder.scores("Mars moons volcano")
        np.testing.assert_allclose(np.sort(mine), np.sort(expected[expected > 0]), atol=1e-5)
    finally:
        close_engine(second)


def test_documents_kept_across_a_change_of_passage_rules_are_rewritten(tmp_path, embedder):
    """A collection written when passages were cut or flagged by older rules (here: flags of
    version 1) rewrites every document on the next sync, with today's flags."""
    from qa.distributed.qdrant_engine import qdrant_names
    from qa.distributed.qdrant_write import passage_rules, read_meta, write_meta

    docs = write_docs(tmp_path / "docs", {"minutes.txt": "The meeting was adjourned at 8:47 p.m. by the chair.\n"})
    settings = Settings(docs=(docs,), index_dir=tmp_path / "index", backend="qdrant",
                        qdrant_path=str(tmp_path / "qdrant"))
    first, report = build_engine(settings)
    store = first.index
    names = qdrant_names(settings)
    meta = read_meta(store._client, names)
    older = {**meta["manifest"], "store": {k: v for k, v in meta["manifest"]["store"].items() if k != "flags_version"}}
    write_meta(store._client, names, {**meta, "manifest": older})
    assert passage_rules(older) != passage_rules(meta["manifest"])
    close_engine(first)

    second, report = build_engine(settings)
    try:
        assert report.added == (f"{docs}::minutes.txt",) and report.kept == 0
        assert _qdrant_sources(second) == {"minutes.txt"}
        assert passage_rules(read_meta(second.index._client, names)["manifest"]) == passage_rules(meta["manifest"])
        assert second.ask("When was the meeting adjourned?").results[0].source == "minutes.txt"
    finally:
        close_engine(second)
    third, report = build_engine(settings)  # nothing changed since: the document is kept
    try:
        assert report.added == () and report.kept == 1
    finally:
        close_engine(third)
