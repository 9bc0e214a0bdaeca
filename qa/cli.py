"""`python -m qa`: build the index, ask questions, run the evaluation harness.

Every error becomes exactly one line on stderr (`error: ...`) and a non-zero exit code:
2 for bad input (a bad question, k or mode, a missing folder, a usage error), 1 for an
unexpected failure (set QA_DEBUG=1 to see its traceback), 130 when interrupted. Questions,
k and mode are checked before the model is loaded, so bad input fails fast.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import textwrap
from pathlib import Path
from typing import List, Optional

import typer

from qa.answers import Answer, Result
from qa.config import MODES, Settings, load_settings
from qa.distributed.ray_embedding import LOCAL
from qa.errors import QAError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Seed QA: cited, highlighted answers from your documents.")

DEFAULT_QUESTIONS = Path("data/eval/seed_questions.jsonl")

DocsOption = typer.Option(None, "--docs", envvar="QA_DOCS", help="Collection folder (repeatable). Default: seeds/")
IndexOption = typer.Option(None, "--index", envvar="QA_INDEX_DIR", help="Index folder. Default: index/")
UploadsOption = typer.Option(None, "--uploads", envvar="QA_UPLOADS_DIR",
                             help="Uploads folder, served as one more collection. Default: uploads/ beside the index.")
ModeOption = typer.Option(None, "--mode", help=f"Retrieval mode: {', '.join(MODES)}. Default: hybrid")
RayOption = typer.Option(None, "--ray", envvar="QA_RAY_ADDRESS", metavar="[ADDRESS]",
                         help="Embed on Ray: alone, a local Ray on this machine; with an address, that cluster "
                              "(needs requirements-distributed.txt).")
StoreOption = typer.Option(None, "--store", envvar="QA_STORE",
                           help="What serves the index: faiss (the index folder, default) or qdrant.")
QdrantOption = typer.Option(None, "--qdrant", envvar="QA_QDRANT_URL", metavar="URL",
                            help="With --store qdrant: a Qdrant server (http://host:6333).")
QdrantPathOption = typer.Option(None, "--qdrant-path", envvar="QA_QDRANT_PATH", metavar="DIR",
                                help="With --store qdrant: a folder for Qdrant's embedded local mode.")
QdrantCollectionOption = typer.Option(None, "--qdrant-collection", envvar="QA_QDRANT_COLLECTION",
                                      help="With --store qdrant: the collection set's name. Default: from the folders.")
RerankerOption = typer.Option(None, "--reranker", envvar="QA_RERANKER", help="Optional cross-encoder path or name.")


def _settings(docs: Optional[List[Path]], index: Optional[Path], **flags) -> Settings:
    return load_settings(docs=tuple(docs) if docs else None, index_dir=index, **flags)


def _one_line(message: object) -> str:
    return " ".join(str(message).split()) or "unknown error"


def _fail(exc: Exception) -> None:
    if isinstance(exc, OSError) and not isinstance(exc, QAError):
        where = f" ({exc.filename})" if exc.filename else ""
        exc = QAError(f"{exc.strerror or exc}{where}")
    typer.echo(f"error: {_one_line(exc)}", err=True)
    raise typer.Exit(2)


def _setup_logging(quiet: bool = False) -> None:
    # Model loading draws progress bars on stderr; they are noise for a command line.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="%(message)s", stream=sys.stderr)
    for noisy in ("sentence_transformers", "faiss", "bm25s", "httpx", "filelock", "transformers", "ray", "ray.data"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _open_engine(settings: Settings, progress: bool = True):
    if settings.backend == "qdrant":
        from qa.distributed.qdrant_engine import open_engine

        return open_engine(settings)
    from qa.engine import Engine

    return Engine.open(settings, progress=progress)


def _build_engine(settings: Settings):
    """The engine after a build; with `--store qdrant`, the folder build written into Qdrant."""
    if settings.backend != "qdrant":
        return _open_engine(settings)
    from qa.distributed.qdrant_engine import build_engine

    engine, synced = build_engine(settings, progress=True)
    typer.echo(synced.summary())
    return engine


@app.command()
def build(docs: Optional[List[Path]] = DocsOption, index: Optional[Path] = IndexOption,
          uploads: Optional[Path] = UploadsOption, ray: Optional[str] = RayOption,
          store: Optional[str] = StoreOption, qdrant: Optional[str] = QdrantOption,
          qdrant_path: Optional[str] = QdrantPathOption, qdrant_collection: Optional[str] = QdrantCollectionOption,
          qdrant_shards: Optional[int] = typer.Option(None, "--qdrant-shards", envvar="QA_QDRANT_SHARDS",
                                                      help="shard_number of a new Qdrant collection. Default: 1"),
          qdrant_replicas: Optional[int] = typer.Option(None, "--qdrant-replicas", envvar="QA_QDRANT_REPLICAS",
                                                        help="replication_factor of new Qdrant collections. Default: 1"),
          qdrant_write_consistency: Optional[int] = typer.Option(
              None, "--qdrant-write-consistency", envvar="QA_QDRANT_WRITE_CONSISTENCY",
              help="write_consistency_factor of new Qdrant collections. Default: 1")) -> None:
    """Build the index, or update it when documents, model or settings changed."""
    _setup_logging()
    try:
        engine = _build_engine(_settings(
            docs, index, uploads_dir=uploads, ray_address=ray, backend=store, qdrant_url=qdrant,
            qdrant_path=qdrant_path, qdrant_collection=qdrant_collection, qdrant_shards=qdrant_shards,
            qdrant_replicas=qdrant_replicas, qdrant_write_consistency=qdrant_write_consistency))
    except (QAError, OSError) as exc:
        _fail(exc)
    engine.export_for_fast_start()
    report = engine.build_report
    status = engine.status()
    if report is None:
        typer.echo(f"index is up to date: {status.line()}")
        for line in engine.index.manifest.get("skipped", []):
            typer.echo(f"  skipped {line}")
    else:
        typer.echo(f"index built: {report.summary()}")
        for line in report.skipped:
            typer.echo(f"  skipped {line}")
        for line in report.warnings:
            typer.echo(f"  warning {line}")
        typer.echo(status.line())
    _close(engine)


def _close(engine) -> None:
    """Release a Qdrant store's client before exit (the embedded mode's own cleanup at
    interpreter shutdown prints a traceback)."""
    if engine.settings.backend == "qdrant":
        from qa.distributed.qdrant_engine import close_engine

        close_engine(engine)


def marked_passage(r: Result, color: bool) -> str:
    """The passage with its answering sentence marked (bold and underlined, or >>>...<<<)
    and, inside it, the answer itself (also yellow, or **...**) when one was found."""
    if not r.highlights:
        return r.text
    h, span = r.highlights[0], r.answer

    def mark(text: str, **style: str) -> str:
        return typer.style(text, bold=True, underline=True, **style) if color and text else text

    if span is not None and h.start <= span.start < span.end <= h.end:
        answer = mark(span.text, fg="yellow") if color else f"**{span.text}**"
        inner = mark(h.text[: span.start - h.start]) + answer + mark(h.text[span.end - h.start :])
    else:
        inner = mark(h.text)
    return r.text[: h.start] + (inner if color else f">>>{inner}<<<") + r.text[h.end :]


def format_answer(answer: Answer, color: bool) -> str:
    """Results for a person: the passage, its answering sentence marked, the citation under it."""
    out = []
    verdict = "" if answer.answerable else "No confident answer in these documents; the closest passages:\n\n"
    out.append(verdict.rstrip("\n") if verdict else "")
    for note in answer.notes:
        out.append(f"note: {note}")
    for r in answer.results:
        body = textwrap.indent(marked_passage(r, color), "    ")
        page = f" p. {r.page}" if r.page is not None else ""
        where = f"{r.collection}/{r.source}" if answer.several_collections else r.source
        out.append(f"[{r.rank}] score {r.score:.3f}\n{body}\n    — {r.title}, {where} ¶{r.paragraph}{page} "
                   f"(chars {r.start}–{r.end})")
    return "\n\n".join(p for p in out if p)


@app.command()
def ask(
    question: Optional[str] = typer.Argument(None, help="The question. Omit it with --questions."),
    k: Optional[str] = typer.Option(None, "--k", "-k", help="Number of passages (1-100). Default: 5"),
    mode: Optional[str] = ModeOption,
    as_json: bool = typer.Option(False, "--json", help="Print the JSON contract (one object a line for --questions)."),
    questions: Optional[Path] = typer.Option(None, "--questions", help="A .jsonl file; answers each line's `question`."),
    docs: Optional[List[Path]] = DocsOption,
    index: Optional[Path] = IndexOption,
    reranker: Optional[str] = RerankerOption,
    uploads: Optional[Path] = UploadsOption,
    store: Optional[str] = StoreOption,
    qdrant: Optional[str] = QdrantOption,
    qdrant_path: Optional[str] = QdrantPathOption,
    qdrant_collection: Optional[str] = QdrantCollectionOption,
) -> None:
    """Answer a question (or every question in a file) with cited, highlighted passages."""
    _setup_logging(quiet=True)
    if (question is None) == (questions is None):
        _fail(QAError("give either a QUESTION or --questions FILE.jsonl"))
    try:
        from qa.engine import check_question, validate_k, validate_mode

        settings = _settings(docs, index, reranker=reranker, uploads_dir=uploads, backend=store, qdrant_url=qdrant,
                             qdrant_path=qdrant_path, qdrant_collection=qdrant_collection)
        k_value = validate_k(settings.k if k is None else k)
        mode = validate_mode(mode, settings.mode)
        if questions is not None:
            from qa.evaluation.harness import load_questions

            texts = [q.question for q in load_questions(questions)]
            for number, text in enumerate(texts, start=1):
                try:
                    check_question(text)
                except QAError as exc:
                    raise QAError(f"{questions}: question {number}: {exc}") from None
        else:
            texts = [question or ""]
            check_question(texts[0])  # before loading the model: bad input fails fast
        engine = _open_engine(settings, progress=False)
        answers = engine.ask_batch(texts, k_value, mode)
    except UnicodeDecodeError:
        _fail(QAError(f"{questions} is not UTF-8 text"))
    except (QAError, OSError) as exc:
        _fail(exc)
    for answer in answers:
        if as_json:
            typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=None if questions else 2))
        else:
            typer.echo(format_answer(answer, color=sys.stdout.isatty()))
            if questions:
                typer.echo("\n" + "=" * 72 + "\n")
    if settings.backend == "faiss":  # a Qdrant reader keeps no local files
        engine.export_for_fast_start()  # after the answer: the next `ask` skips importing torch
    _close(engine)


@app.command()
def verify(index: Optional[Path] = IndexOption) -> None:
    """Check every file of the live index against its checksum (loading only checks sizes)."""
    from qa.store import current_build, verify_build

    settings = _settings(None, index)
    try:
        build = current_build(Path(settings.index_dir))
    except QAError as exc:
        _fail(exc)
    if build is None:
        _fail(QAError(f"no index in {settings.index_dir}: run `python -m qa build` first"))
    problems = verify_build(build)
    for problem in problems:
        typer.echo(f"{build.name}: {problem}", err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"{build.name}: intact (every file matches its checksum)")


@app.command("eval")
def evaluate(
    questions: Optional[Path] = typer.Option(None, "--questions", help=f"Question file. Default: {DEFAULT_QUESTIONS}"),
    beir: Optional[Path] = typer.Option(None, "--beir", help="A BEIR dataset folder (corpus, queries, qrels/)."),
    qrels: Optional[Path] = typer.Option(None, "--qrels", help="With --beir: the qrels file (default: qrels/test.tsv or the only one)."),
    run_out: Optional[Path] = typer.Option(None, "--run-out", help="With --beir: write a TREC run file here."),
    mode: Optional[List[str]] = typer.Option(None, "--mode", help="Mode(s) to evaluate (repeatable)."),
    compare: bool = typer.Option(False, "--compare", help="Evaluate dense, bm25 and hybrid side by side."),
    as_json: bool = typer.Option(False, "--json", help="Print a machine-readable report."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="List the questions that missed."),
    docs: Optional[List[Path]] = DocsOption,
    index: Optional[Path] = IndexOption,
    reranker: Optional[str] = RerankerOption,
) -> None:
    """Score retrieval, highlighting and abstention on a question file or a BEIR dataset."""
    _setup_logging(quiet=as_json)
    modes = list(MODES) if compare else (mode or [None])
    try:
        settings = _settings(docs, index, reranker=reranker)
        for m in modes:
            if m is not None and m not in MODES:
                raise QAError(f"unknown mode {m!r}: use one of {', '.join(MODES)}")
        modes = [m or settings.mode for m in modes]
        if beir is not None:
            from qa.evaluation.beir import format_beir_reports, load_beir, run_beir

            dataset = load_beir(beir, qrels)
            reports = run_beir(dataset, settings, modes, run_out=run_out, progress=not as_json)
            typer.echo(json.dumps([r.to_dict() for r in reports], indent=2) if as_json else format_beir_reports(reports))
            return
        from qa.evaluation.harness import evaluate_questions, format_questions_report, load_questions

        items = load_questions(questions or DEFAULT_QUESTIONS, scored=True)
        engine = _open_engine(settings, progress=not as_json)
        reports = [evaluate_questions(engine, items, m) for m in modes]
    except (QAError, OSError) as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in reports], indent=2, ensure_ascii=False))
    else:
        typer.echo(format_questions_report(reports, verbose=verbose))


def main(args: Optional[List[str]] = None) -> None:
    """Run the CLI; every failure is one line on stderr, never a traceback."""
    try:
        code = app(args=with_ray_default(sys.argv[1:] if args is None else list(args)), prog_name="python -m qa",
                   standalone_mode=False)
    except typer.Exit as exc:
        code = exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("error: interrupted", err=True)
        code = 130
    except QAError as exc:
        typer.echo(f"error: {_one_line(exc)}", err=True)
        code = 2
    except Exception as exc:
        code = _usage_error(exc)
        if code is None:  # a bug: still one line, the traceback on request
            if os.environ.get("QA_DEBUG"):
                raise
            typer.echo(f"error: unexpected {type(exc).__name__}: {_one_line(exc)} (set QA_DEBUG=1 for details)", err=True)
            code = 1
    sys.exit(code if isinstance(code, int) else 0)


def with_ray_default(args: List[str]) -> List[str]:
    """`--ray` with no address means a local Ray: click options cannot take an optional value."""
    out = list(args)
    for i, arg in enumerate(out):
        if arg == "--ray" and (i + 1 == len(out) or out[i + 1].startswith("-")):
            out.insert(i + 1, LOCAL)
            break
    return out


def _usage_error(exc: Exception) -> int | None:
    """Report a command-line usage error (typer's click exceptions) in one line."""
    if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
        return None
    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError":
        return 0  # typer has already printed the help
    hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
    typer.echo(f"error: {_one_line(exc.format_message())}{hint}", err=True)
    return int(exc.exit_code) if exc.exit_code else 2
