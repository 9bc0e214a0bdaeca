"""`python -m qa`: bad input is one line on stderr and a non-zero exit, never a traceback;
`build` prints what it added, changed, removed, kept and skipped."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from conftest import ROOT, TINY_DOCS, write_docs
from qa.cli import app

PYTHON = sys.executable


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m qa ...` in a fresh process, importing this worktree's `qa`."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    full_env.pop("QA_DEBUG", None)
    return subprocess.run(
        [PYTHON, "-m", "qa", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout
    )


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{proc.stderr}"
    assert lines[0].startswith("error: ")
    for needle in needles:
        assert needle in lines[0]
    assert proc.stdout == ""
    return lines[0]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    return write_docs(root / "docs", TINY_DOCS), root / "index"


# Each of these fails before the model is loaded, so a fresh process costs well under a second.
BAD_ASKS = [
    (["ask", ""], "empty"),
    (["ask", "   \t "], "empty"),
    (["ask", "\x01\x02"], "empty"),
    (["ask", "?!?..."], "no words"),
    (["ask", "🤔🤔"], "no words"),
    (["ask", "mars", "--k", "0"], "k must be a whole number from 1 to 100"),
    (["ask", "mars", "--k", "-3"], "k must be a whole number"),
    (["ask", "mars", "--k", "100000000000000000000"], "k must be a whole number"),
    (["ask", "mars", "--k", "abc"], "not 'abc'"),
    (["ask", "mars", "--k", "2.5"], "k must be a whole number"),
    (["ask", "mars", "--mode", "fuzzy"], "unknown mode 'fuzzy'"),
    (["ask"], "give either a QUESTION or --questions"),
    (["ask", "mars", "--bogus"], "No such option: --bogus"),
    (["ask", "mars", "extra"], "unexpected extra argument"),
    (["ask", "mars", "--k"], "requires an argument"),
    (["frobnicate"], "No such command"),
]


@pytest.mark.parametrize("args, needle", BAD_ASKS, ids=[" ".join(a)[:30] for a, _ in BAD_ASKS])
def test_bad_input_is_one_line_on_stderr(args, needle, folders):
    docs, index = folders
    proc = run_cli(*args, "--docs", str(docs), "--index", str(index)) if args[0] == "ask" and len(args) > 1 and "--k" != args[-1] else run_cli(*args)
    assert_one_line_error(proc, needle)
    assert not index.exists(), "bad input must fail before anything is built"


def test_missing_document_folder_is_one_line(tmp_path):
    proc = run_cli("ask", "mars", "--docs", str(tmp_path / "nowhere"), "--index", str(tmp_path / "index"))
    assert_one_line_error(proc, "does not exist", "--docs")


def test_bad_environment_value_is_one_line():
    assert_one_line_error(run_cli("ask", "mars", env={"QA_K": "many"}), "QA_K='many'")


def test_bad_questions_files_are_one_line(tmp_path, folders):
    docs, index = folders
    missing = run_cli("ask", "--questions", str(tmp_path / "none.jsonl"), "--docs", str(docs), "--index", str(index))
    assert_one_line_error(missing, "No such file", "none.jsonl")
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b'{"question": "caf\xe9"}\n')
    assert_one_line_error(run_cli("ask", "--questions", str(binary), "--docs", str(docs)), "not UTF-8")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"question": "Mars?"}\n{"question": "   "}\n', encoding="utf-8")
    assert_one_line_error(run_cli("ask", "--questions", str(broken), "--docs", str(docs)), "question 2", "empty")


def test_index_folder_that_cannot_be_written_is_one_line(tmp_path, folders):
    docs, _ = folders
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    proc = run_cli("build", "--docs", str(docs), "--index", str(blocker / "index"))
    line = assert_one_line_error(proc, "cannot write the index")
    assert "--index" in line


def test_no_arguments_prints_help():
    proc = run_cli()
    assert proc.returncode == 0 and "Usage" in proc.stdout and proc.stderr == ""


# --- in-process (the session's model is reused) ----------------------------------------


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_long_odd_question_answers_with_notes_in_json(folders, embedder):
    docs, index = folders
    question = "Which planet has the moons Phobos and Deimos? 🪐 مريخ \x00 " + "moons " * 1500
    result = invoke("ask", question, "--json", "--k", "2", "--docs", str(docs), "--index", str(index))
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["notes"] == ["question truncated to the model's 256-token window"]
    assert "\x00" not in data["question"]
    assert data["results"][0]["source"] == "space.txt"
    assert len(data["results"]) == 2
    text = invoke("ask", question, "--k", "1", "--docs", str(docs), "--index", str(index))
    assert text.exit_code == 0 and "note: question truncated" in text.stdout


def test_build_summary_counts_every_kind_of_change(tmp_path, embedder):
    docs = write_docs(tmp_path / "docs", {**TINY_DOCS, "old.txt": "The old mill by the river ground wheat for the village.\n"})
    (docs / "empty.txt").write_text("", encoding="utf-8")
    (docs / "latin.txt").write_bytes("Le café est servi à la gare chaque matin à huit heures.\n".encode("cp1252"))
    index = tmp_path / "index"
    args = ("build", "--docs", str(docs), "--index", str(index))

    first = invoke(*args)
    assert first.exit_code == 0, first.stderr
    assert "index built: 4 added, 0 changed, 0 removed, 0 unchanged, 1 skipped;" in first.stdout
    assert f"  skipped {docs}/empty.txt: empty or whitespace only" in first.stdout
    assert f"  warning {docs}/latin.txt: not UTF-8; decoded as Windows-1252" in first.stdout
    assert "4 documents · " in first.stdout

    same = invoke(*args)
    assert same.exit_code == 0
    assert same.stdout.startswith("index is up to date: 4 documents")
    assert f"  skipped {docs}/empty.txt: empty or whitespace only" in same.stdout

    (docs / "old.txt").unlink()
    (docs / "space.txt").write_text(TINY_DOCS["space.txt"] + "\nSaturn has bright rings of ice.\n", encoding="utf-8")
    (docs / "new.md").write_text("# Weather\n\nIt rained all week in the valley and the river rose.\n", encoding="utf-8")
    (docs / "empty.txt").write_text("Now the empty file holds a real sentence about owls at night.\n", encoding="utf-8")
    update = invoke(*args)
    assert update.exit_code == 0, update.stderr
    assert "index built: 2 added, 1 changed, 1 removed, 2 unchanged, 0 skipped;" in update.stdout
    answer = invoke("ask", "What has bright rings?", "--json", "--k", "1", "--docs", str(docs), "--index", str(index))
    assert json.loads(answer.stdout)["results"][0]["source"] == "space.txt"


HEADINGS_ONLY = {"outline.md": "# Outline\n\n## Part one\n\n## Part two\n", "title.md": "# Just a title\n"}


def test_collection_of_headings_only_is_one_line(tmp_path):
    docs = write_docs(tmp_path / "docs", HEADINGS_ONLY)
    proc = run_cli("build", "--docs", str(docs), "--index", str(tmp_path / "index"))
    assert_one_line_error(proc, "no usable document", "outline.md: only headings, no text to index")
    assert proc.returncode == 2


def test_headings_only_document_is_skipped_with_its_reason(tmp_path, embedder):
    docs = write_docs(tmp_path / "docs", {**TINY_DOCS, **HEADINGS_ONLY})
    result = invoke("build", "--docs", str(docs), "--index", str(tmp_path / "index"))
    assert result.exit_code == 0, result.stderr
    assert "index built: 2 added, 0 changed, 0 removed, 0 unchanged, 2 skipped;" in result.stdout
    assert f"  skipped {docs}/outline.md: only headings, no text to index" in result.stdout
    assert f"  skipped {docs}/title.md: only headings, no text to index" in result.stdout


def test_eval_questions_without_scoring_fields_is_one_line(tmp_path, folders):
    docs, index = folders[0], tmp_path / "index"
    no_evidence = tmp_path / "no_evidence.jsonl"
    no_evidence.write_text('{"id": "a", "question": "Which planet has two moons?", "answer": null}\n'
                           '{"id": "b", "question": "How many moons has Mars?", "answer": "two"}\n', encoding="utf-8")
    line = assert_one_line_error(run_cli("eval", "--questions", str(no_evidence), "--docs", str(docs), "--index",
                                         str(index)), "no_evidence.jsonl:2: no `evidence` field")
    assert "answerable" in line
    no_answer = tmp_path / "no_answer.jsonl"
    no_answer.write_text('{"question": "Which planet has two moons?"}\n', encoding="utf-8")
    assert_one_line_error(run_cli("eval", "--questions", str(no_answer), "--docs", str(docs), "--index", str(index)),
                          "no_answer.jsonl:1: no `answer` field")
    assert not index.exists(), "the file is checked before anything is built"
