"""Removing documents: an upload is deleted with its file, a served folder's document is
excluded (file kept, recorded beside the index) until the same content is added again; no
answer cites a removed document. Real model, real index on disk, the real API."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from conftest import TINY_DOCS, write_docs
from qa.config import Settings
from qa.engine import Engine

LANTERNS = ("lanterns.md", b"# Lantern survey\n\nThe Quillmoor lantern festival counted 4,812 paper lanterns "
            b"on the river this autumn.\n")
LANTERN_QUESTION = "How many paper lanterns did the Quillmoor festival count?"
MARS_QUESTION = "How many moons does Mars have?"


@pytest.fixture
def served(tmp_path, embedder):
    from qa.server import create_app

    docs = write_docs(tmp_path / "docs", TINY_DOCS)
    engine = Engine.open(Settings(docs=(docs,), index_dir=tmp_path / "index", uploads_dir=tmp_path / "uploads"))
    with TestClient(create_app(engine, ui=False), raise_server_exceptions=False) as client:
        yield engine, client, docs, tmp_path


def cited(engine: Engine, question: str) -> set[str]:
    return {r.source for r in engine.ask(question, 10).results}


def test_delete_an_upload_removes_it_and_its_file(served):
    engine, client, _, tmp = served
    assert client.post("/api/documents", files={"files": LANTERNS}).status_code == 200
    assert "lanterns.md" in cited(engine, LANTERN_QUESTION)
    reply = client.delete("/api/documents/lanterns.md")
    assert reply.status_code == 200
    assert reply.json() == {"removed": "lanterns.md", "collection": "uploads", "file": "deleted",
                            "documents": 2}
    assert str(tmp) not in reply.text  # no reply names a folder of the server
    assert not (tmp / "uploads" / "lanterns.md").exists()
    assert "lanterns.md" not in cited(engine, LANTERN_QUESTION)
    assert client.get("/api/documents/lanterns.md").status_code == 404


def test_delete_a_served_document_excludes_it_and_keeps_the_file(served, embedder):
    engine, client, docs, tmp = served
    assert "space.txt" in cited(engine, MARS_QUESTION)
    reply = client.delete("/api/documents/space.txt")
    assert reply.status_code == 200 and reply.json()["file"] == "kept"
    assert reply.json()["collection"] == docs.name and str(tmp) not in reply.text
    assert (docs / "space.txt").exists()
    assert "space.txt" not in cited(engine, MARS_QUESTION)
    assert [d["source"] for d in client.get("/api/documents").json()] == ["animals.md"]
    recorded = json.loads((tmp / "index" / "excluded.json").read_text(encoding="utf-8"))
    assert [(r["collection"], r["source"]) for r in recorded] == [(str(docs), "space.txt")]
    # A restart keeps it out.
    reopened = Engine.open(engine.settings)
    assert "space.txt" not in cited(reopened, MARS_QUESTION)
    # Adding the same file again brings it back, from its own folder (no copy in uploads).
    again = client.post("/api/documents", files={"files": ("space.txt", (docs / "space.txt").read_bytes())})
    assert again.status_code == 200 and again.json()["added"] == ["space.txt"]
    assert "space.txt" in cited(engine, MARS_QUESTION)
    assert not (tmp / "uploads" / "space.txt").exists()
    assert json.loads((tmp / "index" / "excluded.json").read_text(encoding="utf-8")) == []


def test_delete_unknown_is_404_json(served):
    _, client, _, _ = served
    reply = client.delete("/api/documents/nope.txt")
    assert reply.status_code == 404 and "no indexed document" in reply.json()["error"]


def test_a_damaged_exclusion_file_says_what_to_do(tmp_path, embedder):
    from qa.errors import QAError

    docs = write_docs(tmp_path / "docs", TINY_DOCS)
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "excluded.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(QAError, match="excluded.json is damaged .*delete it"):
        Engine.open(Settings(docs=(docs,), index_dir=tmp_path / "index"))
