"""The Gradio page: it wires the question box, the settings, uploads and the result pane to
the engine. Handlers are plain functions (`ask_html`, `upload_html`, ...) tested without
Gradio; the HTML comes from `qa.render`, the styles from qa/static/style.css. Only
`build_ui` imports gradio.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from qa.answers import Result
from qa.citations import section_of
from qa.config import MODES
from qa.errors import IndexNotReady, QAError
from qa.formats import SUPPORTED_EXTENSIONS
from qa.library import library_rows, matching
from qa.render_progress import render_progress
from qa.render import (
    EMPTY_MESSAGE,
    render_answer,
    render_header,
    render_library,
    render_message,
    render_status,
    render_upload_report,
    render_welcome,
)
from qa.uploads import max_upload_bytes

if TYPE_CHECKING:  # pragma: no cover
    import gradio as gr

    from qa.engine import Engine

UI_MAX_K = 25
# Puts the asked question into the address bar, so the page can be shared as /?q=...
SHARE_URL_JS = """(q) => { const url = new URL(window.location.href); const t = (q || "").trim();
  if (t) { url.searchParams.set("q", t); } else { url.searchParams.delete("q"); }
  window.history.replaceState(null, "", url); return q; }"""


def upload_types() -> list[str]:
    """The file picker's list: every extension the loader reads (qa.formats)."""
    return list(SUPPORTED_EXTENSIONS)


def sections(engine: "Engine") -> Callable[[Result], "str | None"]:
    """The heading each result sits under, read from its indexed document."""

    def section(r: Result) -> str | None:
        try:
            doc = engine.document(r.source, r.collection or None)
        except QAError:
            return None
        return section_of(doc.text, r.start, doc.title) if doc.format in ("markdown", "text") else None

    return section


def ask_html(engine: "Engine", question: str | None, k: Any = None, mode: str | None = None, base: str = "") -> str:
    """Answer `question` as HTML; an empty question or bad settings give a friendly message."""
    if not (question or "").strip():
        return render_message(EMPTY_MESSAGE)
    try:
        answer = engine.ask(question or "", int(k) if k not in (None, "") else None, mode or None)
    except IndexNotReady as exc:  # not a mistake of the person asking: the bar above says how far it is
        return render_message(str(exc))
    except (QAError, ValueError, TypeError) as exc:
        return render_message(str(exc), "error")
    return render_answer(answer, base, sections(engine))


def upload_html(engine: "Engine", paths: Sequence[Any] | None) -> str:
    """Add the uploaded files (Gradio's temporary copies, which keep the original names)
    and say what happened to each, once the background build has indexed them (the page's
    progress bar shows that build meanwhile)."""
    paths = [getattr(p, "name", p) for p in (paths or []) if p]
    if not paths:
        return render_message("Choose one or more files first (" + ", ".join(SUPPORTED_EXTENSIONS) + ").")
    try:
        limit = max_upload_bytes()
        files = []
        for path in paths:
            with open(path, "rb") as handle:
                files.append((Path(path).name, handle.read(limit + 1)))
        report = engine.add_documents(files)
    except (QAError, OSError) as exc:
        return render_message(f"The documents could not be added: {exc}", "error")
    return render_upload_report(report.added, report.skipped, report.summary(),
                                bool(report.added or report.duplicates_only))


def library_html(engine: "Engine", text: str | None = None) -> str:
    rows = library_rows(engine)
    return render_library(matching(rows, text), len(rows))


def library_choices(engine: "Engine", text: str | None = None) -> list[tuple[str, str]]:
    """(label, key) for the remove control: the documents the filter shows."""
    return [(f"{r.title} — {r.source}", r.key) for r in matching(library_rows(engine), text)]


def remove_html(engine: "Engine", key: str | None) -> str:
    """Remove the chosen document (an upload with its file; a folder's document excluded)."""
    if not key:
        return render_message("Choose a document to remove first.")
    collection, _, source = key.partition("\n")
    try:
        doc = engine.remove_document(source, collection or None)
    except QAError as exc:
        return render_message(f"The document could not be removed: {exc}", "error")
    how = ("its file was left in its folder; add the same file again to bring it back"
           if (Path(doc.collection) / doc.source).exists() else "its uploaded file was deleted")
    return render_message(f"Removed “{doc.title}” ({doc.source}) from the index; {how}.")


def welcome_html(engine: "Engine") -> str:
    if not engine.ready:
        return render_message("The documents are being indexed (the bar above shows how far); "
                              "questions are answered as soon as the index is built.")
    s = engine.status()
    return render_welcome(s.documents, s.passages)


def progress_html(engine: "Engine", base: str = "") -> str:
    """The indexing bar (empty when the index is up to date)."""
    return render_progress(engine.build_status(), base)


def status_html(engine: "Engine") -> str:
    if not engine.ready:
        return render_status("no index served yet")
    return render_status(engine.status().line())


def default_examples(engine: "Engine") -> list[str]:
    """Example questions built from the documents' titles (the app may pass better ones)."""
    examples = []
    for doc in engine.documents():
        words = doc.title.split()
        title = " ".join(words[:8]) + ("…" if len(words) > 8 else "")
        question = f"What is “{title}” about?"
        if title and question not in examples:
            examples.append(question)
    return examples[:3]


def opening_html(engine: "Engine", query: str | None, base: str = "") -> tuple[str, str]:
    """What the page shows when it opens: the answer to `/?q=...`, else the welcome."""
    if query and query.strip():
        return query, ask_html(engine, query, None, None, base)
    return "", welcome_html(engine)


FONT = ("ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif")
MONO = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace")


def theme():
    """A calm theme with system fonts (no web-font download); quiet text and the primary
    button darkened from Soft's defaults to pass WCAG AA contrast (axe, 4.5:1)."""
    import gradio as gr

    return gr.themes.Soft(primary_hue="indigo", secondary_hue="cyan", font=FONT, font_mono=MONO).set(
        body_text_color_subdued="*neutral_600", button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800", button_primary_text_color="white",
        block_label_text_color="*primary_700", block_title_text_color="*primary_700")


def _ask_panel(engine: "Engine", examples: Sequence[str]) -> dict[str, Any]:
    """Question box, Ask button, example chips and the settings; returns the components."""
    import gradio as gr

    with gr.Row(equal_height=True, elem_id="qa-ask-row"):
        question = gr.Textbox(
            elem_id="question", show_label=False, placeholder="Ask a question about the documents…",
            lines=1, max_lines=1, scale=8, autofocus=True, container=False,
        )
        ask_btn = gr.Button("Ask", elem_id="ask", variant="primary", scale=1, min_width=72)
    with gr.Row(elem_id="qa-examples"):
        chips = [gr.Button(q, size="sm", variant="secondary", elem_classes="qa-example") for q in examples]
    with gr.Accordion("Settings", open=False, elem_id="qa-settings"):
        with gr.Row():
            k = gr.Slider(1, UI_MAX_K, value=min(engine.settings.k, UI_MAX_K), step=1, label="Number of passages",
                          elem_id="qa-k")
            mode = gr.Radio(list(MODES), value=engine.settings.mode, label="Retrieval mode",
                            info="hybrid = meaning + keywords; dense = meaning only; bm25 = keywords only",
                            elem_id="qa-mode")
    return {"question": question, "ask": ask_btn, "chips": chips, "k": k, "mode": mode}


def _upload_panel(engine: "Engine") -> dict[str, Any]:
    import gradio as gr

    types = upload_types()
    with gr.Accordion("Add documents", open=False, elem_id="qa-add"):
        upload = gr.File(file_count="multiple", file_types=types, elem_id="upload",
                         label=f"{', '.join(types)} · up to {max_upload_bytes() / 1024 / 1024:g} MiB each · "
                               f"stored in {engine.settings.uploads_folder}")
        add_btn = gr.Button("Add to the collection", elem_id="add-docs", variant="secondary")
        report = gr.HTML("", elem_id="upload-status", js_on_load=None)
    return {"upload": upload, "add": add_btn, "report": report}


def _wire_ask(c: dict[str, Any], ask: Callable[..., str], examples: Sequence[str]) -> None:
    """busy -> answer -> idle, and the address bar follows the question; only the answer
    step of Enter is an API endpoint ("/ask", for gradio_client)."""
    import gradio as gr

    quiet = dict(queue=False, show_progress="hidden", api_visibility="private")
    step = dict(fn=ask, inputs=[c["question"], c["k"], c["mode"]], outputs=c["results"], show_progress="full",
                concurrency_limit=4, concurrency_id="ask")

    def idle():
        return gr.Button(value="Ask", interactive=True)

    def busy(text: str | None = None):
        button = gr.Button(value="Searching…", interactive=False)
        return button if text is None else (text, button)

    for i, trigger in enumerate((c["question"].submit, c["ask"].click)):
        (trigger(busy, None, c["ask"], **quiet)
         .then(None, [c["question"]], None, js=SHARE_URL_JS, **quiet)
         .then(**step, api_name="ask" if i == 0 else None, api_visibility="public" if i == 0 else "private")
         .then(idle, None, c["ask"], **quiet))
    for button, text in zip(c["chips"], examples):
        (button.click(lambda t=text: busy(t), None, [c["question"], c["ask"]], **quiet)
         .then(None, [c["question"]], None, js=SHARE_URL_JS, **quiet)
         .then(**step, api_visibility="private")
         .then(idle, None, c["ask"], **quiet))


def _library_panel(engine: "Engine") -> dict[str, Any]:
    """The Documents view: filter, table, and a control to remove one document."""
    import gradio as gr

    query = gr.Textbox(label="Filter by title or file name", elem_id="lib-filter", max_lines=1)
    table = gr.HTML(library_html(engine), elem_id="library", js_on_load=None)
    with gr.Row(equal_height=True, elem_id="lib-remove-row"):
        choice = gr.Dropdown(library_choices(engine), label="Document to remove", elem_id="lib-choice", scale=4)
        remove = gr.Button("Remove from the index", elem_id="lib-remove", variant="stop", scale=1, min_width=120)
    report = gr.HTML("", elem_id="lib-status", js_on_load=None)
    return {"query": query, "table": table, "choice": choice, "remove": remove, "report": report}


def _wire_library(engine: "Engine", lib: dict[str, Any], status_line: Any) -> None:
    import gradio as gr

    def refresh(text: str | None):
        return library_html(engine, text), gr.Dropdown(choices=library_choices(engine, text), value=None)

    def remove(key: str | None, text: str | None):
        report = remove_html(engine, key)
        return (report, *refresh(text), status_html(engine))

    lib["query"].change(refresh, [lib["query"]], [lib["table"], lib["choice"]], queue=False,
                        show_progress="hidden", api_visibility="private")
    lib["tab"].select(refresh, [lib["query"]], [lib["table"], lib["choice"]], queue=False,
                      show_progress="hidden", api_visibility="private")
    lib["remove"].click(remove, [lib["choice"], lib["query"]], [lib["report"], lib["table"], lib["choice"], status_line],
                        show_progress="hidden", concurrency_limit=1,
                        concurrency_id="add", api_visibility="private")


def _poll_progress(engine: "Engine", progress: Any, status_line: Any, base: str) -> None:
    """Redraw the indexing bar and the status line every `ui_poll_seconds` (no queue, no overlay)."""
    import gradio as gr

    timer = gr.Timer(engine.settings.ui_poll_seconds)
    timer.tick(lambda: (progress_html(engine, base), status_html(engine)), None, [progress, status_line],
               queue=False, show_progress="hidden", api_visibility="private")


def build_ui(engine: "Engine", examples: Sequence[str] | None = None, base: str = "") -> "gr.Blocks":
    """The Gradio Blocks app. Mount it with `qa.server.create_app` (which adds CSS and theme)."""
    import gradio as gr

    examples = list(default_examples(engine) if examples is None else examples)
    with gr.Blocks(title="Seed QA", analytics_enabled=False) as demo:
        gr.HTML(render_header(base), js_on_load=None, elem_id="qa-head-block")
        progress = gr.HTML(progress_html(engine, base), js_on_load=None, elem_id="qa-progress-block")
        with gr.Tabs(elem_id="qa-tabs"):
            with gr.Tab("Ask", elem_id="qa-ask-tab"):
                c = _ask_panel(engine, examples)
                up = _upload_panel(engine)
                # Empty until the page's load event fills it (the welcome, or the answer to /?q=...),
                # so nothing the load writes can land on top of a question asked meanwhile.
                c["results"] = gr.HTML("", elem_id="results", js_on_load=None, min_height=120)
            with gr.Tab("Documents", elem_id="qa-docs-tab") as docs_tab:
                lib = {**_library_panel(engine), "tab": docs_tab}
        status_line = gr.HTML(status_html(engine), js_on_load=None, elem_id="qa-status-block")

        def add(paths: list[str] | None) -> tuple[str, str, None]:
            return upload_html(engine, paths), status_html(engine), None

        # No Gradio overlay: the one bar is the progress block, which the timer redraws.
        up["add"].click(add, [up["upload"]], [up["report"], status_line, up["upload"]], show_progress="hidden",
                        concurrency_limit=1, concurrency_id="add", api_visibility="private")
        _poll_progress(engine, progress, status_line, base)
        _wire_ask(c, lambda q, k, m: ask_html(engine, q, k, m, base), examples)
        _wire_library(engine, lib, status_line)

        def opening(request: gr.Request) -> tuple[str, str]:
            return opening_html(engine, request.query_params.get("q"), base)

        opening.__annotations__["request"] = gr.Request  # resolved here: gradio reads it to pass the request

        demo.load(opening, None, [c["question"], c["results"]], api_visibility="private")
    return demo
