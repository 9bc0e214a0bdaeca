"""How far a build has come: counts published by the store's build loop, turned into a
progress snapshot (rate, ETA) that the API, the UI and the log read.

`build_index` publishes `BuildCounts` to a `BuildWatch` between documents and between
batches, and asks it whether to stop; the watch keeps the last counts and the clock, so a
reader gets a consistent `Progress` at any time without touching the build.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from typing import Any, Callable

STATES = ("idle", "building", "failed", "cancelled")


@dataclass(frozen=True)
class BuildCounts:
    """What the build loop knows at one moment. Rows are the texts it embeds (a passage and
    each of its sentences); passages and documents count the whole build, reused ones too."""

    phase: str
    documents_done: int = 0
    documents_total: int = 0
    passages_done: int = 0
    passages_total: int = 0
    rows_done: int = 0
    rows_total: int = 0


@dataclass(frozen=True)
class Progress:
    """A build's progress as clients see it (`GET /api/status`, the UI's bar)."""

    phase: str
    documents_done: int
    documents_total: int
    passages_done: int
    passages_total: int
    rows_per_second: float
    eta_seconds: float | None
    started: str
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def share(self) -> float:
        """0..1: passages done of all passages (0 until the embedding has counted them)."""
        return min(1.0, self.passages_done / self.passages_total) if self.passages_total else 0.0

    def line(self) -> str:
        """'embedding, 3 of 10 documents, 1,200 of 5,000 passages, 240 texts/s, about 20 s left'."""
        return ", ".join(part for part in (self.phase, self.counts()) if part)

    def counts(self) -> str:
        """'3 of 10 documents, 1,200 of 5,000 passages, 240 texts/s, about 20 s left' (what is known)."""
        parts = []
        if self.documents_total:
            parts.append(f"{self.documents_done:,} of {self.documents_total:,} documents")
        if self.passages_total:
            parts.append(f"{self.passages_done:,} of {self.passages_total:,} passages")
        if self.rows_per_second > 0:
            parts.append(f"{self.rows_per_second:,.0f} texts/s")
        if self.eta_seconds is not None:
            parts.append(f"about {_duration(self.eta_seconds)} left")
        return ", ".join(parts)


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


@dataclass(frozen=True)
class BuildStatus:
    """`GET /api/status`: the build's state, its progress, and what is served meanwhile.

    Attributes:
        state: idle (nothing running; the last build, if any, succeeded), building,
            failed or cancelled (the last build; the previous index stays served).
        progress: the running or last build's progress; None before the first build.
        documents: documents in the index being served (0 when none is served yet).
        passages: passages in the index being served.
        queued: a build is waiting to run after this one (requests coalesce into it).
    """

    state: str
    progress: Progress | None
    documents: int
    passages: int
    queued: bool = False

    @property
    def building(self) -> bool:
        return self.state == "building"

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "progress": self.progress.to_dict() if self.progress else None,
                "documents": self.documents, "passages": self.passages, "queued": self.queued}


class BuildWatch:
    """The build's side of the progress: it publishes counts and reads the cancel flag;
    clients read `progress()`. Thread-safe: the build runs in its own thread."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._counts = BuildCounts("starting")
        self._started_at = clock()
        self._started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self._rows_from: tuple[float, int] | None = None  # when and where the embedding began
        self._error: str | None = None

    def publish(self, counts: BuildCounts) -> None:
        with self._lock:
            if self._rows_from is None and counts.rows_total:
                self._rows_from = (self._clock(), counts.rows_done)
            self._counts = counts

    def phase(self, name: str) -> None:
        """A step outside the embedding loop (loading the model, saving)."""
        with self._lock:
            self._counts = replace(self._counts, phase=name)

    def stop_requested(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def fail(self, error: str) -> None:
        with self._lock:
            self._error = error

    def progress(self) -> Progress:
        with self._lock:
            c, rows_from, error = self._counts, self._rows_from, self._error
        rate, eta = 0.0, None
        if rows_from is not None:
            elapsed = self._clock() - rows_from[0]
            done = c.rows_done - rows_from[1]
            if elapsed > 0 and done > 0:
                rate = done / elapsed
                eta = max(0.0, (c.rows_total - c.rows_done) / rate)
        return Progress(c.phase, c.documents_done, c.documents_total, c.passages_done, c.passages_total,
                        round(rate, 1), None if eta is None else round(eta, 1), self._started, error)
