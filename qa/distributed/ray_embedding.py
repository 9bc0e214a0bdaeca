"""Embed a build's passages and sentences on Ray Data, with the model loaded once per actor.

`RayEmbedder` wraps the local embedder: questions, token counts and the model's identity stay
local, so the index records the same model and answers the same questions; only
`encode_documents` goes to the cluster. The build hands it blocks of distinct texts (already
deduplicated by content hash, see qa.store), each block becomes a Ray dataset of
`(row, text)`, and an actor pool encodes it in batches; vectors come back keyed by row, so the
order of completion does not matter.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from qa.errors import QAError

log = logging.getLogger("qa")

LOCAL = "local"  # the address that means "start a Ray on this machine"
INSTALL_HINT = "Ray is not installed: pip install -r requirements-distributed.txt"


class RayUnavailableError(QAError):
    """Ray is missing, or the cluster at the given address cannot be joined."""


@dataclass(frozen=True)
class RayPlan:
    """How a block of texts is spread over the cluster.

    Attributes:
        actors: encoding actors, each holding one copy of the model.
        cpus_per_actor: CPUs each actor reserves (and torch threads it uses).
        batch_size: texts one actor encodes per call.
    """

    actors: int
    cpus_per_actor: int
    batch_size: int


def plan_for(free_cpus: float, batch_size: int) -> RayPlan:
    """Actors sized from the cluster's free CPUs, keeping one CPU for Ray Data's own read and
    collect tasks: a pool that takes every CPU leaves those tasks waiting forever (seen with a
    pool of 2 on a 2-core machine)."""
    usable = max(1, int(math.floor(free_cpus)) - 1)
    actors = max(1, min(usable, 64))
    return RayPlan(actors=actors, cpus_per_actor=1, batch_size=batch_size)


def connect(address: str, num_cpus: int | None = None):
    """Join the Ray cluster at `address`, or start a local one when it is `local`.

    Raises:
        RayUnavailableError: Ray is not installed or the cluster cannot be reached.
    """
    try:
        import ray
    except ImportError as exc:
        raise RayUnavailableError(INSTALL_HINT) from exc
    if ray.is_initialized():
        return ray
    try:
        if address == LOCAL:
            ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
    except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError...
        raise RayUnavailableError(f"cannot join the Ray cluster at {address!r}: {exc}") from exc
    from ray.data import DataContext

    context = DataContext.get_current()
    context.enable_progress_bars = False  # the build shows one bar of its own
    return ray


class _Encoder:
    """A Ray Data actor: loads the model once, then encodes batches of `{row, text}`."""

    def __init__(self, model: str, device: str, threads: int) -> None:
        import torch

        from qa.embedding import SentenceTransformerEmbedder

        torch.set_num_threads(max(1, threads))
        self.embedder = SentenceTransformerEmbedder(model, device)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.embedder.encode_documents([str(t) for t in batch["text"]])
        return {"row": batch["row"], "vector": vectors}


class RayEmbedder:
    """An Embedder whose document encoding runs on Ray; everything else is the local model's.

    Args:
        local: the loaded local embedder (questions, tokenizer, name and dimension).
        address: a Ray address (`ray://...`, `host:port`, `auto`) or `local`.
        model: the model setting, resolved on each worker (its package must be installed there).
        device: the torch device on the workers.
        block_texts: texts sent to the cluster per call, which bounds the driver's memory.
        batch_size: texts per actor call.
    """

    def __init__(self, local, address: str, model: str = "", device: str = "cpu",
                 block_texts: int = 65536, batch_size: int = 128) -> None:
        self.local = local
        self.name = local.name
        self.dimension = local.dimension
        self.max_tokens = local.max_tokens
        self.batch_texts = block_texts  # qa.store hands over this many texts per call
        self._ray = connect(address)
        self._model = model
        self._device = device
        self._batch_size = batch_size

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.local.encode_queries(texts)

    def count_tokens(self, text: str) -> int:
        return self.local.count_tokens(text)

    def truncate(self, text: str) -> tuple[str, bool]:
        return self.local.truncate(text)

    def plan(self) -> RayPlan:
        return plan_for(float(self._ray.available_resources().get("CPU", 1.0)), self._batch_size)

    def encode_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Vectors for `texts`, in order, encoded by an actor pool on the cluster."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for rows, vectors in self.iter_encoded(texts):
            out[rows] = vectors
        return out

    def iter_encoded(self, texts: Sequence[str]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(positions in `texts`, their vectors) as batches come back, in any order: the build
        shows rows embedded out of the total as they arrive."""
        if not texts:
            return
        import pyarrow as pa
        import ray.data

        plan = self.plan()
        table = pa.table({"row": np.arange(len(texts), dtype=np.int64), "text": list(texts)})
        blocks = max(1, min(len(texts) // plan.batch_size, plan.actors * 4))
        dataset = ray.data.from_arrow(table).repartition(blocks).map_batches(
            _Encoder,
            fn_constructor_kwargs={"model": self._model, "device": self._device, "threads": plan.cpus_per_actor},
            batch_size=plan.batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=plan.actors),
            num_cpus=plan.cpus_per_actor,
        )
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            yield np.asarray(batch["row"], dtype=np.int64), np.asarray(batch["vector"], dtype=np.float32)
