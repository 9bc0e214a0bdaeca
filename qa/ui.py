"""The browser UI: answer first, then the ranked passages as cited cards.

Everything that turns an `Answer` into HTML lives in plain functions (`render_*`, `ask_html`)
that tests call without Gradio or a browser. Every piece of document or question text goes
through `esc()` before it reaches the page, so a document holding `<script>` shows as text.
Only `build_ui` imports gradio.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence
from urllib.parse import quote, urlencode

from qa.answers import Answer, Result
from qa.config import MODES
from qa.errors import QAError
from qa.formats import SUPPORTED_EXTENSIONS
from qa.uploads import max_upload_bytes

if TYPE_CHECKING:  # pragma: no cover
    import gradio as gr

    from qa.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
SEED_EXAMPLES = (
    "Where was the European Cybercrime Forum held?",
    "In how many countries does DHS have personnel stationed?",
    "What role did PNR analysis play in terrorism investigations?",
)
UI_MAX_K = 25
UPLOAD_TYPES = (".txt", ".md", ".html", ".htm", ".pdf")
EMPTY_MESSAGE = "Type a question above, then press Enter — for example “Where was the European Cybercrime Forum held?”"
NO_ANSWER = "No confident answer in these documents"


# --- escaping ---------------------------------------------------------------------------

_TEMPLATE_CHARS = str.maketrans({"{": "&#123;", "}": "&#125;", "$": "&#36;", "`": "&#96;"})


def esc(text: object) -> str:
    """HTML-escape text for element content or a quoted attribute.

    Also turns `{`, `}`, `$` and backticks into character references: gr.HTML fills a JS /
    Handlebars template, and document text must never be read as template syntax.
    """
    return html.escape(str(text), quote=True).translate(_TEMPLATE_CHARS)


def view_url(source: str, start: int | None = None, end: int | None = None,
             mark_start: int | None = None, mark_end: int | None = None, base: str = "",
             collection: str | None = None) -> str:
    """Link to the whole document with a range highlighted and scrolled into view; the
    collection is named when several are served (the source alone may be ambiguous)."""
    params = {k: v for k, v in (("start", start), ("end", end), ("hs", mark_start), ("he", mark_end),
                                ("collection", collection)) if v is not None}
    query = f"?{urlencode(params)}" if params else ""
    return f"{base}/view/{quote(source, safe='/')}{query}#passage"


def with_answer(text: str, answer: tuple[int, int] | None) -> str:
    """`text` escaped, with the answer itself (offsets into `text`) in <strong>."""
    if answer is None or not 0 <= answer[0] < answer[1] <= len(text):
        return esc(text)
    a, b = answer
    return f'{esc(text[:a])}<strong class="qa-answer-span">{esc(text[a:b])}</strong>{esc(text[b:])}'


def marked(text: str, spans: Sequence[tuple[int, int]], css_class: str = "",
           answer: tuple[int, int] | None = None) -> str:
    """`text` escaped, with each (start, end) span wrapped in <mark>; spans may be unsorted.
    The `answer` span (offsets into `text`) is made <strong> inside the mark holding it."""
    cls = f' class="{esc(css_class)}"' if css_class else ""
    out, pos = [], 0
    for start, end in sorted((max(0, s), min(len(text), e)) for s, e in spans):
        if start < pos or start >= end:
            continue  # overlapping or empty span: keep the first
        out.append(esc(text[pos:start]))
        inside = (answer[0] - start, answer[1] - start) if answer is not None else None
        out.append(f"<mark{cls}>{with_answer(text[start:end], inside)}</mark>")
        pos = end
    out.append(esc(text[pos:]))
    return "".join(out)


# --- rendering --------------------------------------------------------------------------


def render_message(text: str, kind: str = "info") -> str:
    """A friendly one-liner in place of results (empty question, bad settings, ...)."""
    icon = "!" if kind == "error" else "i"
    return f'<div class="qa-message qa-{esc(kind)}" role="status"><span class="qa-icon">{icon}</span>{esc(text)}</div>'


def relevance(results: Sequence[Result]) -> list[float]:
    """Each score as a share (0..1) of the best one; scores are only comparable in a list."""
    best = max((r.score for r in results), default=0.0)
    if best <= 0:
        return [0.0 for _ in results]
    return [max(0.0, min(1.0, r.score / best)) for r in results]


def citation(r: Result, base: str = "", title: bool = True, with_collection: bool = False) -> str:
    """Title, file, ¶ number, page (PDF), character range and a link to the passage in its
    document."""
    hs = r.start + r.highlights[0].start if r.highlights else None
    he = r.start + r.highlights[0].end if r.highlights else None
    head = f'<span class="qa-doc-title">{esc(r.title)}</span><span class="qa-sep">·</span>' if title else ""
    page = f'<span class="qa-sep">·</span><span class="qa-page">p. {r.page}</span>' if r.page is not None else ""
    url = view_url(r.source, r.start, r.end, hs, he, base, r.collection if with_collection else None)
    return (
        f'{head}<code class="qa-file">{esc(r.source)}</code>'
        f'<span class="qa-sep">·</span><span class="qa-para">¶{r.paragraph}</span>{page}'
        f'<span class="qa-sep">·</span><span class="qa-range">chars {r.start}–{r.end}</span>'
        f'<a class="qa-view" href="{esc(url)}" target="_blank" '
        f'rel="noopener">View in document ↗</a>'
    )


def render_card(r: Result, share: float, base: str = "", with_collection: bool = False) -> str:
    pct = round(share * 100)
    answer = (r.answer.start, r.answer.end) if r.answer is not None else None
    text = marked(r.text, [(h.start, h.end) for h in r.highlights], answer=answer)
    return (
        f'<article class="qa-card" id="qa-r{r.rank}">'
        f'<header class="qa-card-head"><span class="qa-rank">[{r.rank}]</span>'
        f'<span class="qa-card-title">{esc(r.title)}</span>'
        f'<span class="qa-score" title="relevance relative to the best passage (raw score {r.score:.3f})">'
        f'<span class="qa-bar"><span class="qa-bar-fill" style="width:{pct}%"></span></span>'
        f'<span class="qa-pct">{pct}%</span></span></header>'
        f'<p class="qa-passage">{text}</p>'
        f'<footer class="qa-cite">{citation(r, base, title=False, with_collection=with_collection)}</footer>'
        f"</article>"
    )


def render_answer(answer: Answer, base: str = "") -> str:
    """The whole result pane: the best answer on top, then the ranked passage cards."""
    parts = ['<div class="qa-out">']
    best = answer.best
    if best is None:
        parts.append(render_message(f"{NO_ANSWER}: nothing matched the question."))
        parts.append("</div>")
        return "".join(parts)
    if answer.answerable:
        sentence = best.highlights[0].text if best.highlights else best.text
        at = best.highlights[0].start + len(sentence) - len(sentence.lstrip()) if best.highlights else 0
        in_sentence = (best.answer.start - at, best.answer.end - at) if best.answer is not None else None
        parts.append(
            '<section class="qa-answer" aria-label="Answer">'
            '<div class="qa-label">Answer <span class="qa-conf" title="confidence score">'
            f"confidence {answer.confidence:.2f}</span></div>"
            f'<p class="qa-answer-text"><mark class="qa-answer-mark">{with_answer(sentence.strip(), in_sentence)}</mark> '
            f'<a class="qa-cite-ref" href="#qa-r1" title="passage [1]">[1]</a></p>'
            f'<div class="qa-answer-cite">{citation(best, base, with_collection=answer.several_collections)}</div>'
            "</section>"
        )
    else:
        parts.append(
            '<section class="qa-noanswer" role="status">'
            f'<div class="qa-noanswer-title"><span class="qa-icon">?</span>{NO_ANSWER}.</div>'
            '<div class="qa-noanswer-body">None of the passages clearly answers '
            f"“{esc(answer.question)}”. The closest ones are below — read them with care "
            f"(confidence {answer.confidence:.2f}).</div></section>"
        )
    for note in answer.notes:
        parts.append(f'<div class="qa-note">Note: {esc(note)}</div>')
    heading = "Supporting passages" if answer.answerable else "Closest passages"
    parts.append(f'<div class="qa-results-head">{heading} <span class="qa-count">{len(answer.results)}</span></div>')
    for r, share in zip(answer.results, relevance(answer.results)):
        parts.append(render_card(r, share, base, answer.several_collections))
    parts.append("</div>")
    return "".join(parts)


# --- handlers (plain functions; Gradio only wires them) --------------------------------


def ask_html(engine: "Engine", question: str | None, k: Any = None, mode: str | None = None, base: str = "") -> str:
    """Answer `question` as HTML; an empty question or bad settings give a friendly message."""
    if not (question or "").strip():
        return render_message(EMPTY_MESSAGE)
    try:
        answer = engine.ask(question or "", int(k) if k not in (None, "") else None, mode or None)
    except (QAError, ValueError, TypeError) as exc:
        return render_message(str(exc), "error")
    return render_answer(answer, base)


def upload_html(engine: "Engine", paths: Sequence[Any] | None,
                progress: Callable[[float, str], None] | None = None) -> str:
    """Add the uploaded files (Gradio's temporary copies, which keep the original names)
    and say what happened to each."""
    paths = [getattr(p, "name", p) for p in (paths or []) if p]
    if not paths:
        return render_message("Choose one or more files first (" + ", ".join(SUPPORTED_EXTENSIONS) + ").")
    try:
        limit = max_upload_bytes()
        files = []
        for path in paths:
            with open(path, "rb") as handle:
                files.append((Path(path).name, handle.read(limit + 1)))
        report = engine.add_documents(files, progress)
    except (QAError, OSError) as exc:
        return render_message(f"The documents could not be added: {exc}", "error")
    items = [f"<li><code>{esc(s)}</code> added</li>" for s in report.added]
    items += [f"<li><code>{esc(n)}</code> skipped: {esc(r)}</li>" for n, r in report.skipped]
    kind = "info" if report.added or report.duplicates_only else "error"
    head = (f"Added {len(report.added)} document(s); ask about them now." if report.added
            else "No document added.")
    return (f'<div class="qa-message qa-{kind} qa-upload-report" role="status"><div>'
            f'<div class="qa-upload-head">{esc(head)}</div><ul>{"".join(items)}</ul>'
            f'<div class="qa-upload-summary">{esc(report.summary())}</div></div></div>')


def welcome_html(engine: "Engine") -> str:
    s = engine.status()
    return (
        '<div class="qa-welcome"><div class="qa-welcome-title">Ask anything about these documents.</div>'
        f"<div>{s.documents} documents and {s.passages} passages are indexed. You get the sentence that "
        "answers, with a citation you can open in its document.</div></div>"
    )


def default_examples(engine: "Engine") -> list[str]:
    """Seed questions for the seed collection; otherwise questions built from the titles."""
    seeds = (ROOT / "seeds").resolve()
    if any(Path(d).resolve() == seeds for d in engine.settings.docs):
        return list(SEED_EXAMPLES)
    examples = []
    for doc in engine.documents():
        words = doc.title.split()
        title = " ".join(words[:8]) + ("…" if len(words) > 8 else "")
        question = f"What is “{title}” about?"
        if title and question not in examples:
            examples.append(question)
    return examples[:3]


CSS = """
.gradio-container { max-width: 980px !important; margin: 0 auto !important; }
#qa-header h1 { font-size: 1.9rem; font-weight: 750; letter-spacing: -0.02em; margin: 0.2em 0 0; }
#qa-header p { color: var(--body-text-color-subdued); margin: 0.2em 0 0.6em; }
#qa-header p a { color: #4f46e5; font-weight: 600; text-decoration: none; margin-left: 6px; }
#qa-header .qa-logo { display:inline-block; background: linear-gradient(135deg,#4f46e5,#06b6d4);
  -webkit-background-clip:text; background-clip:text; color: transparent; }
#question textarea, #question input { font-size: 1.08rem !important; }
#ask { min-width: 110px; }
#qa-examples { gap: 6px !important; flex-wrap: wrap; }
#qa-examples button { font-size: 0.85rem !important; border-radius: 999px !important; padding: 4px 12px !important;
  background: var(--background-fill-secondary) !important; font-weight: 450 !important; flex: 0 1 auto !important;
  min-width: 0 !important; }
#qa-status { font-size: 0.8rem; color: var(--body-text-color-subdued); text-align: center; margin-top: 4px; }
#results { min-height: 120px; }
#results .html-container, #qa-head-block .html-container, #qa-status-block .html-container { padding: 0 !important; }
.qa-out { display: flex; flex-direction: column; gap: 12px; }
.qa-answer { border-radius: 14px; padding: 16px 20px; background: linear-gradient(135deg, rgba(79,70,229,.08), rgba(6,182,212,.08));
  border: 1px solid rgba(79,70,229,.25); }
.qa-label { font-size: .75rem; text-transform: uppercase; letter-spacing: .08em; font-weight: 700; color: #4f46e5;
  display: flex; justify-content: space-between; }
.qa-conf { text-transform: none; letter-spacing: 0; font-weight: 500; color: var(--body-text-color-subdued); }
.qa-answer-text { font-size: 1.2rem; line-height: 1.55; margin: 8px 0 10px !important; }
.qa-answer-mark { background: #fde68a; color: #1f2937; padding: 1px 3px; border-radius: 4px; box-decoration-break: clone;
  -webkit-box-decoration-break: clone; }
.qa-cite-ref { font-size: .85rem; font-weight: 700; text-decoration: none !important; color: #4f46e5 !important;
  vertical-align: super; }
.qa-answer-cite, .qa-cite { font-size: .8rem; color: var(--body-text-color-subdued); display: flex; flex-wrap: wrap;
  align-items: center; gap: 2px 0; }
.qa-sep { margin: 0 6px; opacity: .5; }
.qa-doc-title { font-weight: 600; color: var(--body-text-color); max-width: 46ch; overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; }
.qa-file { font-size: .78rem; background: var(--background-fill-secondary); padding: 1px 5px; border-radius: 4px; }
.qa-view { margin-left: auto; padding-left: 12px; font-weight: 600; color: #4f46e5 !important; text-decoration: none !important;
  white-space: nowrap; }
.qa-view:hover { text-decoration: underline !important; }
.qa-noanswer { border-radius: 14px; padding: 14px 18px; background: rgba(245,158,11,.10); border: 1px solid rgba(245,158,11,.45); }
.qa-noanswer-title { font-weight: 700; font-size: 1.05rem; margin-bottom: 4px; }
.qa-note { font-size: .8rem; color: var(--body-text-color-subdued); font-style: italic; }
.qa-results-head { font-size: .75rem; text-transform: uppercase; letter-spacing: .08em; font-weight: 700;
  color: var(--body-text-color-subdued); margin-top: 6px; }
.qa-count { background: var(--background-fill-secondary); border-radius: 999px; padding: 0 7px; margin-left: 4px; }
.qa-card { border: 1px solid var(--border-color-primary); border-radius: 12px; padding: 12px 16px;
  background: var(--background-fill-primary); box-shadow: 0 1px 2px rgba(0,0,0,.04); transition: box-shadow .15s; }
.qa-card:hover { box-shadow: 0 4px 14px rgba(0,0,0,.08); }
.qa-card:target { outline: 2px solid #4f46e5; }
.qa-card-head { display: flex; align-items: center; gap: 8px; margin-bottom: 6px; }
.qa-rank { font-weight: 700; color: #4f46e5; }
.qa-card-title { font-weight: 600; flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.qa-score { display: flex; align-items: center; gap: 6px; font-size: .78rem; color: var(--body-text-color-subdued); }
.qa-bar { width: 72px; height: 6px; border-radius: 3px; background: var(--background-fill-secondary); overflow: hidden;
  border: 1px solid var(--border-color-primary); }
.qa-bar-fill { display: block; height: 100%; background: linear-gradient(90deg,#06b6d4,#4f46e5); }
.qa-pct { width: 3em; text-align: right; font-variant-numeric: tabular-nums; }
.qa-passage { line-height: 1.6; margin: 0 0 8px !important; white-space: pre-wrap; }
.qa-passage mark { background: rgba(250,204,21,.30); color: inherit; padding: 0 2px; border-radius: 3px;
  border-bottom: 2px solid #facc15; }
.qa-message { border-radius: 12px; padding: 14px 18px; background: var(--background-fill-primary); display: flex;
  border: 1px solid var(--border-color-primary);
  align-items: center; }
.qa-icon { display: inline-flex; align-items: center; justify-content: center; width: 1.4em; height: 1.4em; flex: none;
  border-radius: 50%; background: #4f46e5; color: #fff; font-weight: 700; font-size: .85em; margin-right: 10px;
  font-family: Georgia, serif; }
.qa-error .qa-icon { background: #dc2626; font-family: inherit; }
.qa-noanswer .qa-icon { background: #f59e0b; font-family: inherit; }
.qa-error { background: rgba(239,68,68,.08); border: 1px solid rgba(239,68,68,.35); }
.qa-welcome { border-radius: 12px; padding: 18px 20px; border: 1px dashed var(--border-color-primary);
  color: var(--body-text-color-subdued); }
.qa-upload-report ul { margin: 4px 0 4px 1.2em; padding: 0; }
.qa-upload-head { font-weight: 650; }
.qa-upload-summary { font-size: .8rem; color: var(--body-text-color-subdued); }
.qa-welcome-title { font-weight: 650; color: var(--body-text-color); font-size: 1.05rem; margin-bottom: 4px; }
"""

FONT = ("ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif")
MONO = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace")


def theme():
    """A calm theme with system fonts (no web-font download)."""
    import gradio as gr

    return gr.themes.Soft(primary_hue="indigo", secondary_hue="cyan", font=FONT, font_mono=MONO)


def build_ui(engine: "Engine", examples: Sequence[str] | None = None, base: str = "") -> "gr.Blocks":
    """The Gradio Blocks app. Mount it with `qa.server.create_app` (which adds CSS and theme)."""
    import gradio as gr

    examples = list(default_examples(engine) if examples is None else examples)
    status = engine.status()

    def ask(question: str, k: float, mode: str) -> str:
        return ask_html(engine, question, k, mode, base)

    def busy():
        return gr.Button(value="Searching…", interactive=False)

    def idle():
        return gr.Button(value="Ask", interactive=True)

    with gr.Blocks(title="Seed QA", analytics_enabled=False) as demo:
        gr.HTML(
            '<div id="qa-header"><h1><span class="qa-logo">Seed QA</span></h1>'
            "<p>Answers from your documents — every sentence cited, every citation one click from its source. "
            f'<a href="{esc(base)}/docs" target="_blank" rel="noopener">JSON API</a></p></div>',
            js_on_load=None, elem_id="qa-head-block",
        )
        with gr.Row(equal_height=True):
            question = gr.Textbox(
                elem_id="question", show_label=False, placeholder="Ask a question about the documents…",
                lines=1, max_lines=1, scale=8, autofocus=True, container=False,
            )
            ask_btn = gr.Button("Ask", elem_id="ask", variant="primary", scale=1)
        with gr.Row(elem_id="qa-examples"):
            example_buttons = [gr.Button(q, size="sm", variant="secondary", elem_classes="qa-example") for q in examples]
        with gr.Accordion("Settings", open=False, elem_id="qa-settings"):
            with gr.Row():
                k = gr.Slider(1, UI_MAX_K, value=min(engine.settings.k, UI_MAX_K), step=1, label="Number of passages",
                              elem_id="qa-k")
                mode = gr.Radio(list(MODES), value=engine.settings.mode, label="Retrieval mode",
                                info="hybrid = meaning + keywords; dense = meaning only; bm25 = keywords only",
                                elem_id="qa-mode")
        with gr.Accordion("Add documents", open=False, elem_id="qa-add"):
            upload = gr.File(file_count="multiple", file_types=list(UPLOAD_TYPES), elem_id="upload",
                             label=f"{', '.join(UPLOAD_TYPES)} · up to {max_upload_bytes() / 1024 / 1024:g} MiB each · "
                                   f"stored in {engine.settings.uploads_folder}")
            add_btn = gr.Button("Add to the collection", elem_id="add-docs", variant="secondary")
            upload_status = gr.HTML("", elem_id="upload-status", js_on_load=None)
        results = gr.HTML(welcome_html(engine), elem_id="results", js_on_load=None, min_height=120)
        status_line = gr.HTML(f'<div id="qa-status">{esc(status.line())}</div>', js_on_load=None,
                              elem_id="qa-status-block")

        def add(paths: list[str] | None, progress=gr.Progress(track_tqdm=True)) -> tuple[str, str, None]:
            report = upload_html(engine, paths, lambda share, message: progress(share, desc=message))
            return report, f'<div id="qa-status">{esc(engine.status().line())}</div>', None

        add_btn.click(add, [upload], [upload_status, status_line, upload], show_progress="full",
                      concurrency_limit=1, concurrency_id="add", api_visibility="private")

        # busy -> answer -> idle; only the answer step is an API endpoint ("/ask", for gradio_client).
        quiet = dict(queue=False, show_progress="hidden", api_visibility="private")
        answer_step = dict(fn=ask, inputs=[question, k, mode], outputs=results, show_progress="full",
                           concurrency_limit=4, concurrency_id="ask")
        for i, trigger in enumerate((question.submit, ask_btn.click)):
            (trigger(busy, None, ask_btn, **quiet)
             .then(**answer_step, api_name="ask" if i == 0 else None,
                   api_visibility="public" if i == 0 else "private")
             .then(idle, None, ask_btn, **quiet))
        for button, text in zip(example_buttons, examples):
            (button.click(lambda t=text: (t, gr.Button(value="Searching…", interactive=False)), None,
                          [question, ask_btn], **quiet)
             .then(**answer_step, api_visibility="private")
             .then(idle, None, ask_btn, **quiet))
    return demo
