"""Builds in the background: one at a time, in their own thread, while the engine keeps
answering from the index it serves (or says "indexing, N of M" when it serves none yet).

A request made while a build runs *coalesces*: every request that arrives meanwhile is
served by one follow-up build, which starts when the running one ends and covers all their
changes. Cancelling stops the running build between batches and drops the queued requests;
the changes they carried are undone (an upload's stored file is deleted again), so the
folders match the index that stays served.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from qa import exclusions
from qa.documents import Collection, iter_document_files, load_collection
from qa.errors import BuildCancelled, CollectionError, IndexFormatError, ServerError
from qa.progress import BuildStatus, BuildWatch, Progress
from qa.store import BuildReport, load_index, stale_reason

if TYPE_CHECKING:  # pragma: no cover
    from qa.config import Settings
    from qa.engine import Engine

log = logging.getLogger("qa")


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Change:
    """A change to the served folders that the next build makes live: `undo` puts the folders
    back when that build is cancelled or fails; `settle` finishes the change once it is live."""

    description: str
    undo: Callable[[], None] = _nothing
    settle: Callable[[], None] = _nothing


@dataclass(frozen=True)
class Outcome:
    """How the build that covered a request ended: idle (done), cancelled or failed."""

    state: str
    report: BuildReport | None = None
    error: BaseException | None = None


class Ticket:
    """A request's handle: `wait()` returns the outcome of the build that covered it."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._outcome: Outcome | None = None

    def resolve(self, outcome: Outcome) -> None:
        self._outcome = outcome
        self._event.set()

    def wait(self, timeout: float | None = None) -> Outcome | None:
        self._event.wait(timeout)
        return self._outcome


class Indexer:
    """Runs `job` (a build publishing to a `BuildWatch`) in a background thread, one at a time.

    Args:
        job: brings the served index up to date; raises `BuildCancelled` when the watch
            is cancelled.
        served: (documents, passages) of the index served right now.
    """

    def __init__(self, job: Callable[[BuildWatch], BuildReport | None], served: Callable[[], tuple[int, int]]) -> None:
        self._job, self._served = job, served
        self._lock = threading.Lock()
        self._queue: list[tuple[Ticket, Change | None]] = []
        self._thread: threading.Thread | None = None
        self._watch: BuildWatch | None = None
        self._last: tuple[str, Progress] | None = None

    def request(self, change: Change | None = None) -> Ticket:
        """Build now, or in the one follow-up build when a build is running."""
        ticket = Ticket()
        with self._lock:
            self._queue.append((ticket, change))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="qa-build", daemon=True)
                self._thread.start()
        return ticket

    def cancel(self) -> bool:
        """Stop the running build and drop the queued requests, undoing their changes; the
        served index stays as it is. False when nothing was running or queued."""
        with self._lock:
            queued, self._queue = self._queue, []
            watch = self._watch
        if watch is not None:
            watch.cancel()
        _settle(queued, Outcome("cancelled"))
        _resolve(queued, Outcome("cancelled"))
        return watch is not None or bool(queued)

    def status(self) -> BuildStatus:
        with self._lock:
            watch, last, queued = self._watch, self._last, bool(self._queue)
        documents, passages = self._served()
        if watch is not None or queued:
            progress = watch.progress() if watch is not None else None
            return BuildStatus("building", progress, documents, passages, queued and watch is not None)
        if last is not None:
            return BuildStatus(last[0], last[1], documents, passages)
        return BuildStatus("idle", None, documents, passages)

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._thread = None
                    return
                batch, self._queue = self._queue, []
                watch = self._watch = BuildWatch()
            outcome = self._build(watch)
            _settle(batch, outcome)  # the folders match the served index before anyone is told
            watch.phase({"idle": "done"}.get(outcome.state, outcome.state))
            with self._lock:
                self._watch, self._last = None, (outcome.state, watch.progress())
            _resolve(batch, outcome)

    def _build(self, watch: BuildWatch) -> Outcome:
        try:
            report = self._job(watch)
        except BuildCancelled:
            log.info("build cancelled; the previous index stays served")
            return Outcome("cancelled")
        except Exception as exc:  # a failed build must not kill the thread nor the server
            log.error("build failed: %s", exc, exc_info=not isinstance(exc, ServerError))
            watch.fail(f"the build failed ({type(exc).__name__}); the server log has the details")
            return Outcome("failed", error=exc)
        return Outcome("idle", report)


def _settle(batch: Sequence[tuple[Ticket, Change | None]], outcome: Outcome) -> None:
    """Settle the changes a finished build made live, or undo those it did not (last first)."""
    for _, change in reversed(batch):
        if change is not None:
            try:
                (change.settle if outcome.state == "idle" else change.undo)()
            except OSError as exc:
                log.error("cannot finish %s: %s", change.description, exc)


def _resolve(batch: Sequence[tuple[Ticket, Change | None]], outcome: Outcome) -> None:
    for ticket, _ in batch:
        ticket.resolve(outcome)


def served_collections(settings: "Settings") -> list[Collection]:
    """The collection folders (less the documents removed from them, see `qa.exclusions`),
    plus the uploads folder once it holds a usable document."""
    excluded = exclusions.load(Path(settings.index_dir))
    collections = [exclusions.apply(load_collection(folder), excluded) for folder in settings.docs]
    uploads = settings.uploads_folder
    if uploads.is_dir() and not any(same_folder(uploads, d) for d in settings.docs):
        if any(True for _ in iter_document_files(uploads)):
            try:
                collections.append(load_collection(uploads))
            except CollectionError as exc:
                log.warning("uploads folder not served: %s", exc)
    return collections


def same_folder(a: Path, b: Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def refresh(engine: "Engine", watch: BuildWatch) -> BuildReport | None:
    """Bring what `engine` serves up to date with its folders: load the model on first use,
    serve a usable previous index at once, then (re)build and swap the new index in."""
    from qa.opening import document_embedder, open_index, query_embedder
    from qa.embedding import load_embedder

    settings = engine.settings
    watch.phase("reading documents")
    collections = served_collections(settings)
    if engine.embedder is None:
        watch.phase("loading the model")
        onnx = query_embedder(settings)
        engine.embedder = onnx if onnx is not None else load_embedder(settings.model, settings.device)
    if not engine.ready:
        serve_previous(engine)
    watch.phase("checking the index")
    index, report = open_index(settings, engine.embedder, collections, progress=watch,  # type: ignore[arg-type]
                               build_with=lambda: document_embedder(settings))
    if report is not None or not engine.ready:
        engine.install(index, report)
    return report


def serve_previous(engine: "Engine") -> None:
    """Serve the index already on disk while the new one builds, when the same model made it
    (its vectors then answer questions correctly, even if some documents have changed)."""
    try:
        current = load_index(Path(engine.settings.index_dir))
    except IndexFormatError as exc:
        log.warning("the previous index cannot be served meanwhile: %s", exc)
        return
    if current is not None and stale_reason(current.manifest, engine.embedder, engine.settings, None,
                                            model_only=True) is None:
        engine.install(current, None)
