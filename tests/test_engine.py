"""The engine end to end on real indexes: contract, exact citations, rebuild on change."""

import json
from pathlib import Path

import pytest

from qa.config import Settings
from qa.engine import Engine
from qa.errors import BadQueryError
from qa.store import current_build, load_index, read_manifest
from tests.conftest import SEEDS, write_docs

CONTRACT_KEYS = {"question", "collection", "answerable", "confidence", "results"}
RESULT_KEYS = {"rank", "score", "source", "title", "paragraph", "start", "end", "text", "highlights", "collection"}


def file_text(folder: Path, source: str) -> str:
    with open(folder / source, encoding="utf-8", newline="") as handle:
        return handle.read()


def test_countries_question_ranks_the_75_countries_paragraph_first(seeds_engine):
    answer = seeds_engine.ask("In how many countries does DHS have personnel stationed?")
    best = answer.best
    assert answer.answerable
    assert "75 different countries" in best.text
    assert "75 different countries" in best.highlights[0].text
    assert best.source == "000_a17f7510e5746d01.txt"


def test_contract_shape_and_every_citation_slices_its_file(seeds_engine):
    data = seeds_engine.ask("Where was the European Cybercrime Forum held?", k=7).to_dict()
    assert CONTRACT_KEYS <= data.keys()
    assert data["collection"] == "seeds"
    assert len(data["results"]) == 7
    json.dumps(data)  # serialisable as is
    for i, r in enumerate(data["results"], start=1):
        assert set(r) == RESULT_KEYS | ({"answer"} if i == 1 else set())  # the answer itself: top result only
        assert r["rank"] == i and r["paragraph"] >= 1
        assert file_text(SEEDS, r["source"])[r["start"] : r["end"]] == r["text"]
        assert r["highlights"]
        for h in r["highlights"]:
            assert r["text"][h["start"] : h["end"]] == h["text"]
    scores = [r["score"] for r in data["results"]]
    assert scores == sorted(scores, reverse=True)
    assert "Budapest" in data["results"][0]["highlights"][0]["text"]
    assert data["results"][0]["answer"] == {"start": 26, "end": 34, "text": "Budapest"}


def test_titles_are_the_documents_headings_not_site_chrome(seeds_engine):
    titles = {d.source: d.title for d in seeds_engine.documents()}
    assert titles["000_a17f7510e5746d01.txt"].startswith("Secretary Napolitano's Remarks on")
    assert titles["001_1363d811a53ca45a.txt"] == (
        "Strong International Partnerships -- Securing our Communities and our Economies"
    )


@pytest.mark.parametrize("question", ["What is the population of Tokyo?", "Who won the 2010 FIFA World Cup?"])
def test_off_topic_questions_are_flagged_but_still_show_passages(seeds_engine, question):
    answer = seeds_engine.ask(question)
    assert answer.answerable is False
    assert len(answer.results) == 5


def test_modes_and_k(seeds_engine):
    for mode in ("dense", "bm25", "hybrid"):
        answer = seeds_engine.ask("Which chemical made up most of the seizures?", k=3, mode=mode)
        assert len(answer.results) == 3
        assert "ammonium nitrate" in answer.best.text
    with pytest.raises(BadQueryError):
        seeds_engine.ask("anything", mode="fuzzy")
    with pytest.raises(BadQueryError):
        seeds_engine.ask("anything", k=0)


def test_batch_answers_equal_single_answers(seeds_engine):
    questions = ["Which chemical made up most of the seizures?", "Who welcomed the Secretary?"]
    batch = seeds_engine.ask_batch(questions)
    single = [seeds_engine.ask(q) for q in questions]
    assert [a.to_dict() for a in batch] == [a.to_dict() for a in single]


def test_index_is_reused_then_rebuilt_when_a_document_changes(tiny_settings, tiny_docs, embedder, caplog):
    first = Engine.open(tiny_settings)
    assert first.build_report is not None and len(first.build_report.added) == 2
    again = Engine.open(tiny_settings)
    assert again.build_report is None  # loaded, not rebuilt
    assert again.ask("How many moons does Mars have?").to_dict() == first.ask("How many moons does Mars have?").to_dict()

    (tiny_docs / "space.txt").write_text("Saturn has beautiful rings made of ice and rock.\n", encoding="utf-8")
    write_docs(tiny_docs, {"new.txt": "Volcanoes erupt molten lava from deep inside the earth.\n"})
    with caplog.at_level("INFO", logger="qa"):
        updated = Engine.open(tiny_settings)
    assert "documents changed (1 added, 1 changed, 0 removed)" in caplog.text
    report = updated.build_report
    assert report.changed == (f"{tiny_docs}::space.txt",) and report.added == (f"{tiny_docs}::new.txt",)
    assert report.unchanged == (f"{tiny_docs}::animals.md",)
    assert "rings" in updated.ask("What are Saturn's rings made of?").best.text
    manifest = read_manifest(tiny_settings.index_dir)
    assert {d["source"] for d in manifest["documents"]} == {"animals.md", "space.txt", "new.txt"}


def test_incremental_update_answers_like_a_full_rebuild(tiny_settings, tiny_docs, tmp_path, embedder):
    Engine.open(tiny_settings)
    (tiny_docs / "space.txt").write_text("Saturn has beautiful rings made of ice and rock.\n", encoding="utf-8")
    incremental = Engine.open(tiny_settings)
    full = Engine.open(tiny_settings.replace(index_dir=tmp_path / "fresh"))
    for q in ("What are Saturn's rings made of?", "What does the farm dog do?"):
        a, b = incremental.ask(q).to_dict(), full.ask(q).to_dict()
        assert a == b


def test_changed_settings_trigger_a_rebuild(tiny_settings, embedder, caplog):
    Engine.open(tiny_settings)
    with caplog.at_level("INFO", logger="qa"):
        engine = Engine.open(tiny_settings.replace(max_chunk_tokens=128))
    assert "chunking settings changed" in caplog.text
    assert engine.build_report is not None
    assert read_manifest(tiny_settings.index_dir)["settings"]["max_chunk_tokens"] == 128


def test_the_manifest_records_model_settings_and_hashes(tiny_settings, embedder):
    engine = Engine.open(tiny_settings)
    manifest = read_manifest(tiny_settings.index_dir)
    assert manifest["model"] == engine.embedder.name and manifest["dimension"] == 384
    assert manifest["settings"] == tiny_settings.index_settings()
    assert all(len(d["sha256"]) == 64 for d in manifest["documents"])
    build = current_build(tiny_settings.index_dir)
    assert {"passages.sqlite", "passages.npy", "sentences.npy", "flags.npy"} <= set(manifest["files"])
    assert all(len(f["sha256"]) == 64 and f["bytes"] > 0 for f in manifest["files"].values())
    assert len(load_index(tiny_settings.index_dir).passage_vectors) == len(engine.index.chunks)
    assert build.name.startswith("build-")


def test_several_collection_folders_are_served_together(tmp_path, embedder):
    a = write_docs(tmp_path / "a", {"x.txt": "Cows give milk every morning on the farm.\n"})
    b = write_docs(tmp_path / "b", {"x.txt": "Jupiter is the largest planet in the solar system.\n"})
    engine = Engine.open(Settings(docs=(a, b), index_dir=tmp_path / "index"))
    best = engine.ask("Which planet is the largest?").best
    assert best.collection == "b" and best.source == "x.txt"
    assert len(engine.documents()) == 2
