"""The README is the front door: its figures (and those moved into docs/*.md) are filled in by
bench/readme_figures.py, and its test command is the one CI runs."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def figures():
    spec = importlib.util.spec_from_file_location("readme_figures", ROOT / "bench" / "readme_figures.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_every_figure_block_is_filled(figures):
    assert figures.problems(figures.all_text()) == []


def test_an_empty_or_missing_block_is_reported(figures):
    text = figures.all_text()
    emptied = figures.replace_block(text, "seed_eval", "")
    assert figures.problems(emptied) == ["block seed_eval empty"]
    removed = figures.marker_re("beir").sub("", text)
    assert any(p.startswith("block beir missing") for p in figures.problems(removed))


def test_replacing_a_block_leaves_the_prose_and_is_repeatable(figures):
    text = "intro\n<!-- figures:ask -->\nold\n<!-- /figures:ask -->\noutro\n"
    once = figures.replace_block(text, "ask", "```console\n$ x\nnew\n```")
    assert once == "intro\n<!-- figures:ask -->\n```console\n$ x\nnew\n```\n<!-- /figures:ask -->\noutro\n"
    assert figures.replace_block(once, "ask", "```console\n$ x\nnew\n```") == once
    assert figures.replace_block(text, "ask", "inline") == "intro\n<!-- figures:ask -->inline<!-- /figures:ask -->\noutro\n"


def test_command_output_is_cleaned_of_progress_bars_and_redraws(figures):
    raw = ("\x1b[1mtitle\x1b[0m\n"
           "Batches:  50%|#####     | 1/2 [00:01<00:01]\rBatches: 100%|##########| 2/2 [00:02<00:00]\n"
           "working\rdone   \n\n")
    assert figures.clean(raw) == "title\ndone"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Run the tests", 1)[1]
    command = re.search(r"```bash\n(.+?)\n```", section, re.S).group(1).strip()
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    assert command in ci_lines


def test_a_block_is_updated_in_the_docs_file_that_holds_it(figures, tmp_path):
    readme, moved = tmp_path / "README.md", tmp_path / "evaluation.md"
    readme.write_text("front door\n", encoding="utf-8")
    moved.write_text("x <!-- figures:runtime -->old<!-- /figures:runtime --> y\n", encoding="utf-8")
    figures.update_block("runtime", "new", [readme, moved])
    assert moved.read_text(encoding="utf-8") == "x <!-- figures:runtime -->new<!-- /figures:runtime --> y\n"
    assert readme.read_text(encoding="utf-8") == "front door\n"
    with pytest.raises(figures.FigureError):
        figures.update_block("seed_eval", "z", [readme])
