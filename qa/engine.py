"""The engine: one object that opens (or builds) the index and answers questions.

The CLI, the HTTP API, the UI and the evaluation harness are thin shells over it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from qa import changes, exclusions
from qa.answer_span import find_answer
from qa.answerability import (Reading, is_heading_only, measure, name_terms, probability,
                              sentence_lacks_answer)
from qa.answers import Answer, Result
from qa.changes import AddReport
from qa.config import Settings
from qa.documents import Document
from qa.embedding import SentenceTransformerEmbedder, load_embedder
from qa.errors import BadQueryError, CollectionError, IndexNotReady, QAError
from qa.answer_types import VERDICT_TYPES, answer_type, asked_term, holds
from qa.exact_tokens import exact_tokens
from qa.highlight import highlight_passage
from qa.indexing import Indexer, refresh, served_collections
from qa.span_presence import lacks_asked_span, sentences_holding_answer
from qa.labels import collection_labels
from qa.language import looks_english
from qa.lexical import content_terms, tokenize
from qa.progress import BuildStatus
from qa.questions import MAX_K, MAX_QUESTION_CHARS, check_question, clean_question, validate_k, validate_mode
from qa.opening import document_embedder, ensure_folder, ensure_onnx_export, open_index, query_embedder
from qa.retrieval import Ranking, Retriever
from qa.store import BuildReport, StoredIndex

__all__ = ["MAX_K", "MAX_QUESTION_CHARS", "AddReport", "AmbiguousSource", "Engine", "Status", "check_question",
           "clean_question", "open_index", "served_collections", "validate_k", "validate_mode"]

log = logging.getLogger("qa")

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


class AmbiguousSource(QAError):
    """A source name that exists in several served collections; `collections` lists them."""

    def __init__(self, source: str, collections: Sequence[str]) -> None:
        self.collections = tuple(collections)
        super().__init__(f"{source!r} is in several collections ({', '.join(self.collections)}): "
                         "add ?collection=<one of them>")


@dataclass(frozen=True)
class _State:
    """Everything a question reads, swapped as one object when documents are added, so a
    reader holding it never sees a half-updated engine."""

    index: StoredIndex
    retriever: Retriever
    report: BuildReport | None
    collections: tuple[str, ...]
    sources: Mapping[tuple[str, str], Document] = field(repr=False)  # without their texts (see `Engine.document`)
    paragraphs: Mapping[tuple[str, str], int] = field(repr=False)
    rows: Mapping[tuple[str, str], int] = field(repr=False)  # document row in the store
    labels: Mapping[str, str] = field(repr=False)  # collection folder -> the name clients see

    @classmethod
    def of(cls, index: StoredIndex, retriever: Retriever, report: BuildReport | None) -> "_State":
        collections = tuple(dict.fromkeys(d.collection for d in index.documents))
        counts = index.passage_counts()
        return cls(index, retriever, report, collections,
                   {(d.collection, d.source): d for d in index.documents},
                   {(d.collection, d.source): int(counts[row]) for row, d in enumerate(index.documents)},
                   {(d.collection, d.source): row for row, d in enumerate(index.documents)},
                   collection_labels(collections))

    def folder(self, label: str) -> str | None:
        """The collection folder a client's collection name stands for."""
        return next((folder for folder, name in self.labels.items() if name == label), None)


class Engine:
    """Answers questions over one indexed set of collection folders.

    Queries read one immutable `_State` snapshot; a build (`qa.indexing`, one at a time, in
    the background) makes the next state and swaps it in with one assignment. An engine
    made by `starting` serves no state until its first build is done: questions then raise
    `IndexNotReady` with the build's progress.
    """

    def __init__(self, settings: Settings, index: StoredIndex | None, embedder,
                 report: BuildReport | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self.changes_lock = threading.Lock()  # one change to the folders at a time
        self.indexer = Indexer(lambda watch: refresh(self, watch), self._served_counts)
        self._state: _State | None = None
        if index is not None:
            self.install(index, report)

    @classmethod
    def starting(cls, settings: Settings) -> "Engine":
        """An engine that serves nothing yet; `indexer.request()` loads the model and the index
        (or builds it) in the background. Checks the folders first, so their errors come now."""
        for folder in settings.docs:
            if not Path(folder).is_dir():
                raise CollectionError(f"document folder {folder} does not exist: pass --docs DIR with your documents")
        exclusions.load(Path(settings.index_dir))
        ensure_folder(Path(settings.index_dir))
        return cls(settings, None, None)

    def install(self, index: StoredIndex, report: BuildReport | None) -> None:
        """Serve `index` from the next question on (one assignment: readers never see half)."""
        previous = self._state.report if self._state is not None else None
        self._state = _State.of(index, Retriever.from_settings(index, self.embedder, self.settings), report or previous)

    @property
    def ready(self) -> bool:
        """An index is served (questions are answered)."""
        return self._state is not None

    def _served(self) -> _State:
        state = self._state
        if state is None:
            status = self.indexer.status()
            what = status.progress.line() if status.progress is not None else "starting"
            if status.building:
                raise IndexNotReady(f"no index yet: indexing ({what}); ask again when it is done", status)
            raise IndexNotReady(f"no index is served: the build {status.state} ({what}); "
                                "start it again with POST /api/build", status)
        return state

    def _served_counts(self) -> tuple[int, int]:
        state = self._state
        return (0, 0) if state is None else (len(state.index.documents), state.index.passages)

    @property
    def index(self) -> StoredIndex:
        return self._served().index

    @property
    def retriever(self) -> Retriever:
        return self._served().retriever

    @property
    def build_report(self) -> BuildReport | None:
        return self._state.report if self._state is not None else None

    @property
    def collection(self) -> str:
        """The served collections' names, for `Answer.collection`."""
        return self._label(self._state) if self._state is not None else ""

    @staticmethod
    def _label(state: _State) -> str:
        return ", ".join(state.labels[c] for c in state.collections)

    @property
    def collections(self) -> tuple[str, ...]:
        """The served collections' names (never their folders' paths)."""
        state = self._state
        return () if state is None else tuple(state.labels[c] for c in state.collections)

    def collection_folders(self) -> tuple[str, ...]:
        """The served collections' folders (for naming a new one apart from them)."""
        return () if self._state is None else self._state.collections

    def collection_of(self, doc: Document) -> str:
        """The name clients see for `doc`'s collection."""
        return "" if self._state is None else self._state.labels.get(doc.collection, "")

    @classmethod
    def open(cls, settings: Settings, progress: bool = False) -> "Engine":
        """Load the model and the documents, then load or (re)build the index."""
        # Documents and the index folder first: their errors come before seconds of model loading.
        collections = served_collections(settings)
        ensure_folder(Path(settings.index_dir))
        embedder = query_embedder(settings)
        if embedder is None:
            embedder = load_embedder(settings.model, settings.device)
        index, report = open_index(settings, embedder, collections, progress,
                                   build_with=lambda: document_embedder(settings))
        return cls(settings, index, embedder, report)

    def export_for_fast_start(self) -> None:
        """Leave the model's ONNX export beside the index, so the next process answers without
        importing torch (front ends that build or serve call this; a few seconds, once)."""
        if self.settings.onnx_queries and isinstance(self.embedder, SentenceTransformerEmbedder):
            ensure_onnx_export(self.settings, self.embedder)

    # --- questions -----------------------------------------------------------------------

    def ask(self, question: str, k: int | None = None, mode: str | None = None) -> Answer:
        return self.ask_batch([question], k, mode)[0]

    def ask_batch(self, questions: Sequence[str], k: int | None = None, mode: str | None = None) -> list[Answer]:
        """Answer several questions with one batched encoding.

        Raises:
            BadQueryError: a question is empty, or k or mode is invalid.
        """
        if isinstance(questions, (str, bytes)):
            raise BadQueryError("questions must be a list of texts")
        k = validate_k(self.settings.k if k is None else k)
        mode = validate_mode(mode, self.settings.mode)
        state = self._served()  # one snapshot for the whole batch
        prepared = [self._prepare(q) for q in questions]
        rankings = state.retriever.search_batch([p[0] for p in prepared], k, mode)
        return [self._answer(state, q, notes, r) for (q, notes), r in zip(prepared, rankings)]

    def _prepare(self, question: str) -> tuple[str, tuple[str, ...]]:
        cleaned = check_question(question)
        notes = []
        if len(question) > MAX_QUESTION_CHARS:
            notes.append(f"question cut to its first {MAX_QUESTION_CHARS} characters")
        truncate = getattr(self.embedder, "truncate", None)
        # A word piece spans at least one character, so a short question cannot overflow.
        if truncate is not None and len(cleaned) > getattr(self.embedder, "max_tokens", 0) - 2:
            cut, was_cut = truncate(cleaned)
            if was_cut:
                notes.append(f"question truncated to the model's {self.embedder.max_tokens}-token window")
                cleaned = cut
        if not looks_english(cleaned):
            notes.append(f"the question does not look like English; the model ({getattr(self.embedder, 'name', '')}) "
                         "reads English, so answers may be missed: ask in English")
        return cleaned, tuple(notes)

    def _answer(self, state: _State, question: str, notes: tuple[str, ...], ranking: Ranking) -> Answer:
        idx = state.index
        lexical = idx.lexical_stats
        terms = lexical.idf(content_terms(tokenize([question])[0]))
        wanted = answer_type(question)
        asked = asked_term(question)
        rows = np.array([hit.row for hit in ranking.hits], dtype=np.int64)
        fetched = ranking.chunks if len(ranking.chunks) == len(rows) else idx.chunks_at(rows)
        by_row = dict(zip(rows.tolist(), zip(fetched, idx.document_rows(rows).tolist())))
        # A title or heading alone answers nothing: such passages go after the others.
        hits = sorted(ranking.hits, key=lambda h: is_heading_only(by_row[h.row][0].text, by_row[h.row][0].prose,
                                                                 idx.documents[by_row[h.row][1]].title))
        chunks = [by_row[hit.row][0] for hit in hits]
        # One tokenizer call for every sentence of every result (the call has a fixed cost).
        flat = tokenize([s for chunk in chunks for s in chunk.sentence_texts()])
        results, holdings, pos = [], [], 0
        for rank, (hit, chunk) in enumerate(zip(hits, chunks), start=1):
            sentence_terms = [set(t) for t in flat[pos : pos + len(chunk.sentences)]]
            pos += len(chunk.sentences)
            doc = idx.documents[by_row[hit.row][1]]
            holdings.append(sentences_holding_answer(question, chunk.sentence_texts(), self.settings.spans))
            highlights = highlight_passage(
                chunk.text, chunk.sentences, ranking.query_vector, idx.sentence_vectors_of(hit.row),
                sentence_terms, terms, wanted, params=self.settings.highlight, codes=exact_tokens(question),
                holding=holdings[-1], asked=asked,
            )
            results.append(Result(rank, hit.score, doc.source, doc.title, chunk.paragraph, chunk.start, chunk.end,
                                  chunk.text, tuple(highlights), state.labels[doc.collection],
                                  doc.page_of(chunk.start)))
        conf, found = 0.0, None
        if hits:
            checked = wanted if wanted in VERDICT_TYPES else None
            found = measure(hits, self._reading(question, checked, chunks[0], results[0], flat, holdings[0]),
                            terms, set(lexical.known_terms(list(terms))), lexical.max_idf(),
                            ranking.runner_up(hits[0].row))
            conf = probability(found, self.settings.answerability)
        answerable = bool(results) and conf >= self.settings.answerability.threshold
        if not answerable:  # the closest passages are still listed, but nothing is marked as the answer
            results = [replace(r, highlights=()) for r in results]
        elif results[0].highlights:
            results[0] = self._with_answer_span(question, results[0])
        return Answer(question, self._label(state), answerable, conf, tuple(results), notes,
                      several_collections=len(state.collections) > 1, evidence=found)

    def _reading(self, question: str, wanted, chunk, result: Result, flat: list[list[str]],
                 holding: Sequence[bool] | None) -> Reading:
        """What the top passage holds: its terms (with its headings'), its highlight's and
        the terms naming its document (`holding`: which of its sentences hold the asked kind)."""
        top = frozenset().union(*(set(t) for t in flat[: len(chunk.sentences)]), *tokenize([chunk.context]))
        sentence = result.highlights[0].text if result.highlights else ""
        return Reading(top, sentence, frozenset(tokenize([sentence])[0]), not holds(chunk.text, wanted),
                       sentence_lacks_answer(sentence, question, wanted), name_terms(result.title, result.source),
                       lacks_asked_span(question, chunk.sentence_texts(), self.settings.spans, holding))

    def _with_answer_span(self, question: str, top: Result) -> Result:
        """The top result with the answer itself marked inside its first highlight, when
        the question asks for a kind of answer that can be found there (qa.answer_span)."""
        sentence = top.highlights[0]
        span = find_answer(question, top.text, sentence.start, sentence.end, self.settings.spans)
        return top if span is None else replace(top, answer=span)

    # --- documents -----------------------------------------------------------------------

    def documents(self) -> list[Document]:
        """The indexed documents, without their texts (`document` reads one's text)."""
        return [] if self._state is None else list(self._state.index.documents)

    def chars(self, doc: Document) -> int:
        """How many characters `doc`'s text has (read from the store, not from `doc`)."""
        state = self._state
        row = None if state is None else state.rows.get((doc.collection, doc.source))
        return 0 if row is None else int(state.index.document_lengths()[row])

    def paragraphs(self, doc: Document) -> int:
        """How many passages of `doc` are indexed."""
        return 0 if self._state is None else self._state.paragraphs.get((doc.collection, doc.source), 0)

    def document(self, source: str, collection: str | None = None) -> Document:
        """An indexed document by its `source` (and `collection`, its collection's name as
        in answers, needed when several collections hold that source); only indexed
        documents are served.

        Raises:
            QAError: no such indexed document.
            AmbiguousSource: the source is in several collections and none was named.
        """
        state = self._state
        if state is None:
            raise QAError(f"no indexed document {source!r}: no index is served yet")
        if collection:
            key = (state.folder(collection) or "", source)
            if key not in state.sources:
                raise QAError(f"no indexed document {source!r} in collection {collection!r}")
            return self._with_text(state, key)
        matches = [c for c in state.collections if (c, source) in state.sources]
        if not matches:
            raise QAError(f"no indexed document {source!r}")
        if len(matches) > 1:
            raise AmbiguousSource(source, [state.labels[c] for c in matches])
        return self._with_text(state, (matches[0], source))

    @staticmethod
    def _with_text(state: _State, key: tuple[str, str]) -> Document:
        """The document with its text, read from the store (memory holds no document's text)."""
        return replace(state.sources[key], text=state.index.document_text(state.rows[key]))

    def add_documents(self, files: Sequence[tuple[str, bytes]], wait: bool = True) -> AddReport:
        """Store uploaded files and index them in the background (see `qa.changes`)."""
        return changes.add_documents(self, files, wait)

    def remove_document(self, source: str, collection: str | None = None, wait: bool = True) -> Document:
        """Take a document out of the index (see `qa.changes`)."""
        return changes.remove_document(self, source, collection, wait)

    def build_status(self) -> BuildStatus:
        """The background build's state and progress, and what is served meanwhile."""
        return self.indexer.status()

    def status(self) -> Status:
        state = self._state
        if state is None:
            return Status(0, 0, "", "", 0.0, "")
        m = state.index.manifest
        return Status(len(state.index.documents), state.index.passages, m.get("model", ""),
                      m.get("created", ""), float(m.get("build_seconds", 0.0)), self._label(state))


def timed_ask(engine: Engine, question: str, k: int | None = None, mode: str | None = None) -> tuple[Answer, float]:
    started = time.perf_counter()
    answer = engine.ask(question, k, mode)
    return answer, time.perf_counter() - started
