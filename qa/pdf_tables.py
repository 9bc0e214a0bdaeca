"""Tables in a PDF page: rows printed as separate text runs that line up in columns.

pypdf's plain text gives a table row as one line of words ("Nitrate 50 mg/l 18.4 mg/l"),
which says little without its column names and, short and without a sentence end, would
pass for a heading or page debris. Its visitor, though, gives each text run's position:
the cells of a table row are separate runs that start at the same x on every row. A run
of such lines, the first being the column names, is written one row a line with a tab
between cells, so the chunker keeps it one passage that ranks as prose and the model reads
each row with its column names (qa.tables), as tables of HTML and Markdown documents are
read. Tabs, not pipes: the text shown and matched stays the text a PDF reader extracts
(whitespace between the cells).
"""

from __future__ import annotations

from typing import Sequence

# A run's start within this many points of a column's start is in that column.
ALIGN_POINTS = 3.0
MIN_ROWS = 2  # rows under the column names


def _columns_of(cells: Sequence[tuple[float, str]], columns: Sequence[float]) -> list[int] | None:
    """The column of each cell, or None when a cell starts at no column (or two share one)."""
    found = []
    for x, _ in cells:
        near = [i for i, c in enumerate(columns) if abs(c - x) <= ALIGN_POINTS]
        if not near or (found and near[0] <= found[-1]):
            return None
        found.append(near[0])
    return found


def table_end(lines: Sequence, start: int) -> int:
    """Where the table whose column names are line `start` ends (exclusive); `start` itself
    when no table starts there. Lines have `cells`: (x, text) of each text run."""
    head = lines[start].cells
    if len(head) < 2:
        return start
    columns = [x for x, _ in head]
    end = start + 1
    while end < len(lines) and len(lines[end].cells) >= 2 and _columns_of(lines[end].cells, columns) is not None:
        end += 1
    return end if end - start - 1 >= MIN_ROWS else start


def tab_table(lines: Sequence) -> str:
    """The lines one row a line, cells separated by a tab, each cell in its column."""
    columns = [x for x, _ in lines[0].cells]
    rows = []
    for line in lines:
        row = [""] * len(columns)
        for column, (_, text) in zip(_columns_of(line.cells, columns), line.cells):
            row[column] = " ".join(text.split())
        rows.append("\t".join(row))
    return "\n".join(rows)
