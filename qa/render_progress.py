"""HTML for the one indexing progress bar the UI shows for start-up builds, uploads and
removals: documents and passages done, rate, time left, and a cancel button (its click is
handled by qa/static/ui.js, which posts to /api/build/cancel). Styles in qa/static/style.css.
"""

from __future__ import annotations

from qa.progress import BuildStatus
from qa.render import esc, render_message


def render_progress(status: BuildStatus, base: str = "") -> str:
    """The bar while a build runs; a one-line note after a cancelled or failed one; nothing
    once the index is up to date."""
    if status.building:
        return _bar(status, base)
    if status.state == "cancelled":
        served = "the previous index is still served" if status.documents else "no index is served yet"
        return render_message(f"Indexing was cancelled; {served}.")
    if status.state == "failed":
        error = status.progress.error if status.progress is not None else None
        return render_message(f"Indexing failed: {error or 'see the server log'}.", "error")
    return ""


def _bar(status: BuildStatus, base: str) -> str:
    p = status.progress
    pct = round(p.share * 100) if p is not None else 0
    counts = (p.counts() if p is not None else "") or "getting ready"
    phase = p.phase if p is not None else "starting"
    serving = (f"{status.documents:,} documents are answered meanwhile" if status.documents
               else "questions are answered once the first index is built")
    queued = " · more changes queued" if status.queued else ""
    return (
        '<section class="qa-progress" aria-label="Indexing progress">'
        f'<div class="qa-progress-head"><span class="qa-progress-title">Indexing</span>'
        f'<span class="qa-progress-phase">{esc(phase)}{esc(queued)}</span>'
        f'<button type="button" class="qa-cancel" data-cancel-url="{esc(base)}/api/build/cancel">Cancel</button></div>'
        f'<div class="qa-progress-track" role="progressbar" aria-label="Indexing progress" aria-valuemin="0" '
        f'aria-valuemax="100" aria-valuenow="{pct}"><span class="qa-progress-fill" style="width:{pct}%"></span></div>'
        f'<div class="qa-progress-counts">{esc(counts)}</div>'
        f'<div class="qa-progress-note">{esc(serving)}.</div></section>'
    )
