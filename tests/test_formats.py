"""Documents in every supported format: Markdown with headings, an HTML page with menus and
a footer, a two-page PDF made here with fpdf2, plain text. Questions about each cite the
right document, paragraph and (PDF) page, with offsets into the text the document endpoint
serves; uploads through the API; several collections. Real model, real indexes on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import write_docs
from qa.chunking import chunk_document, heading_spans
from qa.config import Settings
from qa.documents import Document, load_collection
from qa.engine import Engine
from qa.server import create_app

MARKDOWN = """# Greenhouse handbook

This handbook explains how the community greenhouse on Alder Street is run by its volunteers.

## Watering

### Tomatoes

Water them deeply twice a week in the early morning, and never wet the leaves.

### Orchids

Mist the aerial roots every second day with rain water kept at room temperature.

## Pests

Aphids are washed off with a gentle spray of soapy water before the plants flower.

```bash
# this comment is code, not a heading
greenhouse-log --pests aphids
```
"""

HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ferry timetable changes | Port of Lindholm</title></head>
<body>
<header><nav><ul>
<li><a href="/">Home</a></li><li><a href="/about">About the harbour board</a></li>
<li><a href="/contact">Contact the port office</a></li><li><a href="/webcams">Live webcams</a></li>
</ul></nav></header>
<div class="cookie-banner" id="cookie-consent">We use cookies to improve your browsing experience.
Accept all cookies or manage your preferences.</div>
<main><article>
<h1>Ferry timetable changes for winter</h1>
<p>From the first of November, the morning ferry to Sandvik leaves at 7:15 instead of 6:45, because the
harbour crew now starts its shift later in winter.</p>
<p>The evening crossing on Sundays is cancelled until March. Passengers can take the bus that connects
with the Brekke ferry instead, which runs every two hours.</p>
<p>Season tickets bought before October remain valid on all crossings, and refunds for cancelled Sunday
trips are paid at the ticket office.</p>
</article></main>
<footer><p>Copyright 2024 Port of Lindholm. All rights reserved.</p>
<ul><li><a href="/privacy">Privacy policy</a></li><li><a href="/jobs">Careers at the harbour</a></li></ul></footer>
</body></html>
"""
HTML_CHROME = ("About the harbour board", "Contact the port office", "Live webcams", "cookies", "Copyright 2024",
               "Privacy policy", "Careers at the harbour")

TEXT = """Bakery notes

The sourdough starter is fed with rye flour every evening at nine and kept in the cellar.

Croissant dough rests in the fridge for twelve hours before it is folded with butter.
"""

PDF_PAGES = (
    ("Annual report of the Harbour Authority",
     "The dredging programme removed forty thousand cubic metres of silt from the northern basin during the "
     "spring, so that larger ferries can now dock at low tide.",
     "Pilots guided ships into port on every day of the year, and no accident was reported."),
    ("Lighthouse",
     "The keeper of the Skarv lighthouse replaced the old lamp with an LED lantern that is visible for "
     "twenty-two nautical miles in clear weather.",),
)


def make_pdf(pages=PDF_PAGES) -> bytes:
    """A real PDF, one paragraph per multi_cell, a blank gap between paragraphs."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for paragraphs in pages:
        pdf.add_page()
        for text in paragraphs:
            pdf.multi_cell(0, 7, text)
            pdf.ln(5)
    return bytes(pdf.output())


def make_mixed(folder: Path) -> Path:
    write_docs(folder, {"garden/handbook.md": MARKDOWN, "port/ferry.html": HTML, "bakery.txt": TEXT})
    (folder / "report.pdf").write_bytes(make_pdf())
    (folder / "minutes.docx").write_bytes(b"PK\x03\x04 not really a word file")
    return folder


# question, source, a phrase of the cited passage, its paragraph number, its page
CASES = [
    ("How often should tomatoes be watered?", "garden/handbook.md", "twice a week", 2, None),
    ("When does the morning ferry to Sandvik leave in winter?", "port/ferry.html", "7:15", 1, None),
    ("How long does croissant dough rest in the fridge?", "bakery.txt", "twelve hours", 3, None),
    ("How much silt did the dredging programme remove?", "report.pdf", "forty thousand cubic metres", 2, 1),
    ("How far is the LED lantern of the lighthouse visible?", "report.pdf", "twenty-two nautical miles", 5, 2),
]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("formats")
    docs = make_mixed(root / "docs")
    engine = Engine.open(Settings(docs=(docs,), index_dir=root / "index"))
    with TestClient(create_app(engine, ui=False), raise_server_exceptions=False) as client:
        yield docs, engine, client


def test_a_folder_mixing_the_formats_is_indexed(mixed):
    docs, engine, _ = mixed
    formats = {d.source: d.format for d in engine.documents()}
    assert formats == {"garden/handbook.md": "markdown", "port/ferry.html": "html", "bakery.txt": "text",
                       "report.pdf": "pdf"}
    assert f"{docs}/minutes.docx: unsupported format .docx" in engine.build_report.skipped
    by_source = {d.source: d for d in engine.documents()}
    assert by_source["port/ferry.html"].title == "Ferry timetable changes for winter"
    assert by_source["garden/handbook.md"].title == "Greenhouse handbook"
    # text and Markdown are their own text (read from the store: `documents()` hold no texts)
    assert engine.document("garden/handbook.md").text == MARKDOWN
    assert len(by_source["report.pdf"].pages) == 2


@pytest.mark.parametrize("question,source,phrase,paragraph,page", CASES, ids=[c[1] + ":" + c[2] for c in CASES])
def test_questions_cite_document_paragraph_page_and_offsets_into_the_served_text(
        mixed, question, source, phrase, paragraph, page):
    _, engine, client = mixed
    data = client.get("/api/ask", params={"q": question, "k": 3}).json()
    best = data["results"][0]
    assert best["source"] == source and phrase in best["text"]
    assert best["paragraph"] == paragraph
    assert best.get("page") == page  # present for the PDF only
    assert ("page" in best) == (page is not None)
    served = client.get(f"/api/documents/{source}").json()
    assert served["text"][best["start"]:best["end"]] == best["text"]
    for h in best["highlights"]:
        assert best["text"][h["start"]:h["end"]] == h["text"]
    assert phrase in best["highlights"][0]["text"]
    assert data["answerable"] is True


def test_pdf_citation_shows_the_page_in_the_ui_and_cli(mixed):
    from qa.cli import format_answer
    from qa.ui import render_answer

    _, engine, _ = mixed
    answer = engine.ask(CASES[4][0], k=1)
    assert "p. 2" in render_answer(answer) and "report.pdf ¶5 p. 2" in format_answer(answer, color=False)


def test_document_endpoint_serves_extracted_text_format_and_pages(mixed):
    _, engine, client = mixed
    pdf = client.get("/api/documents/report.pdf").json()
    assert pdf["format"] == "pdf" and pdf["pages"][0] == 0 and len(pdf["pages"]) == 2
    second = pdf["text"][pdf["pages"][1]:]
    assert second.startswith("Lighthouse") and "twenty-two nautical miles" in second
    assert "twenty-two" not in pdf["text"][:pdf["pages"][1]]
    # Wrapped PDF lines are joined back into one paragraph.
    assert "The dredging programme removed forty thousand cubic metres of silt from the northern basin" in pdf["text"]
    html = client.get("/api/documents/port/ferry.html").json()
    assert html["format"] == "html" and html["pages"] == []
    assert "morning ferry to Sandvik" in html["text"]
    view = client.get("/view/report.pdf", params={"start": 0, "end": 10})
    assert view.status_code == 200 and "<mark id=\"passage\">" in view.text


def test_html_menus_footer_and_cookie_banner_are_dropped(mixed):
    _, engine, _ = mixed
    text = engine.document("port/ferry.html").text
    for chrome in HTML_CHROME:
        assert chrome not in text
    answer = engine.ask("Where can I find careers at the harbour and the privacy policy?", k=5)
    assert all(chrome not in r.text for r in answer.results for chrome in HTML_CHROME)


def test_markdown_headings_are_context_not_results(mixed):
    _, engine, _ = mixed
    doc = engine.document("garden/handbook.md")
    headings = [doc.text[s:e] for s, e in heading_spans(doc.text)]
    assert headings == ["# Greenhouse handbook", "## Watering", "### Tomatoes", "### Orchids", "## Pests"]
    for question in ("Greenhouse handbook watering", "Orchids", "Pests", "Tomatoes"):
        for r in engine.ask(question, k=10).results:
            assert not any(line.lstrip().startswith(("# ", "## ", "### ")) for line in r.text.splitlines()
                           if not line.startswith("# this comment")), r.text
    chunks = {c.text.split("\n")[0]: c for c in chunk_document(doc)}
    tomato = next(c for t, c in chunks.items() if t.startswith("Water them deeply"))
    assert tomato.context == "Greenhouse handbook › Watering › Tomatoes"
    code = next(c for t, c in chunks.items() if t.startswith("```"))
    assert "# this comment is code" in code.text and code.context == "Greenhouse handbook › Pests"
    # "tomatoes" is only in the heading: keyword search finds the passage through its context.
    best = engine.ask("tomatoes", k=1, mode="bm25").best
    assert best.source == "garden/handbook.md" and "twice a week" in best.text
    best = engine.ask("How should orchids be cared for?", k=1).best
    assert "aerial roots" in best.text


def test_markdown_passages_cover_everything_but_heading_lines():
    doc = Document("m.md", "c", "t", MARKDOWN, "0", "markdown")
    covered = [0] * len(MARKDOWN)
    for c in chunk_document(doc):
        assert MARKDOWN[c.start:c.end] == c.text
        for i in range(c.start, c.end):
            covered[i] += 1
    headings = {i for s, e in heading_spans(MARKDOWN) for i in range(s, e)}
    for i, ch in enumerate(MARKDOWN):
        if not ch.isspace():
            assert covered[i] == (0 if i in headings else 1), (i, MARKDOWN[max(0, i - 20):i + 20])


def test_unreadable_and_textless_pdfs_are_skipped_with_a_reason(tmp_path):
    from fpdf import FPDF

    docs = write_docs(tmp_path / "docs", {"ok.txt": TEXT})
    (docs / "broken.pdf").write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 50)
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")  # a "scan": marks on the page but no text
    (docs / "scan.pdf").write_bytes(bytes(pdf.output()))
    (docs / "empty.html").write_text("<html><head><title>Empty</title></head><body><script>var a = 1;</script>"
                                     "</body></html>", encoding="utf-8")
    (docs / "README").write_text("no extension", encoding="utf-8")
    reasons = {s.path: s.reason for s in load_collection(docs).skipped}
    assert reasons["broken.pdf"].startswith("unreadable PDF")
    assert reasons["scan.pdf"] == "no text (scanned PDF?)"
    assert reasons["empty.html"] == "no main text found in the HTML page"
    assert reasons["README"] == "unsupported format (no extension)"


def test_changing_one_file_among_mixed_formats_re_embeds_only_that_file(tmp_path, embedder):
    docs = make_mixed(tmp_path / "docs")
    settings = Settings(docs=(docs,), index_dir=tmp_path / "index")
    first = Engine.open(settings)
    assert len(first.build_report.added) == 4
    (docs / "report.pdf").write_bytes(make_pdf(PDF_PAGES[:1] + (
        ("Lighthouse", "The keeper of the Skarv lighthouse painted the tower red and white in August."),)))
    updated = Engine.open(settings)
    report = updated.build_report
    assert report.changed == (f"{docs}::report.pdf",) and report.added == () and report.removed == ()
    assert len(report.unchanged) == 3
    pdf_passages = sum(1 for c in updated.index.chunks if c.source == "report.pdf")
    # only the new page's paragraph is new text: the others keep their vectors
    assert report.passages_embedded == 1 < pdf_passages < len(updated.index.chunks)
    assert "1 changed" in report.summary() and "3 unchanged" in report.summary()
    full = Engine.open(settings.replace(index_dir=tmp_path / "full"))
    assert full.build_report.passages_embedded == len(full.index.chunks)
    for question in [c[0] for c in CASES] + ["What colour did the keeper paint the tower?"]:
        a, b = updated.ask(question).to_dict(), full.ask(question).to_dict()
        assert a == b
    assert updated.ask("What colour did the keeper paint the tower?").best.page == 2


# --- uploads ------------------------------------------------------------------------------------

UPLOAD = ("# Beekeeping log\n\nThe queen of hive seven was marked with a blue dot in April, and the colony "
          "produced eleven kilograms of heather honey.\n")


@pytest.fixture
def uploading(tmp_path, embedder):
    docs = write_docs(tmp_path / "docs", {"bakery.txt": TEXT})
    settings = Settings(docs=(docs,), index_dir=tmp_path / "index")
    engine = Engine.open(settings)
    with TestClient(create_app(engine, ui=False), raise_server_exceptions=False) as client:
        yield settings, engine, client


def post(client, *files):
    return client.post("/api/documents", files=[("files", f) for f in files])


def test_uploaded_document_answers_at_once_and_survives_a_restart(uploading, tmp_path):
    settings, engine, client = uploading
    reply = post(client, ("beekeeping.md", UPLOAD.encode(), "text/markdown"),
                 ("report.pdf", make_pdf(), "application/pdf"))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["added"] == ["beekeeping.md", "report.pdf"] and body["skipped"] == []
    assert "2 added" in body["summary"]
    uploads = settings.uploads_folder
    assert uploads == tmp_path / "uploads" and sorted(p.name for p in uploads.iterdir()) == ["beekeeping.md",
                                                                                            "report.pdf"]
    data = client.get("/api/ask", params={"q": "What colour was the queen of hive seven marked with?"}).json()
    best = data["results"][0]
    assert best["source"] == "beekeeping.md" and "blue dot" in best["text"]
    assert best["collection"] == "uploads"  # the uploads folder is one more collection, named by its folder
    served = client.get("/api/documents/beekeeping.md").json()
    assert served["collection"] == "uploads" and served["text"][best["start"]:best["end"]] == best["text"]
    assert engine.ask(CASES[4][0]).best.page == 2

    restarted = Engine.open(settings)
    assert restarted.build_report is None, "the uploads were indexed already: nothing to rebuild"
    assert restarted.ask("How much heather honey did the colony produce?").best.source == "beekeeping.md"

    again = post(client, ("copy.md", UPLOAD.encode(), "text/markdown"))
    assert again.status_code == 200 and again.json()["added"] == []
    assert "already indexed" in again.json()["skipped"][0]["reason"]
    assert sorted(p.name for p in uploads.iterdir()) == ["beekeeping.md", "report.pdf"]

    other = post(client, ("beekeeping.md", b"Hive two swarmed in June and settled in the old apple tree.\n",
                          "text/markdown"))
    assert other.json()["added"] == ["beekeeping-2.md"]


@pytest.mark.parametrize("name,data,status,reason", [
    ("notes.txt", None, 400, "the content is PDF"),
    ("notes.md", b"\x00\x01\x02\x03binary\x00\x00" * 20, 400, "binary content"),
    ("page.html", b"%PDF-1.4 pretending", 400, "the content is PDF"),
    ("tool.exe", b"MZ\x90\x00", 400, "unsupported format .exe"),
    ("notes.txt", b"   \n ", 400, "empty file"),
    ("big.txt", b"word " * 2000, 413, "upload limit"),
])
def test_bad_uploads_are_refused_with_a_reason(uploading, monkeypatch, name, data, status, reason):
    settings, engine, client = uploading
    monkeypatch.setenv("QA_MAX_UPLOAD_MB", "0.005")
    data = make_pdf() if data is None else data
    reply = post(client, (name, data, "text/plain"))
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert reason in body["error"] and reason in body["skipped"][0]["reason"]
    assert not settings.uploads_folder.exists() or list(settings.uploads_folder.iterdir()) == []
    assert len(engine.documents()) == 1


def test_upload_names_cannot_leave_the_uploads_folder(uploading, tmp_path):
    settings, engine, client = uploading
    before = sorted(p for p in tmp_path.rglob("*") if "uploads" not in p.parts)
    reply = post(client, ("../../x.txt", b"The secret garden gate opens with the brass key under the mat.\n",
                          "text/plain"),
                 ("..\\..\\.hidden.md", b"Hidden notes about the east tower staircase and its sixty steps.\n",
                  "text/markdown"))
    assert reply.status_code == 200, reply.text
    assert reply.json()["added"] == ["x.txt", "hidden.md"]
    assert sorted(p.name for p in settings.uploads_folder.iterdir()) == ["hidden.md", "x.txt"]
    assert sorted(p for p in tmp_path.rglob("*") if "uploads" not in p.parts and "index" not in p.parts) == \
        sorted(p for p in before if "index" not in p.parts)
    assert engine.ask("What opens the garden gate?").best.source == "x.txt"


def test_upload_without_files_is_a_400(uploading):
    _, _, client = uploading
    reply = client.post("/api/documents", data={"files": "just text"})
    assert reply.status_code == 400 and "error" in reply.json()
    assert client.post("/api/documents").status_code == 400


# --- several collections --------------------------------------------------------------------


def test_same_source_in_two_collections_needs_the_collection(tmp_path, embedder):
    a = write_docs(tmp_path / "a", {"x.txt": "Cows give milk every morning on the farm.\n"})
    b = write_docs(tmp_path / "b", {"x.txt": "Jupiter is the largest planet in the solar system.\n"})
    engine = Engine.open(Settings(docs=(a, b), index_dir=tmp_path / "index"))
    with TestClient(create_app(engine, ui=False), raise_server_exceptions=False) as client:
        reply = client.get("/api/documents/x.txt")
        assert reply.status_code == 409
        assert reply.json()["collections"] == ["a", "b"] and "(a, b)" in reply.json()["error"]
        assert client.get("/view/x.txt").status_code == 409
        one = client.get("/api/documents/x.txt", params={"collection": "b"}).json()
        assert "Jupiter" in one["text"] and one["collection"] == "b"
        assert client.get("/api/documents/x.txt", params={"collection": "nope"}).status_code == 404
        best = client.get("/api/ask", params={"q": "Which planet is the largest?"}).json()["results"][0]
        assert best["collection"] == "b"
        assert client.get("/view/x.txt", params={"collection": best["collection"]}).status_code == 200
        listing = client.get("/api/documents").json()
        assert [(d["collection"], d["paragraphs"]) for d in listing] == [("a", 1), ("b", 1)]
    from qa.ui import render_answer

    assert "collection=" in render_answer(engine.ask("Which planet is the largest?"))


def test_questions_keep_being_answered_while_a_document_is_added(uploading):
    """Readers use one snapshot of the engine's state: none fails or sees half an update."""
    import threading

    settings, engine, client = uploading
    stop, errors, answered = threading.Event(), [], []

    def reader() -> None:
        while not stop.is_set():
            try:
                answer = engine.ask("How long does croissant dough rest?", k=2)
                assert answer.best is not None and answer.best.source in {"bakery.txt", "beekeeping.md"}
                answered.append(answer.best.source)
            except Exception as exc:  # noqa: BLE001 - any failure is the finding
                errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        reply = post(client, ("beekeeping.md", UPLOAD.encode(), "text/markdown"))
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert reply.status_code == 200 and reply.json()["added"] == ["beekeeping.md"]
    assert errors == [] and answered
    assert engine.ask("What colour was the queen of hive seven marked with?").best.source == "beekeeping.md"


def test_old_document_records_load_and_new_ones_round_trip():
    old = Document.from_dict({"source": "a.txt", "collection": "c", "title": "A", "text": "x", "sha256": "0"})
    assert old.format == "text" and old.pages == () and old.page_of(0) is None
    pdf = Document("r.pdf", "c", "R", "one\n\ntwo", "0", "pdf", (0, 5))
    assert Document.from_dict(pdf.to_dict()) == pdf
    assert [pdf.page_of(i) for i in (0, 4, 5, 8)] == [1, 1, 2, 2]
