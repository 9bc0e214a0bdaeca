"""Screenshots of the UI for the README: desktop (1280x800) and phone (390x844) views of an
answer, a question with no answer, a PDF page with the cited passage marked, and the
Documents tab. Run by bench/readme_figures.py (block `screenshots`); prints the Markdown that
shows them.

    python bench/screenshots.py [--out docs/screens]

The server runs in this process on a free loopback port over a temporary copy of `seeds/`
plus a two-page PDF made here (fpdf2), indexed in a temporary folder; the browser is Debian's
Chromium (/usr/bin/chromium) driven by Playwright.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import SEED_EXAMPLES  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
SIZES = {"desktop": (1280, 800, False), "phone": (390, 844, True)}
ANSWER = SEED_EXAMPLES[0]
NO_ANSWER = "Who won the 2010 FIFA World Cup?"
PDF_NAME = "harbour_report.pdf"
PDF_QUESTION = "How far is the new lantern of the Skarv lighthouse visible?"
PDF_PAGES = (
    ("Annual report of the Harbour Authority",
     "The dredging programme removed forty thousand cubic metres of silt from the northern basin during the "
     "spring, so that larger ferries can now dock at low tide.",
     "Pilots guided ships into port on every day of the year, and no accident was reported."),
    ("Lighthouse",
     "The keeper of the Skarv lighthouse replaced the old lamp with an LED lantern that is visible for "
     "twenty-two nautical miles in clear weather.",
     "The old lamp is now shown in the harbour museum beside the keeper's logbooks."),
)


def make_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for paragraphs in PDF_PAGES:
        pdf.add_page()
        for text in paragraphs:
            pdf.multi_cell(0, 7, text)
            pdf.ln(5)
    return bytes(pdf.output())


def shoot(browser, base: str, pdf_link: str, out: Path, name: str, size: tuple[int, int, bool]) -> list[Path]:
    width, height, phone = size
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone)
    context.set_default_timeout(120_000)
    page = context.new_page()
    shots = []

    def save(kind: str) -> None:
        page.mouse.move(0, 0)
        page.wait_for_timeout(500)
        path = out / f"{name}-{kind}.png"
        page.screenshot(path=str(path))
        shots.append(path)

    page.goto(base + "/?" + urlencode({"q": ANSWER}))
    page.locator("#results .qa-answer").wait_for()
    save("answer")
    page.goto(base + "/?" + urlencode({"q": NO_ANSWER}))
    page.locator("#results .qa-noanswer").wait_for()
    save("noanswer")
    page.goto(base + pdf_link)
    page.wait_for_function("() => { const i = document.querySelector('figure.pdf-page img');"
                           " return i && i.complete && i.naturalWidth > 0; }")
    save("pdf")
    page.goto(base + "/")
    page.locator("#results .qa-welcome").wait_for()
    page.get_by_role("tab", name="Documents").click()
    page.locator("#library table").wait_for()
    save("library")
    context.close()
    return shots


def markdown(out: Path) -> str:
    rel = out.relative_to(ROOT).as_posix()
    lines = [f"![Seed QA answering a question, with its citation]({rel}/desktop-answer.png)", ""]
    for name in SIZES:
        links = ", ".join(f"[{kind}]({rel}/{name}-{kind}.png)" for kind in ("answer", "noanswer", "pdf", "library"))
        lines.append(f"{name.capitalize()} screenshots: {links.replace('noanswer', 'no answer', 1)}.  ")
    return "\n".join(lines).rstrip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screens")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from qa.citations import view_url
    from qa.config import Settings
    from qa.engine import Engine
    from qa.server import create_app, serving

    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as tmp:
        docs = Path(tmp) / "docs"
        shutil.copytree(ROOT / "seeds", docs)
        (docs / PDF_NAME).write_bytes(make_pdf())
        engine = Engine.open(Settings(docs=(docs,), index_dir=Path(tmp) / "index", uploads_dir=Path(tmp) / "up"))
        best = engine.ask(PDF_QUESTION, 1).results[0]
        pdf_link = view_url(best.source, best.start, best.end)
        with serving(create_app(engine, examples=list(SEED_EXAMPLES))) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
            try:
                for name, size in SIZES.items():
                    shoot(browser, base, pdf_link, out, name, size)
            finally:
                browser.close()
    print(markdown(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
