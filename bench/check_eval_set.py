"""Check a question set of the mixed recipe (data/eval/mixed/README.md) item by item.

    python bench/check_eval_set.py data/eval/mixed2 [data/eval/mixed ...]

The text is read as a plain reader reads it, not by the engine (a check by the engine's own
parsers would pass whatever they get wrong): HTML = the visible text of `<main>`, PDF = pypdf
`page.extract_text()`, Markdown and plain text = the raw file. For each question it checks the
fields, and for each answerable one that its evidence (4-12 words, no Markdown markup) is in
its source, occurs exactly once in the whole set, lies in one block (paragraph, list item,
table row, PDF line group) and one sentence of it, and that the answer lies in that sentence.
A table row is one sentence, but evidence may not run from one cell into the next where the
cells can be told apart (HTML cells, Markdown pipes), since the engine's passage has a "|"
between them.
Prints one line per problem; exit status 1 when there is any.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.evaluation.metrics import normalize  # noqa: E402

FIELDS = ("id", "question", "answer", "evidence", "format", "source")
TYPES = ("general", "code", "list_table", "heading", "unanswerable_on", "unanswerable_off")
FORMATS = {"html": "html", "pdf": "pdf", "md": "md", "txt": "txt"}
HTML_BLOCKS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "dt", "dd", "figcaption", "blockquote")
# A sentence ends at . ! or ? followed by space and a capital, digit, quote or currency sign;
# "E. coli" and "3.10" stay whole.
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'£$€(])")
# Markdown/plain-text lines that start a block of their own: list items, table rows, headings.
OWN_LINE = re.compile(r"^\s*([-*+]\s|\d+[.)]\s|[a-z][.)]\s|\||#)")
MARKUP = re.compile(r"[|`*#]")


def html_blocks(path: Path) -> list[str]:
    """The block elements of `<main>` (or `<article>`, or `<body>`), innermost text each."""
    from lxml import html

    tree = html.fromstring(path.read_bytes())
    main = next(iter(tree.xpath("//main") or tree.xpath("//article") or tree.xpath("//body")))
    blocks = []
    for el in main.iter(*HTML_BLOCKS):
        if any(child.tag in HTML_BLOCKS for child in el.iterdescendants()):
            continue  # an outer block: its inner blocks are listed on their own
        blocks.append(" ".join(t.strip() for t in el.itertext() if t.strip()))
    for row in main.iter("tr"):  # a row is a block, its cells apart (the engine reads "a | b")
        blocks.append(" | ".join(" ".join(cell.itertext()).strip() for cell in row.iter("td", "th")))
    return blocks


def pdf_blocks(path: Path) -> list[str]:
    """pypdf's lines grouped into blocks: a paragraph's lines run to the right margin, so a
    short line (or one ending a sentence) closes its block; table rows and headings are short."""
    from pypdf import PdfReader

    blocks = []
    for page in PdfReader(path).pages:
        lines = [line for line in page.extract_text().splitlines() if line.strip()]
        width = max((len(line) for line in lines), default=0)
        current: list[str] = []
        for line in lines:
            current.append(line)
            if len(line) < 0.8 * width or line.rstrip().endswith((".", ":", "?", "!")):
                blocks.append(" ".join(current))
                current = []
        if current:
            blocks.append(" ".join(current))
    return blocks


def text_blocks(path: Path) -> list[str]:
    """Blank-line paragraphs; a list item, table row or heading line is a block of its own."""
    blocks = []
    for para in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        current: list[str] = []
        for line in para.splitlines():
            if OWN_LINE.match(line) and current:
                blocks.append(" ".join(current))
                current = []
            current.append(line)
        if current:
            blocks.append(" ".join(current))
    return blocks


def document_blocks(path: Path) -> list[str]:
    reader = {".html": html_blocks, ".htm": html_blocks, ".pdf": pdf_blocks}.get(path.suffix.lower(), text_blocks)
    return reader(path)


def sentences(block: str) -> list[str]:
    return [normalize(s) for s in SENTENCE_END.split(block)]


def occurrences(haystack: str, needle: str) -> int:
    count, start = 0, haystack.find(needle)
    while start >= 0:
        count, start = count + 1, haystack.find(needle, start + 1)
    return count


def item_problems(row: dict, blocks: dict[str, list[str]], whole: str) -> list[str]:
    """Problems of one answerable question (the evidence and answer rules of the README)."""
    source, evidence, answer = row["source"], row["evidence"], row["answer"]
    if source not in blocks:
        return [f"source {source!r} is not in docs/"]
    problems = []
    if row["format"] != FORMATS.get(source.rsplit(".", 1)[-1].lower()):
        problems.append(f"format {row['format']!r} does not match {source}")
    if not 4 <= len(evidence.split()) <= 12:
        problems.append(f"evidence has {len(evidence.split())} words, not 4-12")
    if MARKUP.search(evidence):
        problems.append("evidence spans Markdown markup")
    ev, ans = normalize(evidence), normalize(answer)
    if occurrences(whole, ev) != 1:
        problems.append(f"evidence occurs {occurrences(whole, ev)} times in the set, not once")
    in_blocks = [b for b in blocks[source] if ev in normalize(b)]
    if not in_blocks:
        problems.append("evidence is not inside one block of its source")
    elif not any(ev in s and ans in s for b in in_blocks for s in sentences(b)):
        problems.append("evidence and answer are not in one sentence")
    if len(answer) > len(evidence) and ans not in ev and len(answer.split()) > 12:
        problems.append("answer is longer than a short span")
    return problems


def check_set(folder: Path) -> list[str]:
    """Every problem of the set in `folder` (docs/, questions.jsonl, question_types.json)."""
    docs = sorted(p for p in (folder / "docs").iterdir() if p.is_file())
    blocks = {p.name: document_blocks(p) for p in docs}
    whole = "\n".join(normalize(" ".join(b)) for b in blocks.values())
    types = json.loads((folder / "question_types.json").read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    problems = []
    if len({r.get("id") for r in rows}) != len(rows) or set(types) != {r.get("id") for r in rows}:
        problems.append("ids are not unique or question_types.json does not list exactly them")
    for row in rows:
        qid = row.get("id")
        found = [] if tuple(row) == FIELDS else [f"fields {list(row)} are not {list(FIELDS)}"]
        kind = types.get(qid, {}).get("type")
        if kind not in TYPES:
            found.append(f"type {kind!r} is not one of {TYPES}")
        if row.get("answer") is None:
            if any(row.get(f) is not None for f in FIELDS[3:]) or not str(kind).startswith("unanswerable"):
                found.append("unanswerable but has evidence/format/source, or a type that is not unanswerable")
        elif not found:
            found += item_problems(row, blocks, whole)
            if normalize(row["evidence"]) in normalize(row["question"]):
                found.append("the question copies the evidence")
        problems += [f"{folder.name} {qid}: {p}" for p in found]
    return problems


def main() -> None:
    folders = [Path(a) for a in sys.argv[1:]] or [ROOT / "data" / "eval" / "mixed2"]
    problems = [p for folder in folders for p in check_set(folder)]
    print("\n".join(problems) or f"all items pass ({', '.join(f.name for f in folders)})")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
