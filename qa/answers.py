"""The answer a question gets: ranked, cited, highlighted passages and a confidence verdict.

`Answer.to_dict()` is the JSON contract shared by `python -m qa ask --json` and the HTTP API;
keep it stable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qa.answerability import Evidence
from qa.highlight import Highlight

@dataclass(frozen=True)
class Result:
    """One cited passage. `start`/`end` index the document's text; highlights index `text`.
    `page` is the 1-based PDF page the passage starts on (None for unpaged formats)."""

    rank: int
    score: float
    source: str
    title: str
    paragraph: int
    start: int
    end: int
    text: str
    highlights: tuple[Highlight, ...]
    collection: str = ""
    page: int | None = None

    def to_dict(self, with_collection: bool = False) -> dict[str, Any]:
        """The contract's result object; `page` only for paged documents (PDF), and
        `collection` only when several collections are served (a source alone may then be
        ambiguous)."""
        data: dict[str, Any] = {
            "rank": self.rank,
            "score": round(self.score, 4),
            "source": self.source,
            "title": self.title,
            "paragraph": self.paragraph,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "highlights": [{"start": h.start, "end": h.end, "text": h.text} for h in self.highlights],
        }
        if self.page is not None:
            data["page"] = self.page
        if with_collection:
            data["collection"] = self.collection
        return data


@dataclass(frozen=True)
class Answer:
    """What the engine returns for one question."""

    question: str
    collection: str
    answerable: bool
    confidence: float
    results: tuple[Result, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)
    several_collections: bool = False  # results then name their collection
    # the features the answerable verdict was computed from (qa.answerability); not in the JSON
    evidence: Evidence | None = field(default=None, compare=False)

    @property
    def best(self) -> Result | None:
        return self.results[0] if self.results else None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "question": self.question,
            "collection": self.collection,
            "answerable": self.answerable,
            "confidence": round(self.confidence, 4),
            "results": [r.to_dict(self.several_collections) for r in self.results],
        }
        if self.notes:
            data["notes"] = list(self.notes)
        return data
