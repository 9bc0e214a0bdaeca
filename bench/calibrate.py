"""Calibrate the answerable / not-answerable threshold, and report how well it separates.

    python bench/calibrate.py [--questions FILE] [--tune FILE ...] [--check FILE]

By default the threshold must first get the seed questions right (data/eval/seed_questions.jsonl);
the paraphrased development set (data/eval/paraphrases.jsonl, `--tune`) then picks among the
cuts that do; data/eval/calibration.jsonl (`--check`) is scored at the result, held out.

Each question's evidence score (best-sentence cosine + half the question's term coverage in
the top passage, less a penalty when it holds no answer of the kind asked for; see
qa.answers.evidence) is printed with its label. The threshold is the cut with the fewest
errors on `--questions`, then the fewest on `--tune`, then the middle of the widest gap
between neighbouring evidence values. Every file is reported at that threshold (precision and
recall of "no answer").
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


def errors_at(scored: list[tuple[float, bool, Question]], cut: float) -> int:
    """Answerable questions below the cut plus unanswerable ones at or above it."""
    return sum((e < cut) == a for e, a, _ in scored)


def fit_threshold(scored: list[tuple[float, bool, Question]],
                  tune: list[tuple[float, bool, Question]] = ()) -> float:
    """The cut with the fewest errors on `scored`; among those, the fewest on `tune`; among
    those, the middle of the widest gap between neighbouring evidence values."""
    if not any(a for _, a, _ in scored) or all(a for _, a, _ in scored):
        raise SystemExit("need both answerable and unanswerable questions to calibrate")
    values = sorted({e for e, _, _ in [*scored, *tune]})
    cuts = [((lo + hi) / 2, hi - lo) for lo, hi in zip(values, values[1:])]
    best = min(cuts, key=lambda c: (errors_at(scored, c[0]), errors_at(tune, c[0]), -c[1]))
    return round(best[0], 4)


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
    parser.add_argument("--questions", default=str(ROOT / "data" / "eval" / "seed_questions.jsonl"),
                        help="the questions the threshold must get right first")
    parser.add_argument("--tune", nargs="*", default=[str(ROOT / "data" / "eval" / "paraphrases.jsonl")],
                        help="questions that choose among equally good cuts (fewest errors here)")
    parser.add_argument("--check", default=str(ROOT / "data" / "eval" / "calibration.jsonl"))
    parser.add_argument("--index", default=str(ROOT / ".cache" / "bench" / "seeds-index"))
    args = parser.parse_args()
    engine = Engine.open(Settings(docs=(ROOT / "seeds",), index_dir=Path(args.index)))
    fitted = evidence_scores(engine, load_questions(args.questions))
    tuned = [s for path in args.tune for s in evidence_scores(engine, load_questions(path))]
    threshold = fit_threshold(fitted, tuned)
    print(f"{'evidence':>8}  label         id        question")
    for e, a, q in sorted(fitted, key=lambda x: x[0]):
        print(f"{e:8.4f}  {'answerable' if a else 'NO ANSWER ':10s}  {q.id:8s}  {q.question}")
    print(f"\nfitted threshold: {threshold} (configured: {engine.settings.answerable_threshold})")
    report(Path(args.questions).name, fitted, threshold)
    for path in args.tune:
        report(Path(path).name, evidence_scores(engine, load_questions(path)), threshold)
    if args.check and Path(args.check).exists():
        report(Path(args.check).name + " (held out)", evidence_scores(engine, load_questions(args.check)), threshold)


if __name__ == "__main__":
    main()
