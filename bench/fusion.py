"""How hybrid mode fuses BM25 and dense scores: the known methods side by side, through the
engine itself, on the seed questions, the paraphrased development set and SciFact train.

    python bench/fusion.py [--scifact DIR | --no-scifact] [--quick]

Every row is the real `Retriever` with one fusion setting (`Settings.fusion`,
`Settings.dense_weight`, `Settings.rrf_k`) over the same loaded indexes; dense and BM25 alone
are the baselines, measured in the same run. The configured default is marked `*` (see the
README for why it is the one).
The SciFact index comes from the cache that `python -m qa eval --beir DIR` fills (built on
first use, about 35 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.config import Settings, load_settings  # noqa: E402
from qa.evaluation.harness import format_table  # noqa: E402

DEFAULT_SCIFACT = ROOT.parent / "shared" / "bench" / "scifact"
QUESTION_SETS = {"seeds": ROOT / "data" / "eval" / "seed_questions.jsonl",
                 "paraphrases": ROOT / "data" / "eval" / "paraphrases.jsonl"}


@dataclass(frozen=True)
class Config:
    """One way to rank: a mode, and for hybrid how the two scores are fused."""

    label: str
    mode: str
    fusion: str = "minmax"
    dense_weight: float = 0.6
    rrf_k: int = 60

    def settings(self, base: Settings) -> Settings:
        return base.replace(mode=self.mode, fusion=self.fusion, dense_weight=self.dense_weight, rrf_k=self.rrf_k)

    def is_default(self, base: Settings) -> bool:
        return self.mode == "hybrid" and self.settings(base) == base.replace(mode="hybrid")


def configs(quick: bool) -> list[Config]:
    weights = (0.5, 0.6) if quick else (0.4, 0.5, 0.6, 0.7)
    out = [Config("dense alone", "dense"), Config("bm25 alone", "bm25")]
    out += [Config("rrf k=60", "hybrid", fusion="rrf", rrf_k=60)]
    if not quick:
        out += [Config("rrf k=10", "hybrid", fusion="rrf", rrf_k=10)]
    for fusion in ("minmax", "zscore"):
        out += [Config(f"{fusion} dense_weight={w}", "hybrid", fusion=fusion, dense_weight=w) for w in weights]
    return out


def question_columns(base: Settings, cfgs: list[Config]) -> dict[Config, list[str]]:
    """Hit@1 and MRR@10 on each question set, and highlight accuracy on the seeds."""
    from qa.engine import Engine
    from qa.evaluation.harness import evaluate_questions, load_questions

    opened = Engine.open(base)
    sets = {name: load_questions(path) for name, path in QUESTION_SETS.items()}
    out = {}
    for cfg in cfgs:
        engine = Engine(cfg.settings(base), opened.index, opened.embedder)
        cells = []
        for name, items in sets.items():
            report = evaluate_questions(engine, items, cfg.mode)
            cells += [f"{report.hit_at_1:.3f}", f"{report.mrr_at_10:.3f}"]
            if name == "seeds":
                cells.append(f"{report.highlight_accuracy:.3f}")
        out[cfg] = cells
        print(f"  questions: {cfg.label} done", file=sys.stderr, flush=True)
    return out


def scifact_columns(base: Settings, cfgs: list[Config], folder: Path, qrels: Path | None) -> dict[Config, list[str]]:
    from qa.evaluation.beir import load_beir, open_beir_index, score_beir
    from qa.retrieval import Retriever

    dataset = load_beir(folder, qrels)
    index, embedder = open_beir_index(dataset, base, ROOT / ".cache" / "beir")
    out = {}
    for cfg in cfgs:
        retriever = Retriever.from_settings(index, embedder, cfg.settings(base))
        report = score_beir(dataset, retriever, cfg.mode)
        out[cfg] = [f"{report.ndcg_at_10:.4f}", f"{report.recall_at_100:.4f}", f"{report.latency_p50_ms:.1f}"]
        print(f"  scifact: {cfg.label} done", file=sys.stderr, flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scifact", type=Path, default=DEFAULT_SCIFACT if DEFAULT_SCIFACT.is_dir() else None,
                        help="a BEIR dataset folder (default: ../shared/bench/scifact when present)")
    parser.add_argument("--qrels", type=Path, default=None, help="qrels file for --scifact (default: its only one)")
    parser.add_argument("--no-scifact", action="store_true", help="skip the BEIR part")
    parser.add_argument("--quick", action="store_true", help="fewer weights, no rrf k=10")
    parser.add_argument("--index", type=Path, default=ROOT / ".cache" / "bench" / "seeds-index",
                        help="index folder for the seeds (default: a scratch one under .cache/)")
    args = parser.parse_args()

    base = load_settings(index_dir=args.index)
    cfgs = configs(args.quick)
    columns = question_columns(base, cfgs)
    header = ["fusion", "seeds Hit@1", "MRR@10", "highlight", "paraphrases Hit@1", "MRR@10"]
    scifact = None if args.no_scifact or args.scifact is None else args.scifact
    if scifact is not None:
        for cfg, cells in scifact_columns(base, cfgs, scifact, args.qrels).items():
            columns[cfg] += cells
        header += [f"{scifact.name} nDCG@10", "R@100", "p50 ms"]
    rows = [header]
    rows += [[("* " if cfg.is_default(base) else "  ") + cfg.label, *columns[cfg]] for cfg in cfgs]
    print(format_table(rows))
    print(f"\n* the default (Settings.fusion={base.fusion!r}, dense_weight={base.dense_weight})")


if __name__ == "__main__":
    main()
