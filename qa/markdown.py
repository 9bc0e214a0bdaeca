"""Markdown structure read line by line: ATX headings and fenced code blocks.

Fences follow CommonMark: a fence opens with three or more backticks or tildes (indented
at most three spaces; a backtick fence's info string holds no backtick) and closes only
with a line of at least as many of the same character and nothing else, so "```python"
inside a code block is code. Nothing inside a fence is a heading, so a shell or Python
`# comment` never becomes a heading, a heading trail or a document's title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}(?=[^`]*$)|~{3,})")
_FENCE_CLOSE = re.compile(r"^ {0,3}(`{3,}|~{3,})[ \t]*$")


@dataclass(frozen=True)
class Line:
    """A non-blank line: offsets of its text without surrounding white space."""

    start: int
    end: int
    text: str
    blank_before: bool


@dataclass(frozen=True)
class MarkdownLine:
    """A non-blank line as Markdown reads it.

    Attributes:
        line: where it is.
        level: its ATX heading level, 0 when it is no heading.
        title: the heading's text ("" for other lines and for empty headings).
        fence: True when it opens or closes a code fence.
        code: True for fence lines and the lines between them.
    """

    line: Line
    level: int = 0
    title: str = ""
    fence: bool = False
    code: bool = False


def lines(text: str) -> Iterator[Line]:
    """Every non-blank line, and whether a blank line (or the start) comes before it."""
    blank = True
    for match in _LINE.finditer(text):
        raw = match.group()
        if not raw:
            break
        body = raw.rstrip("\r\n")
        stripped = body.strip()
        if stripped:
            start = match.start() + len(body) - len(body.lstrip())
            yield Line(start, start + len(stripped), stripped, blank)
            blank = False
        else:
            blank = True
        if match.end() >= len(text):
            break


def _line_start(text: str, pos: int) -> int:
    """Where the line holding `pos` starts (to read its indentation)."""
    return max(text.rfind("\n", 0, pos), text.rfind("\r", 0, pos)) + 1


def markdown_lines(text: str) -> Iterator[MarkdownLine]:
    """Each non-blank line with its heading level and fence role, reading fences first."""
    fence: str | None = None
    for line in lines(text):
        raw = text[_line_start(text, line.start):line.end]
        if fence is not None:
            closer = _FENCE_CLOSE.match(raw)
            closes = closer is not None and closer.group(1)[0] == fence[0] and len(closer.group(1)) >= len(fence)
            if closes:
                fence = None
            yield MarkdownLine(line, fence=closes, code=True)
            continue
        opener = _FENCE_OPEN.match(raw)
        if opener is not None:
            fence = opener.group(1)
            yield MarkdownLine(line, fence=True, code=True)
            continue
        heading = _HEADING.match(raw)
        if heading is None:
            yield MarkdownLine(line)
        else:
            yield MarkdownLine(line, len(heading.group(1)), (heading.group(2) or "").strip())


def heading_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every ATX heading line outside fenced code."""
    return [(m.line.start, m.line.end) for m in markdown_lines(text) if m.level]


def first_heading(text: str, max_level: int = 2) -> str | None:
    """The text of the first non-empty heading of level `max_level` or above, outside code."""
    for m in markdown_lines(text):
        if m.level and m.level <= max_level and m.title:
            return m.title
    return None


def has_body(text: str) -> bool:
    """Whether anything but headings is written (a document of headings alone has no passage)."""
    return any(not m.level for m in markdown_lines(text))


def without_code(text: str) -> str:
    """`text` with the lines of fenced code blocks removed (line breaks kept)."""
    code = [(m.line.start, m.line.end) for m in markdown_lines(text) if m.code]
    if not code:
        return text
    kept, pos = [], 0
    for start, end in code:
        kept.append(text[pos:start])
        pos = end
    kept.append(text[pos:])
    return "".join(kept)
