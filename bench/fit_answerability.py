"""Fit the answerable verdict (qa.answerability) on the question sets, and report it honestly.

    python bench/fit_answerability.py [--set NAME ...] [--C 1.0]

Every question of every set is asked through the real engine; its answer's evidence
features and whether the documents answer it are collected. A logistic regression
(scikit-learn) is then fitted:

- leave one set out: for each set, fitted on all the others and scored on it, so every
  figure printed for a set comes from weights that never saw it;
- on all sets: the weights to put in `AnswerabilityParams` (printed as Python).

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

from bench.quality import SETS, question_sets  # noqa: E402
from qa.answerability import FEATURES  # noqa: E402
from qa.config import load_settings  # noqa: E402
from qa.evaluation.harness import evaluate_set  # noqa: E402


def collect(names, scratch: Path) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per set: features (n, f), answerable labels (n,), top passage right (n,)."""
    settings = load_settings()
    out = {}
    for qset in question_sets(names, ()):
        report = evaluate_set(settings, qset, scratch)
        x = np.array([o.features for o in report.outcomes], dtype=np.float64)
        y = np.array([o.answerable for o in report.outcomes], dtype=bool)
        right = np.array([o.hit_rank == 1 for o in report.outcomes], dtype=bool)
        out[qset.name] = (x, y, right)
    return out


def fit(x: np.ndarray, y: np.ndarray, c: float, weight: float = 2.0):
    """Logistic regression; an unanswerable question weighs `weight` answerable ones (they
    are few, and a wrong answer given confidently costs more than a missed one)."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight={False: weight, True: 1.0}, max_iter=5000).fit(x, y)


def leave_one_set_out(data, c: float, weight: float) -> dict[str, np.ndarray]:
    """Per set, its questions' probabilities from a model fitted on the other sets."""
    out = {}
    for name, (x, _, _) in data.items():
        xs = np.vstack([d[0] for n, d in data.items() if n != name])
        ys = np.concatenate([d[1] for n, d in data.items() if n != name])
        out[name] = fit(xs, ys, c, weight).predict_proba(x)[:, 1]
    return out


def verdict_line(name: str, y: np.ndarray, p: np.ndarray, threshold: float) -> str:
    flagged = p < threshold
    tp, fp = int((flagged & ~y).sum()), int((flagged & y).sum())
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / int((~y).sum()) if (~y).any() else 1.0
    return (f"{name:12s} unanswerable flagged {tp}/{int((~y).sum())}  answerable flagged {fp}/{int(y.sum())}  "
            f"no-answer precision {precision:.3f} recall {recall:.3f}")


def reliability(data, probs) -> str:
    """Of the answerable questions answered at each confidence, the share whose top passage was right."""
    p = np.concatenate([probs[n][data[n][1]] for n in data])
    right = np.concatenate([data[n][2][data[n][1]] for n in data])
    lines = ["confidence   answers  top passage right"]
    for lo in (0.5, 0.6, 0.7, 0.8, 0.9):
        inside = (p >= lo) & (p < lo + 0.1 if lo < 0.9 else p <= 1.0)
        share = f"{right[inside].mean():.3f}" if inside.any() else "-"
        lines.append(f"{lo:.1f}-{lo + 0.1:.1f}    {int(inside.sum()):7d}  {share}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", nargs="*", choices=sorted(SETS), default=list(SETS))
    parser.add_argument("--C", type=float, default=1.0, help="inverse L2 strength of the regression")
    parser.add_argument("--weight", type=float, default=2.0, help="weight of an unanswerable question")
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
    probs = leave_one_set_out(data, args.C, args.weight)
    print("held out (leave one set out), threshold 0.5:")
    for name, (_, y, _) in data.items():
        print("  " + verdict_line(name, y, probs[name], 0.5))
    print("\nreliability (held out):\n" + reliability(data, probs))
    model = fit(np.vstack([d[0] for d in data.values()]), np.concatenate([d[1] for d in data.values()]), args.C,
                args.weight)
    print("\nfitted on all sets (AnswerabilityParams):")
    print(f"    bias: float = {model.intercept_[0]:.4f}")
    for name, w in zip(FEATURES, model.coef_[0]):
        print(f"    {name}: float = {w:.4f}")


if __name__ == "__main__":
    main()
