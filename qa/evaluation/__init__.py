"""Evaluation: pure metrics, the seed-question harness and the BEIR runner."""
