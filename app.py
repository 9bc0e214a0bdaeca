"""Serve Seed QA: the browser UI at "/", the JSON API at /api, OpenAPI docs at /docs.

    python app.py [--docs DIR ...] [--index DIR] [--uploads DIR] [--host 127.0.0.1] [--port 7860]

The server listens at once; the model is loaded and the index built (or brought up to date)
in the background, while the previous index serves, or, when there is none yet, the UI and
/api/ask say "indexing, N of M" (GET /api/status has the progress).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

SEEDS = Path(__file__).resolve().parent / "seeds"
# Questions the seed documents answer, offered as examples when the seeds are served.
SEED_EXAMPLES = (
    "Where was the European Cybercrime Forum held?",
    "In how many countries does DHS have personnel stationed?",
    "What role did PNR analysis play in terrorism investigations?",
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", action="append", default=None, metavar="DIR",
                        help="collection folder (repeatable; default: $QA_DOCS or seeds/)")
    parser.add_argument("--index", default=None, metavar="DIR", help="index folder (default: $QA_INDEX_DIR or index/)")
    parser.add_argument("--uploads", default=None, metavar="DIR",
                        help="folder for documents added in the browser or by POST /api/documents "
                        "(default: $QA_UPLOADS_DIR or uploads/ beside the index folder)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT") or 7860),
                        help="port (default: $GRADIO_SERVER_PORT or 7860)")
    return parser.parse_args(argv)


def examples_for(docs) -> list[str] | None:
    """The seed examples when the seeds are served; otherwise the UI builds its own."""
    return list(SEED_EXAMPLES) if any(Path(d).resolve() == SEEDS for d in docs) else None


def start_in_background(engine) -> None:
    """Load the model and the index (building it when needed) in the background; once it is
    served, leave the ONNX export for the next start and print what is served."""
    import threading

    ticket = engine.indexer.request()

    def when_built() -> None:
        outcome = ticket.wait()
        if engine.ready:
            engine.export_for_fast_start()
            print(engine.status().line(), file=sys.stderr)
        if outcome is not None and outcome.state != "idle":
            print(f"the first build {outcome.state}: see GET /api/status", file=sys.stderr)

    threading.Thread(target=when_built, name="qa-first-build", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    for noisy in ("sentence_transformers", "faiss", "bm25s", "httpx", "filelock", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    from qa.config import load_settings
    from qa.engine import Engine
    from qa.errors import QAError

    try:
        settings = load_settings(docs=tuple(args.docs) if args.docs else None, index_dir=args.index,
                                 uploads_dir=args.uploads)
        engine = Engine.starting(settings)
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    import uvicorn

    from qa.server import create_app

    app = create_app(engine, examples=examples_for(settings.docs))
    start_in_background(engine)
    print(f"Seed QA at http://{args.host}:{args.port}/  (API docs at /docs); indexing in the background",
          file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
