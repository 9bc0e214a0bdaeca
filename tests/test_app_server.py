"""`python app.py`, the command a user runs: it binds to the loopback address unless told
otherwise, answers over HTTP, and Gradio's file route serves nothing of the repository, the
index or the documents. It listens before its index is built, keeps answering on the old index
while a build runs in the background, and a build is cancelled through the API."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from qa.server import app_process, free_port
from tests.conftest import TINY_DOCS, ledger_text, write_docs

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

MARS = "How many moons does Mars have?"
BIG = 4000  # paragraphs: minutes of embedding here, so the build is surely running when watched
DEADLINE = 300.0


def listening_addresses(port: int) -> set[str]:
    """The local IPv4/IPv6 addresses with a socket listening on `port`, from /proc/net."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if int(port_hex, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                if width == 8:
                    found.add(socket.inet_ntop(socket.AF_INET, bytes.fromhex(address)[::-1]))
                else:
                    words = b"".join(bytes.fromhex(address[i:i + 8])[::-1] for i in range(0, 32, 8))
                    found.add(socket.inet_ntop(socket.AF_INET6, words))
    return found


def app_env(docs: Path, index: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_DOCS=str(docs), QA_INDEX_DIR=str(index), GRADIO_ANALYTICS_ENABLED="False")
    return env


def status_when(base: str, check, what: str) -> dict:
    """Poll GET /api/status (bounded) until `check(status)` holds; the status then."""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        status = httpx.get(base + "/api/status", timeout=30).json()
        if check(status):
            return status
        time.sleep(0.2)
    pytest.fail(f"{what} did not happen within {DEADLINE:.0f} s (last status {status})")


def embedding(status: dict) -> bool:
    return status["state"] == "building" and (status["progress"] or {}).get("passages_done", 0) > 0


@pytest.fixture(scope="module")
def app_server(tmp_path_factory):
    """`python app.py` with no --host, on a free port given by GRADIO_SERVER_PORT."""
    root = tmp_path_factory.mktemp("app")
    docs = write_docs(root / "docs", TINY_DOCS)
    port = free_port()
    env = app_env(docs, root / "index")
    with app_process(env=env, timeout=180, port=port) as base:
        yield base, port, root


def test_app_binds_to_loopback_only_by_default(app_server):
    _, port, _ = app_server
    assert listening_addresses(port) == {"127.0.0.1"}


def test_app_answers_over_http(app_server):
    base, _, _ = app_server
    reply = httpx.get(base + "/api/ask", params={"q": "How many moons does Mars have?", "k": 1}, timeout=60)
    assert reply.status_code == 200
    top = reply.json()["results"][0]
    assert top["source"] == "space.txt" and "Phobos" in top["text"]
    assert httpx.get(base + "/", timeout=30).status_code == 200  # the UI page


def _probes(root: Path) -> list[str]:
    index_files = sorted(str(p) for p in (root / "index").rglob("*") if p.is_file())
    assert index_files, "the index folder is empty"
    targets = [str(ROOT / "README.md"), str(ROOT / "app.py"), "app.py", "qa/config.py", "requirements.txt",
               str(root / "docs" / "space.txt"), *index_files[:3], "/etc/passwd"]
    paths = [f"/gradio_api/file={t}" for t in targets]
    paths += [f"/gradio_api/file={quote(t, safe='')}" for t in targets[:2]]  # encoded slashes
    paths += ["/gradio_api/file=../../../../etc/passwd", "/gradio_api/file=..%2F..%2F..%2Fetc%2Fpasswd",
              f"/file={ROOT / 'README.md'}", "/file=/etc/passwd", "/static/../README.md"]
    return paths


def test_gradio_file_route_serves_no_repository_index_or_document_file(app_server):
    base, _, root = app_server
    secrets = [(ROOT / "README.md").read_text(encoding="utf-8")[:40], "root:x:0:0", "Phobos", "import argparse"]
    for path in _probes(root):
        reply = httpx.get(base + path, timeout=30)
        assert reply.status_code in (400, 403, 404), f"{path} answered {reply.status_code}"
        assert not any(s in reply.text for s in secrets), f"{path} leaked file content"


def test_app_listens_before_its_index_is_built_and_says_indexing(tmp_path):
    docs = write_docs(tmp_path / "docs", {**TINY_DOCS, "ledger.md": ledger_text(BIG)})
    with app_process(env=app_env(docs, tmp_path / "index"), timeout=180, ready=False) as base:
        health = httpx.get(base + "/healthz", timeout=30)
        assert health.status_code == 200 and health.json()["ready"] is False
        status = status_when(base, embedding, "embedding at start-up")
        assert status["documents"] == 0 and status["progress"]["documents_total"] == 3
        assert status["progress"]["passages_total"] > BIG
        ask = httpx.get(base + "/api/ask", params={"q": MARS}, timeout=30)
        assert ask.status_code == 503 and ask.json()["error"].startswith("no index yet: indexing")
        assert ask.json()["state"] == "building" and ask.json()["progress"]["passages_total"] > BIG
        assert httpx.get(base + "/", timeout=30).status_code == 200  # the UI page is served meanwhile
        cancel = httpx.post(base + "/api/build/cancel", timeout=30).json()
        assert cancel["cancelled"] is True
        status_when(base, lambda s: s["state"] == "cancelled", "the cancel")
        again = httpx.get(base + "/api/ask", params={"q": MARS}, timeout=30)
        assert again.status_code == 503 and "cancelled" in again.json()["error"]
        assert httpx.get(base + "/healthz", timeout=30).json()["state"] == "cancelled"


def test_the_old_index_answers_while_an_upload_builds_and_cancel_deletes_the_upload(app_server):
    """Runs last in this module: it leaves the server's last build cancelled."""
    base, _, root = app_server
    files = {"files": ("ledger.md", ledger_text(BIG).encode(), "text/markdown")}
    added = httpx.post(base + "/api/documents", params={"wait": "false"}, files=files, timeout=60)
    assert added.status_code == 202 and added.json()["added"] == ["ledger.md"]
    assert (root / "uploads" / "ledger.md").exists()
    status = status_when(base, embedding, "embedding the upload")
    assert status["documents"] == 2 and status["progress"]["documents_total"] == 3
    health = httpx.get(base + "/healthz", timeout=30)
    assert health.status_code == 200 and health.json()["state"] == "building" and health.json()["ready"] is True
    reply = httpx.get(base + "/api/ask", params={"q": MARS, "k": 1}, timeout=60)
    assert reply.status_code == 200 and reply.json()["results"][0]["source"] == "space.txt"
    assert httpx.post(base + "/api/build/cancel", timeout=30).json()["cancelled"] is True
    status = status_when(base, lambda s: s["state"] == "cancelled", "the cancel")
    assert status["documents"] == 2 and status["progress"]["phase"] == "cancelled"
    assert not (root / "uploads" / "ledger.md").exists()
    assert sorted(d["source"] for d in httpx.get(base + "/api/documents", timeout=30).json()) == \
        ["animals.md", "space.txt"]
    assert httpx.get(base + "/api/ask", params={"q": MARS, "k": 1}, timeout=60).status_code == 200
