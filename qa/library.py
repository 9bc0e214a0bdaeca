"""The document library: what is indexed, one row a document, for the "Documents" view."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from qa.engine import Engine


@dataclass(frozen=True)
class LibraryRow:
    """One indexed document as the library lists it; `added` is the file's date (UTC)."""

    title: str
    source: str
    collection: str
    format: str
    pages: int | None
    passages: int
    added: str
    uploaded: bool

    @property
    def key(self) -> str:
        """What the remove control sends back: the collection and the source."""
        return f"{self.collection}\n{self.source}"


def _added(path: Path) -> str:
    try:
        stamp = path.stat().st_mtime
    except OSError:
        return ""
    return dt.datetime.fromtimestamp(stamp, dt.timezone.utc).strftime("%Y-%m-%d")


def library_rows(engine: "Engine") -> list[LibraryRow]:
    uploads = engine.settings.uploads_folder.resolve()
    rows = []
    for d in engine.documents():
        folder = Path(d.collection)
        rows.append(LibraryRow(d.title, d.source, engine.collection_of(d), d.format, len(d.pages) or None,
                               engine.paragraphs(d), _added(folder / d.source), folder.resolve() == uploads))
    return rows


def matching(rows: Sequence[LibraryRow], text: str | None) -> list[LibraryRow]:
    """Rows whose title or file name holds `text` (any case); all rows for no text."""
    needle = (text or "").strip().casefold()
    return [r for r in rows if not needle or needle in r.title.casefold() or needle in r.source.casefold()]
