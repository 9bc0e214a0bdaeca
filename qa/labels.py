"""Collection names clients see: the folder's own name, never its path on the server.

A collection is stored under the folder as it was given (`Document.collection`); API
replies, answers and `?collection=` lookups use its label instead, so a reply never shows
the server's file system and does not change shape with where the folders live.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable


def folder_label(folder: str) -> str:
    """The last part of the folder's absolute path ("seeds" for ./seeds or /srv/qa/seeds)."""
    return Path(os.path.abspath(folder)).name or "collection"


def collection_labels(folders: Iterable[str]) -> dict[str, str]:
    """folder -> label, in order; a name already taken gets "-2", "-3", ... so labels stay
    unique (two folders called `docs` serve as `docs` and `docs-2`)."""
    labels: dict[str, str] = {}
    taken: set[str] = set()
    for folder in folders:
        if folder in labels:
            continue
        base = label = folder_label(folder)
        number = 1
        while label in taken:
            number += 1
            label = f"{base}-{number}"
        labels[folder] = label
        taken.add(label)
    return labels


def public_model_name(name: str) -> str:
    """A model given by a local path is named by its folder; a registry name stays as is."""
    return Path(name).name if Path(name).is_absolute() else name
