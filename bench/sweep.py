"""Choose tuned numbers by leave-one-set-out over a `--param` grid, through the real engine.

    python bench/sweep.py --grid lexical.k1=0.6,0.9,1.2 lexical.b=0.3,0.4,0.75
                          [--set NAME ...] [--metric hit_at_1 highlight] [--results FILE]

Every combination of the grid is scored on every set with bench/quality.py's harness
(`Engine.open` + `Engine.ask`, the default `Settings` with the combination applied). Then, for
each set in turn, the combination with the best mean objective on the *other* sets is chosen
and reported on the one left out, beside the default configuration: a value that only wins on
the set it is reported on shows up as a held-out loss. The objective of a set is the sum of
the `--metric` rates (answerable questions only); sets count alike, whatever their size.
Ties go to the default values, then to the earlier combination of the grid.

`--results FILE` keeps each (combination, set) row as a JSON line and reuses it on the next
run, so a grid can grow without re-asking what was asked.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.quality import FIT_SETS, question_sets, set_row, with_params  # noqa: E402
from qa.config import Settings, load_settings  # noqa: E402
from qa.evaluation.harness import evaluate_set, format_table  # noqa: E402

METRICS = ("hit_at_1", "hit_at_3", "highlight")


@dataclass(frozen=True)
class Choice:
    """The combination chosen without one set, and how it and the default fare on that set."""

    held_out: str
    combo: tuple[str, ...]
    dev: float
    dev_default: float
    held: float
    held_default: float


def parse_grid(items: list[str]) -> list[tuple[str, ...]]:
    """`group.name=v1,v2` items -> every combination, as tuples of `group.name=v` assignments."""
    axes = []
    for item in items:
        key, _, values = item.partition("=")
        if not key or not values:
            raise SystemExit(f"--grid {item!r}: write group.name=v1,v2,...")
        axes.append([f"{key}={v}" for v in values.split(",") if v])
    return [tuple(c) for c in itertools.product(*axes)]


def default_combo(settings: Settings, grid: list[tuple[str, ...]]) -> tuple[str, ...] | None:
    """The combination of the grid equal to the shipped values, if the grid holds it."""
    for combo in grid:
        if with_params(settings, list(combo)) == settings:
            return combo
    return None


def objective(row: dict, metrics: tuple[str, ...]) -> float:
    return sum(row[m] for m in metrics)


def score_grid(settings: Settings, grid, names, scratch: Path, results: Path | None) -> dict:
    """{(combo, set): quality row}, asking only what `results` does not already hold."""
    table = {}
    if results is not None and results.is_file():
        for line in results.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            table[(tuple(row["combo"]), row["set"])] = row
    for combo in grid:
        tuned = with_params(settings, list(combo))
        for qset in question_sets(names, set()):
            if (combo, qset.name) in table:
                continue
            row = set_row(qset, evaluate_set(tuned, qset, scratch)) | {"combo": list(combo)}
            table[(combo, qset.name)] = row
            print(f"  {' '.join(combo) or '(default)'} {qset.name}: Hit@1 {row['hit_at_1']:.3f} "
                  f"Hit@3 {row['hit_at_3']:.3f} highlight {row['highlight']:.3f}", file=sys.stderr, flush=True)
            if results is not None:
                with results.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(row) + "\n")
    return table


def choose(table: dict, grid, names: list[str], metrics, default) -> list[Choice]:
    """Per held-out set, the combination with the best mean objective over the other sets."""
    def mean(combo, sets):
        return sum(objective(table[(combo, s)], metrics) for s in sets) / len(sets)

    order = ([default] if default else []) + [c for c in grid if c != default]
    base = default or grid[0]
    choices = []
    for held in names:
        dev = [s for s in names if s != held] or [held]
        best = max(order, key=lambda c: (round(mean(c, dev), 9), -order.index(c)))
        choices.append(Choice(held, best, mean(best, dev), mean(base, dev),
                              objective(table[(best, held)], metrics), objective(table[(base, held)], metrics)))
    return choices


def grid_table(table: dict, grid, names: list[str], metrics) -> str:
    rows = [["combination"] + names + ["mean"]]
    for combo in grid:
        values = [objective(table[(combo, s)], metrics) for s in names]
        rows.append([" ".join(combo) or "(default)"] + [f"{v:.3f}" for v in values]
                    + [f"{sum(values) / len(values):.3f}"])
    return format_table(rows)


def choice_table(choices: list[Choice], table: dict, metrics, default) -> str:
    rows = [["held out", "chosen on the other sets", "dev (chosen)", "dev (default)", "held-out (chosen)",
             "held-out (default)", "held-out " + "/".join(metrics)]]
    for c in choices:
        row = table[(c.combo, c.held_out)]
        rows.append([c.held_out, " ".join(c.combo) or "(default)", f"{c.dev:.3f}", f"{c.dev_default:.3f}",
                     f"{c.held:.3f}", f"{c.held_default:.3f}", " / ".join(f"{row[m]:.3f}" for m in metrics)])
    note = "" if default else "\n(the grid does not hold the shipped values: 'default' is its first combination)"
    return format_table(rows) + note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grid", nargs="+", required=True, help="group.name=v1,v2,... (one axis each)")
    parser.add_argument("--set", nargs="*", choices=sorted(FIT_SETS), default=list(FIT_SETS),
                        help="sets to choose on (a held-out set, bench.quality.DEFAULT_HELD_OUT, is never one)")
    parser.add_argument("--metric", nargs="+", choices=METRICS, default=["hit_at_1", "highlight"],
                        help="rates summed into a set's objective")
    parser.add_argument("--scratch", type=Path, default=ROOT / ".cache" / "quality", help="index folders")
    parser.add_argument("--results", type=Path, default=None, help="JSON lines of rows kept between runs")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    settings = load_settings()
    grid = parse_grid(args.grid)
    names = [q.name for q in question_sets(args.set, set())]
    table = score_grid(settings, grid, names, args.scratch, args.results)
    metrics = tuple(args.metric)
    default = default_combo(settings, grid)
    print(f"objective per set: {' + '.join(metrics)}\n")
    print(grid_table(table, grid, names, metrics) + "\n")
    print(choice_table(choose(table, grid, names, metrics, default), table, metrics, default))


if __name__ == "__main__":
    main()
