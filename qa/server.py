"""One FastAPI app: the JSON API, the document viewer, and the Gradio UI mounted at "/"."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping, Sequence

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from fastapi import FastAPI  # noqa: E402
from fastapi.staticfiles import StaticFiles  # noqa: E402

from qa.api import install_error_handlers, make_router  # noqa: E402
from qa.engine import Engine  # noqa: E402

APP_PY = Path(__file__).resolve().parent.parent / "app.py"
STATIC = Path(__file__).resolve().parent / "static"


def page_head() -> str:
    """What goes into the UI page's <head>: its script (copy citation) and the styles for
    Gradio's page frame (qa/static/page.css; style.css is scoped to the app by Gradio)."""
    return (f"<style>{(STATIC / 'page.css').read_text(encoding='utf-8')}</style>"
            f"<script>{(STATIC / 'ui.js').read_text(encoding='utf-8')}</script>")


def create_app(engine: Engine, examples: Sequence[str] | None = None, ui: bool = True) -> FastAPI:
    """The API routes come first; Gradio, mounted at "/", serves everything else.

    Args:
        engine: the shared, read-only engine every request uses.
        examples: example questions for the UI (default: picked for the collection).
        ui: False serves the API alone (no Gradio import).
    """
    app = FastAPI(
        title="Seed QA",
        description="Cited, highlighted answers from a folder of documents. "
        "`/api/ask` returns the same JSON as `python -m qa ask --json`.",
        version="1.0",
    )
    install_error_handlers(app)
    app.include_router(make_router(engine))
    app.mount("/qa-static", StaticFiles(directory=STATIC), name="qa-static")
    app.state.engine = engine
    if ui:
        import gradio as gr

        from qa.ui import build_ui, theme

        demo = build_ui(engine, examples)
        # footer_links=[]: no "Use via API" footer; the header links the JSON API's docs.
        app = gr.mount_gradio_app(app, demo, path="/", css_paths=[STATIC / "style.css"], head=page_head(),
                                  theme=theme(), footer_links=[], run_history=False, show_error=True)
    return app


@contextlib.contextmanager
def serving(app, host: str = "127.0.0.1", port: int = 0, timeout: float = 60.0) -> Iterator[str]:
    """Run `app` with uvicorn in a background thread (for tests and benchmarks); yields its base URL.

    `port=0` picks a free port. The server stops when the block ends.
    """
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="qa-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the server did not start on {host}:{port}")
        time.sleep(0.05)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class AppChild:
    """A running `app.py`: its base URL and process id (benchmarks read its CPU time)."""

    url: str
    pid: int


@contextlib.contextmanager
def app_process(app_args: Sequence[str] = (), env: Mapping[str, str] | None = None, timeout: float = 300.0,
                port: int | None = None, ready: bool = True) -> Iterator[str]:
    """`python app.py ARGS` in a child process; yields its base URL (see `app_child`)."""
    with app_child(app_args, env, timeout, port, ready) as child:
        yield child.url


@contextlib.contextmanager
def app_child(app_args: Sequence[str] = (), env: Mapping[str, str] | None = None, timeout: float = 300.0,
              port: int | None = None, ready: bool = True) -> Iterator[AppChild]:
    """`python app.py ARGS` in a child process on a loopback port (free unless given, passed
    as GRADIO_SERVER_PORT so the app's own default path is the one exercised), yielded once
    /healthz answers (and, with `ready`, says an index is served: the app listens before its
    first build is done). For benchmarks and tests of the real entry point.

    Raises:
        RuntimeError: the app exited, or did not answer within `timeout` seconds (with the
            end of what it printed).
    """
    port = free_port() if port is None else port
    child_env = dict(os.environ if env is None else env, GRADIO_SERVER_PORT=str(port))
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as log:
        proc = subprocess.Popen([sys.executable, str(APP_PY), *app_args], cwd=APP_PY.parent, env=child_env,
                                stdout=log, stderr=subprocess.STDOUT)

        def printed() -> str:
            log.flush()
            log.seek(0)
            return log.read()[-2000:]

        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"app.py exited with code {proc.returncode}:\n{printed()}")
                try:
                    with urllib.request.urlopen(base + "/healthz", timeout=5) as reply:
                        if reply.status == 200 and (not ready or json.loads(reply.read()).get("ready")):
                            break
                except OSError:  # refused, reset, or an HTTP error (URLError is an OSError)
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"app.py did not answer /healthz within {timeout:.0f} s:\n{printed()}")
                time.sleep(0.25)
            yield AppChild(base, proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
