"""The shape of a Seed QA index in Qdrant: its three collections, point ids and BM25 vectors.

One served folder set is three collections named `<name>_passages`, `<name>_documents` and
`<name>_terms`:

- passages: one point a passage, id = its row. Named vectors: `dense` (the passage vector),
  `sentences` (its sentence vectors, a multivector compared by MAX_SIM, so a max-sim query
  gives the best-sentence score) and `bm25` (sparse: each term's BM25 term weight, computed
  here with the project's tokenizer; the server multiplies in the IDF, `Modifier.IDF`, the
  same Lucene formula as bm25s). The payload holds the citation data and the flags.
- documents: one point a document (its `Document`, its uid and its rows) and one manifest
  point (the build's manifest, the next free row and term index, the mean passage length).
- terms: one point a term: its sparse index and its document frequency, so a client of a
  remote Qdrant weighs a question's words with no local file.

Dense vectors are stored with the DOT distance: they are L2-normalised already, and COSINE
would normalise them again (changing the last bits).
"""

from __future__ import annotations

import hashlib
import uuid
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from qa.config import Settings
from qa.errors import QAError
from qa.params import LexicalParams

INSTALL_HINT = "Qdrant support is not installed: pip install -r requirements-distributed.txt"
NAMESPACE = uuid.UUID("5b1e0c2a-7f0e-4c53-9a51-3d1f6a0b9e21")  # point ids of documents and terms
MANIFEST_KEY = "manifest"
DENSE, SENTENCES, SPARSE = "dense", "sentences", "bm25"


class QdrantUnavailableError(QAError):
    """qdrant-client is missing, or the Qdrant named by the settings cannot be used."""


@dataclass(frozen=True)
class CollectionNames:
    """The three collections of one served folder set."""

    passages: str
    documents: str
    terms: str

    @classmethod
    def of(cls, base: str) -> "CollectionNames":
        return cls(f"{base}_passages", f"{base}_documents", f"{base}_terms")


def collection_base(settings: Settings) -> str:
    """`qdrant_collection`, or a name derived from the served folders (their names and a
    hash of their absolute paths), so one folder set always lands in the same collections."""
    if settings.qdrant_collection:
        return settings.qdrant_collection
    folders = sorted(str(Path(p).resolve()) for p in settings.docs)
    digest = hashlib.blake2b("\n".join(folders).encode("utf-8"), digest_size=4).hexdigest()
    names = "-".join(Path(p).name for p in folders)[:40]
    return f"seedqa_{names}_{digest}"


def connect(settings: Settings):
    """A client for the Qdrant the settings name: a server URL or an embedded local folder.

    Raises:
        QdrantUnavailableError: qdrant-client is missing, or no URL or path is given.
    """
    try:
        from qdrant_client import QdrantClient
    except ImportError as exc:
        raise QdrantUnavailableError(INSTALL_HINT) from exc
    if settings.qdrant_url:
        return QdrantClient(url=settings.qdrant_url)
    if settings.qdrant_path:
        Path(settings.qdrant_path).mkdir(parents=True, exist_ok=True)
        return QdrantClient(path=str(settings.qdrant_path))
    raise QdrantUnavailableError("--store qdrant needs --qdrant URL (or QA_QDRANT_URL) or --qdrant-path DIR")


def ensure_collections(client, names: CollectionNames, dimension: int, settings: Settings) -> None:
    """Create the three collections when missing, with the settings' sharding and replication."""
    from qdrant_client import models

    cluster = {"replication_factor": settings.qdrant_replicas,
               "write_consistency_factor": settings.qdrant_write_consistency}
    if not client.collection_exists(names.passages):
        client.create_collection(
            names.passages,
            vectors_config={
                DENSE: models.VectorParams(size=dimension, distance=models.Distance.DOT),
                SENTENCES: models.VectorParams(size=dimension, distance=models.Distance.DOT,
                                               multivector_config=models.MultiVectorConfig(
                                                   comparator=models.MultiVectorComparator.MAX_SIM)),
            },
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
            shard_number=settings.qdrant_shards, **cluster,
        )
        with warnings.catch_warnings():  # the embedded local mode has no payload indexes, and says so
            warnings.filterwarnings("ignore", message="Payload indexes have no effect")
            client.create_payload_index(names.passages, "document", models.PayloadSchemaType.KEYWORD)
    for name in (names.documents, names.terms):
        if not client.collection_exists(name):
            client.create_collection(name, vectors_config={}, **cluster)


def point_uuid(key: str) -> str:
    """The id of a document or term point: a UUID derived from its key."""
    return str(uuid.uuid5(NAMESPACE, key))


def document_uid(key: str, sha256: str) -> str:
    """A document's identity in Qdrant: its place (collection and source) and its content
    hash, so a changed file is a new document (its old passages are deleted)."""
    return hashlib.blake2b(f"{key}\n{sha256}".encode("utf-8"), digest_size=16).hexdigest()


def term_weights(tokens: Sequence[str], mean_length: float, params: LexicalParams) -> dict[str, float]:
    """BM25 term weights of one passage, Lucene's way as bm25s scores them (no (k1 + 1)
    factor): tf / (tf + k1 (1 - b + b |d| / avgdl)). The IDF is the server's."""
    if not tokens:
        return {}
    k1, b = params.k1, params.b
    norm = k1 * (1 - b + b * len(tokens) / mean_length) if mean_length > 0 else k1
    return {term: tf / (tf + norm) for term, tf in Counter(tokens).items()}


def sparse_vector(weights: dict[str, float], indices: dict[str, int]):
    """A Qdrant sparse vector from term weights and the terms' sparse indices."""
    from qdrant_client import models

    pairs = sorted((indices[t], w) for t, w in weights.items())
    return models.SparseVector(indices=[i for i, _ in pairs], values=[w for _, w in pairs])
