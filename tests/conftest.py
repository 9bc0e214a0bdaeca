"""Shared fixtures: the real model (loaded once a session), real indexes on disk."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa.config import Settings
from qa.embedding import load_embedder
from qa.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_QUESTIONS = ROOT / "data" / "eval" / "seed_questions.jsonl"

TINY_DOCS = {
    "animals.md": "# Animals of the farm\n\nCows give milk every morning and graze in the meadow.\n\n"
    "The farm dog guards the sheep from foxes at night.\n",
    "space.txt": "Notes on the solar system\n\nMars is the fourth planet from the Sun. It has two small moons, "
    "Phobos and Deimos.\n\nJupiter is the largest planet and has a giant red storm.\n",
}


def ledger_text(paragraphs: int) -> str:
    """A document of `paragraphs` distinct two-sentence passages (about three texts to embed
    each), for builds that run long enough to watch, queue behind and cancel."""
    words = ["harbour", "lantern", "ferry", "granary", "orchard", "quarry", "mill", "beacon", "market", "bridge"]
    out = []
    for i in range(paragraphs):
        a, b = words[i % 10], words[(i * 7 + 3) % 10]
        out.append(f"Ledger entry {i}: the {a} crew moved {i * 37 % 997} crates past the {b} on day {i % 365}. "
                   f"Inspector {i * 13 % 89} signed the {a} register at hour {i % 24}.")
    return "# Harbour ledger\n\n" + "\n\n".join(out) + "\n"


@pytest.fixture(scope="session")
def embedder():
    return load_embedder("", "cpu")  # the same cache key Engine.open uses: one load a session


def write_docs(folder: Path, docs: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in docs.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
    return folder


@pytest.fixture
def tiny_docs(tmp_path) -> Path:
    return write_docs(tmp_path / "docs", TINY_DOCS)


@pytest.fixture
def tiny_settings(tiny_docs, tmp_path) -> Settings:
    return Settings(docs=(tiny_docs,), index_dir=tmp_path / "index")


@pytest.fixture(scope="session")
def seeds_index_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("seeds-index")


@pytest.fixture(scope="session")
def seeds_settings(seeds_index_dir) -> Settings:
    return Settings(docs=(SEEDS,), index_dir=seeds_index_dir)


@pytest.fixture(scope="session")
def seeds_engine(seeds_settings, embedder) -> Engine:
    """The seed collection, indexed once per session in a temporary folder."""
    return Engine.open(seeds_settings)


@pytest.fixture
def copy_seeds(tmp_path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target
