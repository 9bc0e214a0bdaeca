"""Documents removed from a served folder: their files are the user's and stay where they
are; the index leaves them out. The list is a small JSON file beside the index
(`excluded.json`: collection, source and content hash), written atomically. Adding the same
content again lifts the exclusion."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from qa.documents import Collection, Document
from qa.errors import QAError

FILE_NAME = "excluded.json"


@dataclass(frozen=True)
class Excluded:
    collection: str
    source: str
    sha256: str


def path_in(index_dir: Path) -> Path:
    return Path(index_dir) / FILE_NAME


def load(index_dir: Path) -> tuple[Excluded, ...]:
    """The exclusions recorded beside the index (none when there is no file)."""
    try:
        rows = json.loads(path_in(index_dir).read_text(encoding="utf-8"))
        return tuple(Excluded(r["collection"], r["source"], r["sha256"]) for r in rows)
    except (FileNotFoundError, NotADirectoryError):
        return ()  # nothing excluded yet (or no index folder: its own error comes later)
    except (ValueError, KeyError, TypeError) as exc:
        raise QAError(f"{path_in(index_dir)} is damaged ({exc}); delete it to serve every document again") from None


def save(index_dir: Path, excluded: tuple[Excluded, ...]) -> None:
    Path(index_dir).mkdir(parents=True, exist_ok=True)
    rows = [dataclasses.asdict(e) for e in excluded]
    fd, tmp = tempfile.mkstemp(dir=index_dir, prefix=".excluded.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(rows, handle, indent=1)
    os.replace(tmp, path_in(index_dir))


def exclude(index_dir: Path, doc: Document) -> None:
    exclude_entry(index_dir, Excluded(doc.collection, doc.source, doc.sha256))


def exclude_entry(index_dir: Path, entry: Excluded) -> None:
    current = load(index_dir)
    if entry not in current:
        save(index_dir, (*current, entry))


def include(index_dir: Path, doc: Document) -> None:
    """Take back `exclude(index_dir, doc)` (a removal whose build was cancelled)."""
    entry = Excluded(doc.collection, doc.source, doc.sha256)
    current = load(index_dir)
    if entry in current:
        save(index_dir, tuple(e for e in current if e != entry))


def lift(index_dir: Path, hashes: set[str]) -> tuple[Excluded, ...]:
    """Forget the exclusions of documents with these contents; returns those lifted."""
    current = load(index_dir)
    lifted = tuple(e for e in current if e.sha256 in hashes)
    if lifted:
        save(index_dir, tuple(e for e in current if e.sha256 not in hashes))
    return lifted


def apply(collection: Collection, excluded: tuple[Excluded, ...]) -> Collection:
    """The collection without its excluded documents."""
    names = {(e.collection, e.source) for e in excluded}
    kept = tuple(d for d in collection.documents if (d.collection, d.source) not in names)
    return dataclasses.replace(collection, documents=kept) if len(kept) != len(collection.documents) else collection
