"""Adding and removing documents: the change to the folders is made at once, the index
follows in a background build (`qa.indexing`), and a cancelled build takes the change back,
so the library always lists what is actually served.

- An upload is checked and written into the uploads folder (`qa.uploads`); undone, its file
  is deleted again.
- A removed upload's file is set aside under a hidden name (folder scans skip it) and deleted
  once the index without it is live; undone, it is put back.
- A removed document of a served folder is excluded (`qa.exclusions`); undone, included again.
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from qa import exclusions
from qa.documents import Document, content_hash
from qa.errors import BuildCancelled, StorageError
from qa.indexing import Change, Outcome, Ticket, same_folder
from qa.labels import collection_labels
from qa.store import BuildReport
from qa.uploads import Stored, max_upload_bytes, store_uploads

if TYPE_CHECKING:  # pragma: no cover
    from qa.engine import Engine

log = logging.getLogger("qa")


@dataclass(frozen=True)
class AddReport:
    """What adding uploaded documents did.

    Attributes:
        added: the new documents' sources in the uploads folder.
        skipped: (uploaded name, reason) for each file left out.
        too_large: some file was refused for its size.
        build: the build's report (None when nothing was added, or not waited for).
        indexing: the files are stored and a background build is indexing them.
        withdrawn: documents whose indexing was cancelled; their stored files are deleted.
    """

    added: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]
    too_large: bool = False
    duplicates_only: bool = False
    build: BuildReport | None = None
    indexing: bool = False
    withdrawn: tuple[str, ...] = ()

    def summary(self) -> str:
        if self.withdrawn:
            return (f"indexing was cancelled: {', '.join(self.withdrawn)} not added (the stored file was deleted; "
                    "the previous index is still served)")
        parts = [f"{len(self.added)} added" + (f" ({', '.join(self.added)})" if self.added else "")]
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        if self.indexing:
            parts.append("indexing in the background (GET /api/status)")
        if self.build is not None:
            parts.append(f"{self.build.passages_embedded} passages embedded in {self.build.seconds:.1f}s")
        return "; ".join(parts)


def add_documents(engine: "Engine", files: Sequence[tuple[str, bytes]], wait: bool = True) -> AddReport:
    """Store uploaded files in the uploads folder and have them indexed in the background;
    with `wait`, return once the build that indexes them has ended (they answer questions
    then), else at once with `indexing=True`.

    Each file is checked (size, type by content, text) and written atomically (see
    `qa.uploads`); bad files are reported, not raised. Only new documents are embedded.
    """
    with engine.changes_lock:
        index_dir = Path(engine.settings.index_dir)
        # A document removed from a served folder comes back when its content is added again.
        back = exclusions.lift(index_dir, {content_hash(data) for _, data in files})
        restored = {e.sha256 for e in back}
        files = [(name, data) for name, data in files if content_hash(data) not in restored]
        # Named as the API takes them: GET /api/documents/<source>?collection=<name>.
        indexed = {d.sha256: f"{d.source} (collection {engine.collection_of(d)})" for d in engine.documents()}
        stored = _store(engine, files, indexed)
        skipped = tuple((r.name, r.reason) for r in stored.rejected)
        too_large = any(r.too_large for r in stored.rejected)
        duplicates_only = bool(stored.rejected) and all(r.duplicate for r in stored.rejected)
        added = (*(e.source for e in back), *stored.added)
        if not added:
            return AddReport((), skipped, too_large, duplicates_only)
        folder = engine.settings.uploads_folder
        ticket = engine.indexer.request(Change(f"adding {', '.join(added)}",
                                               undo=lambda: _unstore(folder, stored.added, index_dir, back)))
    if not wait:
        return AddReport(added, skipped, too_large, duplicates_only, indexing=True)
    outcome = _waited(ticket)
    if outcome.state == "cancelled":
        return AddReport((), skipped, too_large, duplicates_only, withdrawn=added)
    log.info("documents added: %s", ", ".join(added))
    return AddReport(added, skipped, too_large, duplicates_only, outcome.report)


def _waited(ticket: Ticket) -> Outcome:
    """The outcome of the build covering `ticket`; its error raised when it failed."""
    outcome = ticket.wait()
    assert outcome is not None  # wait() without a timeout returns once resolved
    if outcome.error is not None:
        raise outcome.error
    return outcome


def _store(engine: "Engine", files: Sequence[tuple[str, bytes]], indexed: dict[str, str]) -> Stored:
    folder = engine.settings.uploads_folder
    label = collection_labels([*engine.collection_folders(), str(folder)])[str(folder)]
    try:
        return store_uploads(folder, files, indexed, max_upload_bytes(), label)
    except OSError as exc:
        raise StorageError(f"cannot write the uploads folder {folder}: {exc.strerror or exc}") from exc


def _unstore(folder: Path, names: Sequence[str], index_dir: Path, lifted: Sequence[exclusions.Excluded]) -> None:
    """Take back an add whose build did not finish: delete its stored files, exclude again."""
    for name in names:
        (folder / name).unlink(missing_ok=True)
    for entry in lifted:
        exclusions.exclude_entry(index_dir, entry)


def remove_document(engine: "Engine", source: str, collection: str | None = None, wait: bool = True) -> Document:
    """Take a document out of the index: an uploaded one is deleted with its file; one from a
    served folder is excluded (recorded beside the index), its file left alone. With `wait`,
    no answer cites it once this returns.

    Raises:
        QAError: no such indexed document; AmbiguousSource: name the collection.
        BuildCancelled: the build was cancelled; the document is still served.
    """
    with engine.changes_lock:
        doc = engine.document(source, collection)
        if same_folder(Path(doc.collection), engine.settings.uploads_folder):
            change = _set_aside(Path(doc.collection) / doc.source)
        else:
            index_dir = Path(engine.settings.index_dir)
            exclusions.exclude(index_dir, doc)
            change = Change(f"removing {doc.source}", undo=lambda: exclusions.include(index_dir, doc))
        ticket = engine.indexer.request(change)
    if wait and _waited(ticket).state == "cancelled":
        raise BuildCancelled(f"removing {doc.source!r} was cancelled; it is still served")
    log.info("document removed: %s/%s", doc.collection, doc.source)
    return doc


def _set_aside(path: Path) -> Change:
    """Move an uploaded file out of the folder's sight until the index without it is live."""
    aside = path.with_name(f".removing-{uuid.uuid4().hex[:8]}-{path.name}")
    try:
        os.replace(path, aside)
    except FileNotFoundError:
        return Change(f"removing {path.name}")
    except OSError as exc:
        raise StorageError(f"cannot remove {path}: {exc.strerror or exc}") from exc
    return Change(f"removing {path.name}", undo=lambda: os.replace(aside, path),
                  settle=lambda: aside.unlink(missing_ok=True))
