"""Regenerate the measured figures in README.md and docs/*.md from real runs (like cog).

    python bench/readme_figures.py [--only NAME ...] [--check]

Each figure sits, in the README or in one of the docs/ files, between `<!-- figures:NAME -->` and `<!-- /figures:NAME -->`.
This script runs the command the block shows, keeps what it printed (progress bars and log
noise stripped) and rewrites only what is between the markers, so a second run replaces the
figures again and the prose around them is left alone.

Commands are shown as a user types them from the repository root (`.venv/bin/python -m qa
...`) and run here with this interpreter, from the repository root, with no `QA_*` variables
of the caller's: the question blocks use a scratch index of `seeds/` in `.cache/figures/` and
an empty uploads folder, so the figures are what a fresh clone prints with the defaults.
`build` builds into a new temporary folder, so it really builds.

Every command has a timeout; every process this script starts (and the servers the benchmark
scripts start, which share its process group) is stopped when it ends. A block whose command
fails keeps its old content, and the script exits 1. After a full run (no `--only`) the
`runtime` block records how long the run took.

`--check` runs nothing: it exits 1 when a block is empty or missing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.server import app_process  # noqa: E402

README = ROOT / "README.md"
DOCS = ROOT / "docs"
SCIFACT = Path("../shared/bench/scifact")  # as given on the command line, from the repository root
SCRATCH = ROOT / ".cache" / "figures"
SHOWN_PYTHON = ".venv/bin/python"

ASK_QUESTION = "Where was the European Cybercrime Forum held?"
JSON_QUESTION = "In how many countries does DHS have personnel stationed?"
API_QUESTION = "Where was the European Cybercrime Forum held"
SHOWN_PORT = 7860  # the port a user's server has by default; the real run uses a free one

class FigureError(Exception):
    """A block's command failed; its old content is kept."""


# --- running commands -------------------------------------------------------------------

_live: set[subprocess.Popen] = set()


def _stop(proc: subprocess.Popen) -> None:
    """Stop `proc` and everything in its process group (it was started as a group leader)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
    else:  # the leader is gone; a server it started may still hold its group
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    _live.discard(proc)


def stop_all() -> None:
    for proc in list(_live):
        _stop(proc)


def _on_signal(signum, frame):  # noqa: ARG001
    stop_all()
    raise SystemExit(128 + signum)


def child_env(uploads: Path) -> dict[str, str]:
    """This environment without the caller's QA_* settings; a scratch index and an empty
    uploads folder; model loading without progress bars."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_INDEX_DIR=str(SCRATCH / "index"), QA_UPLOADS_DIR=str(uploads),
               HF_HUB_DISABLE_PROGRESS_BARS="1", TRANSFORMERS_VERBOSITY="error", TQDM_DISABLE="1",
               PYTHONUNBUFFERED="1", GRADIO_ANALYTICS_ENABLED="False")
    return env


@dataclass
class Run:
    stdout: str
    stderr: str
    code: int


def run(args: list[str], env: dict[str, str], timeout: float, ok_codes: tuple[int, ...] = (0,)) -> Run:
    """Run `python ARGS` from the repository root; FigureError on a timeout or a bad exit code."""
    proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, start_new_session=True, text=True,
                            encoding="utf-8", errors="replace", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _live.add(proc)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(proc)
        raise FigureError(f"`{shown(args)}` did not finish within {timeout:.0f}s") from None
    finally:
        _stop(proc)  # a server the command started and left behind goes too
    result = Run(out, err, proc.returncode)
    if proc.returncode not in ok_codes:
        tail = "\n".join(clean(err).splitlines()[-8:])
        raise FigureError(f"`{shown(args)}` exited with code {proc.returncode}:\n{tail}")
    return result


def http_get(url: str, timeout: float = 60) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


# --- formatting ---------------------------------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PROGRESS = re.compile(r"\d+%\|.*\|\s*\d+/\d+|\|\s*\d+/\d+ \[|^\s*(Loading weights|Batches|embedding)\b.*:\s")


def clean(text: str) -> str:
    """What a command printed, as a terminal would leave it (of a line redrawn with \\r, the
    last state), without progress bars, colour codes, trailing spaces and surrounding blank
    lines."""
    lines = []
    for line in ANSI.sub("", text).replace("\r\n", "\n").split("\n"):
        redrawn = "\r" in line
        line = line.split("\r")[-1]
        if PROGRESS.search(line) or (redrawn and not line.strip()):
            continue
        lines.append(line.rstrip())
    return "\n".join(lines).strip("\n")


def shown(args: list[str]) -> str:
    """`args` as a user types them from the repository root, with `.venv/bin/python`."""
    if args[:1] == ["-m"]:
        words = [SHOWN_PYTHON, "-m", *args[1:]]
    else:
        words = [SHOWN_PYTHON, *args]

    def quote(word: str) -> str:
        if word and not re.search(r"[^\w@%+=:,./-]", word):
            return word
        if not re.search(r'["$`\\!]', word):
            return f'"{word}"'
        return shlex.quote(word)

    return " ".join(quote(w) for w in words)


def console(command: str, output: str) -> str:
    return f"```console\n$ {command}\n{output}\n```" if output else f"```console\n$ {command}\n```"


def fenced(kind: str, body: str) -> str:
    return f"```{kind}\n{body}\n```"


# --- the blocks ---------------------------------------------------------------------------

@dataclass
class Context:
    env: dict[str, str]
    tmp: Path
    notes: dict[str, str] = field(default_factory=dict)  # facts for the runtime block


def command_block(args: list[str], timeout: float) -> Callable[[Context], str]:
    """A block showing `args` and what they printed."""
    def block(ctx: Context) -> str:
        return console(shown(args), clean(run(args, ctx.env, timeout=timeout).stdout))
    return block


def block_build(ctx: Context) -> str:
    index = ctx.tmp / "build" / "index"
    args = ["-m", "qa", "build"]
    env = dict(ctx.env, QA_INDEX_DIR=str(index), QA_UPLOADS_DIR=str(ctx.tmp / "build" / "uploads"))
    result = run(args, env, timeout=600)
    return console(shown(args), clean(result.stdout))


def block_ask_json(ctx: Context) -> str:
    args = ["-m", "qa", "ask", "--json", JSON_QUESTION, "--k", "1"]
    reply = json.loads(run(args, ctx.env, timeout=300).stdout)
    return console(shown(args), "") + "\n" + fenced("json", json.dumps(reply, indent=2, ensure_ascii=False))


def routes(openapi: dict) -> str:
    """The API's routes, their summaries and query parameters, from the server's OpenAPI schema."""
    def lower(text: str) -> str:
        return text[:1].lower() + text[1:]

    lines = []
    for path, operations in openapi.get("paths", {}).items():
        for method, op in operations.items():
            line = f"- `{method.upper()} {path}`: {lower(op.get('summary', '')).rstrip('.')}"
            params = [p for p in op.get("parameters", []) if p.get("in") == "query"]
            if params:
                line += ". " + "; ".join(f"`{p['name']}`" + (f": {lower(p['description'])}" if p.get("description")
                                                             else "") for p in params)
            lines.append(line + ".")
    return "\n".join(lines)


def block_api(ctx: Context) -> str:
    """Start app.py on a free loopback port, ask one question the way curl would, read the
    routes from /openapi.json; show the command with the default port."""
    query = "/api/ask?" + urllib.parse.urlencode({"q": API_QUESTION, "k": 1})
    try:
        with app_process(["--host", "127.0.0.1"], env=ctx.env, timeout=300) as base:
            status, body = http_get(base + query)
            if status != 200:
                raise FigureError(f"GET {query} answered {status}: {body[:300]!r}")
            reply = json.loads(body)
            status, body = http_get(base + "/openapi.json")
            if status != 200:
                raise FigureError(f"GET /openapi.json answered {status}")
            openapi = json.loads(body)
    except RuntimeError as exc:  # app.py exited or never answered
        raise FigureError(clean(str(exc))) from None
    curl = f"curl 'http://127.0.0.1:{SHOWN_PORT}{query}'"
    return "\n".join([
        console(curl, ""),
        fenced("json", json.dumps(reply, indent=2, ensure_ascii=False)),
        "",
        "The routes, from the server's own OpenAPI schema (`/openapi.json`, browsable at `/docs`):",
        "",
        routes(openapi),
    ])


def block_api_latency(ctx: Context) -> str:
    args = ["bench/api_latency.py"]
    # Its own index: it names the collection by absolute path, and an index is keyed by the
    # folder as given, so sharing one would rebuild it twice a run.
    env = dict(ctx.env, QA_INDEX_DIR=str(SCRATCH / "api-latency-index"))
    # exit 1 means some API answer differed from engine.ask: the output says so, and is shown
    result = run(args, env, timeout=900, ok_codes=(0, 1))
    if "API answers identical" not in result.stdout:
        raise FigureError(f"`{shown(args)}` exited with code {result.code}:\n{clean(result.stderr)[-800:]}")
    return console(shown(args), clean(result.stdout))


def block_beir(ctx: Context) -> str:
    args = ["-m", "qa", "eval", "--beir", str(SCIFACT), "--compare"]
    result = run(args, ctx.env, timeout=5400)
    built = re.search(r"index ready: .*?(\d+) passages embedded in ([\d.]+)s", result.stderr)
    if built and int(built.group(1)) > 0:
        ctx.notes["beir_embedded"] = f"{built.group(1)} passages, {float(built.group(2)):.0f}s"
    return console(shown(args), clean(result.stdout))


def block_quality(ctx: Context) -> str:
    """Every question set, the held-out verdict beside, and SciFact train when ../shared is there."""
    args = ["bench/quality.py", "--cross-validate", *(["--beir", str(SCIFACT)] if (ROOT / SCIFACT).is_dir() else [])]
    result = run(args, ctx.env, timeout=5400)
    return console(shown(args), clean(result.stdout))


def block_screenshots(ctx: Context) -> str:
    """bench/screenshots.py writes the PNGs into docs/screens and prints the Markdown."""
    return run(["bench/screenshots.py", "--out", str(ROOT / "docs" / "screens")], ctx.env, timeout=900).stdout.strip()


BLOCKS: dict[str, Callable[[Context], str]] = {
    "screenshots": block_screenshots,
    "build": block_build,
    "ask": command_block(["-m", "qa", "ask", ASK_QUESTION, "--k", "2"], timeout=300),
    "ask_json": block_ask_json,
    "api": block_api,
    "api_latency": block_api_latency,
    "load": command_block(["bench/load.py", "--clients", "16", "--seconds", "60"], timeout=900),
    "seed_eval": command_block(["-m", "qa", "eval", "--compare"], timeout=900),
    "quality": block_quality,
    "beir": block_beir,
    "retrieval": command_block(["bench/retrieval.py"], timeout=5400),
    "fusion": command_block(["bench/fusion.py"], timeout=5400),
    "answerable": command_block(["bench/fit_answerability.py", "--C", "10", "--weight", "1.5", "--threshold", "0.45"],
                                timeout=1800),
}
RUNTIME = "runtime"  # written after a full run: how long it took


def runtime_text(seconds: float, notes: dict[str, str]) -> str:
    minutes = max(1, round(seconds / 60))
    text = f"a full run took {minutes} minute{'s' if minutes != 1 else ''} on {os.cpu_count()} CPU cores"
    if "beir_embedded" in notes:
        return text + f", including embedding SciFact into `.cache/beir/` ({notes['beir_embedded']})"
    return text + ", with the SciFact index already in `.cache/beir/`"


# --- the README ---------------------------------------------------------------------------

def marker_re(name: str) -> re.Pattern:
    return re.compile(rf"<!-- figures:{re.escape(name)} -->(.*?)<!-- /figures:{re.escape(name)} -->", re.S)


def replace_block(text: str, name: str, content: str) -> str:
    pattern = marker_re(name)
    if not pattern.search(text):
        raise FigureError(f"no <!-- figures:{name} --> block in the README")
    inner = f"\n{content}\n" if "\n" in content or content.startswith("```") else content
    return pattern.sub(lambda m: f"<!-- figures:{name} -->{inner}<!-- /figures:{name} -->", text, count=1)


def figure_files() -> list[Path]:
    """Where figure blocks may live: the README and every docs/*.md."""
    return [README, *sorted(DOCS.glob("*.md"))]


def all_text(paths: list[Path] | None = None) -> str:
    """Every figure file's text, joined (for `problems`)."""
    return "\n".join(p.read_text(encoding="utf-8") for p in (paths or figure_files()))


def update_block(name: str, content: str, paths: list[Path] | None = None) -> None:
    """Replace one block in whichever file holds it; re-read the file first (someone may be
    editing its prose) and write it atomically."""
    for path in paths or figure_files():
        text = path.read_text(encoding="utf-8")
        if marker_re(name).search(text):
            text = replace_block(text, name, content)
            tmp = path.with_name(f".{path.name}.figures.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
            return
    raise FigureError(f"no <!-- figures:{name} --> block in README.md or docs/*.md")


def problems(text: str) -> list[str]:
    """What is not filled in: blocks missing or empty."""
    out = []
    for name in [*BLOCKS, RUNTIME]:
        m = marker_re(name).search(text)
        if m is None:
            out.append(f"block {name} missing (add <!-- figures:{name} --><!-- /figures:{name} -->)")
        elif not m.group(1).strip():
            out.append(f"block {name} empty")
    return out


# --- main ---------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=list(BLOCKS), metavar="NAME",
                        help=f"regenerate this block only (repeatable): {', '.join(BLOCKS)}")
    parser.add_argument("--check", action="store_true", help="run nothing; exit 1 when a block is empty or missing")
    args = parser.parse_args(argv)

    if args.check:
        found = problems(all_text())
        for line in found:
            print(line, file=sys.stderr)
        return 1 if found else 0

    names = args.only or list(BLOCKS)
    signal.signal(signal.SIGTERM, _on_signal)
    SCRATCH.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    failed = []
    with tempfile.TemporaryDirectory(prefix="readme-figures-") as tmp:
        ctx = Context(env=child_env(Path(tmp) / "uploads"), tmp=Path(tmp))
        try:
            for name in names:
                t0 = time.monotonic()
                print(f"[{name}] running ...", file=sys.stderr, flush=True)
                try:
                    update_block(name, BLOCKS[name](ctx))
                except Exception as exc:  # one block failing never stops the others
                    failed.append(name)
                    print(f"[{name}] FAILED, block left as it was: {exc}", file=sys.stderr, flush=True)
                else:
                    print(f"[{name}] done in {time.monotonic() - t0:.0f}s", file=sys.stderr, flush=True)
        finally:
            stop_all()
        total = time.monotonic() - started
        if not args.only and not failed:
            try:
                update_block(RUNTIME, runtime_text(total, ctx.notes))
            except FigureError as exc:
                print(f"[{RUNTIME}] not written: {exc}", file=sys.stderr)
    print(f"{len(names) - len(failed)}/{len(names)} blocks regenerated in {total / 60:.1f} min"
          + (f"; failed: {', '.join(failed)}" if failed else ""), file=sys.stderr)
    left = problems(all_text())
    for line in left:
        print(line, file=sys.stderr)
    return 1 if failed or left else 0


if __name__ == "__main__":
    sys.exit(main())
