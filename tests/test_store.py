"""Index integrity: a killed build never damages the live index, damage is detected by
checksums and repaired by a rebuild, builds never interleave, readers never see half an
index. Real model, real indexes on disk."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, TINY_DOCS, write_docs
from qa import store
import qa.store.folder
import qa.store.index
import qa.store.manifest
from qa.config import Settings
from qa.documents import load_collection
from qa.engine import Engine, open_index
from qa.errors import IndexFormatError
from qa.store import POINTER, build_index, current_build, load_index, save_index

QUESTIONS = ["How many moons does Mars have?", "What guards the sheep?", "milk"]


def answers(engine: Engine) -> list[dict]:
    """Everything an answer says (but the folder name, which differs between test copies)."""
    out = []
    for mode in ("hybrid", "bm25"):
        for answer in engine.ask_batch(QUESTIONS, k=3, mode=mode):
            data = answer.to_dict()
            del data["collection"]
            out.append(data)
    return out


def collections_of(settings: Settings):
    return [load_collection(folder) for folder in settings.docs]


def builds(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.glob("build-*") if p.is_dir())


def debris(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.name.startswith((".build-", f".{POINTER}.")))


@pytest.fixture(scope="module")
def template(tmp_path_factory, embedder):
    """The tiny collection indexed once for this module, and its answers."""
    root = tmp_path_factory.mktemp("store-template")
    settings = Settings(docs=(write_docs(root / "docs", TINY_DOCS),), index_dir=root / "index")
    index, report = open_index(settings, embedder, collections_of(settings))
    assert report is not None
    return root, answers(Engine(settings, index, embedder, report))


@pytest.fixture
def built(template, tmp_path, embedder):
    """A fresh copy of the template index (over the template's documents, which these
    tests leave alone), its engine and its answers."""
    root, before = template
    shutil.copytree(root / "index", tmp_path / "index", symlinks=True)
    settings = Settings(docs=(root / "docs",), index_dir=tmp_path / "index")
    index = load_index(settings.index_dir)
    assert index is not None
    return settings, Engine(settings, index, embedder), before


@pytest.fixture
def fresh(tiny_settings, embedder):
    """A tiny index over its own documents (for tests that change them), and its answers."""
    index, report = open_index(tiny_settings, embedder, collections_of(tiny_settings))
    assert report is not None
    engine = Engine(tiny_settings, index, embedder, report)
    return tiny_settings, engine, answers(engine)


def reopen(settings: Settings, embedder) -> tuple[Engine, object]:
    index, report = open_index(settings, embedder, collections_of(settings))
    return Engine(settings, index, embedder, report), report


# --- a real kill -9 -------------------------------------------------------------------------


def synthetic_docs(count: int) -> dict[str, str]:
    """Distinct paragraphs, so embedding them takes a few seconds."""
    subjects = ["The engineer", "A farmer", "The river", "Our committee", "The old train", "A small bird"]
    verbs = ["inspected", "painted", "measured", "described", "repaired", "counted"]
    objects = ["the northern bridge", "forty barrels", "the copper roof", "seven lanterns", "a wooden fence"]
    docs = {}
    for i in range(count):
        s, v, o = subjects[i % 6], verbs[(i // 6) % 6], objects[(i // 36) % 5]
        docs[f"bulk/report_{i:04d}.txt"] = (
            f"Report {i}\n\n{s} {v} {o} on day {i}. It took {i % 17 + 2} hours and cost {i * 13 % 997} coins. "
            f"Witness number {i * 7 % 101} signed the record of event {i}.\n"
        )
    return docs


@pytest.mark.slow
def test_kill_9_during_a_build_leaves_the_previous_index_answering_the_same(fresh, embedder):
    settings, engine, before = fresh
    index_dir = Path(settings.index_dir)
    live = current_build(index_dir)
    docs = settings.docs[0]
    write_docs(docs, synthetic_docs(400))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa", "build", "--docs", str(docs), "--index", str(index_dir)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    seen = bytearray()

    def drain() -> None:
        for block in iter(lambda: proc.stderr.read1(4096), b""):
            seen.extend(block)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    deadline = time.monotonic() + 90
    while b"building index in" not in seen:
        assert proc.poll() is None, f"build ended before it could be killed: {bytes(seen)!r}"
        assert time.monotonic() < deadline, "build never started"
        time.sleep(0.05)
    time.sleep(1.0)  # well into embedding 400 passages and their sentences
    assert proc.poll() is None, "the build finished too early to test a kill"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    reader.join(timeout=5)
    assert proc.returncode == -signal.SIGKILL

    assert current_build(index_dir) == live
    survivor = load_index(index_dir)  # verifies every checksum
    assert survivor is not None
    assert answers(Engine(settings, survivor, embedder)) == before

    # The next build clears whatever the killed one left behind.
    shutil.rmtree(docs / "bulk")
    write_docs(docs, {"new.txt": "Venus is the hottest planet, hotter than Mercury.\n"})
    engine2, report = reopen(settings, embedder)
    assert report is not None and report.added == (f"{docs}::new.txt",) and len(report.unchanged) == 2
    assert debris(index_dir) == []
    assert engine2.ask("Which planet is the hottest?", k=1).best.source == "new.txt"


# --- dying at every step of a save ------------------------------------------------------------


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs (cleanup is disabled too)."""


SAVE_STEPS = [
    ("write_database", 1), ("np.save", 1), ("np.save", 5), ("lexical.save", 1),
    ("_sha256_file", 3), ("_fsync_tree", 1), ("os.rename", 1), ("os.replace", 1), ("_fsync_dir", 1),
    ("_remove_old_builds", 1),
]


@pytest.fixture(scope="module")
def other_index(tmp_path_factory, embedder):
    """A second, different index to save over the template one."""
    docs = write_docs(tmp_path_factory.mktemp("other") / "docs", {
        **TINY_DOCS, "new.txt": "Venus is the hottest planet, hotter than Mercury.\n",
    })
    settings = Settings(docs=(docs,), index_dir=docs.parent / "index")
    return build_index(collections_of(settings), embedder, settings)[0]


@pytest.mark.parametrize("step", SAVE_STEPS, ids=[f"{n}#{c}" for n, c in SAVE_STEPS])
def test_dying_at_any_step_of_a_save_keeps_a_loadable_index(built, other_index, embedder, monkeypatch, step):
    settings, engine, before = built
    index_dir = Path(settings.index_dir)
    old_build = current_build(index_dir)
    calls: dict[str, int] = {}

    def dying(name, func):
        def wrapper(*args, **kwargs):
            calls[name] = calls.get(name, 0) + 1
            if (name, calls[name]) == step:
                raise Killed(name)
            return func(*args, **kwargs)

        return wrapper

    targets = {
        "write_database": (store.index, "write_database"), "np.save": (np, "save"), "lexical.save": (type(other_index.lexical), "save"),
        "_sha256_file": (store.manifest, "_sha256_file"), "_fsync_tree": (store.folder, "_fsync_tree"),
        "os.rename": (os, "rename"), "os.replace": (os, "replace"), "_fsync_dir": (store.folder, "_fsync_dir"),
        "_remove_old_builds": (store.folder, "_remove_old_builds"),
    }
    manifest = dict(other_index.manifest)
    with monkeypatch.context() as patch:
        for name, (owner, attr) in targets.items():
            patch.setattr(owner, attr, dying(name, getattr(owner, attr)))
        patch.setattr(shutil, "rmtree", lambda *a, **k: None)  # a killed process cleans nothing
        with pytest.raises(Killed):
            save_index(other_index, index_dir)
    other_index.manifest = manifest

    survivor = load_index(index_dir)  # verifies every checksum
    assert survivor is not None
    switched = step in {("_fsync_dir", 1), ("_remove_old_builds", 1)}  # CURRENT was already replaced
    assert (current_build(index_dir) != old_build) == switched
    if switched:
        assert survivor.chunks == other_index.chunks
    else:
        assert survivor.chunks == engine.index.chunks
        assert answers(Engine(settings, survivor, embedder)) == before
    if not switched:
        assert debris(index_dir), "the simulated kill left debris behind"

    # The next save (under the build lock) completes and clears the debris.
    save_index(other_index, index_dir)
    assert debris(index_dir) == []
    assert load_index(index_dir).chunks == other_index.chunks
    assert len(builds(index_dir)) <= 3


# --- damage on disk ---------------------------------------------------------------------------

BUILD_FILES = [
    "manifest.json", "passages.sqlite", "passages.npy", "sentences.npy", "sentence_start.npy", "chunk_doc.npy",
    "flags.npy", "bm25/data.csc.index.npy", "bm25/indices.csc.index.npy", "bm25/indptr.csc.index.npy",
    "bm25/params.index.json", "bm25/vocab.index.json",
]


def test_build_files_are_the_ones_the_damage_tests_cover(built):
    settings, _, _ = built
    build = current_build(Path(settings.index_dir))
    found = sorted(p.relative_to(build).as_posix() for p in build.rglob("*") if p.is_file())
    assert found == sorted(BUILD_FILES)
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(manifest["files"]) == sorted(f for f in BUILD_FILES if f != "manifest.json")


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _delete(path: Path) -> None:
    path.unlink()


@pytest.mark.parametrize("damage", [_empty, _delete], ids=["emptied", "deleted"])
@pytest.mark.parametrize("name", BUILD_FILES)
def test_damaged_build_file_is_detected(built, name, damage):
    settings, _, _ = built
    damage(current_build(Path(settings.index_dir)) / name)
    with pytest.raises(IndexFormatError, match="damaged|corrupted|unreadable"):
        load_index(Path(settings.index_dir))


@pytest.mark.parametrize("name", BUILD_FILES)
def test_a_flipped_bit_in_any_file_is_caught_by_verify(built, name):
    """Loading checks sizes only (it must stay fast at a million passages); `qa verify`
    reads every byte against the build's checksums."""
    settings, _, _ = built
    build = current_build(Path(settings.index_dir))
    assert store.verify_build(build) == []
    _flip(build / name)
    problems = store.verify_build(build)
    assert len(problems) == 1 and ("manifest" in problems[0] if name == "manifest.json" else name in problems[0])


@pytest.mark.parametrize("name", BUILD_FILES)
def test_truncated_build_file_is_detected_and_rebuilt(built, embedder, caplog, name):
    settings, _, before = built
    index_dir = Path(settings.index_dir)
    _truncate(current_build(index_dir) / name)
    with pytest.raises(IndexFormatError):
        load_index(index_dir)
    with caplog.at_level(logging.WARNING, logger="qa"):
        engine, report = reopen(settings, embedder)
    assert report is not None, "a damaged index is rebuilt"
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("damaged" in w and "rebuilding" in w and name.split("/")[-1] in w for w in warnings), warnings
    assert answers(engine) == before
    assert load_index(index_dir) is not None


def test_edited_manifest_fails_its_own_checksum(built):
    settings, _, _ = built
    path = current_build(Path(settings.index_dir)) / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["counts"]["passages"] += 1  # still valid JSON, now lying
    path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexFormatError, match="manifest .* corrupted"):
        load_index(Path(settings.index_dir))


@pytest.mark.parametrize(
    "pointer",
    [b"", b"\xff\xfe\x00garbage", b"build-does-not-exist\n", b"../../etc\n", b".hidden\n", "folder"],
    ids=["empty", "binary", "missing-build", "escape", "hidden", "a-folder"],
)
def test_damaged_current_pointer_is_detected_and_rebuilt(built, embedder, caplog, pointer):
    settings, _, before = built
    index_dir = Path(settings.index_dir)
    target = index_dir / POINTER
    target.unlink()
    if pointer == "folder":
        target.mkdir()
    else:
        target.write_bytes(pointer)
    with pytest.raises(IndexFormatError, match="CURRENT"):
        load_index(index_dir)
    if pointer == "folder":
        target.rmdir()  # a folder in CURRENT's place cannot be replaced atomically: the user must remove it
        target.write_bytes(b"nothing")
    with caplog.at_level(logging.WARNING, logger="qa"):
        engine, report = reopen(settings, embedder)
    assert report is not None
    assert any("CURRENT" in r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
    assert answers(engine) == before


def test_index_from_another_format_version_is_rebuilt(built, embedder):
    settings, _, before = built
    index_dir = Path(settings.index_dir)
    path = current_build(index_dir) / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["format_version"] = 1
    del manifest["manifest_sha256"]
    path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexFormatError, match="format 1 is not"):
        load_index(index_dir)
    engine, report = reopen(settings, embedder)
    assert report is not None and answers(engine) == before


# --- concurrency ----------------------------------------------------------------------------


def test_two_builds_at_once_do_not_interleave(tiny_settings, embedder, monkeypatch):
    """Two threads (each with its own lock handle, so the OS lock decides) open a missing
    index at the same moment: one builds, the other waits and uses that build."""
    active, overlaps = [0], []
    real_build = store.build_index

    def slow_build(*args, **kwargs):
        active[0] += 1
        overlaps.append(active[0])
        try:
            time.sleep(0.5)
            return real_build(*args, **kwargs)
        finally:
            active[0] -= 1

    monkeypatch.setattr("qa.opening.build_index", slow_build)
    barrier = threading.Barrier(2)
    results: list = [None, None]
    errors: list = []

    def worker(i: int) -> None:
        try:
            collections = collections_of(tiny_settings)
            barrier.wait()
            results[i] = open_index(tiny_settings, embedder, collections)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert overlaps == [1], "exactly one build ran, never two at once"
    reports = [r[1] for r in results]
    assert sum(r is not None for r in reports) == 1
    assert len(builds(Path(tiny_settings.index_dir))) == 1
    texts = [[c.text for c in r[0].chunks] for r in results]
    assert texts[0] == texts[1]
    assert load_index(Path(tiny_settings.index_dir)) is not None


def test_a_reader_never_sees_a_half_written_index(tiny_settings, embedder):
    index_dir = Path(tiny_settings.index_dir)
    first, _ = build_index(collections_of(tiny_settings), embedder, tiny_settings)
    write_docs(tiny_settings.docs[0], {"extra.txt": "Comets have icy tails that point away from the Sun.\n"})
    second, _ = build_index(collections_of(tiny_settings), embedder, tiny_settings)
    save_index(first, index_dir)
    expected = {len(first.chunks), len(second.chunks)}
    assert len(expected) == 2
    stop = threading.Event()
    failures: list = []
    loads = [0]

    def reader() -> None:
        while not stop.is_set():
            try:
                index = load_index(index_dir)
                assert index is not None and len(index.chunks) in expected
                assert len(index.passage_vectors) == len(index.chunks)
                loads[0] += 1
            except BaseException as exc:
                failures.append(exc)
                return

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for i in range(12):
        save_index(second if i % 2 == 0 else first, index_dir)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert not failures, failures[0]
    assert loads[0] >= 2
    assert len(builds(index_dir)) == 2  # the live build and the one before it


class CountingEmbedder:
    """The real model, counting the texts a build sends it."""

    def __init__(self, embedder) -> None:
        self.inner = embedder
        self.name, self.dimension, self.max_tokens = embedder.name, embedder.dimension, embedder.max_tokens
        self.encoded: list[str] = []

    def encode_queries(self, texts):
        return self.inner.encode_queries(texts)

    def encode_documents(self, texts, progress=False):
        self.encoded.extend(texts)
        return self.inner.encode_documents(texts, progress)

    def count_tokens(self, text):
        return self.inner.count_tokens(text)


def test_a_changed_document_re_embeds_only_its_changed_paragraph(fresh, embedder):
    settings, engine, _ = fresh
    docs = settings.docs[0]
    text = (docs / "space.txt").read_text()
    (docs / "space.txt").write_text(text + "\nSaturn has bright rings of ice and rock.\n")
    counting = CountingEmbedder(embedder)
    index, report = build_index(collections_of(settings), counting, settings, previous=engine.index)
    assert counting.encoded == ["Saturn has bright rings of ice and rock."]
    assert report.passages_embedded == 1
    full, _ = build_index(collections_of(settings), embedder, settings)
    np.testing.assert_allclose(index.passage_vectors, full.passage_vectors, atol=1e-5)
    np.testing.assert_allclose(index.sentence_vectors, full.sentence_vectors, atol=1e-5)


def test_a_build_from_before_a_flag_serves_and_is_rebuilt_without_re_embedding(built, embedder):
    """A build whose flags lack the reason column (made before it was added) still loads and
    serves (every passage counts as holding a reason: nothing is preferred), and is rebuilt
    from its own vectors."""
    from dataclasses import replace

    from qa.answer_types import AnswerType
    from qa.store.arrays import FLAG_COLUMNS

    settings, engine, _ = built
    new = engine.index
    older_columns = [c for c in FLAG_COLUMNS if c != AnswerType.REASON.value]
    keep = [FLAG_COLUMNS.index(c) for c in older_columns]
    manifest = {**new.manifest, "store": {**new.manifest["store"], "flags": older_columns}}
    older = replace(new, arrays=replace(new.arrays, flags=np.asarray(new.arrays.flags)[:, keep]), manifest=manifest)
    rows = np.arange(new.passages)
    assert older.arrays.consistent(len(older.documents), len(older_columns))
    assert older.holds(AnswerType.REASON, rows).all()
    np.testing.assert_array_equal(older.holds(AnswerType.DATE, rows), new.holds(AnswerType.DATE, rows))
    assert store.stale_reason(manifest, embedder, settings, None) == "passage flags changed"
    counting = CountingEmbedder(embedder)
    index, report = build_index(collections_of(settings), counting, settings, previous=older)
    assert counting.encoded == [] and report.passages_embedded == 0
    np.testing.assert_array_equal(index.arrays.flags, new.arrays.flags)


def test_flags_of_an_older_meaning_are_stale_and_rebuilt_without_re_embedding(built, embedder):
    """A build recorded before the flags' patterns last changed (no `flags_version`: 1) is
    rebuilt from its own vectors with flags of today's meaning."""
    settings, engine, _ = built
    new = engine.index
    manifest = {**new.manifest, "store": {k: v for k, v in new.manifest["store"].items() if k != "flags_version"}}
    assert store.stale_reason(new.manifest, embedder, settings, None) is None
    assert store.stale_reason(manifest, embedder, settings, None) == "passage flags changed"
    counting = CountingEmbedder(embedder)
    index, report = build_index(collections_of(settings), counting, settings, previous=new)
    assert counting.encoded == [] and report.passages_embedded == 0
    assert index.manifest["store"]["flags_version"] == store.arrays.FLAGS_VERSION


def test_a_new_chunker_version_re_embeds_only_texts_that_changed(fresh, embedder, monkeypatch):
    settings, engine, _ = fresh
    monkeypatch.setattr(store.manifest, "CHUNKER_VERSION", store.manifest.CHUNKER_VERSION + 1)
    assert store.stale_reason(engine.index.manifest, embedder, settings, None) == "chunking settings changed"
    counting = CountingEmbedder(embedder)
    index, report = build_index(collections_of(settings), counting, settings, previous=engine.index)
    assert counting.encoded == [] and report.passages_embedded == 0
    np.testing.assert_array_equal(index.passage_vectors, engine.index.passage_vectors)
