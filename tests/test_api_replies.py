"""What API clients see of the server: a stable collection name on every result, no path of
the server's file system in any reply, messages that name sources the API serves, and
server faults as logged 5xx replies (client mistakes stay 4xx)."""

from __future__ import annotations

import re
import shutil

import pytest
from fastapi.testclient import TestClient

from conftest import TINY_DOCS, write_docs
from qa.config import Settings
from qa.embedding import resolve_model_path
from qa.engine import Engine
from qa.server import create_app

QUESTION = "Which planet has two small moons?"
GARDEN = b"# Garden tips\n\nWater the tomatoes twice a week and mulch the beds before the first frost.\n"
OTHER_ANIMALS = b"# Wild animals\n\nThe red fox hunts voles along the hedges at dusk.\n"


@pytest.fixture
def served(tmp_path, embedder):
    docs = write_docs(tmp_path / "docs", TINY_DOCS)
    settings = Settings(docs=(docs,), index_dir=tmp_path / "index")
    with TestClient(create_app(Engine.open(settings), ui=False), raise_server_exceptions=False) as client:
        yield client, settings


def post(client, name: str, data: bytes):
    return client.post("/api/documents", files=[("files", (name, data, "text/markdown"))])


def assert_no_server_path(reply, *folders) -> None:
    for folder in folders:
        for spelling in {str(folder), str(folder.resolve())}:
            assert spelling not in reply.text, (reply.request.url, reply.text[:300])


def test_every_result_names_its_collection_by_folder_name(served):
    client, _ = served
    data = client.get("/api/ask", params={"q": QUESTION, "k": 4}).json()
    assert data["collection"] == "docs"
    assert data["results"] and all(r["collection"] == "docs" for r in data["results"])
    post(client, "garden-tips.md", GARDEN)
    data = client.get("/api/ask", params={"q": "When should the beds be mulched?", "k": 4}).json()
    assert data["collection"] == "docs, uploads"
    assert data["results"][0]["collection"] == "uploads"
    assert {r["collection"] for r in data["results"]} <= {"docs", "uploads"}


def test_no_reply_holds_the_servers_paths_and_lookup_takes_the_collection_name(served, tmp_path):
    client, _ = served
    replies = [post(client, "garden-tips.md", GARDEN), post(client, "animals.md", OTHER_ANIMALS),
               post(client, "again.md", GARDEN), post(client, "notes.exe", b"MZ")]
    assert [r.status_code for r in replies] == [200, 200, 200, 400]
    ambiguous = client.get("/api/documents/animals.md")
    assert ambiguous.status_code == 409 and ambiguous.json()["collections"] == ["docs", "uploads"]
    ours = client.get("/api/documents/animals.md", params={"collection": "uploads"})
    assert ours.status_code == 200 and "red fox" in ours.json()["text"] and ours.json()["collection"] == "uploads"
    assert client.get("/view/animals.md", params={"collection": "docs"}).status_code == 200
    replies += [
        ambiguous, ours,
        client.get("/api/ask", params={"q": "What does the fox hunt?", "k": 10}),
        client.get("/api/documents"),
        client.get("/api/documents/space.txt"),
        client.get("/api/documents/nope.txt", params={"collection": "docs"}),
        client.get("/healthz"),
        client.get("/api/ask", params={"q": "?!"}),
    ]
    assert [r.status_code for r in replies[4:]] == [409, 200, 200, 200, 200, 404, 200, 400]
    assert {d["collection"] for d in replies[7].json()} == {"docs", "uploads"}
    for reply in replies:
        assert_no_server_path(reply, tmp_path)


def test_duplicate_upload_names_a_source_the_api_serves(served):
    client, _ = served
    both = client.post("/api/documents", files=[("files", ("garden-tips.md", GARDEN, "text/markdown")),
                                                ("files", ("same-again.md", GARDEN, "text/markdown"))]).json()
    assert both["added"] == ["garden-tips.md"]
    reasons = [both["skipped"][0]["reason"]]
    for name, data in (("copy.md", GARDEN), ("farm.md", TINY_DOCS["animals.md"].encode())):
        reasons.append(post(client, name, data).json()["skipped"][0]["reason"])
    for reason, data in zip(reasons, (GARDEN, GARDEN, TINY_DOCS["animals.md"].encode())):
        source, collection = re.fullmatch(r"already indexed as (\S+) \(collection (\S+)\)", reason).groups()
        reply = client.get(f"/api/documents/{source}", params={"collection": collection})
        assert reply.status_code == 200, (reason, reply.text)
        assert reply.json()["text"].encode() == data


@pytest.mark.parametrize("folder", ["index", "uploads"])
def test_folder_that_cannot_be_written_is_a_logged_500(served, tmp_path, caplog, folder):
    client, settings = served
    blocked = settings.index_dir if folder == "index" else settings.uploads_folder
    shutil.rmtree(blocked, ignore_errors=True)
    blocked.write_text("a file where the folder should be", encoding="utf-8")
    with caplog.at_level("ERROR", logger="qa.api"):
        reply = post(client, "garden-tips.md", GARDEN)
    assert reply.status_code == 500
    assert set(reply.json()) == {"error"} and "cannot write its index or uploads folder" in reply.json()["error"]
    assert "Traceback" not in reply.text
    assert_no_server_path(reply, tmp_path)
    assert any(f"cannot write the {folder}" in r.getMessage() and str(blocked) in r.getMessage()
               for r in caplog.records), caplog.text
    assert client.get("/api/ask", params={"q": QUESTION}).status_code == 200, "questions are still answered"


def test_vanished_document_folder_is_a_logged_500(served, tmp_path, caplog):
    client, settings = served
    shutil.rmtree(settings.docs[0])
    with caplog.at_level("ERROR", logger="qa.api"):
        reply = post(client, "garden-tips.md", GARDEN)
    assert reply.status_code == 500 and set(reply.json()) == {"error"}
    assert_no_server_path(reply, tmp_path)
    assert any("does not exist" in r.getMessage() for r in caplog.records), caplog.text


def test_healthz_names_a_model_given_by_path_without_the_path(tmp_path, embedder):
    model = resolve_model_path("")
    docs = write_docs(tmp_path / "docs", TINY_DOCS)
    engine = Engine.open(Settings(docs=(docs,), index_dir=tmp_path / "index", model=model))
    with TestClient(create_app(engine, ui=False), raise_server_exceptions=False) as client:
        health = client.get("/healthz").json()
    assert health["model"] and model not in str(health) and "/" not in health["model"]
