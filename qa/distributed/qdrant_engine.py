"""An `Engine` that answers from Qdrant (`--store qdrant`): the build, and a reader that needs
no local index files.

A build runs the folder build first (loading, chunking, embedding, with `--ray` too; the
folder keeps the vectors an incremental build reuses by content hash) and then mirrors the
result into Qdrant (qa.distributed.qdrant_write). Asking opens the collections alone: the
manifest, documents and term statistics live in Qdrant, so only the model is needed here.
"""

from __future__ import annotations

from qa.config import Settings
from qa.distributed.qdrant_schema import CollectionNames, QdrantUnavailableError, collection_base, connect
from qa.distributed.qdrant_store import QdrantStore
from qa.distributed.qdrant_write import SyncReport, sync_index
from qa.embedding import load_embedder, model_name
from qa.engine import Engine
from qa.opening import query_embedder


def qdrant_names(settings: Settings) -> CollectionNames:
    return CollectionNames.of(collection_base(settings))


def build_engine(settings: Settings, progress: bool = False) -> tuple[Engine, SyncReport]:
    """Build (or update) the folder index, write it into Qdrant, and answer from Qdrant."""
    client = connect(settings)  # before the build: a missing package or URL fails fast
    try:
        folder = Engine.open(settings, progress=progress)
        names = qdrant_names(settings)
        report = sync_index(client, names, folder.index, settings)
        store = QdrantStore(client, names, settings)
    except BaseException:
        client.close()
        raise
    return Engine(settings, store, folder.embedder, folder.build_report), report


def open_engine(settings: Settings) -> Engine:
    """Answer from the Qdrant collections the settings name, with no local index files.

    Raises:
        QdrantUnavailableError: no client, no collection, or one built with another model.
    """
    client = connect(settings)
    try:
        store = QdrantStore(client, qdrant_names(settings), settings)
        wanted = model_name(settings.model)
        if store.manifest.get("model") != wanted:
            raise QdrantUnavailableError(f"the Qdrant collection was built with model {store.manifest.get('model')!r},"
                                         f" not {wanted!r}: rebuild it or set QA_MODEL")
    except BaseException:
        client.close()
        raise
    embedder = query_embedder(settings) or load_embedder(settings.model, settings.device)
    return Engine(settings, store, embedder)


def close_engine(engine: Engine) -> None:
    """Release an engine's Qdrant client (an embedded local Qdrant locks its folder)."""
    close = getattr(engine.index, "close", None)
    if close is not None:
        close()
