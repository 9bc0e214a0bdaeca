"""A PDF page's lines with their type size, turned into Markdown-like text.

pypdf gives each page's text one printed line at a time and, through its visitor, the font
and size of every text run. Three things follow from the sizes that plain text loses:

- running headers and footers (a line repeated at the top or bottom of most pages, or a page
  number such as "Page 2 of 5") are furniture, not content, and are dropped;
- a short line set larger than the body text, or bold at body size, is a heading: it becomes
  a Markdown heading line ("## 2. Safety information"), which the chunker turns into the
  context of the passages under it instead of a passage of its own;
- a paragraph cut by a page break continues on the next page instead of ending there.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from qa.pdf_tables import tab_table, table_end

_PAGE_NUMBER = re.compile(r"^(page\s+)?\d+(\s*(of|/)\s*\d+)?$", re.I)
_SENTENCE_END = re.compile(r"[.!?:;][\"”’')\]]*$")
_BULLET = re.compile(r"^([-•*–]|\d{1,2}[.)])\s")
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class PageLine:
    """One printed line: its text, type size in points (0 when unknown) and boldness."""

    text: str
    size: float = 0.0
    bold: bool = False
    cells: tuple[tuple[float, str], ...] = ()  # (x, text) of each run, when printed in several (qa.pdf_tables)


@dataclass(frozen=True)
class LayoutParams:
    """What counts as furniture and as a heading (see the module docstring)."""

    edge_lines: int = 2  # a running header or footer sits within this many lines of a page's edge
    repeated_share: float = 0.5  # ... and repeats on at least this share of the pages
    heading_max_words: int = 20
    larger_by: float = 1.0  # points above the body size that make a short line a heading
    wrapped_line: float = 0.75  # a line this share of the widest line was wrapped by the layout


def page_lines(page) -> list[PageLine]:
    """The non-blank lines of a pypdf page, each with the size and weight of the text run
    that prints it (matched by text; a line printed in several runs gets no size) and, when
    it is printed in several runs, where each starts (a table row's cells)."""
    runs: dict[str, tuple[float, bool]] = {}
    placed: dict[float, list[tuple[float, str]]] = {}

    def visit(text, cm, tm, font, size):
        key = " ".join(text.split())
        if key and size:
            scale = math.hypot(*(tm or (1, 0))[:2]) * math.hypot(*(cm or (1, 0))[:2])
            name = str((font or {}).get("/BaseFont", "")).lower()
            runs.setdefault(key, (round(float(size) * scale, 1), "bold" in name or "black" in name))
        if key and tm and cm:
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            placed.setdefault(round(y, 1), []).append((x, key))

    raw = page.extract_text(visitor_text=visit) or ""
    rows = {" ".join(t for _, t in sorted(cells)): tuple(sorted(cells)) for cells in placed.values() if len(cells) > 1}
    lines = []
    for line in raw.splitlines():
        text = line.strip()
        if text:
            key = " ".join(text.split())
            size, bold = runs.get(key, (0.0, False))
            lines.append(PageLine(text, size, bold, rows.get(key, ())))
    return lines


def drop_furniture(pages: list[list[PageLine]], params: LayoutParams) -> list[list[PageLine]]:
    """Pages without page numbers and without lines repeated near the edge of most pages
    (digits ignored, so "Page 3" and a running date still match)."""
    def key(line: PageLine) -> str:
        return _DIGITS.sub("#", " ".join(line.text.casefold().split()))

    edges = Counter()
    for lines in pages:
        edge = lines[: params.edge_lines] + lines[-params.edge_lines :]
        edges.update({key(line) for line in edge})
    need = max(2, math.ceil(params.repeated_share * len(pages)))
    repeated = {k for k, n in edges.items() if n >= need} if len(pages) >= 2 else set()
    out = []
    for lines in pages:
        last = len(lines) - params.edge_lines
        out.append([line for i, line in enumerate(lines)
                    if not _PAGE_NUMBER.match(line.text)
                    and not ((i < params.edge_lines or i >= last) and key(line) in repeated)])
    return out


def body_style(pages: list[list[PageLine]]) -> tuple[float, bool]:
    """The size and weight most of the text is set in (by characters)."""
    styles = Counter()
    for lines in pages:
        for line in lines:
            if line.size:
                styles[(line.size, line.bold)] += len(line.text)
    return styles.most_common(1)[0][0] if styles else (0.0, False)


def heading_levels(pages: list[list[PageLine]], params: LayoutParams) -> dict[tuple[float, bool], int]:
    """Heading level (1 = largest) of each style that marks headings."""
    size, bold = body_style(pages)
    if not size:
        return {}
    styles = {(line.size, line.bold) for lines in pages for line in lines if line.size}
    heads = [s for s in styles
             if s[0] >= size + params.larger_by or (s[1] and not bold and s[0] >= size - params.larger_by / 2)]
    return {s: min(6, i + 1) for i, s in enumerate(sorted(heads, key=lambda s: (-s[0], not s[1])))}


def is_heading(line: PageLine, levels: dict[tuple[float, bool], int], params: LayoutParams) -> bool:
    return ((line.size, line.bold) in levels and len(line.text.split()) <= params.heading_max_words
            and not _SENTENCE_END.search(line.text))


def reflow(lines: list[str], width: int, params: LayoutParams) -> str:
    """Printed lines joined back into paragraphs, paragraphs separated by a blank line.

    A line that fills most of the width was wrapped by the layout and continues on the next
    line (a hyphen at a wrap is kept and joined directly); a shorter line, or one ending a
    sentence before a short next line, ends its paragraph. A list item starts a new line,
    and neighbouring items stay one block (under the same heading)."""
    if not lines:
        return ""
    out = [lines[0]]
    for prev, line in zip(lines, lines[1:]):
        ends = _SENTENCE_END.search(prev) is not None
        wrapped = len(prev) >= params.wrapped_line * width and not (ends and len(line) < 0.3 * width)
        if _BULLET.match(line):
            out.append("\n" if _BULLET.match(prev) or wrapped else "\n\n")
        elif not wrapped:
            out.append("\n\n")
        elif not (prev.endswith("-") and line[:1].islower()):
            out.append(" ")
        out.append(line)
    return "".join(out)


def render_body(lines: list[PageLine], width: int, params: LayoutParams) -> list[str]:
    """Body lines as blocks: tables one row a line, tab between cells (qa.pdf_tables), the rest
    reflowed into paragraphs."""
    blocks: list[str] = []
    text: list[str] = []
    i = 0
    while i < len(lines):
        end = table_end(lines, i)
        if end == i:
            text.append(lines[i].text)
            i += 1
            continue
        if text:
            blocks.append(reflow(text, width, params))
            text = []
        blocks.append(tab_table(lines[i:end]))
        i = end
    if text:
        blocks.append(reflow(text, width, params))
    return blocks


def render_page(lines: list[PageLine], levels: dict[tuple[float, bool], int], width: int,
                params: LayoutParams) -> str:
    """One page as text: headings as Markdown heading lines (a heading wrapped over two
    lines becomes one), tables row by row, body lines reflowed into paragraphs."""
    blocks: list[str] = []
    body: list[PageLine] = []
    last_level = 0
    for line in lines:
        if not is_heading(line, levels, params):
            body.append(line)
            continue
        level = levels[(line.size, line.bold)]
        if body:
            blocks.extend(render_body(body, width, params))
            body, last_level = [], 0
        if level == last_level:
            blocks[-1] += " " + line.text
        else:
            blocks.append("#" * level + " " + line.text)
        last_level = level
    if body:
        blocks.extend(render_body(body, width, params))
    return "\n\n".join(blocks)


def render_pages(pages: list[list[PageLine]], params: LayoutParams = LayoutParams()) -> list[str]:
    """Every page's text, without furniture, with headings marked."""
    pages = drop_furniture(pages, params)
    levels = heading_levels(pages, params)
    width = max((len(line.text) for lines in pages for line in lines), default=0)
    return [render_page(lines, levels, width, params) for lines in pages]


def continues(previous: str, page: str) -> bool:
    """Whether `page` goes on with the paragraph `previous` ended mid-sentence."""
    return bool(previous) and bool(page) and page[:1].islower() and not _SENTENCE_END.search(previous)
