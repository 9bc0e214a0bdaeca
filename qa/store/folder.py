"""The index folder: the CURRENT pointer, the build lock, the atomic switch to a new build
and the cleanup of old ones.

    CURRENT              name of the live build folder (replaced atomically)
    .build.lock          held while a build writes, so two builds never interleave
    <build-id>/          one complete build (see qa.store.index for its files)

A build writes a new `<build-id>/` folder and only then points CURRENT at it with an atomic
rename, so an interrupted build leaves the previous index untouched and a reader never sees
a half-written one.
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from qa.errors import IndexFormatError

POINTER = "CURRENT"
LOCK = ".build.lock"
KEEP_BUILDS = 2  # the live build and the one before it, which a slow reader may still be loading


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _remove_old_builds(index_dir: Path, keep: str) -> None:
    """Keep the live build and the one before it; drop older ones and the debris of
    killed builds (staging folders, pointer temp files). Needs the build lock."""
    builds = sorted((p for p in index_dir.glob("build-*") if p.is_dir()), key=lambda p: p.name)
    old = [p for p in builds if p.name != keep][: max(0, len(builds) - KEEP_BUILDS)]
    for path in old:
        shutil.rmtree(path, ignore_errors=True)
    for tmp in index_dir.glob(".build-*.tmp"):
        shutil.rmtree(tmp, ignore_errors=True)
    for tmp in index_dir.glob(f".{POINTER}.*"):
        tmp.unlink(missing_ok=True)


def current_build(index_dir: Path) -> Path | None:
    """The live build folder named by CURRENT; None when there is no index yet.

    Raises:
        IndexFormatError: CURRENT is unreadable or names no build folder.
    """
    pointer = index_dir / POINTER
    try:
        raw = pointer.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except IsADirectoryError:
        raise IndexFormatError(f"{pointer} is damaged (a folder, not a file)") from None
    except OSError as exc:
        raise IndexFormatError(f"{pointer} cannot be read ({exc.strerror or exc})") from None
    try:
        name = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        name = ""
    if not name.startswith("build-") or "/" in name or "\\" in name or not (index_dir / name).is_dir():
        raise IndexFormatError(f"{pointer} is damaged: it names no build folder ({raw[:60]!r})")
    return index_dir / name



def publish(index_dir: Path, write: Callable[[Path], None]) -> Path:
    """Let `write` fill a hidden staging folder, then make it the live build atomically.

    Call it holding the build lock: it also removes what killed builds left behind. The
    staging folder is fsynced and renamed into place before CURRENT is replaced, so
    whenever the process dies the previous build stays live and intact.

    Returns:
        the new build folder.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    build_id = f"build-{stamp}-{uuid.uuid4().hex[:8]}"
    staging = index_dir / f".{build_id}.tmp"
    staging.mkdir()
    try:
        write(staging)
        _fsync_tree(staging)
        final = index_dir / build_id
        os.rename(staging, final)
        pointer_tmp = index_dir / f".{POINTER}.{uuid.uuid4().hex[:8]}"
        pointer_tmp.write_text(build_id + "\n", encoding="utf-8")
        with open(pointer_tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(pointer_tmp, index_dir / POINTER)
        _fsync_dir(index_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _remove_old_builds(index_dir, keep=build_id)
    return final
