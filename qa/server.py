"""One FastAPI app: the JSON API, the document viewer, and the Gradio UI mounted at "/"."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from typing import Iterator, Sequence

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from fastapi import FastAPI  # noqa: E402

from qa.api import install_error_handlers, make_router  # noqa: E402
from qa.engine import Engine  # noqa: E402


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
    app.state.engine = engine
    if ui:
        import gradio as gr

        from qa.ui import CSS, build_ui, theme

        demo = build_ui(engine, examples)
        app = gr.mount_gradio_app(app, demo, path="/", css=CSS, theme=theme(), footer_links=["api"],
                                  run_history=False, show_error=True)
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
