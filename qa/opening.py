"""Opening an index: load it, or rebuild it (under the build lock) when it is missing,
damaged or stale; and the embedders a build and a question use."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Sequence

from qa.config import Settings
from qa.documents import Collection
from qa.embedding import SentenceTransformerEmbedder, load_embedder, model_name, resolve_model_path
from qa.errors import IndexFormatError, StorageError
from qa.store import LOCK, BuildReport, StoredIndex, build_index, load_index, save_index, stale_reason

log = logging.getLogger("qa")


def open_index(settings: Settings, embedder, collections: Sequence[Collection], progress: bool = False,
               build_with: Callable[[], object] | None = None) -> tuple[StoredIndex, BuildReport | None]:
    """Load the index in `settings.index_dir`, rebuilding it (and saying why) when it is
    missing, damaged, or no longer matches the documents, the model or the settings.

    A damaged index (a file failing its checksum, a broken CURRENT pointer) is logged as a
    warning and rebuilt from the documents. Builds take `.build.lock`, so two processes
    never build at once: the second waits, then uses the index the first one wrote.

    Raises:
        StorageError: the index folder cannot be created or written.
    """
    from filelock import FileLock, Timeout

    index_dir = Path(settings.index_dir)
    try:
        current = load_index(index_dir, params=settings.store)
        reason = "no index yet" if current is None else stale_reason(current.manifest, embedder, settings, collections)
    except IndexFormatError as exc:
        current, reason = None, f"{exc}"
        log.warning("index in %s is damaged or unusable: %s; rebuilding it from the documents", index_dir, exc)
    if reason is None:
        return current, None  # type: ignore[return-value]
    ensure_folder(index_dir)
    try:
        lock = FileLock(str(index_dir / LOCK))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            log.info("another build is running in %s; waiting for it to finish", index_dir)
            lock.acquire()
        try:
            # Another process may have finished the same build while we waited for the lock.
            try:
                latest = load_index(index_dir, params=settings.store)
                if latest is not None and stale_reason(latest.manifest, embedder, settings, collections) is None:
                    return latest, None
                current = latest or current
            except IndexFormatError:
                pass
            log.info("building index in %s: %s", index_dir, reason)
            builder = build_with() if build_with is not None else embedder
            built, report = build_index(collections, builder, settings, previous=current, progress=progress)
            save_index(built, index_dir)
            del built  # served from disk (memory-mapped), not from the build's arrays
            index = load_index(index_dir, params=settings.store)
        finally:
            lock.release()
    except OSError as exc:
        raise StorageError(
            f"cannot write the index in {index_dir}: {exc.strerror or exc}; choose another folder with --index"
        ) from exc
    log.info("index ready: %s", report.summary())
    return index, report


def query_embedder(settings: Settings):
    """The model's ONNX export in the index folder, when there is one for this model (a question
    is then answered without importing torch); None otherwise."""
    if not settings.onnx_queries:
        return None
    from qa.onnx_encoder import load_onnx_encoder

    encoder = load_onnx_encoder(settings.index_dir, model_name(settings.model), settings.query_threads,
                                settings.query_token_bucket)
    if encoder is None or settings.batch_max_questions <= 1:
        return encoder
    from qa.batching import BatchingEncoder  # concurrent questions share a model run

    return BatchingEncoder(encoder, settings.batch_wait_ms, settings.batch_max_questions)


def ensure_onnx_export(settings: Settings, embedder: SentenceTransformerEmbedder) -> None:
    """Export the model beside the index for the next process's questions (a few seconds,
    once); without the `onnx` package questions keep using torch."""
    from qa.onnx_encoder import export_folder, export_model

    try:
        export_model(resolve_model_path(settings.model), embedder.name, export_folder(settings.index_dir))
    except Exception as exc:  # the exporter raises many kinds; none is worth failing a start for
        log.warning("questions keep using torch: cannot export the model to ONNX (%s)", exc)


def document_embedder(settings: Settings):
    """What a build encodes documents with: the torch model (loaded on first need when
    questions are answered through ONNX), or Ray when the settings name a cluster."""
    return build_embedder(settings, load_embedder(settings.model, settings.device))


def build_embedder(settings: Settings, embedder):
    """The embedder a build encodes documents with: `embedder` itself, or one that sends the
    documents to Ray when `settings.ray_address` names a cluster (or `local`)."""
    if not settings.ray_address:
        return embedder
    from qa.distributed.ray_embedding import RayEmbedder

    return RayEmbedder(embedder, settings.ray_address, settings.model, settings.device)


def ensure_folder(index_dir: Path) -> None:
    """Create the index folder, or say in one line which folder cannot be written and what to do."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"cannot write the index in {index_dir}: {exc.strerror or exc}; choose another folder with --index"
        ) from exc
