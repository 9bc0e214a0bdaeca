"""Text out of the file formats people keep documents in: .txt, .md, .html/.htm, .pdf.

Citations are offsets into the *extracted* text, which is what the document endpoint and
"view in document" show. Plain text and Markdown are their own extracted text (offsets match
the file); HTML keeps its main content only (trafilatura drops menus, footers and other
boilerplate); PDF text is extracted page by page (pypdf), pages separated by a blank line,
and each page's starting offset is kept so passages can cite their page.
"""

from __future__ import annotations

import io
import re
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
                               output_format="txt") or ""
    metadata = trafilatura.extract_metadata(html)
    title = metadata.title.strip() if metadata is not None and metadata.title else None
    # trafilatura separates blocks with one newline; a blank line makes each its own paragraph.
    text = re.sub(r"\n+", "\n\n", text.strip())
    return Extracted(text + "\n" if text else "", title, (), "html")


def extract_pdf(data: bytes) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        page_texts = [reflow((page.extract_text() or "").strip()) for page in reader.pages]
        info = reader.metadata
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"unreadable PDF ({exc})") from exc
    starts, parts, pos = [], [], 0
    for text in page_texts:
        starts.append(pos)
        parts.append(text)
        pos += len(text) + len(PAGE_SEPARATOR)
    title = (info.title or "").strip() if info is not None and info.title else None
    return Extracted(PAGE_SEPARATOR.join(parts), title or None, tuple(starts), "pdf")


WRAPPED_LINE = 0.75  # a line at least this share of the page's longest line was wrapped by the layout
_SENTENCE_END = re.compile(r"[.!?:;][\"”’')\]]*$")


def reflow(page: str) -> str:
    """A PDF page's lines joined back into paragraphs, paragraphs separated by a blank line.

    PDF text comes out one printed line at a time. A line that fills most of the width was
    wrapped by the layout and continues on the next line (a hyphen at a wrap is kept and
    joined directly); a shorter line, or one ending a sentence before a short next line,
    ends its paragraph. Without this, every printed line would be its own passage.
    """
    lines = [line.strip() for line in page.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return ""
    width = max(len(line) for line in lines)
    out = [lines[0]]
    for prev, line in zip(lines, lines[1:]):
        wrapped = len(prev) >= WRAPPED_LINE * width and not (_SENTENCE_END.search(prev) and len(line) < 0.3 * width)
        if not wrapped:
            out.append("\n\n")
        elif prev.endswith("-") and line[:1].islower():
            pass
        else:
            out.append(" ")
        out.append(line)
    return "".join(out)


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
