"""The engine: one object that opens (or builds) the index and answers questions.

The CLI, the HTTP API, the UI and the evaluation harness are thin shells over it.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from qa.answers import Answer, Result, confidence
from qa.config import MODES, Settings
from qa.documents import Collection, Document, load_collection
from qa.embedding import load_embedder
from qa.errors import BadQueryError, IndexFormatError, QAError
from qa.highlight import highlight_passage, term_overlap
from qa.lexical import tokenize
from qa.retrieval import Ranking, Retriever
from qa.store import BuildReport, StoredIndex, build_index, load_index, save_index, stale_reason

log = logging.getLogger("qa")

MAX_K = 100
MAX_QUESTION_CHARS = 10_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Status:
    """A one-line picture of what is being served."""

    documents: int
    passages: int
    model: str
    built_at: str
    build_seconds: float
    collection: str

    def line(self) -> str:
        return (
            f"{self.documents} documents · {self.passages} passages · {self.model} · "
            f"index built {self.built_at} in {self.build_seconds:.1f}s"
        )


def clean_question(question: str) -> str:
    """Drop control characters (NUL and friends) and squeeze white space."""
    question = _CONTROL.sub(" ", unicodedata.normalize("NFC", question or ""))
    return " ".join(question.split())


def validate_k(k: object, limit: int = MAX_K) -> int:
    try:
        value = int(k)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BadQueryError(f"k must be a whole number from 1 to {limit}, not {k!r}") from None
    if isinstance(k, float) and not k.is_integer() or not 1 <= value <= limit:
        raise BadQueryError(f"k must be a whole number from 1 to {limit}, not {k!r}")
    return value


def open_index(settings: Settings, embedder, collections: Sequence[Collection], progress: bool = False
               ) -> tuple[StoredIndex, BuildReport | None]:
    """Load the index in `settings.index_dir`, rebuilding it (and saying why) when it is
    missing, damaged, or no longer matches the documents, the model or the settings."""
    from filelock import FileLock

    index_dir = Path(settings.index_dir)
    try:
        current = load_index(index_dir)
        reason = "no index yet" if current is None else stale_reason(current.manifest, embedder, settings, collections)
    except IndexFormatError as exc:
        current, reason = None, f"{exc}"
    if reason is None:
        return current, None  # type: ignore[return-value]
    index_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(index_dir / ".build.lock")):
        # Another process may have finished the same build while we waited for the lock.
        try:
            latest = load_index(index_dir)
            if latest is not None and stale_reason(latest.manifest, embedder, settings, collections) is None:
                return latest, None
            current = latest or current
        except IndexFormatError:
            pass
        log.info("building index in %s: %s", index_dir, reason)
        index, report = build_index(collections, embedder, settings, previous=current, progress=progress)
        save_index(index, index_dir)
    log.info("index ready: %s", report.summary())
    return index, report


class Engine:
    """Answers questions over one indexed set of collection folders."""

    def __init__(self, settings: Settings, index: StoredIndex, embedder, report: BuildReport | None = None) -> None:
        self.settings = settings
        self.index = index
        self.embedder = embedder
        self.build_report = report
        self.retriever = Retriever.from_settings(index, embedder, settings)
        self.collection = ", ".join(str(d) for d in settings.docs)
        self._sources = {doc.source: doc for doc in index.documents}

    @classmethod
    def open(cls, settings: Settings, progress: bool = False) -> "Engine":
        """Load the model and the documents, then load or (re)build the index."""
        embedder = load_embedder(settings.model, settings.device)
        collections = [load_collection(folder) for folder in settings.docs]
        index, report = open_index(settings, embedder, collections, progress)
        return cls(settings, index, embedder, report)

    # --- questions -----------------------------------------------------------------------

    def ask(self, question: str, k: int | None = None, mode: str | None = None) -> Answer:
        return self.ask_batch([question], k, mode)[0]

    def ask_batch(self, questions: Sequence[str], k: int | None = None, mode: str | None = None) -> list[Answer]:
        """Answer several questions with one batched encoding.

        Raises:
            BadQueryError: a question is empty, or k or mode is invalid.
        """
        k = validate_k(self.settings.k if k is None else k)
        mode = mode or self.settings.mode
        if mode not in MODES:
            raise BadQueryError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        prepared = [self._prepare(q) for q in questions]
        rankings = self.retriever.search_batch([p[0] for p in prepared], k, mode)
        return [self._answer(q, notes, r) for (q, notes), r in zip(prepared, rankings)]

    def _prepare(self, question: str) -> tuple[str, tuple[str, ...]]:
        if not isinstance(question, str):
            raise BadQueryError("the question must be text")
        cleaned = clean_question(question[: MAX_QUESTION_CHARS * 2])
        if not cleaned:
            raise BadQueryError("Type a question first: it is empty.")
        if not any(ch.isalnum() for ch in cleaned):
            raise BadQueryError("The question has no words to search for: use letters or digits.")
        notes = []
        truncate = getattr(self.embedder, "truncate", None)
        # A word piece spans at least one character, so a short question cannot overflow.
        if truncate is not None and len(cleaned) > getattr(self.embedder, "max_tokens", 0) - 2:
            cut, was_cut = truncate(cleaned)
            if was_cut:
                notes.append(f"question truncated to the model's {self.embedder.max_tokens}-token window")
                cleaned = cut
        return cleaned, tuple(notes)

    def _answer(self, question: str, notes: tuple[str, ...], ranking: Ranking) -> Answer:
        idx = self.index
        terms = idx.lexical.idf(tokenize([question])[0])
        results = []
        for rank, hit in enumerate(ranking.hits, start=1):
            chunk = idx.chunks[hit.row]
            doc = idx.document(hit.row)
            highlights = highlight_passage(
                chunk.text, chunk.sentences, ranking.query_vector, idx.sentence_vectors[idx.sentence_rows(hit.row)], terms
            )
            results.append(Result(rank, hit.score, doc.source, doc.title, chunk.paragraph, chunk.start, chunk.end,
                                  chunk.text, tuple(highlights), doc.collection))
        conf = 0.0
        if ranking.hits:
            top = ranking.hits[0]
            conf = confidence(top.best_sentence, term_overlap(terms, idx.chunks[top.row].text))
        answerable = bool(results) and conf >= self.settings.answerable_threshold
        return Answer(question, self.collection, answerable, conf, tuple(results), notes)

    # --- documents -----------------------------------------------------------------------

    def documents(self) -> list[Document]:
        return list(self.index.documents)

    def document(self, source: str) -> Document:
        """An indexed document by its `source`; only indexed documents are served."""
        try:
            return self._sources[source]
        except KeyError:
            raise QAError(f"no indexed document {source!r}") from None

    def status(self) -> Status:
        m = self.index.manifest
        return Status(len(self.index.documents), len(self.index.chunks), m.get("model", ""),
                      m.get("created", ""), float(m.get("build_seconds", 0.0)), self.collection)


def timed_ask(engine: Engine, question: str, k: int | None = None, mode: str | None = None) -> tuple[Answer, float]:
    started = time.perf_counter()
    answer = engine.ask(question, k, mode)
    return answer, time.perf_counter() - started
