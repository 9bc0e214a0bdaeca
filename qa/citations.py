"""What a reader needs to find a passage again: title, page, section, paragraph, and the file
and offsets for those who want them; also as one line of plain text to paste elsewhere."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from qa.answers import Result

_MD_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$", re.M)


@dataclass(frozen=True)
class Citation:
    """One passage's citation.

    Attributes:
        title: the document's title.
        page: the 1-based PDF page (None for unpaged formats).
        section: the heading the passage sits under, when the document has headings.
        paragraph: the passage's number in its document.
        source: the file, relative to its collection folder.
        start, end: character offsets in the document's extracted text.
        quote: the sentence that answers (or the passage when none is marked).
        url: "View in document" link.
    """

    title: str
    page: int | None
    section: str | None
    paragraph: int
    source: str
    start: int
    end: int
    quote: str
    url: str

    def place(self) -> str:
        """Where in the document, for a reader: "p. 2 · § Budget · ¶4"."""
        parts = [f"p. {self.page}"] if self.page is not None else []
        parts += [f"§ {self.section}"] if self.section else []
        return " · ".join(parts + [f"¶{self.paragraph}"])

    def plain(self) -> str:
        """The citation to paste: the quoted sentence, then title, place and file."""
        return (f"“{self.quote}” — {self.title}, {self.place()} "
                f"({self.source}, characters {self.start}–{self.end})")


def section_of(text: str, offset: int, title: str = "") -> str | None:
    """The last Markdown heading before `offset`, unless it is only the document's title."""
    heading = None
    for m in _MD_HEADING.finditer(text, 0, max(0, offset)):
        heading = m.group(1).strip()
    return heading if heading and heading != title.strip() else None


def view_url(source: str, start: int | None = None, end: int | None = None,
             mark_start: int | None = None, mark_end: int | None = None, base: str = "",
             collection: str | None = None) -> str:
    """Link to the whole document with a range highlighted and scrolled into view; the
    collection is named when several are served (the source alone may be ambiguous)."""
    params = {k: v for k, v in (("start", start), ("end", end), ("hs", mark_start), ("he", mark_end),
                                ("collection", collection)) if v is not None}
    query = f"?{urlencode(params)}" if params else ""
    return f"{base}/view/{quote(source, safe='/')}{query}#passage"


def cite(r: Result, section: str | None = None, base: str = "", with_collection: bool = False) -> Citation:
    """The citation of result `r` (`section` comes from its document, see `section_of`)."""
    first = r.highlights[0] if r.highlights else None
    hs, he = (r.start + first.start, r.start + first.end) if first else (None, None)
    url = view_url(r.source, r.start, r.end, hs, he, base, r.collection if with_collection else None)
    sentence = " ".join((first.text if first else r.text).split())
    return Citation(r.title, r.page, section, r.paragraph, r.source, r.start, r.end, sentence, url)
