"""Documents, passages and sentences: the frozen records every other module passes around.

Text is kept exactly as it is in the file so that every citation is a pair of character
offsets into it: `document.text[chunk.start:chunk.end] == chunk.text`.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from qa.errors import CollectionError

log = logging.getLogger(__name__)

TEXT_EXTENSIONS = (".txt", ".md")
MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Document:
    """A file of the collection, its text untouched.

    Attributes:
        source: path relative to its collection folder, with forward slashes.
        collection: the collection folder as the user gave it.
        title: a human title (first heading, or the most representative heading-like line).
        text: the decoded file text, newlines untouched.
        sha256: hash of the file's bytes, for the manifest.
    """

    source: str
    collection: str
    title: str
    text: str
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Document":
        return cls(**data)


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
    """

    source: str
    paragraph: int
    start: int
    end: int
    text: str
    sentences: tuple[tuple[int, int], ...] = field(default_factory=tuple)
    prose: bool = True

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
    """Decode file bytes as UTF-8, falling back to cp1252 (then latin-1) with a warning.

    Newlines are kept as they are (no universal-newline translation), so offsets match
    what `open(path, encoding="utf-8", newline="")` reads.
    """
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "not UTF-8; decoded as Windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "not UTF-8; decoded as Latin-1"


def looks_binary(data: bytes) -> bool:
    return b"\x00" in data[:8192]


def iter_text_files(folder: Path) -> Iterable[Path]:
    """Text files under `folder`, sorted, not following directory symlinks (no loops)."""
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and name.lower().endswith(TEXT_EXTENSIONS):
                yield Path(root) / name


def load_document(path: Path, folder: Path, collection: str) -> Document:
    """Read one file; raises OSError or ValueError (with a reason) when it cannot be used."""
    resolved = path.resolve()
    if not resolved.is_relative_to(folder.resolve()):
        raise ValueError("symlink points outside the collection")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    data = path.read_bytes()
    if looks_binary(data):
        raise ValueError("binary content (NUL bytes) in a text file")
    text, warning = decode_text(data)
    if not text.strip():
        raise ValueError("empty or whitespace only")
    if warning:
        log.warning("%s: %s", path, warning)
    source = path.relative_to(folder).as_posix()
    return Document(source, collection, guess_title(text, fallback=path.stem), text, content_hash(data))


def load_collection(folder: Path | str) -> Collection:
    """Load every .txt and .md file under `folder`; one bad file never stops the rest.

    Raises:
        CollectionError: the folder does not exist or holds no usable document.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CollectionError(f"document folder {folder} does not exist: pass --docs DIR with your documents")
    documents, skipped = [], []
    for path in iter_text_files(folder):
        try:
            documents.append(load_document(path, folder, str(folder)))
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            skipped.append(Skipped(path.relative_to(folder).as_posix(), reason))
            log.warning("skipped %s: %s", path, reason)
    if not documents:
        raise CollectionError(
            f"no usable .txt or .md document in {folder}" + (f" ({len(skipped)} skipped)" if skipped else "")
        )
    return Collection(tuple(documents), tuple(skipped))


# --- titles -----------------------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+")
_MD_HEADING = re.compile(r"^#{1,2}\s+(.+?)\s*#*\s*$", re.M)
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


def guess_title(text: str, fallback: str) -> str:
    """A human title: the first Markdown heading, else the heading-like line whose words
    are most used by the rest of the document (so site chrome such as "U.S. flag" loses)."""
    heading = _MD_HEADING.search(text)
    if heading:
        return heading.group(1).strip()
    candidates = _title_candidates(text)
    if not candidates:
        return fallback
    counts = Counter(w.lower() for w in _WORD.findall(text) if w.lower() not in _STOP)

    def centrality(line: str) -> float:
        words = {w.lower() for w in _WORD.findall(line)} - _STOP
        if not words:
            return 0.0
        return sum(math.log1p(counts[w] - 1) for w in words) / math.sqrt(len(words))

    return max(candidates, key=centrality)
