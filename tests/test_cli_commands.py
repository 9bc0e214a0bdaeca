"""The CLI's commands on a real index: build summary, the JSON contract, batches, the harness."""

import json

from typer.testing import CliRunner

from qa.cli import app
from tests.conftest import SEEDS

runner = CliRunner()


def run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def test_build_then_up_to_date(tiny_docs, tmp_path, embedder):
    index = tmp_path / "index"
    out = run("build", "--docs", tiny_docs, "--index", index)
    assert "index built: 2 added, 0 changed, 0 removed, 0 unchanged, 0 skipped" in out
    assert "2 documents" in out
    assert "index is up to date" in run("build", "--docs", tiny_docs, "--index", index)


def test_ask_json_is_the_contract(seeds_settings, seeds_engine):
    out = run("ask", "--json", "--docs", SEEDS, "--index", seeds_settings.index_dir, "--k", 3,
              "In how many countries does DHS have personnel stationed?")
    data = json.loads(out)
    assert data == seeds_engine.ask("In how many countries does DHS have personnel stationed?", k=3).to_dict()
    assert "75 different countries" in data["results"][0]["highlights"][0]["text"]


def test_ask_for_people_marks_the_highlight_and_cites(seeds_settings, seeds_engine):
    out = run("ask", "--docs", SEEDS, "--index", seeds_settings.index_dir, "--k", 2,
              "Where was the European Cybercrime Forum held?")
    assert ">>>This past April, I was in **Budapest** during" in out  # the answer itself inside the highlight
    assert "000_a17f7510e5746d01.txt ¶" in out and "[2]" in out


def test_ask_questions_file_prints_one_object_a_line_in_order(seeds_settings, seeds_engine, tmp_path):
    questions = ["Which chemical made up most of the seizures?", "What is the population of Tokyo?",
                 "Where was the European Cybercrime Forum held?"]
    path = tmp_path / "q.jsonl"
    path.write_text("".join(json.dumps({"id": i, "question": q}) + "\n" for i, q in enumerate(questions)))
    out = run("ask", "--json", "--questions", path, "--docs", SEEDS, "--index", seeds_settings.index_dir)
    lines = out.strip().splitlines()
    assert [json.loads(line)["question"] for line in lines] == questions
    assert [json.loads(line)["answerable"] for line in lines] == [True, False, True]


def test_eval_json_report(seeds_settings, seeds_engine, tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(
        json.dumps({"id": "a", "question": "Which chemical made up most of the seizures?",
                    "answer": "ammonium nitrate", "evidence": "primarily ammonium nitrate"}) + "\n"
        + json.dumps({"id": "b", "question": "What is the population of Tokyo?", "answer": None, "evidence": None}) + "\n"
    )
    out = run("eval", "--json", "--questions", path, "--docs", SEEDS, "--index", seeds_settings.index_dir,
              "--mode", "hybrid", "--mode", "bm25")
    reports = json.loads(out)
    assert [r["mode"] for r in reports] == ["hybrid", "bm25"]
    for r in reports:
        assert r["hit_at_1"] == 1.0 and r["unanswerable_flagged"] == 1
        assert r["latency_p50_ms"] > 0
    # The answerable verdict is fitted on hybrid rankings; a lone BM25 match (here the only
    # passage saying "seizure") is not one the model has seen, so only hybrid is held to it.
    hybrid = reports[0]
    assert hybrid["highlight_accuracy"] == 1.0 and hybrid["answerable_flagged"] == 0


def test_eval_table_for_people(seeds_settings, seeds_engine):
    out = run("eval", "--docs", SEEDS, "--index", seeds_settings.index_dir)
    assert "Hit@1" in out and "highlight accuracy" in out and "hybrid" in out
