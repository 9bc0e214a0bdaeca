""""View in document": which page to show for a cited range, and the HTML for it. Text
documents show their whole text with the passage marked; PDFs show the printed page."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlencode

from qa.documents import Document
from qa.pages import PdfView, render_document_page, render_pdf_page
from qa.pdf_view import PdfPages


def document_file(doc: Document) -> Path:
    """The indexed file on disk (the collection folder as given, plus the source)."""
    return Path(doc.collection) / doc.source


def page_text(doc: Document, page: int) -> tuple[int, int]:
    """The [start, end) range of page `page` (1-based) in the document's text."""
    starts = list(doc.pages)
    end = starts[page] if page < len(starts) else len(doc.text)
    return starts[page - 1], end


def _clip(doc: Document, page: int, start: int | None, end: int | None) -> str:
    """The part of [start, end) on `page`, widened to whole words (pdfium matches words)."""
    if start is None or end is None or not 0 <= start < end <= len(doc.text):
        return ""
    lo, hi = page_text(doc, page)
    start, end = max(lo, start), min(hi, end)
    while lo < start < end and doc.text[start - 1].isalnum():
        start -= 1
    while start < end < hi and doc.text[end].isalnum():
        end += 1
    return doc.text[start:end]


def _link(base: str, doc: Document, params: dict) -> str:
    shown = {k: v for k, v in params.items() if v is not None}
    return f"{base}/view/{quote(doc.source, safe='/')}?{urlencode(shown)}#passage"


def pdf_view(doc: Document, pdf: PdfPages, page: int | None, start: int | None, end: int | None,
             hs: int | None, he: int | None, collection: str | None, base: str = "") -> PdfView:
    """The page to show: the one asked for, else the one the passage starts on."""
    path = document_file(doc)
    sizes = pdf.sizes(path)
    count = min(len(sizes), len(doc.pages)) or 1
    wanted = page or (doc.page_of(start) if start is not None and 0 <= start < len(doc.text) else None) or 1
    page = max(1, min(count, wanted))
    passage, sentence = _clip(doc, page, start, end), _clip(doc, page, hs, he)
    params = {"start": start, "end": end, "hs": hs, "he": he, "collection": collection}
    image = f"{base}/page-image/{page}/{quote(doc.source, safe='/')}" + (
        f"?{urlencode({'collection': collection})}" if collection else "")
    lo, hi = page_text(doc, page)
    return PdfView(
        doc.title, doc.source, page, count, image, *sizes[page - 1], doc.text[lo:hi].strip(),
        tuple(pdf.boxes(path, page, passage)), tuple(pdf.boxes(path, page, sentence)) if sentence != passage else (),
        _link(base, doc, {**params, "page": page - 1}) if page > 1 else None,
        _link(base, doc, {**params, "page": page + 1}) if page < count else None,
    )


def view_html(doc: Document, pdf: PdfPages, page: int | None, start: int | None, end: int | None,
              hs: int | None, he: int | None, collection: str | None, base: str = "") -> str:
    """The viewer page: the printed page for a PDF whose file is there, else the text."""
    if doc.format == "pdf" and doc.pages and document_file(doc).is_file():
        return render_pdf_page(pdf_view(doc, pdf, page, start, end, hs, he, collection, base), base)
    return render_document_page(doc.title, doc.source, doc.text, start, end, hs, he, base)
