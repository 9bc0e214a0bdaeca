"""The repository keeps an `index/` folder holding only its README; builds go in beside it
and never remove it, however many builds come and go."""

from __future__ import annotations

import subprocess

from conftest import ROOT, TINY_DOCS, write_docs
from qa.config import Settings
from qa.engine import Engine
from qa.store import KEEP_BUILDS, POINTER


def test_the_repository_has_an_index_folder_that_says_how_it_is_built():
    readme = (ROOT / "index" / "README.md").read_text(encoding="utf-8")
    assert "python -m qa build" in readme and "app.py" in readme


def test_built_files_in_index_are_ignored_but_its_readme_is_not():
    ignored = subprocess.run(["git", "check-ignore", "index/CURRENT", "index/build-1/manifest.json", "index/README.md"],
                             cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert ignored.stdout.split() == ["index/CURRENT", "index/build-1/manifest.json"]


def test_building_into_a_folder_that_holds_only_the_readme_keeps_it(tmp_path, embedder):
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    readme = index_dir / "README.md"
    readme.write_text((ROOT / "index" / "README.md").read_text(encoding="utf-8"), encoding="utf-8")
    docs = write_docs(tmp_path / "docs", TINY_DOCS)
    settings = Settings(docs=(docs,), index_dir=index_dir)
    for round_ in range(KEEP_BUILDS + 2):  # enough builds for old ones to be cleaned up
        (docs / "extra.txt").write_text(f"Round {round_} of building: the owl hunts mice at night.\n", encoding="utf-8")
        engine = Engine.open(settings)
        assert engine.build_report is not None
        assert engine.ask("Which planet has two moons?", k=1).best.source == "space.txt"
    builds = sorted(p.name for p in index_dir.glob("build-*"))
    assert len(builds) == KEEP_BUILDS
    assert sorted(p.name for p in index_dir.iterdir() if not p.name.startswith(("build-", "."))) == [POINTER, "README.md"]
    assert readme.read_text(encoding="utf-8") == (ROOT / "index" / "README.md").read_text(encoding="utf-8")
