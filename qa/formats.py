"""Text out of the file formats people keep documents in: .txt, .md, .html/.htm, .pdf.

Citations are offsets into the *extracted* text, which is what the document endpoint and
"view in document" show. Plain text and Markdown are their own extracted text (offsets match
the file); HTML keeps its main content only (trafilatura drops menus, footers and other
boilerplate) as Markdown, so its h1-h6 headings, lists and tables keep their structure; PDF
text is extracted page by page (pypdf, see qa.pdf_layout), with its headings as Markdown
heading lines too, and each page's starting offset is kept so passages can cite their page.
HTML and PDF are then cut into passages like Markdown: headings are context, not passages.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

TEXT_FORMATS = {".txt": "text", ".md": "markdown", ".markdown": "markdown"}
HTML_FORMATS = {".html": "html", ".htm": "html"}
PDF_FORMATS = {".pdf": "pdf"}
FORMATS = {**TEXT_FORMATS, **HTML_FORMATS, **PDF_FORMATS}
SUPPORTED_EXTENSIONS = tuple(sorted(FORMATS))
PAGE_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Extracted:
    """A file's searchable text and what the format tells about it.

    Attributes:
        text: the text passages are cut from.
        title: a title the format declares (HTML <title>, PDF metadata), if any.
        pages: for paged formats, the offset in `text` where each page starts.
        format: "text", "markdown", "html" or "pdf".
    """

    text: str
    title: str | None = None
    pages: tuple[int, ...] = ()
    format: str = "text"


def format_of(path: Path | str) -> str | None:
    return FORMATS.get(Path(path).suffix.lower())


def sniff_format(data: bytes) -> str | None:
    """The format the bytes look like, whatever the file is called (for uploads)."""
    head = data[:2048].lstrip()
    if head.startswith(b"%PDF-"):
        return "pdf"
    lowered = head[:512].lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<body" in lowered or b"<head" in lowered:
        return "html"
    if b"\x00" in data[:8192]:
        return None
    return "text"


def extract_html(data: bytes | str) -> Extracted:
    import trafilatura

    html = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_precision=True,
                               output_format="markdown") or ""
    metadata = trafilatura.extract_metadata(html)
    title = metadata.title.strip() if metadata is not None and metadata.title else None
    text = text.strip()
    return Extracted(text + "\n" if text else "", title, (), "html")


def extract_pdf(data: bytes) -> Extracted:
    """The pages' text (see qa.pdf_layout: running headers, footers and page numbers
    dropped, headings as Markdown heading lines, paragraphs reflowed), pages separated by a
    blank line unless a paragraph runs on over the page break."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    from qa.pdf_layout import continues, page_lines, render_pages

    try:
        reader = PdfReader(io.BytesIO(data))
        page_texts = [text.strip() for text in render_pages([page_lines(page) for page in reader.pages])]
        info = reader.metadata
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"unreadable PDF ({exc})") from exc
    starts, parts, pos = [], [], 0
    for text in page_texts:
        if parts:
            separator = " " if continues(parts[-1], text) else PAGE_SEPARATOR
            parts.append(separator)
            pos += len(separator)
        starts.append(pos)
        parts.append(text)
        pos += len(text)
    title = (info.title or "").strip() if info is not None and info.title else None
    return Extracted("".join(parts), title or None, tuple(starts), "pdf")


def page_of(pages: tuple[int, ...], offset: int) -> int | None:
    """1-based page holding `offset`, or None for unpaged documents."""
    if not pages:
        return None
    page = 0
    for i, start in enumerate(pages):
        if start <= offset:
            page = i
        else:
            break
    return page + 1
