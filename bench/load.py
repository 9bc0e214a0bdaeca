"""Load test: N concurrent clients on GET /api/ask for a fixed time, against a local server.

    python bench/load.py [--clients 16] [--seconds 60] [--max-requests 50000] [--check] [--json]
                         [--configs baseline,batching,batching+cache]

Starts `app.py` on a free loopback port once per configuration, in the same run: `baseline`
(each question encoded alone, no answer cache), `batching` (questions arriving together share
a model run; no cache) and `batching+cache` (the default settings: recent answers are kept, so
the seed questions, asked over and over, are mostly answered from the cache). With --url it
measures that one running server (a loopback address) instead. Cycles through the seed
questions and prints, per configuration, throughput, p50/p95/p99 latency, errors (non-2xx
replies and exceptions), the server's CPU time per request, and the machine's load average
before and after (other processes share these cores: the figures are what this load allowed).
A probe fetches the UI page (GET /) and /healthz once a second. Bounded in time and in
requests; stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.evaluation.harness import load_questions  # noqa: E402
from qa.evaluation.metrics import percentile  # noqa: E402
from qa.server import app_child  # noqa: E402

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# The settings each configuration runs app.py with (QA_* environment variables, see qa.config).
CONFIGS = {
    "baseline": {"QA_BATCH_MAX_QUESTIONS": "1", "QA_ANSWER_CACHE_SIZE": "0"},
    "batching": {"QA_ANSWER_CACHE_SIZE": "0"},
    "batching+cache": {},
}


@dataclass(frozen=True)
class Figures:
    """One configuration's run (times in ms; `server_cpu_ms` is the server's CPU time, all its
    threads, per answered request; None when the server is not this run's child; `client_cpu_ms`
    the same for this benchmark's own clients, which share the machine with the server)."""

    config: str
    requests: int
    errors: int
    error_kinds: tuple[str, ...]
    seconds: float
    req_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    server_cpu_ms: float | None
    client_cpu_ms: float
    ui_p50_ms: float
    healthz_p50_ms: float
    healthz_max_ms: float
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]


async def client(http, url, questions, stop_at, budget, latencies, errors, offset):
    i = offset
    while time.monotonic() < stop_at and budget[0] > 0:
        budget[0] -= 1
        q = questions[i % len(questions)]
        i += 1
        t0 = time.perf_counter()
        try:
            async with http.get(url + "/api/ask", params={"q": q, "k": "5"}) as reply:
                body = await reply.json()
            if reply.status != 200 or "results" not in body:
                errors.append(f"HTTP {reply.status}")
            else:
                latencies.append(time.perf_counter() - t0)
        except Exception as exc:  # every failure counts as an error, whatever its kind
            errors.append(type(exc).__name__)


async def probe(http, url, stop_at, ui_times, health_times, errors):
    while time.monotonic() < stop_at:
        for path, sink in (("/", ui_times), ("/healthz", health_times)):
            t0 = time.perf_counter()
            try:
                async with http.get(url + path) as reply:
                    await reply.read()
                (sink if reply.status == 200 else errors).append(
                    time.perf_counter() - t0 if reply.status == 200 else f"probe {path} HTTP {reply.status}")
            except Exception as exc:
                errors.append(f"probe {path} {type(exc).__name__}")
        await asyncio.sleep(1.0)


async def run(url: str, questions: list[str], clients: int, seconds: float, max_requests: int):
    """The clients (aiohttp: a load generator that spends little CPU beside the server) and the probe."""
    import aiohttp

    connector = aiohttp.TCPConnector(limit=clients + 2)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as http:
        started = time.monotonic()
        stop_at = started + seconds
        latencies: list[float] = []
        errors: list[str] = []
        ui_times: list[float] = []
        health_times: list[float] = []
        budget = [max_requests]
        await asyncio.gather(
            probe(http, url, stop_at, ui_times, health_times, errors),
            *(client(http, url, questions, stop_at, budget, latencies, errors, n) for n in range(clients)),
        )
        elapsed = time.monotonic() - started
    return latencies, errors, ui_times, health_times, elapsed


def cpu_seconds(pid: int | None) -> float | None:
    """User plus system CPU time of process `pid` (all its threads), from /proc."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def measure(config: str, url: str, pid: int | None, questions: list[str], args) -> Figures:
    """Run the load against `url` and sum it up."""
    load_before, cpu_before, client_before = os.getloadavg(), cpu_seconds(pid), own_cpu_seconds()
    latencies, errors, ui_times, health_times, elapsed = asyncio.run(
        run(url, questions, args.clients, args.seconds, args.max_requests))
    cpu_after, client_cpu = cpu_seconds(pid), own_cpu_seconds() - client_before
    ms = lambda xs, q: round(percentile(xs, q) * 1000, 1)  # noqa: E731
    cpu = None if cpu_before is None or cpu_after is None or not latencies else \
        round((cpu_after - cpu_before) * 1000 / len(latencies), 2)
    return Figures(config, len(latencies), len(errors), tuple(sorted(set(map(str, errors)))), round(elapsed, 1),
                   round(len(latencies) / elapsed, 1), ms(latencies, 50), ms(latencies, 95), ms(latencies, 99), cpu,
                   round(client_cpu * 1000 / max(1, len(latencies)), 2),
                   ms(ui_times, 50), ms(health_times, 50), ms(health_times, 100),
                   tuple(round(x, 2) for x in load_before), tuple(round(x, 2) for x in os.getloadavg()))


def folder_args(args) -> list[str]:
    out = []
    for d in args.docs or []:
        out += ["--docs", d]
    return out + (["--index", args.index] if args.index else [])


def prepare_index(args) -> None:
    """`python -m qa build` first, so every configuration serves the same up-to-date index and
    encodes questions through its ONNX export (a server that had to build it would not)."""
    subprocess.run([sys.executable, "-m", "qa", "build", *folder_args(args)], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=1800)


def run_config(config: str, questions: list[str], args) -> Figures:
    """Start app.py with the configuration's settings and load it."""
    env = {**os.environ, **CONFIGS[config]}
    with app_child(["--host", "127.0.0.1", *folder_args(args)], env=env, timeout=300) as child:
        return measure(config, child.url, child.pid, questions, args)


def table(runs: list[Figures], clients: int) -> str:
    """The configurations side by side, one row a figure."""
    rows = [
        ("requests ok", lambda f: f"{f.requests}"),
        ("errors", lambda f: f"{f.errors}" + (f" ({', '.join(f.error_kinds)})" if f.error_kinds else "")),
        ("throughput req/s", lambda f: f"{f.req_per_s:.1f}"),
        ("latency p50 ms", lambda f: f"{f.p50_ms:.1f}"),
        ("latency p95 ms", lambda f: f"{f.p95_ms:.1f}"),
        ("latency p99 ms", lambda f: f"{f.p99_ms:.1f}"),
        ("server CPU ms/request", lambda f: "-" if f.server_cpu_ms is None else f"{f.server_cpu_ms:.2f}"),
        ("client CPU ms/request", lambda f: f"{f.client_cpu_ms:.2f}"),
        ("UI page p50 ms", lambda f: f"{f.ui_p50_ms:.1f}"),
        ("/healthz p50 / max ms", lambda f: f"{f.healthz_p50_ms:.1f} / {f.healthz_max_ms:.1f}"),
        ("load avg before", lambda f: " ".join(f"{x:.2f}" for x in f.load_before)),
        ("load avg after", lambda f: " ".join(f"{x:.2f}" for x in f.load_after)),
    ]
    width = max(19, *(len(f.config) + 2 for f in runs))
    lines = [f"{clients} clients on GET /api/ask (k=5, hybrid), {os.cpu_count()} cores, loopback; "
             f"{runs[0].seconds:.0f} s per configuration",
             f"{'':24}" + "".join(f"{f.config:>{width}}" for f in runs)]
    lines += [f"{name:24}" + "".join(f"{cell(f):>{width}}" for f in runs) for name, cell in rows]
    return "\n".join(lines)


def parse_args(argv: list[str] | None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-requests", type=int, default=50000)
    parser.add_argument("--url", help="a running server on loopback (default: start app.py per configuration)")
    parser.add_argument("--configs", default=",".join(CONFIGS),
                        help=f"comma-separated, from {', '.join(CONFIGS)} (ignored with --url)")
    parser.add_argument("--docs", action="append", default=None)
    parser.add_argument("--index", default=None)
    parser.add_argument("--questions", type=Path, default=ROOT / "data" / "eval" / "seed_questions.jsonl")
    parser.add_argument("--json", action="store_true", help="print one JSON object on one line")
    parser.add_argument("--check", action="store_true", help="exit 1 when any request failed")
    args = parser.parse_args(argv)
    args.configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = [c for c in args.configs if c not in CONFIGS]
    if unknown or not args.configs:
        parser.error(f"unknown configuration(s) {unknown}: use {', '.join(CONFIGS)}")
    if args.url and urlparse(args.url).hostname not in LOOPBACK:
        parser.error("--url must point at this machine (127.0.0.1, localhost or ::1)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    questions = [q.question for q in load_questions(args.questions)]
    if args.url:
        runs = [measure("given server", args.url.rstrip("/"), None, questions, args)]
    else:
        prepare_index(args)
        runs = [run_config(config, questions, args) for config in args.configs]
    if args.json:
        print(json.dumps({"clients": args.clients, "cores": os.cpu_count(), "runs": [asdict(f) for f in runs]}))
    else:
        print(table(runs, args.clients))
    return 1 if args.check and any(f.errors for f in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
