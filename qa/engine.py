"""The engine: one object that opens (or builds) the index and answers questions.

The CLI, the HTTP API, the UI and the evaluation harness are thin shells over it.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Mapping, Sequence

from qa import exclusions
from qa.answer_span import find_answer
from qa.answerability import Reading, is_heading_only, measure, probability, sentence_lacks_answer
from qa.answers import Answer, Result
from qa.config import MODES, Settings
from qa.documents import Collection, Document, content_hash, iter_document_files, load_collection
from qa.embedding import SentenceTransformerEmbedder, load_embedder, model_name, resolve_model_path
from qa.errors import BadQueryError, CollectionError, IndexFormatError, QAError, StorageError
from qa.answer_types import answer_type, holds
from qa.exact_tokens import exact_tokens
from qa.highlight import highlight_passage
from qa.span_presence import sentences_holding_answer
from qa.labels import collection_labels
from qa.language import looks_english
from qa.lexical import content_terms, tokenize
from qa.retrieval import Ranking, Retriever
from qa.store import LOCK, BuildReport, StoredIndex, build_index, load_index, save_index, stale_reason
from qa.uploads import Stored, max_upload_bytes, store_uploads

log = logging.getLogger("qa")

MAX_K = 100
MAX_QUESTION_CHARS = 10_000


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
    """NFC-normalise, turn control characters (NUL, escapes, C1 controls) into spaces,
    drop lone surrogates (they cannot be encoded), and squeeze white space.

    Format characters such as the zero-width joiner of emoji sequences and the
    right-to-left marks of Arabic or Hebrew text are kept.
    """
    question = unicodedata.normalize("NFC", _SURROGATE.sub("", question or ""))
    question = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in question)
    return " ".join(question.split())


_SURROGATE = re.compile("[\ud800-\udfff]")


def validate_k(k: object, limit: int = MAX_K) -> int:
    """`k` as an int from 1 to `limit`; whole-number strings and floats are accepted.

    Raises:
        BadQueryError: anything else (0, negative, too large, fractional, not a number).
    """
    message = f"k must be a whole number from 1 to {limit}, not {k!r}"
    if isinstance(k, bool):
        raise BadQueryError(message)
    if isinstance(k, str):
        k = k.strip()
    try:
        value = int(k)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        try:
            as_float = float(k)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            raise BadQueryError(message) from None
        if not as_float.is_integer():
            raise BadQueryError(message) from None
        value = int(as_float)
    if isinstance(k, float) and not k.is_integer() or not 1 <= value <= limit:
        raise BadQueryError(message)
    return value


def validate_mode(mode: object, default: str = "hybrid") -> str:
    """`mode` lower-cased, or `default` when None or empty.

    Raises:
        BadQueryError: not one of `MODES`.
    """
    if mode is None or (isinstance(mode, str) and not mode.strip()):
        return default
    if not isinstance(mode, str) or mode.strip().lower() not in MODES:
        raise BadQueryError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    return mode.strip().lower()


def check_question(question: object) -> str:
    """The cleaned question, or a BadQueryError that says what is wrong with it.

    Needs no model, so front ends can reject bad input before loading anything.
    """
    if not isinstance(question, str):
        raise BadQueryError(f"the question must be text, not {type(question).__name__}")
    cleaned = clean_question(question[:MAX_QUESTION_CHARS])
    if not cleaned:
        raise BadQueryError("Type a question first: it is empty.")
    if not any(ch.isalnum() for ch in cleaned):
        raise BadQueryError(
            "The question has no words to search for (only punctuation, symbols or emoji): use letters or digits."
        )
    return cleaned


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
        current = load_index(index_dir)
        reason = "no index yet" if current is None else stale_reason(current.manifest, embedder, settings, collections)
    except IndexFormatError as exc:
        current, reason = None, f"{exc}"
        log.warning("index in %s is damaged or unusable: %s; rebuilding it from the documents", index_dir, exc)
    if reason is None:
        return current, None  # type: ignore[return-value]
    _ensure_folder(index_dir)
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
                latest = load_index(index_dir)
                if latest is not None and stale_reason(latest.manifest, embedder, settings, collections) is None:
                    return latest, None
                current = latest or current
            except IndexFormatError:
                pass
            log.info("building index in %s: %s", index_dir, reason)
            builder = build_with() if build_with is not None else embedder
            index, report = build_index(collections, builder, settings, previous=current, progress=progress)
            save_index(index, index_dir)
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

    return load_onnx_encoder(settings.index_dir, model_name(settings.model))


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


def _ensure_folder(index_dir: Path) -> None:
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"cannot write the index in {index_dir}: {exc.strerror or exc}; choose another folder with --index"
        ) from exc


class AmbiguousSource(QAError):
    """A source name that exists in several served collections; `collections` lists them."""

    def __init__(self, source: str, collections: Sequence[str]) -> None:
        self.collections = tuple(collections)
        super().__init__(f"{source!r} is in several collections ({', '.join(self.collections)}): "
                         "add ?collection=<one of them>")


@dataclass(frozen=True)
class AddReport:
    """What adding uploaded documents did.

    Attributes:
        added: the new documents' sources in the uploads folder.
        skipped: (uploaded name, reason) for each file left out.
        too_large: some file was refused for its size.
        build: the incremental build's report (None when nothing was added).
    """

    added: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]
    too_large: bool = False
    duplicates_only: bool = False
    build: BuildReport | None = None

    def summary(self) -> str:
        parts = [f"{len(self.added)} added" + (f" ({', '.join(self.added)})" if self.added else "")]
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        if self.build is not None:
            parts.append(f"{self.build.passages_embedded} passages embedded in {self.build.seconds:.1f}s")
        return "; ".join(parts)


@dataclass(frozen=True)
class _State:
    """Everything a question reads, swapped as one object when documents are added, so a
    reader holding it never sees a half-updated engine."""

    index: StoredIndex
    retriever: Retriever
    report: BuildReport | None
    collections: tuple[str, ...]
    sources: Mapping[tuple[str, str], Document] = field(repr=False)
    paragraphs: Mapping[tuple[str, str], int] = field(repr=False)
    labels: Mapping[str, str] = field(repr=False)  # collection folder -> the name clients see

    @classmethod
    def of(cls, index: StoredIndex, retriever: Retriever, report: BuildReport | None) -> "_State":
        collections = tuple(dict.fromkeys(d.collection for d in index.documents))
        counts = Counter(index.chunk_doc.tolist())
        return cls(index, retriever, report, collections,
                   {(d.collection, d.source): d for d in index.documents},
                   {(d.collection, d.source): counts.get(row, 0) for row, d in enumerate(index.documents)},
                   collection_labels(collections))

    def folder(self, label: str) -> str | None:
        """The collection folder a client's collection name stands for."""
        return next((folder for folder, name in self.labels.items() if name == label), None)


def served_collections(settings: Settings) -> list[Collection]:
    """The collection folders (less the documents removed from them, see `qa.exclusions`),
    plus the uploads folder once it holds a usable document."""
    excluded = exclusions.load(Path(settings.index_dir))
    collections = [exclusions.apply(load_collection(folder), excluded) for folder in settings.docs]
    uploads = settings.uploads_folder
    if uploads.is_dir() and not any(_same_folder(uploads, d) for d in settings.docs):
        if any(True for _ in iter_document_files(uploads)):
            try:
                collections.append(load_collection(uploads))
            except CollectionError as exc:
                log.warning("uploads folder not served: %s", exc)
    return collections


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


class Engine:
    """Answers questions over one indexed set of collection folders.

    Queries read one immutable `_State` snapshot; `add_documents` builds the next state
    and swaps it in with one assignment (under a writer lock, so adds are serialised).
    """

    def __init__(self, settings: Settings, index: StoredIndex, embedder, report: BuildReport | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self._write_lock = threading.Lock()
        self._state = _State.of(index, Retriever.from_settings(index, embedder, settings), report)

    @property
    def index(self) -> StoredIndex:
        return self._state.index

    @property
    def retriever(self) -> Retriever:
        return self._state.retriever

    @property
    def build_report(self) -> BuildReport | None:
        return self._state.report

    @property
    def collection(self) -> str:
        """The served collections' names, for `Answer.collection`."""
        return self._label(self._state)

    @staticmethod
    def _label(state: _State) -> str:
        return ", ".join(state.labels[c] for c in state.collections)

    @property
    def collections(self) -> tuple[str, ...]:
        """The served collections' names (never their folders' paths)."""
        state = self._state
        return tuple(state.labels[c] for c in state.collections)

    def collection_of(self, doc: Document) -> str:
        """The name clients see for `doc`'s collection."""
        return self._state.labels.get(doc.collection, "")

    @classmethod
    def open(cls, settings: Settings, progress: bool = False) -> "Engine":
        """Load the model and the documents, then load or (re)build the index."""
        # Documents and the index folder first: their errors come before seconds of model loading.
        collections = served_collections(settings)
        _ensure_folder(Path(settings.index_dir))
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
        prepared = [self._prepare(q) for q in questions]
        state = self._state  # one snapshot for the whole batch
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
        terms = idx.lexical.idf(content_terms(tokenize([question])[0]))
        wanted = answer_type(question)
        # A title or heading alone answers nothing: such passages go after the others.
        hits = sorted(ranking.hits, key=lambda h: is_heading_only(idx.chunks[h.row].text, idx.chunks[h.row].prose,
                                                                 idx.document(h.row).title))
        chunks = [idx.chunks[hit.row] for hit in hits]
        # One tokenizer call for every sentence of every result (the call has a fixed cost).
        flat = tokenize([s for chunk in chunks for s in chunk.sentence_texts()])
        results, pos = [], 0
        for rank, (hit, chunk) in enumerate(zip(hits, chunks), start=1):
            sentence_terms = [set(t) for t in flat[pos : pos + len(chunk.sentences)]]
            pos += len(chunk.sentences)
            doc = idx.document(hit.row)
            highlights = highlight_passage(
                chunk.text, chunk.sentences, ranking.query_vector, idx.sentence_vectors[idx.sentence_rows(hit.row)],
                sentence_terms, terms, wanted, params=self.settings.highlight, codes=exact_tokens(question),
                holding=sentences_holding_answer(question, chunk.sentence_texts(), self.settings.spans),
            )
            results.append(Result(rank, hit.score, doc.source, doc.title, chunk.paragraph, chunk.start, chunk.end,
                                  chunk.text, tuple(highlights), state.labels[doc.collection],
                                  doc.page_of(chunk.start)))
        conf, found = 0.0, None
        if hits:
            found = measure(hits, self._reading(question, wanted, chunks[0], results[0], flat),
                            terms, set(idx.lexical.known_terms(list(terms))), idx.lexical.max_idf())
            conf = probability(found, self.settings.answerability)
        answerable = bool(results) and conf >= self.settings.answerability.threshold
        if not answerable:  # the closest passages are still listed, but nothing is marked as the answer
            results = [replace(r, highlights=()) for r in results]
        elif results[0].highlights:
            results[0] = self._with_answer_span(question, results[0])
        return Answer(question, self._label(state), answerable, conf, tuple(results), notes,
                      several_collections=len(state.collections) > 1, evidence=found)

    @staticmethod
    def _reading(question: str, wanted, chunk, result: Result, flat: list[list[str]]) -> Reading:
        """What the top passage holds: its terms (with its headings') and its highlight's."""
        top = frozenset().union(*(set(t) for t in flat[: len(chunk.sentences)]), *tokenize([chunk.context]))
        sentence = result.highlights[0].text if result.highlights else ""
        return Reading(top, sentence, frozenset(tokenize([sentence])[0]), not holds(chunk.text, wanted),
                       sentence_lacks_answer(sentence, question, wanted))

    def _with_answer_span(self, question: str, top: Result) -> Result:
        """The top result with the answer itself marked inside its first highlight, when
        the question asks for a kind of answer that can be found there (qa.answer_span)."""
        sentence = top.highlights[0]
        span = find_answer(question, top.text, sentence.start, sentence.end, self.settings.spans)
        return top if span is None else replace(top, answer=span)

    # --- documents -----------------------------------------------------------------------

    def documents(self) -> list[Document]:
        return list(self._state.index.documents)

    def paragraphs(self, doc: Document) -> int:
        """How many passages of `doc` are indexed."""
        return self._state.paragraphs.get((doc.collection, doc.source), 0)

    def document(self, source: str, collection: str | None = None) -> Document:
        """An indexed document by its `source` (and `collection`, its collection's name as
        in answers, needed when several collections hold that source); only indexed
        documents are served.

        Raises:
            QAError: no such indexed document.
            AmbiguousSource: the source is in several collections and none was named.
        """
        state = self._state
        if collection:
            doc = state.sources.get((state.folder(collection) or "", source))
            if doc is None:
                raise QAError(f"no indexed document {source!r} in collection {collection!r}")
            return doc
        matches = [c for c in state.collections if (c, source) in state.sources]
        if not matches:
            raise QAError(f"no indexed document {source!r}")
        if len(matches) > 1:
            raise AmbiguousSource(source, [state.labels[c] for c in matches])
        return state.sources[(matches[0], source)]

    def add_documents(self, files: Sequence[tuple[str, bytes]],
                      progress: Callable[[float, str], None] | None = None) -> AddReport:
        """Store uploaded files in the uploads folder and index them incrementally; the
        new documents answer questions as soon as this returns.

        Each file is checked (size, type by content, text) and written atomically (see
        `qa.uploads`); bad files are reported, not raised. Only new documents are embedded.
        """
        note = progress or (lambda share, message: None)
        with self._write_lock:
            note(0.05, "checking the files")
            state = self._state
            # A document removed from a served folder comes back when its content is added again.
            back = {e.sha256: e.source for e in exclusions.lift(Path(self.settings.index_dir),
                                                                 {content_hash(data) for _, data in files})}
            files = [(name, data) for name, data in files if content_hash(data) not in back]
            # Named as the API takes them: GET /api/documents/<source>?collection=<name>.
            indexed = {d.sha256: f"{d.source} (collection {state.labels[d.collection]})"
                       for d in state.index.documents}
            stored = self._store(files, indexed)
            stored = replace(stored, added=(*back.values(), *stored.added))
            skipped = tuple((r.name, r.reason) for r in stored.rejected)
            too_large = any(r.too_large for r in stored.rejected)
            duplicates_only = bool(stored.rejected) and all(r.duplicate for r in stored.rejected)
            if not stored.added:
                return AddReport((), skipped, too_large, duplicates_only)
            note(0.2, f"indexing {len(stored.added)} new document(s)")
            report = self._reindex(progress)
            note(1.0, "done")
            log.info("documents added: %s", ", ".join(stored.added))
            return AddReport(stored.added, skipped, too_large, duplicates_only, report)

    def _store(self, files: Sequence[tuple[str, bytes]], indexed: Mapping[str, str]) -> Stored:
        folder = self.settings.uploads_folder
        label = collection_labels([*self._state.collections, str(folder)])[str(folder)]
        try:
            return store_uploads(folder, files, indexed, max_upload_bytes(), label)
        except OSError as exc:
            raise StorageError(f"cannot write the uploads folder {folder}: {exc.strerror or exc}") from exc

    def remove_document(self, source: str, collection: str | None = None) -> Document:
        """Take a document out of the index: an uploaded one is deleted with its file; one
        from a served folder is excluded (recorded beside the index), its file left alone.
        No answer cites it once this returns.

        Raises:
            QAError: no such indexed document; AmbiguousSource: name the collection.
        """
        with self._write_lock:
            doc = self.document(source, collection)
            if _same_folder(Path(doc.collection), self.settings.uploads_folder):
                (Path(doc.collection) / doc.source).unlink(missing_ok=True)
            else:
                exclusions.exclude(Path(self.settings.index_dir), doc)
            self._reindex(None)
            log.info("document removed: %s/%s", doc.collection, doc.source)
            return doc

    def _reindex(self, progress: Callable[[float, str], None] | None) -> BuildReport | None:
        """Bring the index up to date with the folders and swap the new state in."""
        index, report = open_index(self.settings, self.embedder, served_collections(self.settings),
                                   progress=progress is not None, build_with=lambda: document_embedder(self.settings))
        self._state = _State.of(index, Retriever.from_settings(index, self.embedder, self.settings),
                                report or self._state.report)
        return report

    def status(self) -> Status:
        state = self._state
        m = state.index.manifest
        return Status(len(state.index.documents), len(state.index.chunks), m.get("model", ""),
                      m.get("created", ""), float(m.get("build_seconds", 0.0)), self._label(state))


def timed_ask(engine: Engine, question: str, k: int | None = None, mode: str | None = None) -> tuple[Answer, float]:
    started = time.perf_counter()
    answer = engine.ask(question, k, mode)
    return answer, time.perf_counter() - started
