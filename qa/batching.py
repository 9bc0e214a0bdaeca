"""Serve concurrent questions cheaper: encode the questions that arrive together in one model
run, and keep recent answers for the index build they came from.

A model run over one short question costs mostly fixed overhead; a run over several padded to
the same length costs little more (qa.onnx_encoder), so under load batches answer more
questions a second. Only the encoding is batched: the rest of each question's work stays in
its own request thread, as before. A question's vector has the same bits alone or in a
batch, so its ranking and scores do not depend on what else was asked.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from qa.answers import Answer
from qa.engine import Engine, validate_k, validate_mode


@dataclass(frozen=True)
class Pending:
    """Texts waiting for their vectors."""

    texts: tuple[str, ...]
    future: Future = field(compare=False)


class BatchingEncoder:
    """Wraps a query encoder: the first caller waits `wait_ms` for others, then encodes every
    waiting text (up to `max_texts`) in one `encode_queries` call and hands each caller its
    rows. Callers that arrive meanwhile gather behind the next leader. The wait is only spent
    when others are about (a run under way, or the last run had company): a lone question is
    encoded at once. Everything else of the wrapped encoder (name, dimension, truncate,
    encode_documents, ...) is passed through."""

    def __init__(self, encoder: Any, wait_ms: float, max_texts: int) -> None:
        self.encoder = encoder
        self.wait_ms = wait_ms
        self.max_texts = max_texts
        self._ready = threading.Condition()
        self._pending: list[Pending] = []
        self._has_leader = False
        self._running = 0  # runs under way
        self._last_run = 0  # texts in the last run

    def __getattr__(self, name: str) -> Any:
        if name == "encoder":  # not set yet (a copy being made): no endless lookup
            raise AttributeError(name)
        return getattr(self.encoder, name)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        mine = Pending(tuple(texts), Future())
        with self._ready:
            self._pending.append(mine)
            lead = not self._has_leader
            self._has_leader = True
            self._ready.notify_all()
        if lead:
            self._lead()
        return mine.future.result()

    def _waiting(self) -> int:
        return sum(len(p.texts) for p in self._pending)

    def _lead(self) -> None:
        """Wait for company, then encode what is waiting (the rest goes to the next leader)."""
        with self._ready:
            if self._running or self._last_run > 1:
                self._ready.wait_for(lambda: self._waiting() >= self.max_texts, timeout=self.wait_ms / 1000)
            batch, count = [], 0
            while self._pending and (not batch or count + len(self._pending[0].texts) <= self.max_texts):
                batch.append(self._pending.pop(0))
                count += len(batch[-1].texts)
            leftover = bool(self._pending)
            self._has_leader = leftover
            self._running += 1
            self._last_run = count
        if leftover:  # more than one batch is waiting: a helper thread leads the rest
            threading.Thread(target=self._lead, name="qa-encode-batch", daemon=True).start()
        self._encode(batch)

    def _encode(self, batch: list[Pending]) -> None:
        try:
            vectors = self.encoder.encode_queries([t for p in batch for t in p.texts])
        except BaseException as exc:  # noqa: BLE001 - every caller of the batch gets the error
            for p in batch:
                p.future.set_exception(exc)
            return
        finally:
            with self._ready:
                self._running -= 1
        start = 0
        for p in batch:
            p.future.set_result(vectors[start:start + len(p.texts)])
            start += len(p.texts)


class AnswerCache:
    """The last answers by (question, k, mode), for one index build: answers from another
    build are never returned (the cache empties when the served index changes)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._answers: OrderedDict[tuple[str, int, str], Answer] = OrderedDict()
        self._index: object = None

    def get(self, key: tuple[str, int, str], index: object) -> Answer | None:
        with self._lock:
            if index is not self._index:
                return None
            answer = self._answers.get(key)
            if answer is not None:
                self._answers.move_to_end(key)
            return answer

    def put(self, key: tuple[str, int, str], answer: Answer, index: object) -> None:
        if self.size <= 0:
            return
        with self._lock:
            if index is not self._index:
                self._answers.clear()
                self._index = index
            self._answers[key] = answer
            while len(self._answers) > self.size:
                self._answers.popitem(last=False)


def cached_ask(engine: Engine, cache: AnswerCache, question: object, k: object = None,
               mode: object = None) -> Answer:
    """`engine.ask`, through `cache`: an answer is kept only when the index did not change
    while it was computed, so a kept answer is always the served build's."""
    settings = engine.settings
    k_value = validate_k(settings.k if k is None else k)
    mode_value = validate_mode(mode, settings.mode)
    if not isinstance(question, str):
        return engine.ask(question, k_value, mode_value)  # type: ignore[arg-type]  # its error
    key = (question, k_value, mode_value)
    index = engine.index
    answer = cache.get(key, index)
    if answer is None:
        answer = engine.ask(question, k_value, mode_value)
        if engine.index is index:
            cache.put(key, answer, index)
    return answer
