"""Split a document's text into passages and sentences, keeping exact character offsets.

A passage is a prose paragraph (blank-line or single-newline separated), or a group of
neighbouring short lines (menus, headings, dates, bylines) so that web-page debris takes
one result slot instead of crowding real paragraphs out. Every non-space character of the
text lands in exactly one passage.

Markdown, and HTML and PDF (extracted as Markdown-like text, see qa.formats), are cut at
their blocks instead (blank-line separated; a fenced code block is one block whatever it
holds). Heading lines are never passages: they become the `context` of
the passages under them, which is embedded and indexed with them. Every non-space
character outside heading lines lands in exactly one passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterator

from qa.documents import Chunk, Document
from qa.markdown import Line, lines, markdown_lines
from qa.tables import is_table_or_list_item, reading, sentence_readings
from qa.markdown import heading_spans as heading_spans  # re-exported: callers read headings here
from qa.text_headings import text_headings

TokenCounter = Callable[[str], int]

# Bump when a change here moves passage or sentence boundaries: stored indexes rebuild.
CHUNKER_VERSION = 5  # 3: Markdown blocks, headings as context; 4: "```lang" inside a fence is code;
# 5: no sentence end between a numbering abbreviation and its number ("Op. 10", "Vol. 2")
# Bump when the extraction or cutting of HTML and PDF changes (qa.formats, qa.pdf_layout):
# stored indexes rebuild, but documents whose passages are unchanged keep their vectors, so a
# corpus of plain text (SciFact) is not re-embedded.
STRUCTURE_VERSION = 4  # 1: HTML and PDF headings as context, PDF furniture dropped; 2: plain-text headings too;
# 3: tables and lists of structured documents rank as prose; 4: PDF tables as pipe tables (qa.pdf_tables)
# Formats cut at Markdown blocks, with heading lines as context (HTML and PDF are extracted
# as Markdown-like text, see qa.formats).
STRUCTURED_FORMATS = ("markdown", "html", "pdf")
CONTEXT_SEPARATOR = " › "

MAX_GROUP_LINES = 8
LONG_LINE_WORDS = 40  # a line this long is prose even without a final stop
MAX_GROUP_CHARS = 600
# Sentence ends are not split after these (lower-cased, without the final dot).
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs etc e.g i.e cf al inc ltd co corp dept gen adm lt col sgt rep sen gov "
    "jan feb mar apr jun jul aug sep sept oct nov dec no fig eq approx ca".split()
)
# ... and not between these and a number ("Chopin's Op. 10 Études", "Vol. 2", "pp. 34-41"),
# where the word alone could end a sentence ("a work of art. The ...").
NUMBERING_ABBREVIATIONS = frozenset("op opp vol vols pp nos ch chap sec art para figs eqs ref refs".split())
_SENTENCE_END = re.compile(r"[.!?]+[\"”’')\]]*(?=\s)")
_WORD = re.compile(r"\w+")
_PROSE_END = re.compile(r"[.!?:;][\"”’')\]]*$")  # a closing quote alone ends a title, not a sentence


def approx_tokens(text: str) -> int:
    """A word-piece estimate used when no tokenizer is at hand (about 1.3 pieces a word)."""
    return int(len(_WORD.findall(text)) * 1.3) + 2


def is_prose(line: str, min_words: int) -> bool:
    """A sentence-like line: enough words and a sentence end. Headings and titles, however
    long, have no sentence end and stay with the short lines around them (date, place)."""
    words = len(_WORD.findall(line))
    return (words >= min_words and _PROSE_END.search(line) is not None) or words >= LONG_LINE_WORDS


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of `text`: at . ! ? before a capital, and at line breaks.

    Not split: after abbreviations and initials ("U.S. Department"), inside an open
    quotation ("Stop. Think. Connect."), or before a lower-case word.
    """
    spans: list[tuple[int, int]] = []
    for line in lines(text):
        start = line.start
        for match in _SENTENCE_END.finditer(text, line.start, line.end):
            end = match.end()
            if _is_boundary(text, start, match.start(), end, line.end):
                spans.append((start, end))
                start = _skip_space(text, end, line.end)
        if start < line.end:
            spans.append((start, line.end))
    return spans


def _skip_space(text: str, pos: int, limit: int) -> int:
    while pos < limit and text[pos].isspace():
        pos += 1
    return pos


def _is_boundary(text: str, seg_start: int, dot: int, end: int, line_end: int) -> bool:
    nxt = _skip_space(text, end, line_end)
    if nxt >= line_end:
        return False  # the line end closes the sentence anyway
    if not (text[nxt].isupper() or text[nxt].isdigit() or text[nxt] in "\"“‘('"):
        return False
    before = text[seg_start:dot].split()
    if len(before) < 2:
        return False  # list numbering ("1. Home") or a lone word is no sentence
    token = before[-1]
    token = token.lstrip("\"“‘(").lower()
    if token in ABBREVIATIONS or "." in token or (len(token) == 1 and token.isalpha()):
        return False
    if token in NUMBERING_ABBREVIATIONS and text[nxt].isdigit():
        return False
    segment = text[seg_start:end]
    open_quotes = segment.count("“") - segment.count("”") + segment.count('"') % 2
    return open_quotes <= 0 or len(segment) > 400


@dataclass
class _Unit:
    start: int
    end: int
    prose: bool
    context: str = ""


def _markdown_units(text: str, min_words: int) -> list[_Unit]:
    """One unit per Markdown block; headings set the context of the blocks under them."""
    units: list[_Unit] = []
    trail: list[tuple[int, str]] = []
    block: _Unit | None = None
    in_fence = False
    for md in markdown_lines(text):
        line, fence_mark = md.line, md.fence
        if md.level:
            block = None
            trail = [(lv, t) for lv, t in trail if lv < md.level] + ([(md.level, md.title)] if md.title else [])
            continue
        context = CONTEXT_SEPARATOR.join(t for _, t in trail)
        starts_fence = fence_mark and not in_fence
        if block is None or (line.blank_before and not in_fence) or starts_fence:
            block = _Unit(line.start, line.end, False, context)
            units.append(block)
        block.end = line.end
        block.prose = block.prose or is_prose(line.text, min_words) or (
            not in_fence and is_table_or_list_item(line.text, min_words))
        if fence_mark:
            in_fence = not in_fence
            if not in_fence:
                block = None  # what follows a closing fence is a new block
    return units


def _units(text: str, min_words: int) -> list[_Unit]:
    """Prose lines stay alone; runs of short lines merge into one unit; heading lines
    (qa.text_headings) are no unit but the context of the units under them.

    A one- or two-word line directly above a prose line (no blank between) is a broken
    line ("U.S." / "Immigration and Customs...") and joins that paragraph.
    """
    units: list[_Unit] = []
    group: _Unit | None = None
    group_lines = 0
    pending_stub: Line | None = None
    headings = iter(text_headings(text))
    heading = next(headings, None)
    trail: list[tuple[int, str]] = []
    for line in lines(text):
        if heading is not None and line.start >= heading.end:
            heading = next(headings, None)
        if heading is not None and heading.start <= line.start < heading.end:
            if line.start == heading.start:
                context = CONTEXT_SEPARATOR.join(t for _, t in trail)
                group, pending_stub = _close(units, group, pending_stub, group_lines, context)
                trail = [(lv, t) for lv, t in trail if lv < heading.level] + [(heading.level, heading.title)]
            continue
        context = CONTEXT_SEPARATOR.join(t for _, t in trail)
        prose = is_prose(line.text, min_words)
        if prose:
            if group is not None:
                units.append(group)
                group = None
            start = line.start
            if pending_stub is not None and not line.blank_before:
                start = pending_stub.start
                pending_stub = None
            if pending_stub is not None:
                units.append(_Unit(pending_stub.start, pending_stub.end, False, context))
                pending_stub = None
            units.append(_Unit(start, line.end, True, context))
            continue
        if pending_stub is not None:
            group, group_lines = _add_to_group(units, group, group_lines, pending_stub, context)
            pending_stub = None
        if len(_WORD.findall(line.text)) <= 2 and group is None:
            pending_stub = line
            continue
        group, group_lines = _add_to_group(units, group, group_lines, line, context)
    _close(units, group, pending_stub, group_lines, CONTEXT_SEPARATOR.join(t for _, t in trail))
    return units


def _close(units: list[_Unit], group: _Unit | None, stub: Line | None, count: int,
           context: str = "") -> tuple[None, None]:
    """End the open group (a pending stub joins it) before a heading or the text's end."""
    if stub is not None:
        group, _ = _add_to_group(units, group, count, stub, group.context if group is not None else context)
    if group is not None:
        units.append(group)
    return None, None


def _add_to_group(units: list[_Unit], group: _Unit | None, count: int, line: Line,
                  context: str = "") -> tuple[_Unit, int]:
    if group is not None and (count >= MAX_GROUP_LINES or line.end - group.start > MAX_GROUP_CHARS):
        units.append(group)
        group = None
    if group is None:
        return _Unit(line.start, line.end, False, context), 1
    group.end = line.end
    return group, count + 1


def _split_long(text: str, start: int, end: int, max_tokens: int, count: TokenCounter) -> list[tuple[int, int]]:
    """Pack whole sentences into pieces of at most `max_tokens` (a lone longer sentence
    is cut at word boundaries)."""
    if count(text[start:end]) <= max_tokens:
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    cur_start = cur_end = None
    for s, e in _sentence_spans_with_cuts(text, start, end, max_tokens, count):
        if cur_start is not None and count(text[cur_start:e]) > max_tokens:
            pieces.append((cur_start, cur_end))
            cur_start = None
        if cur_start is None:
            cur_start = s
        cur_end = e
    if cur_start is not None:
        pieces.append((cur_start, cur_end))
    return pieces


def _sentence_spans_with_cuts(text: str, start: int, end: int, max_tokens: int, count: TokenCounter):
    for s, e in split_sentences(text[start:end]):
        s, e = s + start, e + start
        if count(text[s:e]) <= max_tokens:
            yield s, e
            continue
        words = [(m.start() + s, m.end() + s) for m in re.finditer(r"\S+", text[s:e])]
        piece_start = words[0][0]
        prev_end = words[0][1]
        for ws, we in words[1:]:
            if count(text[piece_start:we]) > max_tokens:
                yield piece_start, prev_end
                piece_start = ws
            prev_end = we
        yield piece_start, prev_end


def chunk_document(
    doc: Document,
    max_tokens: int = 250,
    min_prose_words: int = 6,
    count_tokens: TokenCounter = approx_tokens,
) -> list[Chunk]:
    """Passages of `doc`, each with its sentences, numbered from 1 in reading order."""
    return list(iter_chunks(doc, max_tokens, min_prose_words, count_tokens))


def iter_chunks(
    doc: Document,
    max_tokens: int = 250,
    min_prose_words: int = 6,
    count_tokens: TokenCounter = approx_tokens,
) -> Iterator[Chunk]:
    """`chunk_document` one passage at a time, so a huge document never needs all its
    passages in memory at once."""
    text = doc.text
    number = 0
    structured = doc.format in STRUCTURED_FORMATS
    units = _markdown_units(text, min_prose_words) if structured else _units(text, min_prose_words)
    for unit in units:
        for start, end in _split_long(text, unit.start, unit.end, max_tokens, count_tokens):
            body = text[start:end]
            sentences = tuple(split_sentences(body))
            number += 1
            yield Chunk(doc.source, number, start, end, body, sentences, unit.prose, unit.context)


def embedding_text(chunk: Chunk) -> str:
    """What the model reads for a passage: its heading trail, then its text (a table row by
    row with its column names, see qa.tables)."""
    text = reading(chunk.text)
    return f"{chunk.context}\n{text}" if chunk.context else text


def sentence_embedding_texts(chunk: Chunk) -> list[str]:
    """What the model reads for each sentence of a passage (a table's rows with their column names)."""
    return sentence_readings(chunk.text, chunk.sentence_texts())


def lexical_text(chunk: Chunk) -> str:
    """What BM25 indexes for a passage: its heading trail, then its text as written."""
    return f"{chunk.context}\n{chunk.text}" if chunk.context else chunk.text
