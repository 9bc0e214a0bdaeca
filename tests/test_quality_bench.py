"""bench/quality.py --cross-validate: each set's answerable verdict comes from a model fitted
on the other sets only, so evidence that only one set shows is unknown when that set is judged."""

from __future__ import annotations

from types import SimpleNamespace

from bench.quality import held_out_verdicts
from qa.answerability import FEATURES


def report(telling: int, other: float, n: int = 20):
    """n questions, half answerable: feature `telling` is 0.9 on those and 0.1 on the rest;
    every other feature is `other`."""
    outcomes = []
    for i in range(n):
        features = [other] * len(FEATURES)
        features[telling] = 0.9 if i % 2 == 0 else 0.1
        outcomes.append(SimpleNamespace(features=features, answerable=i % 2 == 0, hit_rank=1 if i % 2 == 0 else None))
    return SimpleNamespace(outcomes=outcomes)


def test_a_set_is_judged_by_a_model_that_never_saw_it():
    # in a, b and d the first feature tells; in c only the second does, and the first is low
    reports = {"a": report(0, 0.5), "b": report(0, 0.5), "d": report(0, 0.5), "c": report(1, 0.1)}
    verdicts = held_out_verdicts(reports, threshold=0.5)
    assert verdicts["a"] == verdicts["b"] == verdicts["d"] == (10, 0)  # (unanswerable, answerable) flagged
    # fitted on a, b and d, the model never saw the second feature tell: c's low first
    # feature flags all of it (a model fitted on c too would flag only its unanswerable half)
    assert verdicts["c"] == (10, 10)


def inverted(n: int = 40):
    """Feature 0 tells the other way round: 0.1 on the answerable questions, 0.9 on the rest."""
    flipped = report(0, 0.5, n)
    for o in flipped.outcomes:
        o.features[0] = 1.0 - o.features[0]
    return flipped


def test_no_model_is_fitted_on_a_held_out_set():
    # a held-out set whose evidence contradicts the dev sets' (and outweighs them) would turn
    # the dev sets' verdicts round if it were fitted on; held out, it is only judged
    reports = {"a": report(0, 0.5), "b": report(0, 0.5), "h": inverted()}
    verdicts = held_out_verdicts(reports, threshold=0.5, held_out={"h"})
    assert verdicts["a"] == verdicts["b"] == (10, 0)
    assert verdicts["h"] == (0, 20)  # judged by a model fitted on a and b only: all wrong
    fitted_on_it = held_out_verdicts(reports, threshold=0.5, held_out=())
    assert fitted_on_it["a"] != (10, 0)
