"""The indexing progress bar in a real browser (Debian's Chromium through Playwright, the real
server, the real model): an upload big enough to take a while shows one bar with its counts and
no Gradio overlay, the page answers meanwhile, and Cancel leaves the old index served and the
upload gone. Screenshots go to temporary folders only."""

from __future__ import annotations

import shutil
import time

import pytest

from conftest import SEEDS, ledger_text
from qa.config import Settings
from qa.engine import Engine
from test_browser import CHROMIUM, QUESTION, TIMEOUT, ask, browser  # noqa: F401 (fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium"),
]

BIG = 4000  # paragraphs: minutes of embedding here, so the bar is surely up when the test looks
UPLOAD = "harbour_ledger.md"
BAR = "#qa-progress-block .qa-progress"


def bar_violations(page) -> list[str]:
    """axe-core's serious or critical findings on the progress bar (the rest of the page is
    checked by test_browser.py)."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page, context="#qa-progress-block").response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}" for v in violations
            if v.get("impact") in ("serious", "critical")]


@pytest.fixture(scope="module")
def served(tmp_path_factory, embedder):
    from qa.server import create_app, serving

    root = tmp_path_factory.mktemp("progress")
    docs = root / "docs"
    shutil.copytree(SEEDS, docs)
    engine = Engine.open(Settings(docs=(docs,), index_dir=root / "index", uploads_dir=root / "uploads"))
    with serving(create_app(engine, examples=[QUESTION])) as base:
        yield base, root, engine
    engine.indexer.cancel()
    end = time.monotonic() + 300
    while engine.build_status().building and time.monotonic() < end:  # no build outlives the module
        time.sleep(0.1)


def test_one_bar_with_counts_then_cancel_keeps_the_old_index(browser, served, tmp_path):  # noqa: F811
    base, root, engine = served
    context = browser.new_context(viewport={"width": 1180, "height": 1000}, device_scale_factor=1)
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    page.goto(base + "/")
    page.locator("#results .qa-welcome").wait_for()
    assert page.locator(BAR).count() == 0  # nothing to show while the index is up to date
    path = tmp_path / UPLOAD
    path.write_text(ledger_text(BIG), encoding="utf-8")
    page.locator("#qa-add").get_by_text("Add documents").first.click()
    page.locator("#upload input[type=file]").set_input_files(str(path))
    page.locator("#upload").get_by_text(UPLOAD).first.wait_for()
    page.locator("#add-docs").click()

    page.wait_for_function("() => { const c = document.querySelector('#qa-progress-block .qa-progress-counts');"
                           " return c && /of 3 documents, [0-9,]*[1-9][0-9,]* of [0-9,]+ passages/.test(c.textContent); }",
                           timeout=300_000)
    assert page.locator(BAR).count() == 1 and page.locator(".qa-progress-track[role=progressbar]").count() == 1
    overlays = page.evaluate("() => [...document.querySelectorAll('.eta-bar, .progress-text, .progress-level')]"
                             ".filter(e => e.checkVisibility({opacityProperty: true, visibilityProperty: true}))"
                             ".map(e => e.textContent)")
    assert overlays == []  # no Gradio progress overlay over the page, only the one bar
    assert "2 documents are answered meanwhile" in page.locator(BAR).inner_text()
    assert bar_violations(page) == []
    ask(page, QUESTION)  # the page answers while the upload is indexed
    assert "Budapest" in page.locator("#results mark.qa-answer-mark").inner_text()

    page.locator(f"{BAR} .qa-cancel").click()
    page.wait_for_function("() => (document.querySelector('#upload-status') || {}).textContent"
                           " && document.querySelector('#upload-status').textContent.includes('cancelled')",
                           timeout=300_000)
    page.locator("#qa-progress-block").get_by_text("Indexing was cancelled").wait_for()
    assert UPLOAD in page.locator("#upload-status").inner_text()
    assert not (root / "uploads" / UPLOAD).exists()
    page.get_by_role("tab", name="Documents").click()
    page.locator("#library").get_by_text("2 of 2 documents").wait_for()
    assert UPLOAD not in page.locator("#library").inner_text()
    page.get_by_role("tab", name="Ask").click()
    ask(page, "In how many countries does DHS have personnel stationed?")
    assert "75" in page.locator("#results .qa-card").first.inner_text()
    context.close()
