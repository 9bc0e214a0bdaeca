"""CPU and wall time of `Engine.ask` on a bench/scale.py index, without the model's encoding.

    python bench/ask_cpu.py --work .cache/scale-100000 [--code DIR] [--label new] [--mode hybrid]

Questions are embedded by scale.py's hashing embedder only (no ONNX model), so what is timed
is the engine's own work: candidates, ranking, fetching, highlighting, answerability. To
compare two versions in one run, export the other commit (`git archive REV | tar -x -C DIR`)
and call this script alternately with `--code DIR` and without: on a shared machine only
figures of the same run compare. Prints the best of 3 passes over 100 eval questions, and
the load average.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="a bench/scale.py folder (holds index/)")
    parser.add_argument("--code", type=Path, default=ROOT, help="the source tree whose qa package is timed")
    parser.add_argument("--label", default="")
    parser.add_argument("--mode", default="hybrid")
    parser.add_argument("--nprobe", type=int, default=None, help="default: that code's StoreParams")
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()
    sys.path[:0] = [str(args.code), str(args.code / "bench")]
    from scale import HashingEmbedder, questions

    from qa.config import Settings
    from qa.engine import Engine
    from qa.params import StoreParams
    from qa.store import load_index

    store = StoreParams() if args.nprobe is None else StoreParams(nprobe=args.nprobe)
    settings = Settings(docs=(args.work / "docs",), index_dir=args.work / "index", onnx_queries=False, store=store)
    engine = Engine(settings, load_index(settings.index_dir, params=store), HashingEmbedder())
    asked = questions(100)
    for question in asked:  # warm the files
        engine.ask(question, mode=args.mode)
    cpu = wall = float("inf")
    for _ in range(args.passes):
        started, started_cpu = time.perf_counter(), time.process_time()
        for question in asked:
            engine.ask(question, mode=args.mode)
        cpu = min(cpu, (time.process_time() - started_cpu) * 1000 / len(asked))
        wall = min(wall, (time.perf_counter() - started) * 1000 / len(asked))
    print(f"{args.label or args.code}: {args.mode} ask without the model's encoding, nprobe {store.nprobe}: "
          f"CPU {cpu:.1f} ms, wall {wall:.1f} ms a question (best of {args.passes} passes of {len(asked)}), "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
