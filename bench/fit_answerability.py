"""Fit the answerable verdict (qa.answerability) on the question sets, and report it honestly.

    python bench/fit_answerability.py [--set NAME ...] [--C 10] [--weight 1.5] [--threshold 0.45]
    python bench/fit_answerability.py --reuse --sweep     # choose C, weight and threshold

Every question of every set is asked through the real engine; its answer's evidence
features and whether the documents answer it are collected. A logistic regression
(scikit-learn) is then fitted:

- leave one set out: for each set, fitted on all the others and scored on it, so every
  figure printed for a set comes from weights that never saw it;
- on all sets: the weights to put in `AnswerabilityParams` (printed as Python), with the
  verdicts they give in sample printed beside the held-out ones;
- `--sweep`: C, the weight of an unanswerable question and the threshold are chosen by the
  held-out figures alone (the most unanswerable questions flagged less answerable ones
  flagged, over all sets), never by the fit on all sets.

The reliability table bins the held-out (leave-one-set-out) confidences of the questions the
documents answer and says how often the top passage was the right one in each bin.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.quality import FIT_SETS, question_sets  # noqa: E402
from qa.answerability import FEATURES  # noqa: E402
from qa.config import load_settings  # noqa: E402
from qa.params import AnswerabilityParams  # noqa: E402
from qa.evaluation.harness import evaluate_set  # noqa: E402


# The fitting choices behind the shipped AnswerabilityParams (chosen by --sweep, held out).
SHIPPED_C = 10.0
SHIPPED_WEIGHT = 1.5


def arrays(report) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A set's features (n, f), answerable labels (n,) and top passage right (n,)."""
    x = np.array([o.features for o in report.outcomes], dtype=np.float64)
    y = np.array([o.answerable for o in report.outcomes], dtype=bool)
    right = np.array([o.hit_rank == 1 for o in report.outcomes], dtype=bool)
    return x, y, right


def collect(names, scratch: Path) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per set: features (n, f), answerable labels (n,), top passage right (n,)."""
    settings = load_settings()
    return {qset.name: arrays(evaluate_set(settings, qset, scratch)) for qset in question_sets(names, ())}


def fit(x: np.ndarray, y: np.ndarray, c: float, weight: float = 2.0):
    """Logistic regression; an unanswerable question weighs `weight` answerable ones (they
    are few, and a wrong answer given confidently costs more than a missed one)."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight={False: weight, True: 1.0}, max_iter=5000).fit(x, y)


def leave_one_set_out(data, c: float, weight: float, not_fitted: frozenset[str] = frozenset()) -> dict[str, np.ndarray]:
    """Per set, its questions' probabilities from a model fitted on the other sets, never on
    a `not_fitted` (held-out) set."""
    out = {}
    for name, (x, _, _) in data.items():
        xs = np.vstack([d[0] for n, d in data.items() if n != name and n not in not_fitted])
        ys = np.concatenate([d[1] for n, d in data.items() if n != name and n not in not_fitted])
        out[name] = fit(xs, ys, c, weight).predict_proba(x)[:, 1]
    return out


def flagged(y: np.ndarray, p: np.ndarray, threshold: float) -> tuple[int, int]:
    """(unanswerable questions flagged, answerable questions flagged) at `threshold`."""
    below = p < threshold
    return int((below & ~y).sum()), int((below & y).sum())


def verdict_line(name: str, y: np.ndarray, held: np.ndarray, fitted: np.ndarray, threshold: float) -> str:
    """One set's verdicts held out (with no-answer precision and recall) and in sample."""
    tp, fp = flagged(y, held, threshold)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / int((~y).sum()) if (~y).any() else 1.0
    n_un, n_an = int((~y).sum()), int(y.sum())
    in_tp, in_fp = flagged(y, fitted, threshold)
    return (f"{name:12s} {f'{tp}/{n_un}':>7s} {f'{fp}/{n_an}':>7s}  {precision:.3f} {recall:.3f}   |"
            f" {f'{in_tp}/{n_un}':>7s} {f'{in_fp}/{n_an}':>7s}")


def sweep(data) -> tuple[float, float, float]:
    """C, weight and threshold with the best held-out score (unanswerable flagged less
    answerable flagged, summed over the sets); prints the best few."""
    rows = []
    for c in (1.0, 3.0, 10.0, 30.0, 100.0):
        for weight in (1.0, 1.5, 2.0, 3.0):
            probs = leave_one_set_out(data, c, weight)
            for threshold in np.round(np.arange(0.3, 0.61, 0.05), 2):
                counts = [flagged(y, probs[n], threshold) for n, (_, y, _) in data.items()]
                tp, fp = sum(t for t, _ in counts), sum(f for _, f in counts)
                rows.append((tp - fp, tp, -c, weight, float(threshold), fp))
    rows.sort(reverse=True)
    print("held-out sweep (best first): score = unanswerable flagged - answerable flagged, all sets")
    for score, tp, c, weight, threshold, fp in rows[:6]:
        print(f"  C {-c:g} weight {weight:g} threshold {threshold:.2f}: {tp} - {fp} = {score}")
    _, _, c, weight, threshold, _ = rows[0]
    return -c, weight, threshold


def reliability(data, probs) -> str:
    """Of the answerable questions answered at each confidence, the share whose top passage was right."""
    p = np.concatenate([probs[n][data[n][1]] for n in data])
    right = np.concatenate([data[n][2][data[n][1]] for n in data])
    lines = ["confidence   answers  top passage right"]
    for lo in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        inside = (p >= lo) & (p < lo + 0.1 if lo < 0.9 else p <= 1.0)
        share = f"{right[inside].mean():.3f}" if inside.any() else "-"
        lines.append(f"{lo:.1f}-{lo + 0.1:.1f}    {int(inside.sum()):7d}  {share}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", nargs="*", choices=sorted(FIT_SETS), default=list(FIT_SETS),
                        help="sets fitted on (a held-out set, bench.quality.DEFAULT_HELD_OUT, is never one)")
    parser.add_argument("--C", type=float, default=SHIPPED_C, help="inverse L2 strength of the regression")
    parser.add_argument("--weight", type=float, default=SHIPPED_WEIGHT, help="weight of an unanswerable question")
    parser.add_argument("--threshold", type=float, default=AnswerabilityParams().threshold, help="answerable when the probability reaches it")
    parser.add_argument("--sweep", action="store_true", help="choose C, weight and threshold held out")
    parser.add_argument("--reuse", action="store_true", help="reuse the features of the last run")
    parser.add_argument("--scratch", type=Path, default=ROOT / ".cache" / "quality")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    saved = args.scratch / "answerability-features.npz"
    if args.reuse and saved.is_file():
        arrays = np.load(saved)
        data = {n: (arrays[f"{n}.x"], arrays[f"{n}.y"], arrays[f"{n}.right"]) for n in args.set if f"{n}.x" in arrays}
    else:
        data = collect(args.set, args.scratch)
        np.savez(saved, **{f"{n}.{k}": v for n, d in data.items() for k, v in zip(("x", "y", "right"), d)})
    c, weight, threshold = sweep(data) if args.sweep else (args.C, args.weight, args.threshold)
    report(data, c, weight, threshold)


def report(data, c: float, weight: float, threshold: float) -> None:
    """Held-out and in-sample verdicts side by side, the reliability table, the weights."""
    probs = leave_one_set_out(data, c, weight)
    model = fit(np.vstack([d[0] for d in data.values()]), np.concatenate([d[1] for d in data.values()]), c, weight)
    print(f"\nC {c:g}, weight {weight:g}, threshold {threshold:.2f}")
    print(f"{'':12s} {'held out (leave one set out)':^38s} | {'fitted on all sets':^16s}")
    print(f"{'set':12s} {'unans':>7s} {'answ':>7s}  prec. recall  | {'unans':>7s} {'answ':>7s}")
    for name, (x, y, _) in data.items():
        print(verdict_line(name, y, probs[name], model.predict_proba(x)[:, 1], threshold))
    print("\nreliability (held out):\n" + reliability(data, probs))
    print("\nfitted on all sets (AnswerabilityParams):")
    print(f"    bias: float = {model.intercept_[0]:.4f}")
    for name, w in zip(FEATURES, model.coef_[0]):
        print(f"    {name}: float = {w:.4f}")
    print(f"    threshold: float = {threshold:.2f}")


if __name__ == "__main__":
    main()
