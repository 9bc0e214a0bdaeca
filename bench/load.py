"""Load test: N concurrent clients on GET /api/ask for a fixed time, against a local server.

    python bench/load.py [--clients 16] [--seconds 60] [--max-requests 20000] [--check]

Starts `app.py` on a free loopback port (or uses --url, which must be a loopback address),
cycles through the seed questions, and prints throughput, p50/p95/p99 latency and the error
count (non-2xx replies and exceptions). While the load runs, a probe fetches the UI page
(GET /) and /healthz once a second to show whether the UI stays responsive. Bounded in time
and in requests; stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.evaluation.harness import load_questions  # noqa: E402
from qa.evaluation.metrics import percentile  # noqa: E402
from qa.server import app_process  # noqa: E402

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


async def client(http, questions, stop_at, budget, latencies, errors, offset):
    i = offset
    while time.monotonic() < stop_at and budget[0] > 0:
        budget[0] -= 1
        q = questions[i % len(questions)]
        i += 1
        t0 = time.perf_counter()
        try:
            reply = await http.get("/api/ask", params={"q": q, "k": 5})
            if reply.status_code != 200 or "results" not in reply.json():
                errors.append(f"HTTP {reply.status_code}")
            else:
                latencies.append(time.perf_counter() - t0)
        except Exception as exc:  # every failure counts as an error, whatever its kind
            errors.append(type(exc).__name__)


async def probe(http, stop_at, ui_times, health_times, errors):
    while time.monotonic() < stop_at:
        for path, sink in (("/", ui_times), ("/healthz", health_times)):
            t0 = time.perf_counter()
            try:
                reply = await http.get(path)
                (sink if reply.status_code == 200 else errors).append(
                    time.perf_counter() - t0 if reply.status_code == 200 else f"probe {path} HTTP {reply.status_code}")
            except Exception as exc:
                errors.append(f"probe {path} {type(exc).__name__}")
        await asyncio.sleep(1.0)


async def run(url: str, questions: list[str], clients: int, seconds: float, max_requests: int):
    import httpx

    limits = httpx.Limits(max_connections=clients + 2)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as http:
        started = time.monotonic()
        stop_at = started + seconds
        latencies: list[float] = []
        errors: list[str] = []
        ui_times: list[float] = []
        health_times: list[float] = []
        budget = [max_requests]
        await asyncio.gather(
            probe(http, stop_at, ui_times, health_times, errors),
            *(client(http, questions, stop_at, budget, latencies, errors, n) for n in range(clients)),
        )
        elapsed = time.monotonic() - started
    return latencies, errors, ui_times, health_times, elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-requests", type=int, default=20000)
    parser.add_argument("--url", help="a running server on loopback (default: start app.py)")
    parser.add_argument("--docs", action="append", default=None)
    parser.add_argument("--index", default=None)
    parser.add_argument("--questions", type=Path, default=ROOT / "data" / "eval" / "seed_questions.jsonl")
    parser.add_argument("--check", action="store_true", help="exit 1 when any request failed")
    args = parser.parse_args(argv)
    questions = [q.question for q in load_questions(args.questions)]
    with contextlib.ExitStack() as stack:
        if args.url:
            if urlparse(args.url).hostname not in LOOPBACK:
                raise SystemExit("--url must point at this machine (127.0.0.1, localhost or ::1)")
            url = args.url.rstrip("/")
        else:
            app_args = ["--host", "127.0.0.1"]
            for d in args.docs or []:
                app_args += ["--docs", d]
            if args.index:
                app_args += ["--index", args.index]
            url = stack.enter_context(app_process(app_args, timeout=300))
        latencies, errors, ui_times, health_times, elapsed = asyncio.run(
            run(url, questions, args.clients, args.seconds, args.max_requests))
    ms = lambda xs, q: f"{percentile(xs, q) * 1000:.1f} ms" if xs else "-"  # noqa: E731
    print(f"{args.clients} clients x {elapsed:.0f} s on GET /api/ask (k=5, hybrid), {os.cpu_count()} cores, loopback")
    print(f"requests ok      {len(latencies)}")
    print(f"errors           {len(errors)}" + (f"  ({', '.join(sorted(set(map(str, errors))))})" if errors else ""))
    print(f"throughput       {len(latencies) / elapsed:.1f} req/s")
    print(f"latency p50      {ms(latencies, 50)}")
    print(f"latency p95      {ms(latencies, 95)}")
    print(f"latency p99      {ms(latencies, 99)}")
    print(f"UI page (GET /)  p50 {ms(ui_times, 50)}, max {ms(ui_times, 100)} over {len(ui_times)} probes")
    print(f"GET /healthz     p50 {ms(health_times, 50)}, max {ms(health_times, 100)} over {len(health_times)} probes")
    return 1 if args.check and errors else 0


if __name__ == "__main__":
    sys.exit(main())
