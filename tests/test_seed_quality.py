"""Quality floor on the seed questions (the figures in the README come from the same harness)."""

from qa.evaluation.harness import evaluate_questions, load_questions
from tests.conftest import SEED_QUESTIONS


def test_seed_questions_meet_the_quality_floor(seeds_engine):
    report = evaluate_questions(seeds_engine, load_questions(SEED_QUESTIONS))
    assert report.questions == 33
    assert report.hit_at_1 >= 0.85
    assert report.hit_at_5 == 1.0
    assert report.highlight_accuracy >= 0.80
    assert report.unanswerable_flagged == report.unanswerable == 3
    assert report.answerable_flagged <= 1
