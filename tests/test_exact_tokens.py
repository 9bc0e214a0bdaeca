"""Exact tokens win: a question naming a code, version or identifier ranks the passage holding
that exact token above near-misses (`E1` for `E4`, `4.2.1` for `4.1.2`), and highlights the
sentence holding it. Real model, real index on disk."""

from __future__ import annotations

import pytest

from conftest import write_docs
from qa.config import Settings
from qa.engine import Engine
from qa.exact_tokens import exact_tokens, holds_all
from qa.lexical import tokenize

MANUAL = """# Drybox D2 manual

## Error codes

The display shows a code when the dryer stops on its own.

- E1 - The water tank is full. Empty it and press Start.
- E2 - The lint filter is blocked. Clean it under running water.
- E3 - The door is open. Close it firmly until it clicks.
- E4 - The drum motor overheated. Let the dryer cool for one hour before the next cycle.
- E5 - The heater failed. Call the service line.

## Settings

Set SHELFWISE_BACKUP_KEEP to the number of nightly backups the dryer log keeps; SHELFWISE_BACKUP_DIR sets where they go.
"""

CHANGELOG = """# Changelog

## 4.2.1

Pulled two days after release because it deleted drafts when syncing over a metered connection.

## 4.1.2

Fixed a crash when a shared notebook was opened from an email link.

## 4.1.0

Added dark mode and faster search across notebooks.
"""


FAN = """Fault F1 means the fan blade is blocked by dust and the unit needs a clean.

Fault F7 means the thermostat cable came loose inside the back panel after transport.

Fault F17 means the remote control lost its pairing and must be paired again.
"""


def test_the_codes_a_question_names():
    assert exact_tokens("My dryer shows E4. What does that mean?") == ("E4",)
    assert exact_tokens("Which bug did 4.1.2 fix?") == ("4.1.2",)
    assert exact_tokens("What does error QM103 mean?") == ("QM103",)
    assert exact_tokens("What does SHELFWISE_BACKUP_KEEP do?") == ("SHELFWISE_BACKUP_KEEP",)
    assert exact_tokens("The client says Error 812.") == ("812",)
    # years, small counts and plain words are left to the other signals
    assert exact_tokens("Who won the 1998 World Cup in 12 games?") == ()


def test_a_code_is_held_only_as_a_whole_token():
    assert holds_all("- E4 - The drum motor overheated.", ("E4",))
    assert not holds_all("E40 and SE4 and E1", ("E4",))
    assert holds_all("Version 4.1.2.", ("4.1.2",)) and not holds_all("4.1.23 and 4.2.1", ("4.1.2",))


def test_bm25_alone_cannot_tell_versions_apart():
    """Why the exact-token check exists: BM25's tokenizer keeps tokens of two or more word
    characters, so a dotted version leaves no term at all, and `E4` is just one more term."""
    assert tokenize(["4.1.2", "4.2.1"]) == [[], []]
    assert tokenize(["E4"]) == [["e4"]]


@pytest.fixture(scope="module")
def engine(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("codes")
    docs = write_docs(root / "docs", {"drybox.md": MANUAL, "changelog.md": CHANGELOG, "fan.txt": FAN})
    return Engine.open(Settings(docs=(docs,), index_dir=root / "index"))


@pytest.mark.parametrize("question,phrase", [
    ("My dryer shows E4, what is wrong?", "E4 - The drum motor overheated"),
    ("What does error E2 mean?", "E2 - The lint filter is blocked"),
    ("Which bug did version 4.1.2 fix?", "shared notebook"),
    ("Why was 4.2.1 pulled?", "deleted drafts"),
    ("What does SHELFWISE_BACKUP_KEEP set?", "number of nightly backups"),
    ("My fan shows fault F7, what should I do?", "thermostat cable"),
    ("What is fault F1 on the fan?", "fan blade is blocked"),
])
def test_the_passage_and_sentence_holding_the_exact_code_come_first(engine, question, phrase):
    best = engine.ask(question).best
    assert phrase in best.text
    assert phrase in best.highlights[0].text
