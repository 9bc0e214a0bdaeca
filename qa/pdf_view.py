"""A PDF page as it is printed, for "View in document": the page rendered to PNG with
pypdfium2, and where on it a cited passage sits.

Citations index the text pypdf extracted; pdfium has its own text layer with a box for each
character. The two texts differ in spacing and line breaks, so they are matched word by word
(difflib), and the matched words' character boxes are merged into one rectangle a line.
"""

from __future__ import annotations

import difflib
import io
import re
import threading
from dataclasses import dataclass
from pathlib import Path

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Box:
    """A rectangle on the page as shares (0..1) of its width and height, from the top left."""

    left: float
    top: float
    width: float
    height: float


def _words(text: str) -> list[tuple[str, int, int]]:
    return [(m.group().lower(), m.start(), m.end()) for m in _WORD.finditer(text)]


def matched_chars(page_text: str, passage: str) -> list[int]:
    """Indices of `page_text` characters whose words match the passage's words, in order.

    Runs of three or more words anchor the match; shorter runs count only between anchors,
    so common pairs such as "of the" elsewhere on the page are not marked.
    """
    page_words, passage_words = _words(page_text), _words(passage)
    matcher = difflib.SequenceMatcher(None, [w for w, _, _ in page_words], [w for w, _, _ in passage_words],
                                      autojunk=False)
    blocks = [b for b in matcher.get_matching_blocks() if b.size]
    anchors = [b for b in blocks if b.size >= min(3, len(passage_words))]
    if not anchors:
        return []
    lo, hi = anchors[0].a, anchors[-1].a + anchors[-1].size
    chars: list[int] = []
    for block in blocks:
        if lo <= block.a and block.a + block.size <= hi:
            for _, start, end in page_words[block.a:block.a + block.size]:
                chars.extend(range(start, end))
    return chars


def line_boxes(char_boxes: list[tuple[float, float, float, float]]) -> list[tuple[float, float, float, float]]:
    """Character boxes (left, bottom, right, top) merged into one box a printed line."""
    lines: list[list[float]] = []
    for left, bottom, right, top in char_boxes:
        last = lines[-1] if lines else None
        height = max(top - bottom, 1e-6)
        if last and abs((last[1] + last[3]) / 2 - (bottom + top) / 2) < height / 2 and left >= last[0] - height:
            last[:] = [min(last[0], left), min(last[1], bottom), max(last[2], right), max(last[3], top)]
        else:
            lines.append([left, bottom, right, top])
    return [tuple(line) for line in lines]  # type: ignore[misc]


class PdfPages:
    """Renders pages and locates passages; pdfium is not thread-safe, so calls take a lock."""

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self._lock = threading.Lock()

    def sizes(self, path: Path) -> list[tuple[int, int]]:
        """Each page's size in pixels as rendered."""
        import pypdfium2 as pdfium

        with self._lock:
            pdf = pdfium.PdfDocument(str(path))
            try:
                return [(round(w * self.scale), round(h * self.scale))
                        for w, h in (pdf[i].get_size() for i in range(len(pdf)))]
            finally:
                pdf.close()

    def png(self, path: Path, page_number: int) -> bytes:
        """Page `page_number` (1-based) as a PNG."""
        import pypdfium2 as pdfium

        with self._lock:
            pdf = pdfium.PdfDocument(str(path))
            try:
                image = pdf[page_number - 1].render(scale=self.scale).to_pil()
            finally:
                pdf.close()
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
        return out.getvalue()

    def boxes(self, path: Path, page_number: int, passage: str) -> list[Box]:
        """Where `passage` is printed on page `page_number`: a box a line (empty if not found)."""
        import pypdfium2 as pdfium

        if not passage.strip():
            return []
        with self._lock:
            pdf = pdfium.PdfDocument(str(path))
            try:
                page = pdf[page_number - 1]
                width, height = page.get_size()
                text = page.get_textpage()
                count = text.count_chars()
                page_text = "".join(text.get_text_range(i, 1) or " " for i in range(count))
                chars = [text.get_charbox(i) for i in matched_chars(page_text, passage)]
            finally:
                pdf.close()
        return [Box(left / width, 1 - top / height, (right - left) / width, (top - bottom) / height)
                for left, bottom, right, top in line_boxes(chars)]
