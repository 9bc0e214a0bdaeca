"""Quality floor on the seed questions (the figures in the README come from the same harness).

The floor is issue 3's target; the held-out paraphrases in data/eval/calibration.jsonl guard
against tuning to these 33 lines.
"""

from qa.evaluation.harness import evaluate_questions, load_questions
from tests.conftest import ROOT, SEED_QUESTIONS


def test_seed_questions_meet_the_quality_floor(seeds_engine):
    report = evaluate_questions(seeds_engine, load_questions(SEED_QUESTIONS))
    assert report.questions == 33
    assert report.hit_at_1 >= 0.93
    assert report.hit_at_3 == 1.0
    assert report.highlight_accuracy >= 0.90
    assert report.unanswerable_flagged == report.unanswerable == 3
    assert report.answerable_flagged == 0


def test_held_out_paraphrases_are_found_and_not_refused(seeds_engine):
    paraphrases = [q for q in load_questions(ROOT / "data" / "eval" / "calibration.jsonl") if q.answerable]
    report = evaluate_questions(seeds_engine, paraphrases)
    assert report.hit_at_3 >= 0.8
    assert report.answerable_flagged == 0


def test_paraphrased_development_set_floor(seeds_engine):
    """data/eval/paraphrases.jsonl: 68 answerable questions in other words than the speech's,
    over every paragraph, and 13 unanswerable ones, most of them on topic. The floor sits a
    little under today's figures (Hit@1 0.721, Hit@5 0.868, 3/68 answerable and 6/13
    unanswerable flagged; the answerable model fitted on every set, issue 12, trades the
    0/68 of the seed-fitted threshold for more unanswerable questions flagged elsewhere)."""
    report = evaluate_questions(seeds_engine, load_questions(ROOT / "data" / "eval" / "paraphrases.jsonl"))
    assert report.questions == 81
    assert report.hit_at_1 >= 0.7
    assert report.hit_at_5 >= 0.85
    assert report.answerable_flagged <= 3
    assert report.unanswerable_flagged >= 6
