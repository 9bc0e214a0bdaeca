"""The server's own HTML pages (the document viewer, a friendly 404), from the Jinja
templates in qa/templates with autoescaping on; styles in qa/static/document.css."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup

from qa.pdf_view import Box
from qa.render import esc, marked

TEMPLATES = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))


def render_page(template: str, **values) -> str:
    return _environment().get_template(template).render(**values)


def _valid(text: str, start: int | None, end: int | None) -> bool:
    return start is not None and end is not None and 0 <= start < end <= len(text)


def marked_document(text: str, start: int | None, end: int | None, hs: int | None = None,
                    he: int | None = None) -> tuple[str, str]:
    """The document escaped, with the passage [start, end) in <mark id="passage"> (and the
    answering sentence [hs, he) inside it emphasised); and a line saying what is marked."""
    if not _valid(text, start, end):
        where = "No passage selected" if start is None and end is None else "The requested range is not in this document"
        return esc(text), where
    inner = text[start:end]
    if _valid(text, hs, he) and start <= hs and he <= end:  # type: ignore[operator]
        inner_html = marked(inner, [(hs - start, he - start)], "sentence")  # type: ignore[operator]
    else:
        inner_html = esc(inner)
    body = f'{esc(text[:start])}<mark id="passage">{inner_html}</mark>{esc(text[end:])}'
    return body, "the cited passage is highlighted"


def render_document_page(title: str, source: str, text: str, start: int | None, end: int | None,
                         hs: int | None = None, he: int | None = None, base: str = "") -> str:
    """The whole text of a document with the cited passage marked and scrolled into view."""
    body, where = marked_document(text, start, end, hs, he)
    return render_page("document.html", title=title, source=source, where=where, body=Markup(body), base=base)


def render_not_found(message: str, base: str = "") -> str:
    return render_page("not_found.html", title="Not found", message=message, base=base)


@dataclass(frozen=True)
class PdfView:
    """What the PDF page view shows: one page, where the passage is on it, and links."""

    title: str
    source: str
    page: int
    pages: int
    image: str
    width: int
    height: int
    text: str
    boxes: tuple[Box, ...] = ()
    sentence_boxes: tuple[Box, ...] = ()
    previous: str | None = None
    next: str | None = None


def _percent(box: Box, sentence: bool) -> dict:
    return {"left": round(box.left * 100, 3), "top": round(box.top * 100, 3), "width": round(box.width * 100, 3),
            "height": round(box.height * 100, 3), "sentence": sentence}


def render_pdf_page(view: PdfView, base: str = "") -> str:
    """One rendered PDF page with the cited passage marked over it and page navigation."""
    boxes = [_percent(b, False) for b in view.boxes] + [_percent(b, True) for b in view.sentence_boxes]
    where = "the cited passage is marked" if boxes else "no passage on this page"
    return render_page("pdf_page.html", title=view.title, source=view.source, page=view.page, pages=view.pages,
                       image=view.image, width=view.width, height=view.height, text=view.text, boxes=boxes,
                       previous=view.previous, next=view.next, where=where, base=base)
