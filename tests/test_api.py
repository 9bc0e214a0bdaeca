"""The JSON HTTP API: the /api/ask contract, 4xx JSON errors, documents, the viewer, health,
and one live server answering over real HTTP (httpx and gradio_client)."""

from __future__ import annotations

import concurrent.futures
import re
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from qa.pages import render_document_page
from qa.server import create_app, serving

QUESTION = "Where was the European Cybercrime Forum held?"
SOURCE = "000_a17f7510e5746d01.txt"


@pytest.fixture(scope="module")
def client(seeds_engine):
    with TestClient(create_app(seeds_engine, ui=False), raise_server_exceptions=False) as c:
        yield c


def test_ask_returns_exactly_the_engine_contract(client, seeds_engine):
    reply = client.get("/api/ask", params={"q": QUESTION, "k": 3, "mode": "hybrid"})
    assert reply.status_code == 200
    data = reply.json()
    assert data == seeds_engine.ask(QUESTION, 3, "hybrid").to_dict()
    assert data["answerable"] is True and len(data["results"]) == 3
    assert "Budapest" in data["results"][0]["highlights"][0]["text"]
    assert data["results"][0]["source"] == SOURCE


def test_ask_defaults(client, seeds_engine):
    data = client.get("/api/ask", params={"q": QUESTION}).json()
    assert data == seeds_engine.ask(QUESTION).to_dict()
    assert len(data["results"]) == seeds_engine.settings.k


@pytest.mark.parametrize("mode", ["dense", "bm25"])
def test_ask_modes(client, seeds_engine, mode):
    data = client.get("/api/ask", params={"q": QUESTION, "k": 2, "mode": mode}).json()
    assert data == seeds_engine.ask(QUESTION, 2, mode).to_dict()


def test_unanswerable_question(client):
    data = client.get("/api/ask", params={"q": "Who won the 2010 FIFA World Cup?"}).json()
    assert data["answerable"] is False and data["results"]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?q=",
        "?q=%20%20",
        "?q=%00%01",
        "?q=?!",
        f"?q={QUESTION}&k=0",
        f"?q={QUESTION}&k=101",
        f"?q={QUESTION}&k=-3",
        f"?q={QUESTION}&k=abc",
        f"?q={QUESTION}&k=2.5",
        f"?q={QUESTION}&k=1e9",
        f"?q={QUESTION}&mode=fuzzy",
    ],
)
def test_bad_parameters_are_4xx_json(client, query):
    reply = client.get("/api/ask" + query)
    assert 400 <= reply.status_code < 500, reply.text
    body = reply.json()
    assert set(body) == {"error"} and body["error"] and "Traceback" not in body["error"]


def test_mode_is_case_insensitive(client, seeds_engine):
    reply = client.get(f"/api/ask?q={QUESTION}&mode=HYBRID")
    assert reply.status_code == 200
    assert reply.json() == seeds_engine.ask(QUESTION, mode="hybrid").to_dict()


def test_bad_viewer_range_is_json_4xx(client):
    reply = client.get(f"/view/{SOURCE}", params={"start": "x"})
    assert reply.status_code == 422 and "error" in reply.json()


def test_documents_list(client, seeds_engine):
    docs = client.get("/api/documents").json()
    assert [d["source"] for d in docs] == [d.source for d in seeds_engine.documents()]
    first = docs[0]
    assert first["source"] == SOURCE and first["title"].startswith("Secretary Napolitano")
    assert first["paragraphs"] == sum(1 for c in seeds_engine.index.chunks if c.source == SOURCE)
    assert sum(d["paragraphs"] for d in docs) == len(seeds_engine.index.chunks)


def test_document_text(client, seeds_engine):
    reply = client.get(f"/api/documents/{SOURCE}")
    assert reply.status_code == 200
    assert reply.json()["text"] == seeds_engine.document(SOURCE).text


@pytest.mark.parametrize(
    "path",
    [
        "../../etc/passwd",
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "%2Fetc%2Fpasswd",
        "/etc/passwd",
        "..%5C..%5Cwindows%5Cwin.ini",
        f"..%2Fseeds%2F{SOURCE}",
        f"%2e%2F{SOURCE}",
        "nope.txt",
        "%00",
    ],
)
def test_document_traversal_is_404(client, path):
    for prefix in ("/api/documents/", "/view/"):
        reply = client.get(prefix + path)
        assert reply.status_code == 404, (prefix + path, reply.text)
        assert "root:" not in reply.text
        if reply.request.url.path.startswith("/view/"):  # ("../.." leaves /view/ before it is sent)
            assert reply.headers["content-type"].startswith("text/html")
        else:
            assert "error" in reply.json()


def test_viewer_404_is_a_page_and_the_api_404_is_json(client):
    page = client.get("/view/nope.txt")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "<!doctype html>" in page.text and "No indexed document is called “nope.txt”" in page.text
    assert 'href="/"' in page.text and '{"error"' not in page.text
    api = client.get("/api/documents/nope.txt")
    assert api.status_code == 404 and api.json()["error"].startswith("no indexed document 'nope.txt'")


def test_healthz(client, seeds_engine):
    data = client.get("/healthz").json()
    assert data["status"] == "ok" and data["documents"] == len(seeds_engine.documents())


def test_status_of_an_index_that_is_up_to_date(client, seeds_engine):
    status = client.get("/api/status").json()
    assert status["state"] in ("idle", "cancelled", "failed") and status["queued"] is False
    assert status["documents"] == len(seeds_engine.documents()) and status["passages"] == len(seeds_engine.index.chunks)
    health = client.get("/healthz").json()
    assert health["ready"] is True and health["state"] == status["state"]


def test_cancel_with_no_build_running_says_so(tiny_settings, embedder):
    from qa.engine import Engine

    with TestClient(create_app(Engine.open(tiny_settings), ui=False)) as c:
        reply = c.post("/api/build/cancel")
        assert reply.status_code == 200 and reply.json()["cancelled"] is False and reply.json()["state"] == "idle"
        build = c.post("/api/build")  # the folders are unchanged: a build that finds nothing to do
        assert build.status_code == 202
        end = time.monotonic() + 120
        while c.get("/api/status").json()["state"] == "building" and time.monotonic() < end:
            time.sleep(0.1)
        status = c.get("/api/status").json()
        assert status["state"] == "idle" and status["progress"]["phase"] == "done" and status["documents"] == 2


def test_openapi_docs(client):
    assert client.get("/docs").status_code == 200
    assert "/api/ask" in client.get("/openapi.json").json()["paths"]


def test_view_page_marks_the_passage(client, seeds_engine):
    r = seeds_engine.ask(QUESTION, 1).results[0]
    h = r.highlights[0]
    page = client.get(f"/view/{SOURCE}", params={"start": r.start, "end": r.end, "hs": r.start + h.start,
                                                 "he": r.start + h.end})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    at = page.text.index('<mark id="passage">')
    assert '<mark class="sentence">This past April, I was in Budapest' in page.text[at:at + 200]
    assert '<script src="/qa-static/document.js">' in page.text
    assert "scrollIntoView" in client.get("/qa-static/document.js").text


def test_document_page_escapes_everything():
    text = "Intro. <script>alert(1)</script> middle <img src=x onerror=alert(1)> end."
    start = text.index("<script>")
    page = render_document_page("<b>T</b>", "<x>.txt", text, start, start + 25)
    body = page[page.index("<body>"):]
    assert body.count("<script") == 1  # only the page's own scroll script
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<img" not in body
    assert '<mark id="passage">&lt;script&gt;alert(1)&lt;/script&gt;</mark>' in body
    assert "&lt;b&gt;T&lt;/b&gt;" in page and "&lt;x&gt;.txt" in body
    # out-of-range or missing ranges show the plain document
    for start, end in ((None, None), (5, 2), (0, len(text) + 1), (-1, 3)):
        assert 'id="passage"' not in render_document_page("T", "s", text, start, end)


def test_concurrent_requests(client, seeds_engine):
    questions = [QUESTION, "Who won the 2010 FIFA World Cup?", "In how many countries does DHS have personnel stationed?"]
    expected = {q: seeds_engine.ask(q, 2).to_dict() for q in questions}
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda q: (q, client.get("/api/ask", params={"q": q, "k": 2}).json()), questions * 3))
    for q, data in replies:
        assert data == expected[q]


@pytest.mark.slow
def test_live_server_over_http(seeds_engine):
    """The whole app (API + Gradio UI) on a real socket, asked with httpx and gradio_client."""
    from gradio_client import Client

    with serving(create_app(seeds_engine)) as base:
        with httpx.Client(base_url=base, timeout=60) as http:
            data = http.get("/api/ask", params={"q": QUESTION, "k": 3}).json()
            assert data == seeds_engine.ask(QUESTION, 3).to_dict()
            assert http.get("/api/ask", params={"q": ""}).status_code == 400
            assert http.get("/healthz").json()["status"] == "ok"
            home = http.get("/")
            assert home.status_code == 200 and "gradio" in home.text.lower()
        client = Client(base + "/", verbose=False)
        out = client.predict(QUESTION, 3, "hybrid", api_name="/ask")
        assert "Budapest" in re.search(r'<mark class="qa-answer-mark">(.*?)</mark>', out).group(1)
