"""bench/check_eval_set.py: both sets of the mixed recipe pass it item by item, and a copy of
mixed2 with one item broken in each way the README forbids fails it on that item."""

from __future__ import annotations

import json
import shutil

import pytest

from bench.check_eval_set import check_set
from tests.conftest import ROOT

EVAL = ROOT / "data" / "eval"


@pytest.mark.parametrize("name", ["mixed", "mixed2"])
def test_every_item_of_the_set_passes(name):
    assert check_set(EVAL / name) == []


def test_mixed2_follows_the_recipe_counts():
    types = json.loads((EVAL / "mixed2" / "question_types.json").read_text(encoding="utf-8"))
    kinds = [t["type"] for t in types.values()]
    assert len(kinds) == 40 and kinds.count("unanswerable_on") == 6 and kinds.count("unanswerable_off") == 2
    answered = [t["about"] for t in types.values() if not t["type"].startswith("unanswerable")]
    assert sorted(set(answered)) == sorted(p.name for p in (EVAL / "mixed2" / "docs").iterdir())
    assert all(answered.count(doc) == 4 for doc in answered)


def broken_copy(tmp_path, qid: str, **change) -> list[str]:
    folder = tmp_path / "copy"
    shutil.copytree(EVAL / "mixed2", folder)
    path = folder / "questions.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    rows = [{**r, **change} if r["id"] == qid else r for r in rows]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return check_set(folder)


@pytest.mark.parametrize("change, says", [
    ({"evidence": "Sandra Kowalczyk, who can be contacted"}, "not in one sentence"),  # answer "31 July 2025"
    ({"evidence": "must be completed by 31 July 2025 so that teams can be confirmed before"}, "4-12"),
    ({"evidence": "31 July 2025"}, "4-12"),
    ({"evidence": "registrations must be completed by 31 July 2026"}, "not inside one block"),
    ({"evidence": "online through the league website"}, "not in one sentence"),
    ({"evidence": "Registration Pack 2025/26 | Issued 2 June"}, "markup"),
    ({"source": "linthorpe-water-quality-q2-2025.pdf"}, "not inside one block"),
    ({"format": "html"}, "does not match"),
    ({"evidence": "Late registrations go onto a waiting list and"}, "not in one sentence"),
])
def test_a_broken_item_fails(tmp_path, change, says):
    problems = broken_copy(tmp_path, "mx2-03", **change)  # "31 July 2025", Riverside registration pack
    assert problems and all(p.startswith("copy mx2-03") for p in problems) and any(says in p for p in problems)


def test_evidence_found_twice_in_the_set_fails(tmp_path):
    problems = broken_copy(tmp_path, "mx2-03", evidence="Page 1 of 2", answer="1")  # in both PDFs
    assert any("times in the set" in p for p in problems)


def test_evidence_running_across_html_table_cells_fails(tmp_path):
    """The engine reads an HTML table row as "Student Annual | £65 a year | ...", so evidence
    that runs from one cell into the next can never be found in a passage (mx2-27 had it so,
    until the check was made to read rows that way)."""
    problems = broken_copy(tmp_path, "mx2-27", evidence="Student Annual £65 a year")
    assert any("not inside one block" in p for p in problems)
