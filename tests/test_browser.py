"""The real UI in a real browser: Debian's Chromium driven by Playwright against the real
server (uvicorn on a free loopback port, index built in a temporary folder).

The collection is the seeds plus one hostile document whose text holds markup; it must show
as text. Screenshots go to temporary folders only (the README's are made by
bench/readme_figures.py).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from qa.config import Settings
from qa.engine import Engine
from test_formats import make_pdf

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium "
                       "(apt-get install chromium); Playwright cannot download its own browser here"),
]

QUESTION = "Where was the European Cybercrime Forum held?"
HOSTILE_SOURCE = "zz_hostile.md"
HOSTILE_TEXT = (
    "# Markup injection field notes\n\n"
    "The Zorblax scanner quarantines uploads that contain <script>alert(1)</script> tags "
    "or <img src=x onerror=alert(1)> images, and it logs ${alert(2)} and {{constructor}} template probes too, "
    "and links like [open me](javascript:alert(3)) or <a href=\"javascript:alert(4)\">this</a>.\n\n"
    "Quarantined files are reviewed by the security desk every Tuesday.\n"
)
HOSTILE_QUESTION = "What does the Zorblax scanner quarantine?"
PDF_SOURCE = "zz_harbour.pdf"
PDF_QUESTION = "How far is the new lantern of the Skarv lighthouse visible?"
EXAMPLES = [QUESTION, "In how many countries does DHS have personnel stationed?"]
TIMEOUT = 60_000
RESULTS_HTML = "#results .prose"  # the element gr.HTML renders its value into


@pytest.fixture(scope="module", autouse=True)
def tracked_files_untouched():
    """Browser tests write screenshots to temporary folders, never into the repository."""
    def snapshot():
        return {p: p.stat().st_mtime_ns for p in (ROOT / "docs").rglob("*") if p.is_file()}

    before = snapshot()
    yield
    assert snapshot() == before, "a browser test wrote into docs/"


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedder):
    """The whole app (UI + API) on 127.0.0.1:<free port>, once for the module."""
    from qa.server import create_app, serving

    root = tmp_path_factory.mktemp("browser")
    docs = root / "docs"
    shutil.copytree(ROOT / "seeds", docs)
    (docs / HOSTILE_SOURCE).write_text(HOSTILE_TEXT, encoding="utf-8")
    (docs / PDF_SOURCE).write_bytes(make_pdf())
    engine = Engine.open(Settings(docs=(docs,), index_dir=root / "index"))
    with serving(create_app(engine, examples=EXAMPLES)) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1180, "height": 1000}, device_scale_factor=1)
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    page.dialogs = []  # type: ignore[attr-defined]

    def on_dialog(dialog):
        page.dialogs.append(dialog.message)  # type: ignore[attr-defined]
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(server + "/")
    page.locator("#question textarea, #question input").first.wait_for()
    page.locator(RESULTS_HTML).wait_for()
    page.locator("#results .qa-welcome").wait_for()
    yield page
    context.close()


def ask(page, question: str) -> None:
    """Type the question and press Enter, as a person would; wait until the answer is in."""
    box = page.locator("#question textarea, #question input").first
    box.fill(question)
    page.evaluate(f"window.__qaOld = (document.querySelector({RESULTS_HTML!r}) || {{}}).innerHTML")
    box.press("Enter")
    # The result pane changed, and the busy state is over.
    page.wait_for_function(
        f"() => {{ const b = document.querySelector('#ask'), cur = document.querySelector({RESULTS_HTML!r});"
        " return cur && cur.innerHTML !== window.__qaOld && b && b.textContent.trim() === 'Ask' && !b.disabled; }"
    )


def watch_busy(page) -> None:
    page.evaluate(
        """() => {
        window.__qaBusy = false;
        const b = document.querySelector('#ask');
        new MutationObserver(() => { if (b.textContent.includes('Searching')) window.__qaBusy = true; })
            .observe(b, {subtree: true, childList: true, characterData: true, attributes: true});
    }"""
    )


def test_answer_with_citation_and_screenshot(page, tmp_path):
    watch_busy(page)
    ask(page, QUESTION)
    mark = page.locator("#results .qa-answer mark.qa-answer-mark")
    mark.wait_for()
    assert "Budapest" in mark.inner_text()
    cite = page.locator("#results .qa-answer .qa-answer-cite")
    assert "000_a17f7510e5746d01.txt" in cite.inner_text() and "¶" in cite.inner_text()
    assert page.locator("#results .qa-answer .qa-cite-ref").inner_text() == "[1]"
    cards = page.locator("#results .qa-card")
    assert cards.count() >= 3
    assert cards.first.locator("mark").count() >= 1 and cards.first.locator(".qa-bar-fill").count() == 1
    assert page.evaluate("window.__qaBusy") is True, "no visible busy state while answering"
    assert "documents" in page.locator("#qa-status").inner_text()
    screenshot = tmp_path / "answer.png"
    page.screenshot(path=str(screenshot))
    assert screenshot.stat().st_size > 10_000


def test_view_in_document_highlights_the_passage(page):
    ask(page, QUESTION)
    link = page.locator("#results .qa-answer a.qa-view")
    with page.context.expect_page() as popup:
        link.click()
    doc = popup.value
    doc.wait_for_load_state()
    passage = doc.locator("mark#passage")
    passage.wait_for()
    assert "Budapest" in passage.inner_text()
    assert "Budapest" in doc.locator("mark#passage mark.sentence").inner_text()
    in_view = doc.evaluate(
        "() => { const r = document.getElementById('passage').getBoundingClientRect();"
        " return r.top >= 0 && r.top < window.innerHeight; }"
    )
    assert in_view, "the highlighted passage was not scrolled into view"
    assert doc.evaluate("window.scrollY") > 0


def test_view_in_document_shows_the_pdf_page_with_the_passage_marked(page):
    ask(page, PDF_QUESTION)
    cite = page.locator("#results .qa-answer .qa-answer-cite")
    cite.wait_for()
    assert "p. 2" in cite.locator(".qa-cite-main").inner_text() and PDF_SOURCE in cite.inner_text()
    with page.context.expect_page() as popup:
        cite.locator("a.qa-view").click()
    doc = popup.value
    image = doc.locator("figure.pdf-page img")
    image.wait_for()
    doc.wait_for_function("() => { const i = document.querySelector('figure.pdf-page img');"
                          " return i.complete && i.naturalWidth > 0; }")
    assert "Page 2 of 2" in doc.locator("nav.pages").inner_text()
    assert "/page-image/2/" in image.get_attribute("src")
    marks = doc.locator("mark#passage .pdf-mark")
    assert marks.count() >= 2
    page_box, first = image.bounding_box(), marks.first.bounding_box()
    assert page_box["y"] <= first["y"] < page_box["y"] + page_box["height"] * 0.3  # near the top of page 2
    assert first["width"] > page_box["width"] * 0.3 and first["height"] > 5
    assert serious_violations(doc) == []
    doc.get_by_text("← Previous page").click()
    doc.wait_for_url("**page=1**")
    assert "Page 1 of 2" in doc.locator("nav.pages").inner_text() and doc.locator(".pdf-mark").count() == 0


def test_empty_question_is_a_friendly_message(page):
    ask(page, "   ")
    message = page.locator("#results .qa-message")
    message.wait_for()
    assert "Type a question" in message.inner_text()
    assert page.locator("#results .qa-error").count() == 0
    assert page.locator(".toast-body, .error").count() == 0


def test_unanswerable_question_shows_the_no_answer_state(page):
    ask(page, "Who won the 2010 FIFA World Cup?")
    state = page.locator("#results .qa-noanswer")
    state.wait_for()
    assert "No confident answer in these documents" in state.inner_text()
    assert page.locator("#results .qa-card").count() >= 1
    assert page.locator("#results mark.qa-answer-mark").count() == 0


def test_hostile_document_shows_as_text(page):
    ask(page, HOSTILE_QUESTION)
    page.locator("#results .qa-card").first.wait_for()
    results_text = page.locator("#results").inner_text()
    assert "<script>alert(1)</script>" in results_text
    assert "<img src=x onerror=alert(1)>" in results_text
    assert "${alert(2)}" in results_text and "{{constructor}}" in results_text
    assert "[open me](javascript:alert(3))" in results_text and '<a href="javascript:alert(4)">' in results_text
    assert HOSTILE_SOURCE in results_text
    assert page.evaluate("document.querySelectorAll('a[href^=\"javascript:\" i]').length") == 0
    injected = page.evaluate(
        "() => [...document.querySelectorAll('script')].filter(s => s.textContent.includes('alert(')).length"
        " + document.querySelectorAll('#results script, #results img, img[src=\"x\"]').length"
    )
    assert injected == 0
    page.wait_for_timeout(300)
    assert page.dialogs == []  # type: ignore[attr-defined]

    # The document viewer escapes it too.
    with page.context.expect_page() as popup:
        page.locator("#results .qa-card a.qa-view").first.click()
    doc = popup.value
    doc.locator("main#document").wait_for()
    assert "<script>alert(1)</script>" in doc.locator("main#document").inner_text()
    assert doc.evaluate("document.querySelectorAll('main script, main img, a[href^=\"javascript:\" i]').length") == 0
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_example_button_and_settings(page):
    page.locator("#qa-settings").get_by_text("Settings").first.click()
    page.locator("#qa-mode").get_by_text("bm25", exact=True).click()
    page.locator(".qa-example", has_text="DHS have personnel").click()
    page.wait_for_function("() => document.querySelector('#results .qa-card') !== null"
                           " && document.querySelector('#ask').textContent.trim() === 'Ask'")
    assert "75" in page.locator("#results .qa-card").first.inner_text()
    assert "DHS have personnel" in page.locator("#question textarea, #question input").first.input_value()


UPLOAD_NAME = "lantern_survey.md"
UPLOAD_TEXT = (
    "# Lantern survey\n\n"
    "The Quillmoor lantern festival counted 4,812 paper lanterns on the river this autumn, "
    "a record since the survey began.\n"
)


def test_upload_a_document_then_get_an_answer_cited_from_it(page, tmp_path):
    """Runs last in this module: the uploaded document stays in the served collection."""
    path = tmp_path / UPLOAD_NAME
    path.write_text(UPLOAD_TEXT, encoding="utf-8")
    page.locator("#qa-add").get_by_text("Add documents").first.click()
    page.locator("#upload input[type=file]").set_input_files(str(path))
    page.locator("#upload").get_by_text(UPLOAD_NAME).first.wait_for()  # Gradio has received the file
    page.locator("#add-docs").click()
    status = page.locator("#upload-status")
    page.wait_for_function("() => (document.querySelector('#upload-status') || {}).textContent"
                           " && document.querySelector('#upload-status').textContent.includes('Added 1 document')")
    assert UPLOAD_NAME in status.inner_text() and "added" in status.inner_text()
    # 2 seeds, hostile, PDF, this: the status line follows the served index, and a progress poll
    # computed before the switch may land after the upload's reply (seen on one core), so it is awaited
    page.wait_for_function("() => document.querySelector('#qa-status').innerText.startsWith('5 documents')")
    ask(page, "How many paper lanterns did the Quillmoor festival count?")
    page.locator("#results .qa-answer").wait_for()
    assert "4,812" in page.locator("#results .qa-answer mark.qa-answer-mark").inner_text()
    cite = page.locator("#results .qa-answer .qa-answer-cite").inner_text()
    assert UPLOAD_NAME in cite and "¶1" in cite
    with page.context.expect_page() as popup:
        page.locator("#results .qa-answer a.qa-view").click()
    doc = popup.value
    doc.locator("mark#passage").wait_for()
    assert "4,812" in doc.locator("mark#passage").inner_text() and "collection=" in doc.url


SIZES = [pytest.param((390, 844, True), id="phone-390x844"), pytest.param((1280, 800, False), id="desktop-1280x800")]


def serious_violations(page) -> list[str]:
    """axe-core (bundled with axe-playwright-python, runs offline) on the page as it is."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
            f" {[n.get('failureSummary', '')[:160] for n in v['nodes']]}" for v in violations
            if v.get("impact") in ("serious", "critical")]


@pytest.mark.parametrize("size", SIZES)
def test_every_screen_size_fits_and_passes_axe(browser, server, size, tmp_path):
    width, height, phone = size
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone,
                                  device_scale_factor=1)
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    page.goto(server + "/?" + urlencode({"q": QUESTION}))  # a shared link: opens answered
    page.locator("#results .qa-answer .qa-cite-main").wait_for()
    assert "Budapest" in page.locator("#results mark.qa-answer-mark").inner_text()
    assert page.locator("#question textarea, #question input").first.input_value() == QUESTION
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
    for selector in ("#ask", "#results .qa-answer .qa-cite-main", "#results .qa-answer .qa-view"):
        box = page.locator(selector).first.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, f"{selector} is off-screen: {box}"
    ask_box = page.locator("#ask").bounding_box()
    assert ask_box["y"] + ask_box["height"] <= height
    assert "Use via API" not in page.locator("body").inner_text()
    assert serious_violations(page) == []
    page.screenshot(path=str(tmp_path / f"{width}.png"))
    context.close()


def test_the_address_follows_the_question_and_copy_citation_copies_it(browser, server):
    context = browser.new_context(viewport={"width": 1180, "height": 1000})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    page.goto(server + "/")
    page.locator("#results .qa-welcome").wait_for()
    ask(page, QUESTION)
    page.wait_for_function("() => new URL(location.href).searchParams.get('q') !== null")
    assert parse_qs(urlparse(page.url).query)["q"] == [QUESTION]
    page.locator("#results .qa-answer .qa-copy").click()
    page.wait_for_function("() => document.querySelector('#results .qa-answer .qa-copy').textContent.includes('Copied')")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("“This past April, I was in Budapest") and "¶63" in copied
    assert "Secretary Napolitano" in copied and "000_a17f7510e5746d01.txt" in copied
    context.close()


def test_remove_the_uploaded_document_in_the_library(page, tmp_path):
    """After the upload test: the library lists the upload; removing it leaves no answer
    cited from it, and the page answers meanwhile."""
    page.get_by_role("tab", name="Documents").click()
    library = page.locator("#library")
    library.get_by_text(UPLOAD_NAME).wait_for()
    page.locator("#lib-filter textarea, #lib-filter input").first.fill("lantern")
    page.wait_for_function("() => document.querySelector('#library').textContent.includes('1 of 5 documents')")
    row = library.locator("tr", has_text=UPLOAD_NAME)
    assert "markdown" in row.inner_text() and "uploaded" in row.inner_text()
    page.locator("#lib-choice input").first.click()
    page.get_by_role("option", name=re.compile(re.escape(UPLOAD_NAME))).click()
    page.locator("#lib-remove").click()
    page.wait_for_function("() => (document.querySelector('#lib-status') || {}).textContent"
                           " && document.querySelector('#lib-status').textContent.includes('Removed')")
    assert "uploaded file was deleted" in page.locator("#lib-status").inner_text()
    assert "No document matches" in library.inner_text()
    # the status line follows the served index on the UI's next poll
    page.wait_for_function("() => document.querySelector('#qa-status').innerText.startsWith('4 documents')")
    page.screenshot(path=str(tmp_path / "library.png"))
    assert serious_violations(page) == []
    page.get_by_role("tab", name="Ask").click()
    ask(page, "How many paper lanterns did the Quillmoor festival count?")
    page.locator("#results .qa-card").first.wait_for()
    assert UPLOAD_NAME not in page.locator("#results").inner_text()
