"""The JSON HTTP API and the document viewer route, as a FastAPI router (pages in qa.pages).

`GET /api/ask` returns exactly `Answer.to_dict()` (the same JSON as `python -m qa ask --json`).
`POST /api/documents` adds uploaded documents (multipart field `files`) to the uploads folder
and indexes them in a background build (waiting for it unless `?wait=false`); `GET /api/status`
shows that build's progress and `POST /api/build/cancel` stops it.
Bad parameters get a 4xx reply with `{"error": "..."}`; faults on the server's side (its
folders, index or model: `ServerError`) a logged 500 or 503 whose message names no server
path; never a traceback. No reply names a folder of the server: collections go by name.
Routes that touch the engine are plain `def`s: FastAPI runs them in its thread pool, so
they run concurrently over the one shared, read-only engine (questions arriving together
share one model run, and recent answers are kept: qa.batching).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from qa.batching import AnswerCache, cached_ask
from qa.engine import MAX_K, AmbiguousSource, Engine
from qa.errors import (BadQueryError, BuildCancelled, IndexFormatError, IndexNotReady, ModelLoadError, QAError,
                       ServerError, StorageError)
from qa.labels import public_model_name
from qa.uploads import max_upload_bytes
from qa.pages import render_not_found
from qa.pdf_view import PdfPages
from qa.viewer import document_file, view_html

log = logging.getLogger("qa.api")


class NotFound(QAError):
    """No such indexed document."""


def lookup(engine: Engine, source: str, collection: str | None = None):
    """Only indexed documents are served: the source is a key, never a path on disk."""
    try:
        return engine.document(source, collection or None)
    except AmbiguousSource:
        raise
    except QAError:
        raise NotFound(f"no indexed document {source!r}"
                       + (f" in collection {collection!r}" if collection else "") + ": see /api/documents") from None


async def read_uploads(request: Request, limit: int) -> list[tuple[str, bytes]]:
    """The files of the multipart field `files`, each read up to `limit` + 1 bytes (so a
    huge file is refused without being held in memory whole)."""
    try:
        form = await request.form()
    except Exception as exc:  # malformed multipart bodies raise parser-specific errors
        raise BadQueryError(f"send the documents as multipart/form-data in the field 'files' ({exc})") from None
    files = []
    for item in form.getlist("files"):
        if not isinstance(item, UploadFile):
            raise BadQueryError("the field 'files' must hold files, not text")
        files.append((item.filename or "", await item.read(limit + 1)))
    await form.close()
    if not files:
        raise BadQueryError("no documents: send one or more files in the multipart field 'files'")
    return files


def make_router(engine: Engine) -> APIRouter:
    router = APIRouter()

    cache = AnswerCache(engine.settings.answer_cache_size)

    @router.get("/api/ask", tags=["questions"], summary="Answer a question with cited, highlighted passages")
    def ask(
        q: str = Query("", description="The question"),
        k: str | None = Query(None, description=f"Number of passages, 1 to {MAX_K} (default {engine.settings.k})"),
        mode: str | None = Query(None, description="hybrid, dense or bm25 (default hybrid)"),
    ) -> JSONResponse:
        answer = cached_ask(engine, cache, q, k if k not in (None, "") else None, mode or None)
        return JSONResponse(answer.to_dict())  # already JSON types: no second encoding pass

    @router.get("/api/documents", tags=["documents"], summary="The indexed documents")
    def documents() -> list[dict[str, Any]]:
        return [
            {"source": d.source, "title": d.title, "collection": engine.collection_of(d),
             "paragraphs": engine.paragraphs(d), "chars": engine.chars(d), "format": d.format}
            for d in engine.documents()
        ]

    @router.post("/api/documents", tags=["documents"], summary="Add documents (multipart field `files`)")
    async def add_documents(request: Request, wait: bool = Query(True, description="Reply once they are "
                            "indexed (true) or at once, while a background build indexes them (false: 202)")
                            ) -> JSONResponse:
        """Store .txt, .md, .html/.htm or .pdf files in the uploads folder and index them;
        they answer questions as soon as this returns. 400 when no file could be added
        (each reason is given), 413 when a file is over the size limit, 409 when the build
        was cancelled (the files are deleted again)."""
        files = await read_uploads(request, max_upload_bytes())
        report = await run_in_threadpool(engine.add_documents, files, wait)
        body = {"added": list(report.added), "skipped": [{"name": n, "reason": r} for n, r in report.skipped],
                "summary": report.summary()}
        if report.withdrawn:
            return JSONResponse({"error": report.summary(), **body, "withdrawn": list(report.withdrawn)},
                                status_code=409)
        if report.indexing:
            return JSONResponse({**body, "status": engine.build_status().to_dict()}, status_code=202)
        if report.added or report.duplicates_only:
            return JSONResponse(body)
        reasons = "; ".join(f"{n}: {r}" for n, r in report.skipped)
        return JSONResponse({"error": f"no document added ({reasons})", **body},
                            status_code=413 if report.too_large else 400)

    @router.get("/api/documents/{source:path}", tags=["documents"], summary="One indexed document's text")
    def document(source: str, collection: str | None = Query(None, description="Needed when several "
                 "collections hold this source")) -> dict[str, Any]:
        d = lookup(engine, source, collection)
        return {"source": d.source, "title": d.title, "collection": engine.collection_of(d),
                "paragraphs": engine.paragraphs(d), "format": d.format, "pages": list(d.pages), "text": d.text}

    @router.delete("/api/documents/{source:path}", tags=["documents"], summary="Remove a document from the index")
    def remove(source: str, collection: str | None = Query(None, description="Needed when several "
               "collections hold this source")) -> dict[str, Any]:
        """An uploaded document is deleted with its file; a document of a served folder is
        excluded from the index (its file is left alone; adding the same file again brings it
        back). No answer cites it once this returns."""
        name = engine.collection_of(lookup(engine, source, collection))  # before it may be gone
        d = engine.remove_document(source, collection)
        uploaded = not (Path(d.collection) / d.source).exists()
        return {"removed": d.source, "collection": name, "file": "deleted" if uploaded else "kept",
                "documents": engine.status().documents}

    @router.get("/healthz", tags=["health"], summary="Liveness and what is served")
    def healthz() -> dict[str, Any]:
        """200 whenever the server runs, during builds too; `ready` says whether questions are
        answered, `state` is the background build's (see /api/status)."""
        s, build = engine.status(), engine.build_status()
        return {"status": "ok", "ready": engine.ready, "state": build.state, "documents": s.documents,
                "passages": s.passages, "model": public_model_name(s.model)}

    add_build_routes(router, engine)

    add_viewer_routes(router, engine)
    return router


def add_build_routes(router: APIRouter, engine: Engine) -> None:
    """The background build: its progress, a request for one, and cancel."""

    @router.get("/api/status", tags=["index"], summary="The background build's state and progress")
    def status() -> dict[str, Any]:
        """`state` idle, building, failed or cancelled; `progress` of the running or last
        build; `documents` and `passages` of the index served meanwhile."""
        return engine.build_status().to_dict()

    @router.post("/api/build", tags=["index"], summary="Bring the index up to date in the background",
                 status_code=202)
    def build() -> dict[str, Any]:
        """Starts a build (or joins the one queued behind a running build) and replies at once."""
        engine.indexer.request()
        return engine.build_status().to_dict()

    @router.post("/api/build/cancel", tags=["index"], summary="Stop the running build")
    def cancel() -> dict[str, Any]:
        """Stops the running build between batches and drops queued ones; the served index stays,
        and documents being added are deleted again. `cancelled` is false when none ran."""
        cancelled = engine.indexer.cancel()
        return {"cancelled": cancelled, **engine.build_status().to_dict()}


def add_viewer_routes(router: APIRouter, engine: Engine) -> None:
    """"View in document" pages and the PDF page images they show (HTML errors, see `is_page`)."""
    pdf = PdfPages(engine.settings.pdf_page_scale)

    @router.get("/view/{source:path}", response_class=HTMLResponse, include_in_schema=False)
    def view(source: str, start: int | None = None, end: int | None = None, hs: int | None = None,
             he: int | None = None, collection: str | None = None, page: int | None = None) -> HTMLResponse:
        d = lookup(engine, source, collection)
        return HTMLResponse(view_html(d, pdf, page, start, end, hs, he, collection))

    @router.get("/page-image/{page}/{source:path}", include_in_schema=False)
    def page_image(page: int, source: str, collection: str | None = None) -> Response:
        """A page of an indexed PDF as PNG (only indexed documents, never a path)."""
        d = lookup(engine, source, collection)
        path = document_file(d)
        if d.format != "pdf" or not path.is_file() or not 1 <= page <= len(d.pages):
            raise NotFound(f"no page {page} in {source!r}")
        return Response(pdf.png(path, page), media_type="image/png", headers={"Cache-Control": "max-age=300"})


def is_page(request: Request) -> bool:
    """Routes people open in a browser get HTML errors; the JSON API keeps JSON ones."""
    return request.url.path.startswith(("/view/", "/page-image/"))


# Server faults: (class, status, what the client is told). The message itself may name the
# server's folders, so it goes to the log; the first matching class wins.
SERVER_FAULTS: tuple[tuple[type[ServerError], int, str], ...] = (
    (IndexFormatError, 503, "the index cannot be served (damaged or built with other settings)"),
    (ModelLoadError, 503, "the model cannot be loaded"),
    (StorageError, 500, "the server cannot write its index or uploads folder"),
    (ServerError, 500, "the server's documents or settings cannot be used"),
)


def server_fault_reply(exc: ServerError, path: str) -> JSONResponse:
    """The logged 5xx reply for a fault on the server's side."""
    status, public = next((code, text) for kind, code, text in SERVER_FAULTS if isinstance(exc, kind))
    log.error("%s on %s: %s", type(exc).__name__, path, exc)
    return JSONResponse({"error": f"{public}; the server log has the details"}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    """Every error is `{"error": "..."}` JSON: 4xx for the client's mistakes, a logged 5xx
    for server faults (`ServerError`) and bugs, never a traceback or a server path."""

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> JSONResponse | HTMLResponse:
        if is_page(request):
            source = request.path_params.get("source", "")
            return HTMLResponse(render_not_found(f"No indexed document is called “{source}”."), status_code=404)
        return JSONResponse({"error": str(exc)}, status_code=404)

    @app.exception_handler(IndexNotReady)
    async def not_ready(request: Request, exc: IndexNotReady) -> JSONResponse:
        status = exc.status.to_dict()
        return JSONResponse({"error": str(exc), "state": status["state"], "progress": status["progress"]},
                            status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(BuildCancelled)
    async def cancelled(request: Request, exc: BuildCancelled) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=409)

    @app.exception_handler(AmbiguousSource)
    async def ambiguous(request: Request, exc: AmbiguousSource) -> JSONResponse:
        return JSONResponse({"error": str(exc), "collections": list(exc.collections)}, status_code=409)

    @app.exception_handler(BadQueryError)
    async def bad_query(request: Request, exc: BadQueryError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=400)

    @app.exception_handler(ServerError)
    async def server_error(request: Request, exc: ServerError) -> JSONResponse:
        return server_fault_reply(exc, request.url.path)

    @app.exception_handler(QAError)
    async def qa_error(request: Request, exc: QAError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p not in ('query', 'path'))}: {e.get('msg', 'invalid')}"
            for e in exc.errors()
        )
        return JSONResponse({"error": problems or "invalid request"}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return JSONResponse({"error": "internal error; see the server log"}, status_code=500)
