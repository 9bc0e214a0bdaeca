"""Heading lines of plain text, read the way people write them without markup.

A plain-text document has no `#`, yet its headings are plain to a reader: a short line in
capitals ("4. OFFICE ATTENDANCE", "MINUTES OF THE REGULAR MEETING") or a line underlined
with `===` or `---`. Like Markdown, HTML and PDF headings, they become the context of the
passages under them (qa.chunking) rather than passages of their own: a heading names what
its section is about, it answers nothing.

Levels: a numbered heading is one level deeper per number ("4." is 2, "4.1" is 3); an
unnumbered one above all body text is the document's title (1), later ones are sections
(2); `===` underlines 1 and `---` underlines 2. Heading lines directly under one another
(a title over a subtitle) make one heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from qa.markdown import Line, lines

MAX_HEADING_WORDS = 12
_NUMBERED = re.compile(r"^(\d{1,3}(?:\.\d{1,3})*)\.?\s+\S")
_UNDERLINE = re.compile(r"^(=+|-+)$")
_SENTENCE_END = re.compile(r"[.!?,;]$")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class TextHeading:
    """One heading: its lines' span in the text, its level and its words."""

    start: int
    end: int
    level: int
    title: str


def _capitals_heading(text: str) -> bool:
    """A short line whose letters are all capitals (at least three) and no sentence."""
    letters = [c for c in text if c.isalpha()]
    return (len(letters) >= 3 and all(c.isupper() for c in letters) and not _SENTENCE_END.search(text)
            and len(_WORD.findall(text)) <= MAX_HEADING_WORDS)


def _underlined(line: Line, below: Line | None) -> int:
    """1 or 2 when `below` underlines `line` with `=` or `-` (0 when not)."""
    if below is None or below.blank_before or len(below.text) < 3 or not _UNDERLINE.match(below.text):
        return 0
    if _SENTENCE_END.search(line.text) or len(_WORD.findall(line.text)) > MAX_HEADING_WORDS:
        return 0
    return 1 if below.text[0] == "=" else 2


def _level(text: str, seen_body: bool) -> int:
    numbered = _NUMBERED.match(text)
    if numbered:
        return min(6, 1 + numbered.group(1).count(".") + 1)
    return 2 if seen_body else 1


def text_headings(text: str) -> list[TextHeading]:
    """The heading lines of a plain-text document, in order (see the module docstring)."""
    all_lines: Sequence[Line] = list(lines(text))
    found: list[TextHeading] = []
    seen_body, skip = False, False
    for i, line in enumerate(all_lines):
        if skip:
            skip = False
            continue
        below = all_lines[i + 1] if i + 1 < len(all_lines) else None
        underline = _underlined(line, below)
        if underline:
            heading = TextHeading(line.start, below.end, underline, line.text)
            skip = True
        elif _capitals_heading(line.text):
            heading = TextHeading(line.start, line.end, _level(line.text, seen_body), line.text)
        else:
            seen_body = True
            continue
        previous = found[-1] if found else None
        if previous is not None and not line.blank_before and previous.end == _end_of_line_before(all_lines, i):
            found[-1] = TextHeading(previous.start, heading.end, previous.level, f"{previous.title} - {heading.title}")
        else:
            found.append(heading)
    return found if seen_body else []  # a text of headings alone keeps them as its passages


def _end_of_line_before(all_lines: Sequence[Line], i: int) -> int:
    return all_lines[i - 1].end if i > 0 else -1
