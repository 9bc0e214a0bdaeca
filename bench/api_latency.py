"""Latency of `GET /api/ask` against the engine's own `engine.ask`, same questions, same run.

    python bench/api_latency.py [--docs DIR] [--index DIR] [--rounds 3] [--max-seconds 180]

Starts the real server (app.py, uvicorn) as a subprocess on a free loopback port, opens the
same index in this process, then asks every seed question alternately through both (one
client, one request at a time, keep-alive) and prints p50/p95 side by side with the ratio.
Target: API p50 <= 1.5x engine p50. Bounded: at most rounds x questions requests per side
and --max-seconds of measuring.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.evaluation.harness import load_questions  # noqa: E402
from qa.evaluation.metrics import percentile  # noqa: E402

TARGET_RATIO = 1.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", action="append", default=None, help="collection folder (default: seeds/)")
    parser.add_argument("--index", default=None, help="index folder (default: $QA_INDEX_DIR or index/)")
    parser.add_argument("--questions", type=Path, default=ROOT / "data" / "eval" / "seed_questions.jsonl")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the questions (default 3)")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--mode", default="hybrid")
    parser.add_argument("--max-seconds", type=float, default=180.0, help="stop measuring after this long")
    parser.add_argument("--check", action="store_true", help=f"exit 1 if API p50 > {TARGET_RATIO}x engine p50")
    args = parser.parse_args(argv)

    import httpx

    from qa.config import load_settings
    from qa.engine import Engine
    from qa.server import app_process

    os.chdir(ROOT)
    docs = args.docs or [str(ROOT / "seeds")]
    settings = load_settings(docs=tuple(docs), index_dir=args.index)
    engine = Engine.open(settings)  # builds the index first if needed, so the server only loads it
    questions = [q.question for q in load_questions(args.questions)]

    app_args = ["--host", "127.0.0.1", "--index", str(settings.index_dir)]
    for d in docs:
        app_args += ["--docs", d]
    engine_times: list[float] = []
    api_times: list[float] = []
    mismatches = 0
    # No kept answers: every round asks the engine, as the in-process side does.
    server_env = {**os.environ, "QA_ANSWER_CACHE_SIZE": "0"}
    with app_process(app_args, env=server_env, timeout=180) as base, httpx.Client(base_url=base, timeout=60) as http:
        for q in questions[:3]:  # warm up both sides
            engine.ask(q, args.k, args.mode)
            http.get("/api/ask", params={"q": q, "k": args.k, "mode": args.mode})
        started = time.monotonic()
        # Paired design: each question goes to both sides back to back (alternating which
        # goes first), so load from anything else on the machine hits both alike.
        for r in range(args.rounds):
            for i, q in enumerate(questions):
                if time.monotonic() - started > args.max_seconds:
                    break
                for side in ("engine", "api") if (r + i) % 2 == 0 else ("api", "engine"):
                    t0 = time.perf_counter()
                    if side == "engine":
                        expected = engine.ask(q, args.k, args.mode).to_dict()
                        engine_times.append(time.perf_counter() - t0)
                    else:
                        reply = http.get("/api/ask", params={"q": q, "k": args.k, "mode": args.mode})
                        api_times.append(time.perf_counter() - t0)
                if reply.status_code != 200 or reply.json() != expected:
                    mismatches += 1
        t0 = time.perf_counter()
        for _ in range(20):
            http.get("/healthz")
        health = (time.perf_counter() - t0) / 20

    pairs = [a / e for a, e in zip(api_times, engine_times) if e > 0]
    e50, e95 = percentile(engine_times, 50), percentile(engine_times, 95)
    a50, a95 = percentile(api_times, 50), percentile(api_times, 95)
    ms = lambda s: f"{s * 1000:8.1f} ms"  # noqa: E731
    print(f"{len(questions)} questions x {args.rounds} rounds, k={args.k}, mode={args.mode}, one client, loopback")
    print(f"{engine.status().line()}\n")
    print(f"{'':14}{'engine.ask':>14}{'GET /api/ask':>16}{'ratio':>9}")
    print(f"{'requests':14}{len(engine_times):>14}{len(api_times):>16}")
    print(f"{'p50':14}{ms(e50):>14}{ms(a50):>16}{a50 / e50:>8.2f}x")
    print(f"{'p95':14}{ms(e95):>14}{ms(a95):>16}{a95 / e95:>8.2f}x")
    print(f"{'mean':14}{ms(statistics.mean(engine_times)):>14}{ms(statistics.mean(api_times)):>16}"
          f"{statistics.mean(api_times) / statistics.mean(engine_times):>8.2f}x")
    print(f"{'overhead p50':14}{'':>14}{ms(a50 - e50):>16}")
    print(f"{'GET /healthz':14}{'':>14}{ms(health):>16}   (HTTP round trip alone)")
    print(f"{'paired ratio':14}{'':>14}{'':>16}{statistics.median(pairs):>8.2f}x  (median of per-request API/engine)")
    ok = a50 <= TARGET_RATIO * e50
    print(f"\nAPI answers identical to engine.ask: {len(api_times) - mismatches}/{len(api_times)}")
    print(f"target API p50 <= {TARGET_RATIO}x engine p50: {'met' if ok else 'NOT met'} ({a50 / e50:.2f}x)")
    return 1 if (args.check and not ok) or mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
