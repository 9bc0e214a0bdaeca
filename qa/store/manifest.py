"""The manifest of a build: versions, settings, documents, file checksums, and why an index
no longer matches (`stale_reason`). The manifest checksums itself and every file of its build."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from qa.chunking import CHUNKER_VERSION, STRUCTURE_VERSION
from qa.config import Settings
from qa.documents import Collection
from qa.embedding import Embedder
from qa.errors import IndexFormatError
from qa.lexical import config as lexical_config
from qa.store.arrays import FLAG_COLUMNS, FLAGS_VERSION, flag_rules
from qa.store.folder import current_build

FORMAT_VERSION = 4  # 2: manifest checksum; repeated passages indexed once; 3: formats, pages, context;
# 4: disk-backed (SQLite passages, memory-mapped vectors and flags, IVF above a size)


def _versions() -> dict[str, str]:
    """The libraries' versions, from their package metadata: importing sentence-transformers
    (and torch) only to read its version costs a build with another embedder a minute."""
    from importlib.metadata import PackageNotFoundError, version

    def of(package: str) -> str:
        try:
            return version(package)
        except PackageNotFoundError:
            return "unknown"

    return {
        "python": platform.python_version(),
        "faiss": of("faiss-cpu"),
        "sentence_transformers": of("sentence-transformers"),
        "bm25s": of("bm25s"),
    }


def build_manifest(collections, documents, chunk_doc, embedder, settings, report,
                   store: dict[str, Any]) -> dict[str, Any]:
    """What a build records; `store` says how it is laid out (text blocks, flag columns,
    the dense search and, for an approximate one, its measured recall@10)."""
    counts = np.bincount(np.asarray(chunk_doc, dtype=np.int64), minlength=len(documents))
    return {
        "format_version": FORMAT_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "build_seconds": round(report.seconds, 2),
        "model": embedder.name,
        "dimension": embedder.dimension,
        "settings": settings.index_settings(),
        "chunker_version": CHUNKER_VERSION,
        "structure_version": STRUCTURE_VERSION,
        "parameters": settings.tuned(),  # query-time numbers at build time (a record, not a check)
        "lexical": lexical_config(settings.lexical),
        "collections": sorted({str(c.documents[0].collection) for c in collections if c.documents}),
        "documents": [
            {
                "collection": d.collection,
                "source": d.source,
                "title": d.title,
                "sha256": d.sha256,
                "format": d.format,
                "passages": int(counts[row]),
            }
            for row, d in enumerate(documents)
        ],
        "counts": {
            "documents": len(documents),
            "passages": len(chunk_doc),
            "sentences": report.sentences,
        },
        "skipped": list(report.skipped),
        "store": store,
        "versions": _versions(),
    }


def _sentence_choice(store: dict[str, Any]) -> tuple:
    """How sentence vectors were made (older indexes encoded them; centring applies to pooled)."""
    mode = store.get("sentence_vectors", "encoded")
    return (mode, store.get("sentence_centring", 0.0) if mode == "pooled" else 0.0)


def stale_reason(
    manifest: dict[str, Any],
    embedder: Embedder,
    settings: Settings,
    collections: Sequence[Collection] | None,
    vectors_only: bool = False,
    model_only: bool = False,
) -> str | None:
    """Why an index no longer matches the model, settings or documents; None when it does.

    With `vectors_only`, whether its passages and vectors are still good (BM25 settings are not
    checked); with `model_only`, whether a vector it holds for a text is that text's vector."""
    if manifest.get("format_version") != FORMAT_VERSION:
        return f"index format {manifest.get('format_version')} is not {FORMAT_VERSION}"
    if manifest.get("model") != embedder.name or manifest.get("dimension") != embedder.dimension:
        return f"model changed ({manifest.get('model')} -> {embedder.name})"
    built = _sentence_choice(manifest.get("store", {}))
    if built != _sentence_choice(dataclasses.asdict(settings.store)):
        return f"sentence vectors changed ({built[0]} -> {settings.store.sentence_vectors})"
    if model_only:
        return None
    if manifest.get("settings") != settings.index_settings() or manifest.get("chunker_version") != CHUNKER_VERSION:
        return "chunking settings changed"
    if not vectors_only and manifest.get("structure_version") != STRUCTURE_VERSION:
        return "HTML and PDF extraction changed"
    if not vectors_only and flag_rules(manifest.get("store", {})) != (FLAG_COLUMNS, FLAGS_VERSION):
        return "passage flags changed"
    if not vectors_only and manifest.get("lexical") != lexical_config(settings.lexical):
        return "BM25 settings changed"
    if collections is None:
        return None
    indexed = {(d["collection"], d["source"]): d["sha256"] for d in manifest.get("documents", [])}
    current = {(d.collection, d.source): d.sha256 for c in collections for d in c.documents}
    if indexed != current:
        added = len(current.keys() - indexed.keys())
        removed = len(indexed.keys() - current.keys())
        changed = sum(1 for k in current.keys() & indexed.keys() if current[k] != indexed[k])
        return f"documents changed ({added} added, {changed} changed, {removed} removed)"
    return None



def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_checksum(manifest: dict[str, Any]) -> str:
    """sha256 of the manifest's canonical JSON without its own `manifest_sha256` field."""
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def read_build_manifest(build: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexFormatError(f"{build / 'manifest.json'} is unreadable ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("manifest_sha256") != manifest_checksum(manifest):
        if isinstance(manifest, dict) and manifest.get("format_version") != FORMAT_VERSION:
            # An index from another version of Seed QA: not damaged, just stale.
            return manifest
        raise IndexFormatError(f"manifest {build / 'manifest.json'} is corrupted (checksum mismatch)")
    return manifest


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    build = current_build(index_dir)
    return None if build is None else read_build_manifest(build)


def seal(manifest: dict[str, Any], build: Path) -> dict[str, Any]:
    """`manifest` with the size and checksum of every file written so far in `build`, and its own."""
    files = sorted(p for p in build.rglob("*") if p.is_file())
    sealed = dict(manifest)
    sealed["files"] = {p.relative_to(build).as_posix(): {"bytes": p.stat().st_size, "sha256": _sha256_file(p)}
                       for p in files}
    sealed["manifest_sha256"] = manifest_checksum(sealed)
    return sealed


def _listed_files(build: Path, manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    files = manifest.get("files")
    if not isinstance(files, dict) or not files or not all(isinstance(v, dict) for v in files.values()):
        raise IndexFormatError(f"manifest of {build} lists no files")
    return files


def check_sizes(build: Path, manifest: dict[str, Any]) -> None:
    """Every file the manifest lists exists with its recorded size (cheap: run on every load).

    Raises:
        IndexFormatError: a file is missing, truncated or grown.
    """
    for name, record in _listed_files(build, manifest).items():
        path = build / name
        try:
            ok = path.is_file() and path.stat().st_size == record.get("bytes")
        except OSError:
            ok = False
        if not ok:
            raise IndexFormatError(f"index file {path} is missing or damaged (size differs from the manifest)")


def verify_build(build: Path) -> list[str]:
    """Every problem of a build: its manifest, and each listed file's size and sha256
    (reads every byte; `python -m qa verify`). An empty list means intact."""
    try:
        manifest = read_build_manifest(build)
        files = _listed_files(build, manifest)
    except IndexFormatError as exc:
        return [str(exc)]
    problems = []
    for name, record in files.items():
        path = build / name
        try:
            ok = path.is_file() and path.stat().st_size == record.get("bytes") and _sha256_file(path) == record.get("sha256")
        except OSError:
            ok = False
        if not ok:
            problems.append(f"{name}: missing or corrupted (checksum mismatch)")
    return problems
