"""Tables and lists of structured documents: they rank as prose, and the model reads a
table's rows with their column names, not pipes.

HTML and Markdown tables reach the chunker as Markdown pipe rows (qa.formats), PDF tables
as lines with a tab between cells, the first line the column names (qa.pdf_tables). A row such
as `| November to March | Two sailings a day |` says little on its own; read as
"Season: November to March; Sailings: Two sailings a day." it says what its cells are, for
the passage vector and for the row's own sentence vector alike. The stored text and its
offsets are unchanged: only the text given to the model differs.
"""

from __future__ import annotations

import re

# The structure version (qa.chunking.STRUCTURE_VERSION) from which tables are read this way:
# vectors of tables from an older index are not reused.
READ_FROM_STRUCTURE = 3

_LIST_ITEM = re.compile(r"([-*+]|\d{1,3}[.)])\s+")
_WORD = re.compile(r"\w+")
_LINK_ONLY = re.compile(r"\[[^\]]*\]\([^)]*\)")
_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")


def is_table_or_list_item(line: str, min_words: int) -> bool:
    """A row of a table with at least two filled cells, or a list item of at least half a
    prose line's words: in a structured document (its menus and page furniture already
    dropped, see qa.formats) these hold the body's figures (an ingredient list, a timetable),
    not debris, and rank as prose does. An item that is only a link stays a short line."""
    stripped = line.strip()
    if stripped.startswith("|") or "\t" in stripped:
        return sum(1 for cell in cells(stripped) if _WORD.search(cell)) >= 2
    item = _LIST_ITEM.match(stripped)
    if item is None or _LINK_ONLY.fullmatch(stripped[item.end():].strip()):
        return False  # a table of contents or a menu: each item only a link
    return len(_WORD.findall(stripped[item.end():])) >= (min_words + 1) // 2


def cells(line: str) -> list[str]:
    if "\t" in line:
        return [c.strip() for c in line.strip("\n").split("\t")]
    return [c.strip() for c in line.strip().strip("|").split("|")]


def is_row(line: str) -> bool:
    return (line.strip().startswith("|") and line.strip().endswith("|")) or "\t" in line


def is_tab_table(lines: list[str]) -> bool:
    """Rows of the same number of tab-separated cells (a PDF table, qa.pdf_tables)."""
    return len(lines) >= 2 and all("\t" in r for r in lines) and len({r.count("\t") for r in lines}) == 1


def is_separator(line: str) -> bool:
    return _SEPARATOR.match(line.strip()) is not None


def header_of(lines: list[str]) -> tuple[int, list[str]] | None:
    """Where the column names are and what they are: the last row above a separator row
    (a caption row may come first, as HTML tables extracted by trafilatura have)."""
    header = None
    for i, (above, line) in enumerate(zip(lines, lines[1:])):
        if is_separator(line) and is_row(above) and not is_separator(above):
            header = (i, cells(above))
    return header


def read_row(line: str, names: list[str] | None) -> str:
    """One row as the model reads it: `name: value` pairs under the column names, the filled
    cells elsewhere (a caption, the names themselves); nothing for a separator row."""
    if not is_row(line) or is_separator(line):
        return "" if is_separator(line) else line
    values = cells(line)
    if names is None or len(values) != len(names):
        return "; ".join(v for v in values if v) + "."
    return "; ".join(f"{h}: {v}" if h else v for h, v in zip(names, values) if v) + "."


def _readings(lines: list[str]) -> list[str]:
    if is_tab_table([line for line in lines if line.strip()]):
        return [read_row(line, cells(lines[0]) if i else None) for i, line in enumerate(lines)]
    header = header_of(lines)
    at, names = header if header is not None else (len(lines), None)
    return [read_row(line, names if i > at else None) for i, line in enumerate(lines)]


def is_table(text: str) -> bool:
    rows = [line for line in text.splitlines() if line.strip()]
    if is_tab_table(rows):
        return True
    return len(rows) >= 2 and all(is_row(r) for r in rows) and any(is_separator(r) for r in rows)


def reading(text: str) -> str:
    """`text` as the model reads it: a table row by row with its column names, any other
    text unchanged."""
    if not is_table(text):
        return text
    return "\n".join(r for r in _readings(text.splitlines()) if r)


def sentence_readings(text: str, sentences: list[str]) -> list[str]:
    """Each sentence (a row, in a table) as the model reads it."""
    if not is_table(text):
        return sentences
    rows = dict(zip((line.strip() for line in text.splitlines()), _readings(text.splitlines())))
    return [rows.get(s.strip()) or s for s in sentences]
