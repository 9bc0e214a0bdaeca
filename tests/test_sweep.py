"""bench/sweep.py: every combination of a grid, and the leave-one-set-out choice (the
combination best on the other sets, reported on the one left out)."""

from __future__ import annotations

from bench.sweep import choose, default_combo, parse_grid
from qa.config import load_settings


def test_the_grid_is_every_combination_of_its_axes():
    grid = parse_grid(["lexical.k1=0.9,1.2", "lexical.b=0.4,0.75"])
    assert grid == [("lexical.k1=0.9", "lexical.b=0.4"), ("lexical.k1=0.9", "lexical.b=0.75"),
                    ("lexical.k1=1.2", "lexical.b=0.4"), ("lexical.k1=1.2", "lexical.b=0.75")]
    assert default_combo(load_settings(), grid) == ("lexical.k1=0.9", "lexical.b=0.4")


def test_each_set_is_reported_with_the_value_chosen_on_the_others():
    shipped, other = ("rank.heading_bonus=0.2",), ("rank.heading_bonus=0.4",)
    rates = {("a", shipped): 0.5, ("a", other): 0.9,  # only set a likes the other value
             ("b", shipped): 0.6, ("b", other): 0.2, ("c", shipped): 0.6, ("c", other): 0.6}
    table = {(combo, s): {"hit_at_1": rate} for (s, combo), rate in rates.items()}
    choices = {c.held_out: c for c in choose(table, [shipped, other], ["a", "b", "c"], ("hit_at_1",), shipped)}
    assert choices["a"].combo == shipped and choices["a"].held == 0.5  # b and c do not choose it
    assert choices["b"].combo == other and choices["b"].held == 0.2 and choices["b"].held_default == 0.6
    assert choices["c"].combo == shipped  # a tie on a and b (0.55 each) goes to the shipped value
