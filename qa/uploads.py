"""Documents people add in the browser or through `POST /api/documents`: checked, then
written into the uploads folder, never anywhere else.

Every file is checked before anything is written: its size (`QA_MAX_UPLOAD_MB`, default
20 MiB), its type by content (PDF bytes named `.txt`, or binary named `.md`, are refused
whatever the name says), and that it yields text. Its name is reduced to a safe base name
(no folders, no leading dot, letters, digits and `._ -()` only); a name already taken by
other content gets a numbered suffix, and content already indexed is reported, not stored
twice. Files are written to a hidden temporary file and renamed into place, so a reader
never sees half a file.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from qa import formats
from qa.documents import content_hash, document_from_bytes
from qa.errors import CollectionError

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_NAME_CHARS = 120
_UNSAFE = re.compile(r"[^\w.\- ()]+")


@dataclass(frozen=True)
class Rejected:
    """An uploaded file left out, and why. `too_large` marks the size limit (HTTP 413)."""

    name: str
    reason: str
    too_large: bool = False
    duplicate: bool = False


@dataclass(frozen=True)
class Stored:
    """What writing a batch of uploads did: the new files (names in the uploads folder)
    and the files left out."""

    added: tuple[str, ...] = ()
    rejected: tuple[Rejected, ...] = ()


def max_upload_bytes(environ: Mapping[str, str] | None = None) -> int:
    """The size limit for one uploaded file: `QA_MAX_UPLOAD_MB` (MiB) when set, else 20 MiB."""
    raw = (os.environ if environ is None else environ).get("QA_MAX_UPLOAD_MB", "")
    try:
        return int(float(raw) * 1024 * 1024) if raw.strip() else MAX_UPLOAD_BYTES
    except ValueError:
        raise CollectionError(f"QA_MAX_UPLOAD_MB={raw!r} is not a number of megabytes") from None


def safe_name(name: str) -> str:
    """A base name that is safe to create in the uploads folder.

    Folder parts (either slash) are dropped, characters other than letters, digits and
    `._ -()` become `_`, leading dots and spaces are removed, and the name is shortened to
    `MAX_NAME_CHARS` keeping its extension. The extension is lower-cased.

    Raises:
        ValueError: nothing usable is left, or the extension is not a supported format.
    """
    base = unicodedata.normalize("NFC", str(name)).replace("\\", "/").split("/")[-1]
    base = _UNSAFE.sub("_", base).strip().lstrip(". ")
    stem, dot, ext = base.rpartition(".")
    if not dot or formats.format_of(f"x.{ext}") is None:
        shown = f".{ext.lower()}" if dot and ext else "(no extension)"
        raise ValueError(f"unsupported format {shown}: use {', '.join(formats.SUPPORTED_EXTENSIONS)}")
    stem = stem.strip(" .") or "upload"
    stem = stem[: MAX_NAME_CHARS - len(ext) - 1]
    return f"{stem}.{ext.lower()}"


def check_content(name: str, data: bytes, limit: int) -> None:
    """Refuse a file that is too large, whose content is not what its extension says, or
    that yields no text.

    Raises:
        ValueError: the reason, for the person who uploaded it.
        OverflowError: larger than `limit`.
    """
    if len(data) > limit:
        raise OverflowError(f"larger than the {limit / 1024 / 1024:g} MiB upload limit (QA_MAX_UPLOAD_MB)")
    if not data.strip():
        raise ValueError("empty file")
    claimed = formats.format_of(name)
    sniffed = formats.sniff_format(data)
    family = {"text": "text", "markdown": "text", "html": "html", "pdf": "pdf"}
    if sniffed is None:
        raise ValueError(f"binary content, not a {Path(name).suffix} document")
    allowed = {"html", "text"} if claimed == "html" else {family[claimed or "text"]}
    if sniffed not in allowed:
        raise ValueError(f"the content is {sniffed.upper()}, not what the name {Path(name).suffix} says")
    document_from_bytes(data, name, "")  # raises ValueError when no text comes out


def _unique_name(folder: Path, name: str, data_hash: str) -> tuple[str, bool]:
    """`name`, or `name-2`, `name-3`, ... when taken by other content; True when a file
    of that name already holds exactly this content."""
    stem, _, ext = name.rpartition(".")
    candidate, number = name, 1
    while (folder / candidate).exists():
        try:
            if content_hash((folder / candidate).read_bytes()) == data_hash:
                return candidate, True
        except OSError:
            pass
        number += 1
        candidate = f"{stem}-{number}.{ext}"
    return candidate, False


def _write_atomically(folder: Path, name: str, data: bytes) -> None:
    target = (folder / name).resolve()
    if target.parent != folder.resolve():
        raise ValueError("the name leads outside the uploads folder; refused")
    fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def store_uploads(folder: Path, files: Iterable[tuple[str, bytes]], indexed: Mapping[str, str],
                  limit: int | None = None, collection: str = "uploads") -> Stored:
    """Check each (name, bytes) and write the good ones into `folder`.

    Args:
        folder: the uploads folder (created when missing).
        files: the uploaded names (as the client sent them) and contents.
        indexed: sha256 -> how the API names every document already indexed ("<source>
            (collection <name>)"), so the same content is reported instead of stored twice.
        limit: the size limit in bytes (default `max_upload_bytes()`).
        collection: the name the uploads folder is served under, for those reports.
    """
    limit = max_upload_bytes() if limit is None else limit
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    added: list[str] = []
    rejected: list[Rejected] = []
    seen = dict(indexed)
    for raw_name, data in files:
        shown = str(raw_name or "(no name)")
        try:
            name = safe_name(shown)
            check_content(name, data, limit)
        except OverflowError as exc:
            rejected.append(Rejected(shown, str(exc), too_large=True))
            continue
        except ValueError as exc:
            rejected.append(Rejected(shown, str(exc)))
            continue
        digest = content_hash(data)
        if digest in seen:
            rejected.append(Rejected(shown, f"already indexed as {seen[digest]}", duplicate=True))
            continue
        name, same = _unique_name(folder, name, digest)
        if same:
            rejected.append(Rejected(shown, f"already uploaded as {name}", duplicate=True))
            continue
        try:
            _write_atomically(folder, name, data)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            rejected.append(Rejected(shown, f"cannot be stored ({reason})"))
            continue
        seen[digest] = f"{name} (collection {collection})"
        added.append(name)
    return Stored(tuple(added), tuple(rejected))
