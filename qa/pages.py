"""The server's own HTML pages (the document viewer, a friendly 404), from the Jinja
templates in qa/templates with autoescaping on; styles in qa/static/document.css."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from markupsafe import Markup

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
