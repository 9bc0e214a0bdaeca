"""The answer a question gets: ranked, cited, highlighted passages and a confidence verdict.

`Answer.to_dict()` is the JSON contract shared by `python -m qa ask --json` and the HTTP API;
keep it stable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qa.answer_span import Span
from qa.answerability import Evidence
from qa.highlight import Highlight

@dataclass(frozen=True)
class Result:
    """One cited passage. `start`/`end` index the document's text; highlights index `text`.
    `page` is the 1-based PDF page the passage starts on (None for unpaged formats).
    `answer` is the answer itself inside the first highlight (qa.answer_span), found for
    the top result only and only when the question asks for a date, a number, a name, ..."""

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
    answer: Span | None = None

    def to_dict(self) -> dict[str, Any]:
        """The contract's result object; `collection` is the collection's name (its
        folder's name, never a path) on every result, `page` only for paged documents (PDF),
        `answer` only when an answer span was found."""
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
            "collection": self.collection,
        }
        if self.page is not None:
            data["page"] = self.page
        if self.answer is not None:
            data["answer"] = self.answer.to_dict()
        return data


@dataclass(frozen=True)
class Answer:
    """What the engine returns for one question; `collection` names the served
    collections (comma-separated folder names)."""

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
            "results": [r.to_dict() for r in self.results],
        }
        if self.notes:
            data["notes"] = list(self.notes)
        return data
