"""Documents, passages and sentences: the frozen records every other module passes around.

Text is kept exactly as it is in the file so that every citation is a pair of character
offsets into it: `document.text[chunk.start:chunk.end] == chunk.text`.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import logging
import math
import os
import re
import stat
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from qa import formats, markdown
from qa.errors import CollectionError

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Document:
    """A file of the collection and its searchable text.

    Attributes:
        source: path relative to its collection folder, with forward slashes.
        collection: the collection folder as the user gave it.
        title: a human title (first heading, or the most representative heading-like line).
        text: the extracted text every citation indexes: for .txt and .md the decoded
            file text, newlines untouched; for HTML the main content; for PDF the pages'
            text (see `qa.formats`).
        sha256: hash of the file's bytes, for the manifest.
        format: "text", "markdown", "html" or "pdf".
        pages: for PDF, the offset in `text` where each page starts (else empty).
    """

    source: str
    collection: str
    title: str
    text: str
    sha256: str
    format: str = "text"
    pages: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["pages"] = list(self.pages)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Document":
        data = dict(data)  # records written before formats existed have no format or pages
        data["pages"] = tuple(data.get("pages", ()))
        return cls(**data)

    def page_of(self, offset: int) -> int | None:
        """The 1-based page holding `offset`; None for documents without pages."""
        return formats.page_of(self.pages, offset)


@dataclass(frozen=True)
class Chunk:
    """A passage (a paragraph, or a piece of a long one) with exact offsets.

    Attributes:
        source: the document's `source`.
        paragraph: 1-based passage number within the document.
        start, end: character offsets into the document text.
        text: `document.text[start:end]`.
        sentences: (start, end) offsets of each sentence, relative to `text`.
        prose: False for groups of short lines (menus, headings, dates), which rank lower.
        context: the Markdown heading trail above the passage ("Install › Linux"); it is
            embedded and indexed with the passage but is not part of its text or offsets.
    """

    source: str
    paragraph: int
    start: int
    end: int
    text: str
    sentences: tuple[tuple[int, int], ...] = field(default_factory=tuple)
    prose: bool = True
    context: str = ""

    @property
    def id(self) -> str:
        return f"{self.source}#{self.paragraph}"

    def sentence_texts(self) -> list[str]:
        return [self.text[s:e] for s, e in self.sentences]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["sentences"] = [list(span) for span in self.sentences]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Chunk":
        data = dict(data)
        data["sentences"] = tuple(tuple(span) for span in data.get("sentences", ()))
        return cls(**data)


@dataclass(frozen=True)
class Skipped:
    """A file left out of the collection, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class Collection:
    """What loading a folder produced: the documents, and the files it left out."""

    documents: tuple[Document, ...]
    skipped: tuple[Skipped, ...] = ()
    warnings: tuple[str, ...] = ()


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def decode_text(data: bytes) -> tuple[str, str | None]:
    """Decode file bytes: UTF-8 (a UTF-8 byte-order mark is kept as a character), UTF-16
    when the file starts with a UTF-16 byte-order mark (Windows "Unicode" text), else
    Windows-1252 and finally Latin-1, which decodes any bytes. The fallbacks return a
    warning that names the encoding used, because a guessed encoding may garble a few
    characters (the file is still indexed).

    Newlines are kept as they are (no universal-newline translation), so offsets match
    what `open(path, encoding="utf-8", newline="")` reads.
    """
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("cp1252"), "not UTF-8; decoded as Windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "not UTF-8; decoded as Latin-1"


_BINARY_CONTROLS = bytes(set(range(32)) - {9, 10, 12, 13, 27})


def looks_binary(data: bytes) -> bool:
    """NUL bytes, or many control characters, in the first 8 KiB (UTF-16 text excepted)."""
    head = data[:8192]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(None, _BINARY_CONTROLS))
    return bool(head) and controls / len(head) > 0.05


def max_file_bytes(environ: dict[str, str] | None = None) -> int:
    """The size limit for one file: `QA_MAX_FILE_MB` (MiB) when set, else 64 MiB."""
    raw = (os.environ if environ is None else environ).get("QA_MAX_FILE_MB", "")
    try:
        return int(float(raw) * 1024 * 1024) if raw.strip() else MAX_FILE_BYTES
    except ValueError:
        raise CollectionError(f"QA_MAX_FILE_MB={raw!r} is not a number of megabytes") from None


def _source_name(path: Path, folder: Path) -> str:
    """The path relative to the folder, with forward slashes; a name that is not valid
    UTF-8 (bytes from another system) is shown decoded as Windows-1252 instead of failing."""
    rel = path.relative_to(folder).as_posix()
    try:
        rel.encode("utf-8")
        return rel
    except UnicodeEncodeError:
        return os.fsencode(rel).decode("cp1252", errors="replace")


def iter_document_files(folder: Path, problems: list[Skipped] | None = None) -> Iterable[Path]:
    """Files of a supported format under `folder`, sorted, not following directory
    symlinks (no loops). Hidden files and folders are ignored.

    Folders that cannot be listed, symlinked folders (not followed, so a link can neither
    loop nor reach outside the collection), and files of other formats are appended to
    `problems`.
    """

    def onerror(exc: OSError) -> None:
        if problems is not None and exc.filename:
            name = Path(exc.filename)
            rel = _source_name(name, folder) if name.is_relative_to(folder) else str(name)
            problems.append(Skipped(rel + "/", f"folder cannot be read ({exc.strerror or exc})"))

    for root, dirs, files in os.walk(folder, followlinks=False, onerror=onerror):
        kept = []
        for d in sorted(dirs):
            if d.startswith("."):
                continue
            if os.path.islink(os.path.join(root, d)):
                if problems is not None:
                    problems.append(Skipped(_source_name(Path(root) / d, folder) + "/",
                                            "symlinked folder not followed"))
                continue
            kept.append(d)
        dirs[:] = kept
        for name in sorted(files):
            if name.startswith("."):
                continue
            if formats.format_of(name) is None:
                if problems is not None:
                    suffix = Path(name).suffix.lower()
                    problems.append(Skipped(_source_name(Path(root) / name, folder),
                                            f"unsupported format {suffix or '(no extension)'}"))
                continue
            yield Path(root) / name


def read_document_bytes(path: Path, folder: Path, limit: int | None = None) -> bytes:
    """The bytes of one collection file, after the checks that make reading it safe.

    Raises:
        OSError: it cannot be read (permissions, a symlink loop, vanished).
        ValueError: a symlink leading outside the collection, not a regular file (a
            FIFO would block the build forever), or larger than the limit.
    """
    limit = max_file_bytes() if limit is None else limit
    try:
        resolved = path.resolve(strict=True)
    except RuntimeError:  # Python < 3.13 reports symlink loops this way
        raise ValueError("symlink loop") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ValueError("symlink loop") from None
        if path.is_symlink():
            raise ValueError("broken symlink") from None
        raise
    if not resolved.is_relative_to(folder.resolve()):
        raise ValueError("symlink points outside the collection; refused")
    info = resolved.stat()
    if not stat.S_ISREG(info.st_mode):
        raise ValueError("not a regular file")
    if info.st_size > limit:
        raise ValueError(
            f"{info.st_size / 1024 / 1024:.0f} MiB is larger than the {limit / 1024 / 1024:g} MiB limit "
            "(raise it with QA_MAX_FILE_MB)"
        )
    with open(resolved, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"larger than the {limit / 1024 / 1024:g} MiB limit (raise it with QA_MAX_FILE_MB)")
    return data


def load_document(path: Path, folder: Path, collection: str, limit: int | None = None,
                  warnings: list[str] | None = None) -> Document:
    """Read one file; raises OSError or ValueError (with a reason) when it cannot be used."""
    data = read_document_bytes(path, folder, limit)
    source = _source_name(path, folder)
    return document_from_bytes(data, source, collection, warnings)


def document_from_bytes(data: bytes, source: str, collection: str, warnings: list[str] | None = None) -> Document:
    """A Document from a file's bytes, by the format its name says (uploads check the
    content first, see `qa.uploads`).

    Raises:
        ValueError: unsupported format, binary bytes in a text file, an unreadable PDF,
            or no text at all.
    """
    kind = formats.format_of(source)
    if kind is None:
        raise ValueError(f"unsupported format {Path(source).suffix.lower() or '(no extension)'}")
    fallback = Path(source).stem
    if kind == "pdf":
        extracted = formats.extract_pdf(data)
        if not extracted.text.strip():
            raise ValueError("no text (scanned PDF?)")
        # headings found by type size come as Markdown heading lines (qa.pdf_layout)
        title = (extracted.title or markdown.first_heading(extracted.text) or first_heading(extracted.text)
                 or guess_title(extracted.text, fallback))
        return Document(source, collection, title, extracted.text, content_hash(data), kind, extracted.pages)
    if looks_binary(data):
        raise ValueError("binary content in a text file")
    text, warning = decode_text(data)
    if warning:
        log.debug("%s: %s", source, warning)
        if warnings is not None:
            warnings.append(f"{source}: {warning}")
    if kind == "html":
        extracted = formats.extract_html(text)
        if not extracted.text.strip():
            raise ValueError("no main text found in the HTML page")
        title = extracted.title or guess_title(extracted.text, fallback)
        return Document(source, collection, title, extracted.text, content_hash(data), kind)
    if not text.strip():
        raise ValueError("empty or whitespace only")
    if kind == "markdown" and not markdown.has_body(text):
        raise ValueError("only headings, no text to index")
    return Document(source, collection, guess_title(text, fallback=fallback), text, content_hash(data), kind)


def load_collection(folder: Path | str, max_bytes: int | None = None) -> Collection:
    """Load every .txt, .md, .html/.htm and .pdf file under `folder`; one bad file never
    stops the rest.

    Each file left out is listed in `Collection.skipped` with its reason:

    - files of other formats ("unsupported format .xyz"); PDFs that cannot be read, or
      hold no text (scanned pages); HTML pages with no main text;
    - empty or whitespace-only files; binary files with a text extension;
    - files larger than `max_bytes` (default 64 MiB, or `QA_MAX_FILE_MB`); below the
      limit a file is indexed whole, in bounded memory (see `qa.store.build_index`);
    - files that cannot be read (permissions), FIFOs and other special files;
    - symlinks that loop, are broken, or lead outside the collection folder (refused, so
      no file outside the collection is ever indexed or served); symlinked folders are
      not followed;
    - byte-identical duplicates: the content is indexed once, under the first path in
      sorted order, and each copy is listed as "duplicate of <that path>", so the same
      passage never fills two result slots.

    Files that are not UTF-8 are decoded as Windows-1252 (else Latin-1) and indexed,
    with a note in `Collection.warnings`.

    Raises:
        CollectionError: the folder does not exist or holds no usable document.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CollectionError(f"document folder {folder} does not exist: pass --docs DIR with your documents")
    limit = max_file_bytes() if max_bytes is None else max_bytes
    documents: list[Document] = []
    skipped: list[Skipped] = []
    warnings: list[str] = []
    first_by_hash: dict[str, str] = {}
    for path in iter_document_files(folder, skipped):
        try:
            doc = load_document(path, folder, str(folder), limit, warnings)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            skipped.append(Skipped(_source_name(path, folder), reason))
            log.debug("skipped %s: %s", path, reason)
            continue
        original = first_by_hash.setdefault(doc.sha256, doc.source)
        if original != doc.source:
            skipped.append(Skipped(doc.source, f"duplicate of {original}"))
            log.debug("skipped %s: duplicate of %s", path, original)
            continue
        documents.append(doc)
    if not documents:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in skipped[:3])
        raise CollectionError(
            f"no usable document ({', '.join(formats.SUPPORTED_EXTENSIONS)}) in {folder}" + (f" ({len(skipped)} skipped: {reasons})" if skipped else "")
        )
    return Collection(tuple(documents), tuple(skipped), tuple(warnings))


# --- titles -----------------------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+")
_GLUED_TAIL = re.compile(r"[a-z][.!?](?=[A-Z][a-z])")
_BOILERPLATE = re.compile(
    r"\b(website|websites|https?|cookies?|privacy policy|skip to|menu|sign in|log in|subscribe|"
    r"was this page|last updated|release date|posted by)\b",
    re.I,
)
_STOP = frozenset(
    "a an and are as at be by for from has have in is it its of on or our that the their this to was "
    "we were with you your".split()
)


def _title_candidates(text: str) -> list[str]:
    candidates = []
    for line in text.splitlines():
        line = line.strip()
        tail = _GLUED_TAIL.split(line)
        # A heading glued to the end of a sentence by careless HTML extraction ("...programs.Title").
        for piece in (line, tail[-1].strip()) if len(tail) > 1 else (line,):
            piece = re.sub(r"^\d+\.\s+", "", piece)  # breadcrumb numbering
            words = _WORD.findall(piece)
            if 3 <= len(words) <= 30 and not piece.endswith((".", ",", ";", ":")) and not _BOILERPLATE.search(piece):
                candidates.append(piece)
    return candidates


HEADING_MAX_WORDS = 15  # a longer first line is a sentence, not a heading


def first_heading(text: str) -> str | None:
    """A PDF's first printed line when it reads as a heading (short, no sentence end); PDF
    text has no markup, so the first line standing alone is the best heading there is."""
    first = text.lstrip().split("\n", 1)[0].strip()
    words = _WORD.findall(first)
    if 1 <= len(words) <= HEADING_MAX_WORDS and not first.endswith((".", ",", ";", ":")):
        return first
    return None


TITLE_SCAN_CHARS = 256 * 1024  # a title is near the top; scanning 50 MB for it takes seconds


def guess_title(text: str, fallback: str) -> str:
    """A human title: the first Markdown heading of level 1 or 2 (outside fenced code, so a
    `# comment` in a code block is no title), else the heading-like line whose words are
    most used by the rest of the document (so site chrome such as "U.S. flag" loses).
    Only the first `TITLE_SCAN_CHARS` characters are read."""
    text = text[:TITLE_SCAN_CHARS].lstrip("\ufeff")
    heading = markdown.first_heading(text)
    if heading:
        return heading
    candidates = _title_candidates(markdown.without_code(text))
    if not candidates:
        return fallback
    counts = Counter(w.lower() for w in _WORD.findall(text) if w.lower() not in _STOP)

    def centrality(line: str) -> float:
        words = {w.lower() for w in _WORD.findall(line)} - _STOP
        if not words:
            return 0.0
        return sum(math.log1p(counts[w] - 1) for w in words) / math.sqrt(len(words))

    return max(candidates, key=centrality)
