"""A build's counts as the progress display sees them, and its cancellation points."""

from __future__ import annotations

import bisect
from typing import Sequence

from qa.errors import BuildCancelled
from qa.progress import BuildCounts, BuildWatch


class WatchedCounts:
    """The build's counts for a `BuildWatch`: passages and texts done, and documents done
    (a fresh document is done once all its passages are; reused ones count from the start)."""

    def __init__(self, watch: BuildWatch, fresh_ends: Sequence[int], documents: int, passages: int,
                 rows_total: int) -> None:
        self.watch, self.fresh_ends = watch, fresh_ends
        self.reused_documents = documents - len(fresh_ends)
        self.documents, self.passages_reused = documents, passages - (fresh_ends[-1] if fresh_ends else 0)
        self.passages, self.passages_done, self.rows_done, self.rows_total = passages, 0, 0, rows_total

    def rows(self, passage: bool, count: int) -> None:
        self.rows_done += count
        self.passages_done += count if passage else 0

    def publish(self) -> None:
        """Publish the counts, and stop the build here (between batches) when asked to."""
        done = self.reused_documents + bisect.bisect_right(self.fresh_ends, self.passages_done)
        self.watch.publish(BuildCounts("embedding", done, self.documents, self.passages_reused + self.passages_done,
                                       self.passages, self.rows_done, self.rows_total))
        stop_if_asked(self.watch)


def stop_if_asked(watch: BuildWatch | None) -> None:
    if watch is not None and watch.stop_requested():
        raise BuildCancelled("the build was cancelled")
