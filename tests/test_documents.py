"""Bad documents during a build: each is skipped (or decoded) with a reason, and one bad
file never stops the others. Real files on disk, the real model for the builds."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from qa.config import Settings
from qa.documents import MAX_FILE_BYTES, decode_text, load_collection, max_file_bytes
from qa.engine import Engine, open_index
from qa.errors import CollectionError

from conftest import write_docs

GOOD = "# Harbour notes\n\nThe ferry leaves the harbour at seven and returns before noon every day.\n"
OTHER = "Lighthouse log\n\nThe lighthouse keeper lights the lamp at dusk and writes the weather in the log.\n"


def skipped_reasons(collection) -> dict[str, str]:
    return {s.path: s.reason for s in collection.skipped}


def sources(collection) -> list[str]:
    return [d.source for d in collection.documents]


@pytest.fixture
def folder(tmp_path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.md").write_text(GOOD, encoding="utf-8")
    return docs


def test_empty_and_whitespace_only_files_are_skipped(folder):
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.txt").write_text("  \n\n\t \r\n \u3000\n", encoding="utf-8")
    col = load_collection(folder)
    assert sources(col) == ["good.md"]
    assert skipped_reasons(col) == {"blank.txt": "empty or whitespace only", "empty.txt": "empty or whitespace only"}


@pytest.mark.parametrize(
    "raw, expected, warning",
    [
        ("Café crème “quoted” – 50€".encode("cp1252"), "Café crème “quoted” – 50€", "Windows-1252"),
        # 0x81 is undefined in Windows-1252: Latin-1 decodes anything.
        (b"caf\xe9 \x81 na\xefve", "caf\xe9 \x81 na\xefve", "Latin-1"),
    ],
    ids=["cp1252", "latin-1"],
)
def test_decode_fallbacks(raw, expected, warning):
    text, note = decode_text(raw)
    assert text == expected
    assert note is not None and warning in note


def test_utf8_and_utf16_decode_without_warning():
    assert decode_text("naïve ☃".encode("utf-8")) == ("naïve ☃", None)
    assert decode_text("Notepad ☃ text\r\n".encode("utf-16")) == ("Notepad ☃ text\r\n", None)


def test_not_utf8_file_is_indexed_with_a_warning(folder):
    (folder / "latin.txt").write_bytes("Le café crème est servi à la gare chaque matin à huit heures.\n".encode("cp1252"))
    col = load_collection(folder)
    doc = {d.source: d for d in col.documents}["latin.txt"]
    assert "café crème" in doc.text
    assert col.warnings == ("latin.txt: not UTF-8; decoded as Windows-1252",)
    assert not col.skipped


def test_utf16_file_from_windows_is_indexed(folder):
    (folder / "u16.txt").write_bytes("Saturn has rings of ice and rock.\r\n".encode("utf-16"))
    col = load_collection(folder)
    assert {d.source: d.text for d in col.documents}["u16.txt"] == "Saturn has rings of ice and rock.\r\n"


@pytest.mark.parametrize(
    "payload",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,  # NUL bytes
        bytes([1, 2, 3, 4, 5, 6, 7, 8, 11, 14, 15, 16]) * 200 + b"some text",  # control characters, no NUL
    ],
    ids=["png", "controls"],
)
def test_binary_file_with_txt_extension_is_skipped(folder, payload):
    (folder / "image.txt").write_bytes(payload)
    col = load_collection(folder)
    assert sources(col) == ["good.md"]
    assert skipped_reasons(col) == {"image.txt": "binary content in a text file"}


def test_file_over_the_size_limit_is_skipped_with_a_clear_message(folder, monkeypatch):
    (folder / "big.txt").write_text("word " * 5000, encoding="utf-8")  # 25 kB
    col = load_collection(folder, max_bytes=10_000)
    reason = skipped_reasons(col)["big.txt"]
    assert "limit" in reason and "QA_MAX_FILE_MB" in reason
    monkeypatch.setenv("QA_MAX_FILE_MB", "0.01")
    assert max_file_bytes() == 10485
    assert "big.txt" in skipped_reasons(load_collection(folder))
    monkeypatch.delenv("QA_MAX_FILE_MB")
    assert max_file_bytes() == MAX_FILE_BYTES
    assert "big.txt" in sources(load_collection(folder))


def test_bad_max_file_setting_is_a_clear_error(monkeypatch, folder):
    monkeypatch.setenv("QA_MAX_FILE_MB", "lots")
    with pytest.raises(CollectionError, match="QA_MAX_FILE_MB"):
        load_collection(folder)


def test_unreadable_file_is_skipped_and_the_rest_still_load(folder, monkeypatch):
    # Tests run as root, where chmod 000 does not stop reads: make open() refuse instead.
    (folder / "secret.txt").write_text(OTHER, encoding="utf-8")
    (folder / "z_after.txt").write_text(OTHER.replace("lighthouse", "windmill"), encoding="utf-8")
    real_open = open

    def refusing_open(file, *args, **kwargs):
        if str(file).endswith("secret.txt"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refusing_open)
    col = load_collection(folder)
    assert sources(col) == ["good.md", "z_after.txt"]
    assert skipped_reasons(col) == {"secret.txt": "Permission denied"}


def test_unreadable_subfolder_is_reported(folder, monkeypatch):
    sub = folder / "private"
    sub.mkdir()
    (sub / "hidden.txt").write_text(OTHER, encoding="utf-8")
    real_scandir = os.scandir

    def refusing_scandir(path="."):
        if str(path).endswith("private"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", refusing_scandir)
    col = load_collection(folder)
    assert sources(col) == ["good.md"]
    assert skipped_reasons(col) == {"private/": "folder cannot be read (Permission denied)"}


def test_symlink_loops_and_broken_links_are_skipped(folder):
    (folder / "loop1.txt").symlink_to("loop2.txt")
    (folder / "loop2.txt").symlink_to("loop1.txt")
    (folder / "self.txt").symlink_to("self.txt")
    (folder / "broken.txt").symlink_to("missing.txt")
    (folder / "sub").mkdir()
    (folder / "sub" / "up").symlink_to("..", target_is_directory=True)  # a folder loop
    col = load_collection(folder)
    assert sources(col) == ["good.md"]
    assert skipped_reasons(col) == {
        "broken.txt": "broken symlink",
        "loop1.txt": "symlink loop",
        "loop2.txt": "symlink loop",
        "self.txt": "symlink loop",
        "sub/up/": "symlinked folder not followed",
    }


def test_symlink_to_a_file_outside_the_collection_is_refused(folder, tmp_path):
    outside = tmp_path / "private.txt"
    outside.write_text("The vault code is 4321 and must never be shown to anyone at all.\n", encoding="utf-8")
    (folder / "innocent.txt").symlink_to(outside)
    (folder / "escape").symlink_to(tmp_path, target_is_directory=True)
    col = load_collection(folder)
    assert sources(col) == ["good.md"]
    assert skipped_reasons(col)["innocent.txt"] == "symlink points outside the collection; refused"
    assert skipped_reasons(col)["escape/"] == "symlinked folder not followed"
    assert all("vault" not in d.text for d in col.documents)


def test_fifo_is_skipped_instead_of_blocking_the_build(folder):
    os.mkfifo(folder / "pipe.txt")
    col = load_collection(folder)
    assert skipped_reasons(col) == {"pipe.txt": "not a regular file"}


def test_duplicate_files_are_indexed_once_under_the_first_path(folder):
    (folder / "zz copy.md").write_text(GOOD, encoding="utf-8")
    (folder / "sub").mkdir()
    (folder / "sub" / "again.md").write_text(GOOD, encoding="utf-8")
    (folder / "link.md").symlink_to("good.md")
    col = load_collection(folder)
    assert sources(col) == ["good.md"]  # the first path in sorted order (files before subfolders)
    assert skipped_reasons(col) == {
        "zz copy.md": "duplicate of good.md",
        "link.md": "duplicate of good.md",
        "sub/again.md": "duplicate of good.md",
    }


def test_file_name_that_is_not_utf8_is_indexed(folder):
    raw_name = os.fsencode(folder) + b"/r\xe9sum\xe9.txt"
    with open(raw_name, "wb") as handle:
        handle.write(OTHER.encode("utf-8"))
    col = load_collection(folder)
    assert "résumé.txt" in sources(col)


def test_folder_with_only_bad_files_says_why(tmp_path):
    docs = tmp_path / "bad"
    docs.mkdir()
    (docs / "empty.txt").write_bytes(b"")
    (docs / "bin.txt").write_bytes(b"\x00\x01\x02")
    with pytest.raises(CollectionError, match=r"no usable .* \(2 skipped: bin.txt: binary .*empty.txt: empty"):
        load_collection(docs)
    with pytest.raises(CollectionError, match="does not exist"):
        load_collection(tmp_path / "nowhere")


def test_build_with_every_kind_of_bad_file_reports_them_all(folder, tmp_path, embedder):
    """One build over a folder with every problem: the good files are indexed and
    answerable; the report lists each skipped file with its reason."""
    (folder / "other.txt").write_text(OTHER, encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "latin.txt").write_bytes("Le café crème est servi à la gare chaque matin.\n".encode("cp1252"))
    (folder / "bin.txt").write_bytes(b"\x00" * 100)
    (folder / "zz-dup.md").write_text(GOOD, encoding="utf-8")
    (folder / "loop.txt").symlink_to("loop.txt")
    (tmp_path / "outside.txt").write_text("Outside secrets that must not be indexed here.\n", encoding="utf-8")
    (folder / "out.txt").symlink_to(tmp_path / "outside.txt")
    settings = Settings(docs=(folder,), index_dir=tmp_path / "index")
    index, report = open_index(settings, embedder, [load_collection(folder)])
    assert report is not None
    assert sorted(report.added) == sorted(f"{folder}::{s}" for s in ["good.md", "latin.txt", "other.txt"])
    assert sorted(s.split(": ")[0].rsplit("/", 1)[1] for s in report.skipped) == [
        "bin.txt", "empty.txt", "loop.txt", "out.txt", "zz-dup.md"
    ]
    assert report.warnings == (f"{folder}/latin.txt: not UTF-8; decoded as Windows-1252",)
    assert index.manifest["skipped"] == list(report.skipped)
    engine = Engine(settings, index, embedder, report)
    best = engine.ask("When does the lighthouse keeper light the lamp?", k=1).best
    assert best.source == "other.txt"
    assert engine.ask("Where is the coffee served?", k=1).best.source == "latin.txt"
    assert all("secrets" not in c.text for c in index.chunks)


def _peak_rss_mb() -> int:
    return int(re.search(r"VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text()).group(1)) // 1024


def _rss_mb() -> int:
    return int(re.search(r"VmRSS:\s+(\d+) kB", Path("/proc/self/status").read_text()).group(1)) // 1024


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux peak-RSS reset")
def test_50_megabyte_file_is_indexed_in_bounded_memory(tmp_path, embedder):
    """A 50 MB file made of a few repeated paragraphs: read, chunked and indexed with a
    peak memory of a few times the file size, because passages are streamed and a
    repeated passage is embedded and stored once. Without that the build would hold
    ~500,000 passages (and embed them for hours)."""
    paragraphs = [
        "The quarterly maintenance report lists every pump that was inspected and who signed it off.",
        "Ventilation filters in the east wing were replaced in March. Two ducts need cleaning soon.",
        "Short notes",
        "Safety drills happen twice a year. Everyone gathers in the north car park until the all-clear.",
        "The archive room keeps paper records for seven years before an approved company shreds them.",
    ]
    block = "\n\n".join(paragraphs) + "\n\n"
    docs = tmp_path / "big"
    docs.mkdir()
    size = 50 * 1024 * 1024
    with open(docs / "big.txt", "w", encoding="utf-8") as handle:
        handle.write(block * (size // len(block) + 1))
    settings = Settings(docs=(docs,), index_dir=tmp_path / "index")
    Path("/proc/self/clear_refs").write_text("5")  # reset this process's peak RSS
    before = _rss_mb()
    index, report = open_index(settings, embedder, [load_collection(docs)])
    peak = _peak_rss_mb() - before
    assert report.passages_embedded == len(paragraphs)
    assert report.repeated > 400_000
    assert len(index.chunks) == len(paragraphs)
    assert peak < 300, f"build took {peak} MB over its starting RSS for a 50 MB file"
    answer = Engine(settings, index, embedder, report).ask("How long are paper records kept?", k=1)
    assert answer.best.text == paragraphs[4]
    assert len(index.document_text(0)) > size  # read from the store: memory holds no document text


def test_collection_of_only_stop_words_and_punctuation_builds_and_answers(tmp_path, embedder):
    """bm25s cannot index a corpus without a single term; the build must not crash."""
    docs = write_docs(tmp_path / "docs", {"hamlet.txt": "To be, or not to be.\n", "dots.txt": "... !!! ???\n"})
    settings = Settings(docs=(docs,), index_dir=tmp_path / "index")
    engine = Engine.open(settings)
    assert engine.build_report is not None and len(engine.index.documents) == 2
    for mode in ("hybrid", "dense", "bm25"):
        answer = engine.ask("to be or not", k=2, mode=mode)
        assert {r.source for r in answer.results} == {"hamlet.txt", "dots.txt"}
    assert Engine.open(settings).build_report is None  # and it loads back


def test_a_renamed_file_keeps_its_vectors(tmp_path, embedder):
    """Vectors are reused by content hash too: renaming a file, or moving it to a subfolder,
    re-embeds nothing, and the index answers as a fresh build does."""
    from qa.config import Settings
    from qa.engine import Engine

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "mars.txt").write_text("Mars has two small moons, Phobos and Deimos.\n\nIts day lasts 24.6 hours.\n")
    (docs / "cows.txt").write_text("Cows give milk every morning and graze in the meadow.\n")
    settings = Settings(docs=(docs,), index_dir=tmp_path / "index")
    Engine.open(settings)
    (docs / "planets").mkdir()
    (docs / "mars.txt").rename(docs / "planets" / "red-planet.txt")
    moved = Engine.open(settings)
    report = moved.build_report
    assert report.added == (f"{docs}::planets/red-planet.txt",) and report.removed == (f"{docs}::mars.txt",)
    assert report.passages_embedded == 0
    fresh = Engine.open(settings.replace(index_dir=tmp_path / "fresh"))
    question = "How many moons does Mars have?"
    assert moved.ask(question).to_dict() == fresh.ask(question).to_dict()
    assert moved.ask(question).best.source == "planets/red-planet.txt"
