"""The seed-question harness: passage hits, highlight accuracy, abstention and latency.

Question files are JSON lines with `id`, `question`, `answer` (null when the collection
holds no answer) and `evidence` (a verbatim piece of the answering paragraph).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, astuple, dataclass, field
from pathlib import Path
from typing import Any, Sequence

from qa.config import Settings
from qa.engine import Engine
from qa.errors import QAError
from qa.evaluation.metrics import contains, first_hit_rank, hit_at, mean, percentile, reciprocal_rank

DEPTH = 10


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answer: str | None
    evidence: str | None

    @property
    def answerable(self) -> bool:
        return self.answer is not None


@dataclass(frozen=True)
class Outcome:
    """How one question fared."""

    id: str
    question: str
    answerable: bool
    flagged_answerable: bool
    confidence: float
    hit_rank: int | None
    highlight_hit: bool
    latency_ms: float
    top: str
    features: tuple[float, ...] = ()  # qa.answerability.Evidence of the answer, for fitting


@dataclass(frozen=True)
class QuestionsReport:
    mode: str
    questions: int
    hit_at_1: float
    hit_at_3: float
    hit_at_5: float
    mrr_at_10: float
    highlight_accuracy: float
    unanswerable_flagged: int
    unanswerable: int
    answerable_flagged: int
    answerable: int
    no_answer_precision: float
    no_answer_recall: float
    latency_p50_ms: float
    latency_p95_ms: float
    outcomes: tuple[Outcome, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class QuestionSet:
    """A question file over one collection folder, and its role in the reported
    configuration: "dev" (values were fitted on it) or "held-out" (only reported)."""

    name: str
    docs: Path
    questions: Path
    role: str = "dev"


def evaluate_set(settings: Settings, qset: QuestionSet, scratch: Path) -> QuestionsReport:
    """Build (or reuse) `qset`'s index under `scratch` with `settings` and score its questions.

    The index folder is named after the collection, so sets over the same documents share it."""
    folder = Path(qset.docs).resolve()
    index_dir = Path(scratch) / f"{folder.parent.name}-{folder.name}-index"
    engine = Engine.open(settings.replace(docs=(Path(qset.docs),), index_dir=index_dir))
    return evaluate_questions(engine, load_questions(qset.questions, scored=True))


def load_questions(path: Path | str, scored: bool = False) -> list[Question]:
    """Read a question file; raises QAError naming the bad line.

    Args:
        scored: the file is for scoring (`qa eval`): every line needs `answer` (null when
            the documents hold none) and every answerable line a non-empty `evidence`;
            without them every question would silently score as a miss.
    """
    questions = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                questions.append(Question(str(row.get("id", number)), row["question"], row.get("answer"), row.get("evidence")))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise QAError(f"{path}:{number}: not a question line ({exc}); {FORMAT_HINT}") from exc
            if scored:
                _check_scoring_fields(row, f"{path}:{number}")
    return questions


FORMAT_HINT = 'each line is {"id", "question", "answer" (null when unanswerable), "evidence"}'


def _check_scoring_fields(row: dict[str, Any], where: str) -> None:
    if "answer" not in row:
        raise QAError(f"{where}: no `answer` field, needed to score it (null when the documents hold no answer); "
                      f"{FORMAT_HINT}")
    if row["answer"] is not None and not (isinstance(row.get("evidence"), str) and row["evidence"].strip()):
        raise QAError(f"{where}: no `evidence` field (verbatim text of the answering passage), needed to score "
                      f"an answerable question; {FORMAT_HINT}")


def evaluate_questions(engine: Engine, questions: Sequence[Question], mode: str | None = None) -> QuestionsReport:
    """Ask every question one at a time (timed) and score the answers."""
    mode = mode or engine.settings.mode
    engine.ask("warm-up question", k=DEPTH, mode=mode)
    outcomes = []
    for q in questions:
        started = time.perf_counter()
        answer = engine.ask(q.question, k=DEPTH, mode=mode)
        latency = (time.perf_counter() - started) * 1000
        rank = None
        highlight_hit = False
        if q.answerable and q.evidence:
            rank = first_hit_rank([contains(r.text, q.evidence) for r in answer.results])
        if q.answerable and answer.best and answer.best.highlights:
            highlight_hit = contains(answer.best.highlights[0].text, q.answer or "")
        top = f"{answer.best.source}#{answer.best.paragraph}" if answer.best else ""
        features = astuple(answer.evidence) if answer.evidence is not None else ()
        outcomes.append(Outcome(q.id, q.question, q.answerable, answer.answerable, answer.confidence, rank,
                                highlight_hit, latency, top, features))
    return summarize(mode, outcomes)


def summarize(mode: str, outcomes: Sequence[Outcome]) -> QuestionsReport:
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]
    flagged_no = [o for o in outcomes if not o.flagged_answerable]
    correct_no = [o for o in unanswerable if not o.flagged_answerable]
    latencies = [o.latency_ms for o in outcomes]
    return QuestionsReport(
        mode=mode,
        questions=len(outcomes),
        hit_at_1=mean([hit_at(o.hit_rank, 1) for o in answerable]),
        hit_at_3=mean([hit_at(o.hit_rank, 3) for o in answerable]),
        hit_at_5=mean([hit_at(o.hit_rank, 5) for o in answerable]),
        mrr_at_10=mean([reciprocal_rank(o.hit_rank, 10) for o in answerable]),
        highlight_accuracy=mean([1.0 if o.highlight_hit else 0.0 for o in answerable]),
        unanswerable_flagged=len(correct_no),
        unanswerable=len(unanswerable),
        answerable_flagged=len([o for o in answerable if not o.flagged_answerable]),
        answerable=len(answerable),
        no_answer_precision=len(correct_no) / len(flagged_no) if flagged_no else 1.0,
        no_answer_recall=len(correct_no) / len(unanswerable) if unanswerable else 1.0,
        latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95),
        outcomes=tuple(outcomes),
    )


def format_questions_report(reports: Sequence[QuestionsReport], verbose: bool = False) -> str:
    """A readable table, one column per mode."""
    rows = [
        ("questions", lambda r: f"{r.questions}"),
        ("Hit@1", lambda r: f"{r.hit_at_1:.3f}"),
        ("Hit@3", lambda r: f"{r.hit_at_3:.3f}"),
        ("Hit@5", lambda r: f"{r.hit_at_5:.3f}"),
        ("MRR@10", lambda r: f"{r.mrr_at_10:.3f}"),
        ("highlight accuracy", lambda r: f"{r.highlight_accuracy:.3f}"),
        ("unanswerable flagged", lambda r: f"{r.unanswerable_flagged}/{r.unanswerable}"),
        ("answerable flagged", lambda r: f"{r.answerable_flagged}/{r.answerable}"),
        ("no-answer precision", lambda r: f"{r.no_answer_precision:.3f}"),
        ("no-answer recall", lambda r: f"{r.no_answer_recall:.3f}"),
        ("latency p50 (ms)", lambda r: f"{r.latency_p50_ms:.1f}"),
        ("latency p95 (ms)", lambda r: f"{r.latency_p95_ms:.1f}"),
    ]
    header = ["metric"] + [r.mode for r in reports]
    table = [header] + [[name] + [fmt(r) for r in reports] for name, fmt in rows]
    text = format_table(table)
    if verbose:
        for report in reports:
            text += "".join(f"\n[{report.mode}] {line}" for line in miss_lines(report))
    return text


def miss_lines(report: QuestionsReport) -> list[str]:
    """One line per question answered wrongly: a missed passage or highlight, or a wrong
    answerable verdict."""
    misses = [o for o in report.outcomes if (o.answerable and (o.hit_rank != 1 or not o.highlight_hit))
              or o.answerable != o.flagged_answerable]
    return [f"{o.id}: rank={o.hit_rank} highlight={'ok' if o.highlight_hit else 'miss'} "
            f"answerable={o.flagged_answerable} conf={o.confidence:.3f} top={o.top}  {o.question}" for o in misses]


def format_table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
