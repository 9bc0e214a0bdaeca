"""HTML for the browser UI: the answer first, then the ranked passages as cited cards.

Plain functions from frozen data to HTML strings, tested without Gradio or a browser. Every
piece of document or question text goes through `esc()`, so a document holding `<script>`
shows as text. Styles are in qa/static/style.css; the copy button's script in qa/static/ui.js.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Callable, Sequence

from qa.answers import Answer, Result
from qa.citations import Citation, cite

if TYPE_CHECKING:  # pragma: no cover
    from qa.library import LibraryRow

EMPTY_MESSAGE = "Type a question above, then press Enter."
NO_ANSWER = "No confident answer in these documents"

SectionOf = Callable[[Result], "str | None"]

_TEMPLATE_CHARS = str.maketrans({"{": "&#123;", "}": "&#125;", "$": "&#36;", "`": "&#96;"})


def esc(text: object) -> str:
    """HTML-escape text for element content or a quoted attribute.

    Also turns `{`, `}`, `$` and backticks into character references: gr.HTML fills a JS /
    Handlebars template, and document text must never be read as template syntax.
    """
    return html.escape(str(text), quote=True).translate(_TEMPLATE_CHARS)


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


def render_message(text: str, kind: str = "info") -> str:
    """A friendly one-liner in place of results (empty question, bad settings, ...)."""
    icon = "!" if kind == "error" else "i"
    return (f'<div class="qa-message qa-{esc(kind)}" role="status"><span class="qa-icon" aria-hidden="true">'
            f"{icon}</span>{esc(text)}</div>")


def relevance(results: Sequence[Result]) -> list[float]:
    """Each score as a share (0..1) of the best one; scores are only comparable in a list."""
    best = max((r.score for r in results), default=0.0)
    if best <= 0:
        return [0.0 for _ in results]
    return [max(0.0, min(1.0, r.score / best)) for r in results]


def render_citation(c: Citation, title: bool = True) -> str:
    """Title (wrapped), page, section and paragraph for people; the file and offsets on a
    second, quieter line; a link into the document and a button copying the citation."""
    head = f'<span class="qa-doc-title">{esc(c.title)}</span>' if title else ""
    place = (f'<span class="qa-page">p. {c.page}</span>' if c.page is not None else "") + (
        f'<span class="qa-section">§ {esc(c.section)}</span>' if c.section else "") + (
        f'<span class="qa-para">¶{c.paragraph}</span>')
    return (
        f'<div class="qa-cite-main">{head}<span class="qa-place">{place}</span></div>'
        f'<div class="qa-cite-meta"><code class="qa-file" title="characters {c.start}–{c.end}">{esc(c.source)}</code>'
        f'<span class="qa-range">chars {c.start}–{c.end}</span>'
        f'<span class="qa-actions"><button type="button" class="qa-copy" data-citation="{esc(c.plain())}" '
        f'aria-label="Copy citation of {esc(c.title)}">Copy citation</button>'
        f'<a class="qa-view" href="{esc(c.url)}" target="_blank" rel="noopener">View in document ↗</a></span></div>'
    )


def render_card(r: Result, share: float, c: Citation) -> str:
    pct = round(share * 100)
    answer = (r.answer.start, r.answer.end) if r.answer is not None else None
    text = marked(r.text, [(h.start, h.end) for h in r.highlights], answer=answer)
    return (
        f'<article class="qa-card" id="qa-r{r.rank}" aria-label="Passage {r.rank}">'
        f'<header class="qa-card-head"><span class="qa-rank">[{r.rank}]</span>'
        f'<span class="qa-card-title">{esc(r.title)}</span>'
        f'<span class="qa-score" title="relevance relative to the best passage (raw score {r.score:.3f})">'
        f'<span class="qa-bar" aria-hidden="true"><span class="qa-bar-fill" style="width:{pct}%"></span></span>'
        f'<span class="qa-pct">{pct}%</span></span></header>'
        f'<p class="qa-passage">{text}</p>'
        f'<footer class="qa-cite">{render_citation(c, title=False)}</footer>'
        f"</article>"
    )


def _answer_box(answer: Answer, c: Citation) -> str:
    best = answer.results[0]
    sentence = best.highlights[0].text if best.highlights else best.text
    at = best.highlights[0].start + len(sentence) - len(sentence.lstrip()) if best.highlights else 0
    in_sentence = (best.answer.start - at, best.answer.end - at) if best.answer is not None else None
    return (
        '<section class="qa-answer" aria-label="Answer">'
        '<div class="qa-label">Answer <span class="qa-conf" title="confidence score">'
        f"confidence {answer.confidence:.2f}</span></div>"
        f'<p class="qa-answer-text"><mark class="qa-answer-mark">{with_answer(sentence.strip(), in_sentence)}</mark> '
        f'<a class="qa-cite-ref" href="#qa-r1" title="passage [1]">[1]</a></p>'
        f'<div class="qa-answer-cite">{render_citation(c)}</div></section>'
    )


def _no_answer_box(answer: Answer) -> str:
    return (
        '<section class="qa-noanswer" role="status">'
        f'<div class="qa-noanswer-title"><span class="qa-icon" aria-hidden="true">?</span>{NO_ANSWER}.</div>'
        '<div class="qa-noanswer-body">None of the passages clearly answers '
        f"“{esc(answer.question)}”. The closest ones are below — read them with care "
        f"(confidence {answer.confidence:.2f}).</div></section>"
    )


def render_answer(answer: Answer, base: str = "", section_of: SectionOf | None = None) -> str:
    """The whole result pane: the best answer on top, then the ranked passage cards."""
    if answer.best is None:
        return f'<div class="qa-out">{render_message(f"{NO_ANSWER}: nothing matched the question.")}</div>'
    citations = [cite(r, section_of(r) if section_of else None, base, answer.several_collections)
                 for r in answer.results]
    parts = ['<div class="qa-out">', _answer_box(answer, citations[0]) if answer.answerable else _no_answer_box(answer)]
    parts += [f'<div class="qa-note">Note: {esc(note)}</div>' for note in answer.notes]
    heading = "Supporting passages" if answer.answerable else "Closest passages"
    parts.append(f'<h2 class="qa-results-head">{heading} <span class="qa-count">{len(answer.results)}</span></h2>')
    for r, share, c in zip(answer.results, relevance(answer.results), citations):
        parts.append(render_card(r, share, c))
    parts.append("</div>")
    return "".join(parts)


def render_welcome(documents: int, passages: int) -> str:
    return (
        '<div class="qa-welcome"><div class="qa-welcome-title">Ask anything about these documents.</div>'
        f"<div>{documents} documents and {passages} passages are indexed. You get the sentence that "
        "answers, with a citation you can open in its document.</div></div>"
    )


def render_status(line: str) -> str:
    return f'<div id="qa-status">{esc(line)}</div>'


def render_upload_report(added: Sequence[str], skipped: Sequence[tuple[str, str]], summary: str, ok: bool) -> str:
    """What happened to each uploaded file."""
    items = [f"<li><code>{esc(s)}</code> added</li>" for s in added]
    items += [f"<li><code>{esc(n)}</code> skipped: {esc(r)}</li>" for n, r in skipped]
    head = f"Added {len(added)} document(s); ask about them now." if added else "No document added."
    return (f'<div class="qa-message qa-{"info" if ok else "error"} qa-upload-report" role="status"><div>'
            f'<div class="qa-upload-head">{esc(head)}</div><ul>{"".join(items)}</ul>'
            f'<div class="qa-upload-summary">{esc(summary)}</div></div></div>')


def render_header(base: str = "") -> str:
    return (
        '<header id="qa-header"><h1><span class="qa-logo">Seed QA</span></h1>'
        "<p>Answers from your documents — every sentence cited, every citation one click from its source. "
        f'<a href="{esc(base)}/docs" target="_blank" rel="noopener">JSON API</a></p></header>'
    )


def render_library(rows: Sequence["LibraryRow"], total: int) -> str:
    """The Documents view's table: title, format, pages, passages, date added, origin."""
    if not rows:
        return render_message("No document matches." if total else "No document is indexed yet.")
    body = "".join(
        f'<tr><td class="lib-title">{esc(r.title)}<div class="lib-file"><code>{esc(r.source)}</code></div></td>'
        f'<td data-label="Format">{esc(r.format)}</td><td data-label="Pages">{r.pages if r.pages is not None else "—"}'
        f'</td><td data-label="Passages">{r.passages}</td><td data-label="Added">{esc(r.added)}</td>'
        f'<td data-label="From">{"uploaded" if r.uploaded else "folder"}</td></tr>'
        for r in rows
    )
    return (f'<div class="qa-library"><p class="lib-count">{len(rows)} of {total} documents</p>'
            '<table><caption class="sr-only">Indexed documents</caption><thead><tr><th scope="col">Title</th>'
            '<th scope="col">Format</th><th scope="col">Pages</th><th scope="col">Passages</th>'
            f'<th scope="col">Added</th><th scope="col">From</th></tr></thead><tbody>{body}</tbody></table></div>')
