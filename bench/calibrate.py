"""Calibrate the answerable / not-answerable threshold, and report how well it separates.

    python bench/calibrate.py [--questions data/eval/seed_questions.jsonl]
                              [--check data/eval/calibration.jsonl]

Each question's evidence score (best-sentence cosine + half the question's term coverage in
the top passage, see qa.answers.evidence) is printed with its label. The threshold is fitted
on `--questions`: the midpoint of the gap between the highest unanswerable and the lowest
answerable evidence when the two separate, else the cut with the fewest errors. `--check`
scores a second, held-out file at that threshold (precision and recall of "no answer").
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.answers import CONFIDENCE_SCALE  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.engine import Engine  # noqa: E402
from qa.evaluation.harness import Question, load_questions  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def evidence_scores(engine: Engine, questions: list[Question]) -> list[tuple[float, bool, Question]]:
    """(evidence, answerable?, question), recovered from each answer's confidence."""
    threshold = engine.settings.answerable_threshold
    out = []
    for q, answer in zip(questions, engine.ask_batch([q.question for q in questions])):
        c = min(max(answer.confidence, 1e-12), 1 - 1e-12)
        out.append((threshold + CONFIDENCE_SCALE * math.log(c / (1 - c)), q.answerable, q))
    return out


def fit_threshold(scored: list[tuple[float, bool, Question]]) -> float:
    pos = sorted(e for e, a, _ in scored if a)
    neg = sorted(e for e, a, _ in scored if not a)
    if not neg or not pos:
        raise SystemExit("need both answerable and unanswerable questions to calibrate")
    if neg[-1] < pos[0]:
        return round((neg[-1] + pos[0]) / 2, 4)
    cuts = sorted({e for e, _, _ in scored})
    errors = [(sum(e >= t for e in neg) + sum(e < t for e in pos), t) for t in cuts]
    return round(min(errors)[1], 4)


def report(label: str, scored: list[tuple[float, bool, Question]], threshold: float) -> None:
    flagged = [(e < threshold, a) for e, a, _ in scored]
    tp = sum(f and not a for f, a in flagged)
    fp = sum(f and a for f, a in flagged)
    fn = sum(not f and not a for f, a in flagged)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print(f"{label}: {len(scored)} questions; unanswerable flagged {tp}/{tp + fn}, answerable flagged "
          f"{fp}/{sum(a for _, a in flagged)}; no-answer precision {precision:.3f}, recall {recall:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", default=str(ROOT / "data" / "eval" / "seed_questions.jsonl"))
    parser.add_argument("--check", default=str(ROOT / "data" / "eval" / "calibration.jsonl"))
    parser.add_argument("--index", default=str(ROOT / ".cache" / "bench" / "seeds-index"))
    args = parser.parse_args()
    engine = Engine.open(Settings(docs=(ROOT / "seeds",), index_dir=Path(args.index)))
    fitted = evidence_scores(engine, load_questions(args.questions))
    threshold = fit_threshold(fitted)
    print(f"{'evidence':>8}  label         id        question")
    for e, a, q in sorted(fitted, key=lambda x: x[0]):
        print(f"{e:8.4f}  {'answerable' if a else 'NO ANSWER ':10s}  {q.id:8s}  {q.question}")
    print(f"\nfitted threshold: {threshold} (configured: {engine.settings.answerable_threshold})")
    report(Path(args.questions).name, fitted, threshold)
    if args.check and Path(args.check).exists():
        report(Path(args.check).name + " (held out)", evidence_scores(engine, load_questions(args.check)), threshold)


if __name__ == "__main__":
    main()
