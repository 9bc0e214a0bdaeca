"""Builds in the background: progress counts from the real build loop, cancel between
batches, uploads undone when their build is cancelled, and requests that coalesce while a
build runs. Real model, real index on disk; the engine keeps answering meanwhile."""

from __future__ import annotations

import threading
import time

import pytest

from conftest import TINY_DOCS, ledger_text, write_docs
from qa.config import Settings
from qa.engine import Engine, open_index, served_collections
from qa.errors import BuildCancelled, IndexNotReady
from qa.progress import BuildWatch
from qa.store import current_build

MARS = "How many moons does Mars have?"
BIG = 4000  # paragraphs: minutes of embedding on this machine, so a build is surely running when watched
DEADLINE = 300.0


def wait_until(check, what: str, deadline: float = DEADLINE):
    """Poll `check` (bounded) until it returns something true; fail saying `what` never happened."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"{what} did not happen within {deadline:.0f} s")


@pytest.fixture
def engine(tmp_path, embedder):
    docs = write_docs(tmp_path / "docs", TINY_DOCS)
    engine = Engine.open(Settings(docs=(docs,), index_dir=tmp_path / "index", uploads_dir=tmp_path / "uploads"))
    yield engine
    engine.indexer.cancel()  # no build outlives its test
    wait_until(lambda: not engine.build_status().building, "the last build's end")


def embedding(engine: Engine) -> bool:
    status = engine.build_status()
    return status.building and status.progress is not None and status.progress.passages_done > 0


def test_a_build_publishes_its_counts(tiny_settings, embedder):
    watch = BuildWatch()
    index, report = open_index(tiny_settings, embedder, served_collections(tiny_settings), progress=watch)
    p = watch.progress()
    assert (p.documents_done, p.documents_total) == (2, 2)
    assert p.passages_done == p.passages_total == len(index.chunks)
    assert p.share == 1.0 and p.error is None
    assert f"2 of 2 documents, {len(index.chunks)} of {len(index.chunks)} passages" in p.line()


def test_a_cancelled_build_writes_nothing(tiny_settings, embedder):
    watch = BuildWatch()
    watch.cancel()
    with pytest.raises(BuildCancelled):
        open_index(tiny_settings, embedder, served_collections(tiny_settings), progress=watch)
    assert current_build(tiny_settings.index_dir) is None


def test_an_upload_whose_build_is_cancelled_is_deleted_and_the_old_index_answers(engine, tmp_path):
    before = [d.source for d in engine.documents()]
    report = engine.add_documents([("ledger.md", ledger_text(BIG).encode())], wait=False)
    assert report.indexing and report.added == ("ledger.md",)
    assert (tmp_path / "uploads" / "ledger.md").exists()
    wait_until(lambda: embedding(engine), "embedding the upload")
    # The old index answers while the build runs.
    assert engine.ask(MARS, 1).results[0].source == "space.txt"
    status = engine.build_status()
    assert status.documents == 2 and status.progress.passages_total > status.progress.passages_done
    assert engine.indexer.cancel() is True
    final = wait_until(lambda: (s := engine.build_status()).state != "building" and s, "the cancel")
    assert final.state == "cancelled" and final.progress.phase == "cancelled"
    assert not (tmp_path / "uploads" / "ledger.md").exists()
    assert [d.source for d in engine.documents()] == before
    assert engine.ask(MARS, 1).results[0].source == "space.txt"


def test_a_removal_whose_build_is_cancelled_stays_served(engine, tmp_path):
    """Removing waits for its build; cancelled, the document is served again and its file is back."""
    assert engine.add_documents([("lanterns.md", b"# Lanterns\n\nThe festival counted 4,812 lanterns.\n")]).added
    engine.add_documents([("ledger.md", ledger_text(BIG).encode())], wait=False)
    outcome: dict[str, object] = {}

    def remove() -> None:
        try:
            engine.remove_document("lanterns.md")
        except BuildCancelled as exc:
            outcome["error"] = exc

    remover = threading.Thread(target=remove)
    remover.start()
    wait_until(lambda: engine.build_status().queued, "the removal queued behind the running build")
    assert engine.indexer.cancel() is True  # stops the running build and drops the queued one
    remover.join(DEADLINE)
    assert "still served" in str(outcome["error"])
    wait_until(lambda: engine.build_status().state == "cancelled", "the running build's stop")
    assert (tmp_path / "uploads" / "lanterns.md").exists() and not (tmp_path / "uploads" / "ledger.md").exists()
    assert sorted(d.source for d in engine.documents()) == ["animals.md", "lanterns.md", "space.txt"]


def test_requests_made_during_a_build_coalesce_into_one_follow_up_build(engine):
    engine.add_documents([("ledger.md", ledger_text(200).encode())], wait=False)
    wait_until(lambda: engine.build_status().building, "the first build")
    reports = {}

    def add(name: str, text: str) -> None:
        reports[name] = engine.add_documents([(name, text.encode())])

    threads = [threading.Thread(target=add, args=("owls.md", "# Owls\n\nBarn owls hunt voles at dusk.\n")),
               threading.Thread(target=add, args=("bees.md", "# Bees\n\nHoney bees dance to show food.\n"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DEADLINE)
    owls, bees = reports["owls.md"], reports["bees.md"]
    assert owls.build is bees.build  # one follow-up build served both requests
    # each is added by that build, or already by the running one when it landed just as that
    # build read the folder; either way the follow-up build serves both
    served = {key.rsplit("::", 1)[1] for key in (*owls.build.added, *owls.build.unchanged)}
    assert served >= {"owls.md", "bees.md"}
    assert {"owls.md", "bees.md", "ledger.md"} <= {d.source for d in engine.documents()}
    assert engine.build_status().state == "idle"


def test_an_engine_that_is_starting_says_indexing_and_then_answers(tiny_settings, embedder):
    engine = Engine.starting(tiny_settings)
    with pytest.raises(IndexNotReady, match="no index"):
        engine.ask(MARS)
    assert engine.documents() == [] and engine.status().documents == 0
    ticket = engine.indexer.request()
    assert ticket.wait(DEADLINE).state == "idle"
    assert engine.ready and engine.ask(MARS, 1).results[0].source == "space.txt"
    assert engine.build_status().state == "idle" and engine.build_status().documents == 2
