"""One Settings object, built from defaults, then `QA_*` environment variables, then flags."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from qa.errors import BadQueryError
from qa.params import AnswerabilityParams, HighlightParams, LexicalParams, RankParams, SpanParams, StoreParams

MODES = ("hybrid", "dense", "bm25")
FUSIONS = ("zscore", "minmax", "rrf")
STORES = ("faiss", "qdrant")
# Environment variables not named after their field: QA_STORE goes with the --store flag.
ENV_NAMES = {"backend": "QA_STORE"}
# Settings of the store that serves the index; a Qdrant collection's manifest records them.
STORE_FIELDS = ("backend", "qdrant_url", "qdrant_path", "qdrant_collection", "qdrant_shards", "qdrant_replicas",
                "qdrant_write_consistency")

# Settings that change what is stored in the index; the manifest records them and a
# change forces a rebuild.  Everything else only changes how a query is answered.
INDEX_FIELDS = ("model", "max_chunk_tokens", "min_prose_words")
# Frozen groups of tuned numbers (qa.params); changed with `replace`, not from the environment.
PARAM_GROUPS = ("rank", "highlight", "answerability", "spans", "store", "lexical")


@dataclass(frozen=True)
class Settings:
    """Everything the engine needs to know, passed explicitly (no module globals).

    Attributes:
        docs: collection folders to index.
        index_dir: where the built index lives.
        model: embedding model path or name; empty means the packaged all-MiniLM-L6-v2.
        k: number of passages returned by default.
        mode: retrieval mode, one of `MODES`.
        max_chunk_tokens: paragraphs longer than this (in model word pieces) are split
            at sentence boundaries; all-MiniLM-L6-v2 reads 256 pieces including 2 specials.
        min_prose_words: a line with fewer words (and no sentence end) counts as a
            short line (menu item, heading, date) and is grouped with its neighbours.
        fusion: how hybrid mode combines dense and BM25 scores, one of `FUSIONS`:
            `zscore` or `minmax` (convex combination of normalised scores, weighted by
            `dense_weight`) or `rrf` (reciprocal-rank fusion with constant `rrf_k`).
        rrf_k: the reciprocal-rank fusion constant (60 in Cormack et al. 2009).
        dense_weight: weight of the dense score in hybrid fusion (the rest is BM25).
        sentence_weight: share of a passage's dense score taken from its best sentence.
        reranker: optional cross-encoder path or name; empty means no re-ranking.
        rerank_depth: how many fused candidates the re-ranker re-scores.
        device: torch device for the models.
        spans: how the answer span inside the top highlight is chosen (see `SpanParams`).
        rank: tuned numbers of the ranking (see qa.params.RankParams).
        highlight: tuned numbers of the highlighting (see qa.params.HighlightParams).
        answerability: the model of the answerable verdict and confidence (see
            qa.params.AnswerabilityParams and qa.answerability).
        store: how the index folder lays out and searches large collections (see
            qa.params.StoreParams).
        lexical: BM25's k1, b and title rule (see qa.params.LexicalParams); stored in the
            index, a change rebuilds BM25 only.
        uploads_dir: where documents added in the browser or by `POST /api/documents` are
            stored; None means `uploads/` beside the index folder. It is served as one
            more collection once it holds a document.
        ray_address: where builds embed documents: empty for this process, `local` to start a
            Ray on this machine, or a Ray cluster address (`ray://head:10001`, `auto`); needs
            requirements-distributed.txt. Queries are always encoded in this process.
        backend: what serves the index (`--store`), one of `STORES`: `faiss` (the index folder) or
            `qdrant` (a Qdrant collection set, qa.distributed.qdrant_store; a build still writes
            the folder, which keeps the vectors an incremental build reuses).
        qdrant_url: a Qdrant server (`http://host:6333`); with `backend="qdrant"` this or
            `qdrant_path` is needed.
        qdrant_path: a folder for Qdrant's embedded local mode (one process at a time).
        qdrant_collection: the collection set's name; empty derives it from the folders in `docs`.
        qdrant_shards: shard_number of the passage collection (set when it is created).
        qdrant_replicas: replication_factor of every collection (set when it is created).
        qdrant_write_consistency: write_consistency_factor: replicas that must acknowledge
            a write before it returns.
        qdrant_upsert_batch: points sent to Qdrant per request when a build writes them.
        qdrant_cached_points: fetched passages (payload and vectors) a Qdrant store keeps in
            memory; the retriever asks about the same candidates several times a question.
        onnx_queries: encode questions with the model's ONNX export (made beside the index
            on first start, same vectors to 1e-6), so a process that only answers never
            imports torch; False keeps torch for everything.
        batch_wait_ms: how long a question waits for others to be encoded with it in one
            model run (qa.batching); 0 takes only those already waiting.
        batch_max_questions: the most questions encoded in one model run (1: no batching).
        answer_cache_size: answers the server keeps by (question, k, mode) for the index build
            they came from (0: none).
        query_threads: threads of one ONNX question encoding (0: one per core; 1 spends the least
            CPU a question when requests run side by side, as on a server).
        query_token_bucket: a question is padded to a multiple of this many word pieces, so
            questions of similar length share a model run with the same vectors as alone.
        pdf_page_scale: pixels per PDF point when "View in document" renders a PDF page
            (1.5: an A4 page is 893 px wide, sharp on a laptop, light to send).
        ui_poll_seconds: how often the page redraws the indexing progress bar (one small
            request a second per open page).
    """

    docs: tuple[Path, ...] = (Path("seeds"),)
    index_dir: Path = Path("index")
    model: str = ""
    k: int = 5
    mode: str = "hybrid"
    max_chunk_tokens: int = 250
    min_prose_words: int = 6
    fusion: str = "minmax"
    rrf_k: int = 60
    dense_weight: float = 0.6
    sentence_weight: float = 0.5
    reranker: str = ""
    rerank_depth: int = 20
    device: str = "cpu"
    uploads_dir: Path | None = None
    spans: SpanParams = field(default_factory=SpanParams)
    rank: RankParams = RankParams()
    highlight: HighlightParams = HighlightParams()
    answerability: AnswerabilityParams = AnswerabilityParams()
    store: StoreParams = StoreParams()
    lexical: LexicalParams = LexicalParams()
    ray_address: str = ""
    backend: str = "faiss"
    qdrant_url: str = ""
    qdrant_path: str = ""
    qdrant_collection: str = ""
    qdrant_shards: int = 1
    qdrant_replicas: int = 1
    qdrant_write_consistency: int = 1
    qdrant_upsert_batch: int = 256
    qdrant_cached_points: int = 4096
    onnx_queries: bool = True
    batch_wait_ms: float = 2.0
    batch_max_questions: int = 16
    answer_cache_size: int = 1024
    query_threads: int = 1
    query_token_bucket: int = 8
    pdf_page_scale: float = 1.5
    ui_poll_seconds: float = 1.0
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise BadQueryError(f"unknown mode {self.mode!r}: use one of {', '.join(MODES)}")
        if self.fusion not in FUSIONS:
            raise BadQueryError(f"unknown fusion {self.fusion!r}: use one of {', '.join(FUSIONS)}")
        if self.backend not in STORES:
            raise BadQueryError(f"unknown store {self.backend!r}: use one of {', '.join(STORES)}")
        if self.rrf_k < 1:
            raise BadQueryError(f"rrf_k must be at least 1, not {self.rrf_k}")

    def replace(self, **changes: Any) -> "Settings":
        """Return a copy with `changes` applied, ignoring changes that are None."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def uploads_folder(self) -> Path:
        """The uploads folder: `uploads_dir`, or `uploads/` beside the index folder."""
        return Path(self.uploads_dir) if self.uploads_dir is not None else Path(self.index_dir).parent / "uploads"

    def tuned(self) -> dict[str, Any]:
        """The tuned parameter groups as plain values (recorded in the index manifest)."""
        return {name: dataclasses.asdict(getattr(self, name)) for name in PARAM_GROUPS}

    def index_settings(self) -> dict[str, Any]:
        """The settings that shape the stored index (written into its manifest)."""
        return {name: getattr(self, name) for name in INDEX_FIELDS}

    def store_settings(self) -> dict[str, Any]:
        """The settings of the store serving the index (a Qdrant manifest records them)."""
        return {name: getattr(self, name) for name in STORE_FIELDS}


def _coerce(name: str, raw: str) -> Any:
    kind = type(getattr(Settings(), name))
    if name == "uploads_dir":
        return Path(raw)
    if name == "docs":
        return tuple(Path(p) for p in raw.split(os.pathsep) if p)
    if kind is bool:
        return raw.lower() in {"1", "true", "yes", "on"}
    if kind in (int, float):
        try:
            return kind(raw)
        except ValueError as exc:
            raise BadQueryError(f"QA_{name.upper()}={raw!r} is not a valid {kind.__name__}") from exc
    if name == "index_dir":
        return Path(raw)
    return raw


def load_settings(environ: Mapping[str, str] | None = None, **flags: Any) -> Settings:
    """Build Settings from defaults, then `QA_<FIELD>` environment variables (`ENV_NAMES`
    where they differ), then flags.

    Args:
        environ: the environment to read (defaults to `os.environ`).
        **flags: explicit values (from the command line); None means "not given".
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in dataclasses.fields(Settings):
        if f.name == "extra" or f.name in PARAM_GROUPS:
            continue
        raw = environ.get(ENV_NAMES.get(f.name, f"QA_{f.name.upper()}"))
        if raw is not None and raw != "":
            values[f.name] = _coerce(f.name, raw)
    values.update({k: v for k, v in flags.items() if v is not None})
    if "docs" in values:
        values["docs"] = tuple(Path(p) for p in values["docs"])
    if "index_dir" in values:
        values["index_dir"] = Path(values["index_dir"])
    if "uploads_dir" in values:
        values["uploads_dir"] = Path(values["uploads_dir"])
    return Settings(**values)
