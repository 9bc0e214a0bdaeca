"""A Ray build against a local build of the same passages: rows a second and Ray's overhead.

    python bench/ray_build.py [--passages 10000] [--address local|ADDRESS] [--json]

The passages are real sentences (the seeds, and ../shared/eval/squad2 when present) grouped
one to three to a paragraph, written into a scratch folder as text files. Both builds go
through the real store code (`Engine.open`) into fresh index folders; a row is one distinct
text the build embedded (a passage, or a sentence of a passage of several sentences). The
local row is measured first, in the same run, as the baseline. The load average before and
after is printed with the figures: on a shared machine they depend on it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.config import Settings  # noqa: E402
from qa.evaluation.harness import format_table  # noqa: E402

SOURCES = (ROOT / "seeds", ROOT.parent / "shared" / "eval" / "squad2" / "docs")
SCRATCH = ROOT / ".cache" / "bench" / "ray-build"


def real_sentences() -> list[str]:
    sentences = []
    for folder in SOURCES:
        for path in sorted(folder.glob("*.txt")) if folder.is_dir() else ():
            text = path.read_text(encoding="utf-8")
            sentences += [s for s in re.split(r"(?<=[.?!])\s+(?=[A-Z])", " ".join(text.split())) if len(s.split()) >= 6]
    return sentences


def write_collection(folder: Path, passages: int, per_file: int = 500) -> None:
    """`passages` paragraphs of 1-3 real sentences, numbered so every paragraph is distinct."""
    sentences = real_sentences()
    folder.mkdir(parents=True, exist_ok=True)
    paragraphs = []
    for i in range(passages):
        size = 1 + i % 3
        picked = [sentences[(i * 7 + j) % len(sentences)] for j in range(size)]
        paragraphs.append(f"Note {i}. " + " ".join(picked))
    for start in range(0, passages, per_file):
        (folder / f"part-{start // per_file:05d}.txt").write_text("\n\n".join(paragraphs[start:start + per_file]) + "\n")


def timed_build(docs: Path, index_dir: Path, ray_address: str) -> dict:
    from qa.engine import Engine

    shutil.rmtree(index_dir, ignore_errors=True)
    started = time.perf_counter()
    engine = Engine.open(Settings(docs=(docs,), index_dir=index_dir, ray_address=ray_address))
    seconds = time.perf_counter() - started
    report = engine.build_report
    index = engine.index
    rows = len({c.text for c in index.chunks} | {s for c in index.chunks if len(c.sentences) > 1
                                                   for s in c.sentence_texts()})
    return {"passages": len(index.chunks), "rows": rows, "seconds": round(seconds, 2),
            "embed_seconds": round(report.seconds, 2), "rows_per_s": round(rows / report.seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=10_000)
    parser.add_argument("--address", default="local", help="Ray address, or local (default)")
    parser.add_argument("--json", action="store_true", help="one JSON object on one line")
    args = parser.parse_args()
    docs = SCRATCH / f"docs-{args.passages}"
    if not docs.is_dir():
        write_collection(docs, args.passages)
    load_before = os.getloadavg()  # on a shared machine the figures depend on it: report it
    local = timed_build(docs, SCRATCH / "index-local", "")
    on_ray = timed_build(docs, SCRATCH / "index-ray", args.address)
    overhead = on_ray["embed_seconds"] / local["embed_seconds"] - 1
    load = {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in os.getloadavg()]}
    if args.json:
        print(json.dumps({"local": local, "ray": on_ray, "overhead": round(overhead, 3), "load_average": load}))
        return
    rows = [[name, str(r["passages"]), str(r["rows"]), f"{r['embed_seconds']:.1f}", f"{r['rows_per_s']:.1f}"]
            for name, r in (("local", local), (f"ray ({args.address})", on_ray))]
    print(format_table([["build", "passages", "rows", "build s", "rows/s"], *rows]))
    print(f"Ray overhead: {overhead:+.1%} of the local build time")
    print(f"load average (1, 5, 15 min): {load['before']} before, {load['after']} after")


if __name__ == "__main__":
    main()
