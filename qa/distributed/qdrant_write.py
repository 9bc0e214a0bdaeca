"""Bring a Qdrant collection set up to date with a built index, document by document.

The build itself is the folder build (`qa.store`, with `--ray` too): documents are loaded,
chunked and embedded once, vectors reused by content hash. This module then mirrors that
index into Qdrant: documents whose uid (place and content hash) is new are upserted, those
gone are deleted by a filter on their uid, the rest are left alone (all are rewritten when
the rules that cut and flag passages changed since the last write). Term document
frequencies are recounted from the index (exact after any update), and when the mean
passage length moved, the BM25 vectors of the kept passages are rewritten, since a BM25
term weight depends on it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from qa.answer_types import AnswerType
from qa.answer_types import holds as holds_answer
from qa.config import Settings
from qa.distributed.qdrant_schema import (DENSE, MANIFEST_KEY, SENTENCES, SPARSE, CollectionNames, document_uid,
                                          ensure_collections, point_uuid, sparse_vector, term_weights)
from qa.documents import Chunk, Document
from qa.lexical import tokenize
from qa.params import LexicalParams
from qa.store import StoredIndex, document_key, lexical_text
from qa.store.arrays import flag_rules

@dataclass(frozen=True)
class SyncReport:
    """What one sync changed in Qdrant (document keys, and counts of points)."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    kept: int
    passages_written: int
    reweighted: int

    def summary(self) -> str:
        return (f"qdrant: {len(self.added)} documents upserted ({self.passages_written} passages), "
                f"{len(self.removed)} deleted, {self.kept} kept, {self.reweighted} BM25 vectors rewritten")


@dataclass(frozen=True)
class _Lexical:
    """The BM25 side of the whole index: tokens per passage and the mean length."""

    tokens: list[list[str]]
    mean_length: float
    params: LexicalParams


def sync_index(client, names: CollectionNames, index: StoredIndex, settings: Settings) -> SyncReport:
    """Make the collections hold exactly `index`'s documents (see the module docstring)."""
    dimension = int(index.manifest.get("dimension", index.passage_vectors.shape[1]))
    ensure_collections(client, names, dimension, settings)
    meta = read_meta(client, names)
    stored = stored_documents(client, names)
    lexical = _lexical(index, settings.lexical)
    indices, next_term = _sync_terms(client, names, lexical.tokens, int(meta.get("next_term", 0)), settings)
    wanted = {document_uid(document_key(d), d.sha256): row for row, d in enumerate(index.documents)}
    if stored and passage_rules(meta.get("manifest", {})) != passage_rules(index.manifest):
        for uid in stored:  # passages cut or flagged by older rules: every document is rewritten
            _delete_document(client, names, uid)
        stored = {}
    added = [uid for uid in wanted if uid not in stored]
    removed = [uid for uid in stored if uid not in wanted]
    kept = {uid: stored[uid] for uid in wanted if uid in stored}
    next_row = _write_added(client, names, index, {u: wanted[u] for u in added}, int(meta.get("next_row", 0)),
                            lexical, indices, settings)
    for uid in removed:
        _delete_document(client, names, uid)
    reweighted = 0
    if kept and float(meta.get("mean_length", 0.0)) != lexical.mean_length:
        reweighted = _reweigh(client, names, index, kept, wanted, lexical, indices, settings)
    write_meta(client, names, {**meta, "manifest": _manifest(index, settings), "next_row": next_row,
                               "next_term": next_term, "mean_length": lexical.mean_length})
    return SyncReport(tuple(document_key(index.documents[wanted[u]]) for u in added),
                      tuple(str(stored[u]["key"]) for u in removed), len(kept),
                      next_row - int(meta.get("next_row", 0)), reweighted)


def passage_rules(manifest: dict[str, Any]) -> tuple:
    """The versions of the rules that cut a document into passages and flag them, as a
    manifest records them: an unchanged document keeps its stored passages only while these
    are the same."""
    return manifest.get("chunker_version"), manifest.get("structure_version"), *flag_rules(manifest.get("store", {}))


def _write_added(client, names: CollectionNames, index: StoredIndex, added: dict[str, int], next_row: int,
                 lexical: "_Lexical", indices: dict[str, int], settings: Settings) -> int:
    """Upsert the passages of each added document (uid -> document row) under fresh rows,
    then the document itself; returns the next free row."""
    doc_rows = index.document_rows(np.arange(index.passages))
    for uid, doc_row in added.items():
        rows = np.flatnonzero(doc_rows == doc_row)
        ids = list(range(next_row, next_row + len(rows)))
        next_row += len(rows)
        doc = replace(index.documents[doc_row], text=index.document_text(doc_row))  # documents hold no text
        _upsert(client, names.passages, _passage_points(index, doc, uid, rows, ids, lexical, indices),
                settings.qdrant_upsert_batch)
        _write_document(client, names, doc, uid, ids)
    return next_row


def _manifest(index: StoredIndex, settings: Settings) -> dict[str, Any]:
    """The folder build's manifest, its settings joined by the store's."""
    manifest = {k: v for k, v in index.manifest.items() if k not in ("files", "manifest_sha256")}
    manifest["settings"] = {**manifest.get("settings", {}), **settings.store_settings()}
    return manifest


def _lexical(index: StoredIndex, params: LexicalParams) -> _Lexical:
    """What BM25 indexes for every passage (the same text as the folder's bm25s index)."""
    rows = np.arange(index.passages)
    chunks = index.chunks_at(rows)
    doc_rows = index.document_rows(rows)
    counts = index.passage_counts()
    texts = [lexical_text(index.documents[int(d)], c, int(counts[int(d)]), params.title_max_passages)
             for c, d in zip(chunks, doc_rows)]
    tokens = tokenize(texts)
    mean = sum(len(t) for t in tokens) / len(tokens) if tokens else 0.0
    return _Lexical(tokens, mean, params)


def _sync_terms(client, names: CollectionNames, tokens: Sequence[Sequence[str]], next_term: int,
                settings: Settings) -> tuple[dict[str, int], int]:
    """Give every term a sparse index (kept for good once given) and store its document
    frequency in this index; terms no passage holds any more keep their index with df 0."""
    from qdrant_client import models

    df = Counter(term for passage in tokens for term in set(passage))
    known = {p.payload["term"]: (int(p.payload["index"]), int(p.payload["df"])) for p in _scroll(client, names.terms)}
    indices = {term: index for term, (index, _) in known.items()}
    changed = []
    for term in sorted(df.keys() | known.keys()):
        count = df.get(term, 0)
        if term not in indices:
            indices[term] = next_term
            next_term += 1
        elif known[term][1] == count:
            continue
        changed.append(models.PointStruct(id=point_uuid(term), vector={},
                                          payload={"term": term, "index": indices[term], "df": count}))
    _upsert(client, names.terms, changed, settings.qdrant_upsert_batch)
    return indices, next_term


def _passage_points(index: StoredIndex, doc: Document, uid: str, rows: np.ndarray, ids: Sequence[int],
                    lexical: _Lexical, indices: dict[str, int]) -> Iterator[Any]:
    from qdrant_client import models

    for row, point_id, chunk in zip(rows.tolist(), ids, index.chunks_at(rows)):
        weights = term_weights(lexical.tokens[row], lexical.mean_length, lexical.params)
        yield models.PointStruct(
            id=point_id,
            vector={DENSE: index.passage_vectors[row].tolist(), SENTENCES: index.sentence_vectors_of(row).tolist(),
                    SPARSE: sparse_vector(weights, indices)},
            payload=passage_payload(doc, uid, chunk, sorted(weights)),
        )


def passage_payload(doc: Document, uid: str, chunk: Chunk, terms: list[str]) -> dict[str, Any]:
    """The citation data of a passage and the flags the ranking reads."""
    return {
        **chunk.to_dict(),
        "document": uid, "collection": doc.collection, "title": doc.title, "sha256": doc.sha256,
        "page": doc.page_of(chunk.start),
        "undamped": bool(chunk.prose or chunk.text.strip() == doc.title.strip()),
        "holds": [kind.value for kind in AnswerType if holds_answer(chunk.text, kind)],
        "terms": terms,
    }


def _write_document(client, names: CollectionNames, doc: Document, uid: str, ids: list[int]) -> None:
    from qdrant_client import models

    payload = {"kind": "document", "uid": uid, "key": document_key(doc), "rows": ids, "document": doc.to_dict()}
    client.upsert(names.documents, [models.PointStruct(id=point_uuid(uid), vector={}, payload=payload)], wait=True)


def _delete_document(client, names: CollectionNames, uid: str) -> None:
    """Delete a document's passages by their uid, then the document itself."""
    from qdrant_client import models

    match = models.Filter(must=[models.FieldCondition(key="document", match=models.MatchValue(value=uid))])
    client.delete(names.passages, points_selector=models.FilterSelector(filter=match), wait=True)
    client.delete(names.documents, points_selector=models.PointIdsList(points=[point_uuid(uid)]), wait=True)


def _reweigh(client, names: CollectionNames, index: StoredIndex, kept: dict[str, dict], wanted: dict[str, int],
             lexical: _Lexical, indices: dict[str, int], settings: Settings) -> int:
    """Rewrite the BM25 vectors of kept passages for the new mean passage length."""
    from qdrant_client import models

    doc_rows = index.document_rows(np.arange(index.passages))
    updates = []
    for uid, payload in kept.items():
        rows = np.flatnonzero(doc_rows == wanted[uid])
        for row, point_id in zip(rows.tolist(), payload["rows"]):
            weights = term_weights(lexical.tokens[row], lexical.mean_length, lexical.params)
            updates.append(models.PointVectors(id=point_id, vector={SPARSE: sparse_vector(weights, indices)}))
    for start in range(0, len(updates), settings.qdrant_upsert_batch):
        client.update_vectors(names.passages, updates[start:start + settings.qdrant_upsert_batch], wait=True)
    return len(updates)


def _upsert(client, collection: str, points: Iterable[Any], batch: int) -> None:
    pending = []
    for point in points:
        pending.append(point)
        if len(pending) >= batch:
            client.upsert(collection, pending, wait=True)
            pending = []
    if pending:
        client.upsert(collection, pending, wait=True)


def _scroll(client, collection: str, scroll_filter=None) -> Iterator[Any]:
    offset = None
    while True:
        points, offset = client.scroll(collection, scroll_filter=scroll_filter, limit=1024, offset=offset,
                                       with_payload=True, with_vectors=False)
        yield from points
        if offset is None:
            return


def read_meta(client, names: CollectionNames) -> dict[str, Any]:
    """The manifest point's payload ({} before the first sync)."""
    found = client.retrieve(names.documents, [point_uuid(MANIFEST_KEY)], with_payload=True)
    return dict(found[0].payload) if found else {}


def write_meta(client, names: CollectionNames, meta: dict[str, Any]) -> None:
    from qdrant_client import models

    point = models.PointStruct(id=point_uuid(MANIFEST_KEY), vector={}, payload={**meta, "kind": MANIFEST_KEY})
    client.upsert(names.documents, [point], wait=True)


def stored_documents(client, names: CollectionNames) -> dict[str, dict[str, Any]]:
    """Every document point's payload by document uid."""
    from qdrant_client import models

    only = models.Filter(must=[models.FieldCondition(key="kind", match=models.MatchValue(value="document"))])
    return {p.payload["uid"]: dict(p.payload) for p in _scroll(client, names.documents, only)}
