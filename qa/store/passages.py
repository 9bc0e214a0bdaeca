"""Passages and documents of a build: in memory while a build runs, in SQLite once saved.

Each text is stored once. A document's text is kept in blocks of `text_block_chars`
characters and a passage as offsets into it, so a question reads only its candidates' one
or two blocks each, and a document's whole text is read only when it is viewed. The
database is written once into a staging build folder and never changed afterwards, so
a reader opens it read-only and immutable (no file locks, no journal): a few connections per
loaded store, each used by one thread at a time, so concurrent questions read in parallel.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from qa.documents import Chunk, Document

DATABASE = "passages.sqlite"
ROWS_PER_STATEMENT = 900  # below SQLite's bound on the parameters of one statement
READERS = 4  # connections of a loaded store: questions that fetch at once beyond this wait
KEPT_CHUNKS = 4096  # passages a loaded store keeps decoded (a few MB): the answering ones recur
MMAP_BYTES = 1 << 31  # SQLite caps its memory map at 2 GB by default (SQLITE_MAX_MMAP_SIZE)

SCHEMA = """
CREATE TABLE documents (row INTEGER PRIMARY KEY, collection TEXT, source TEXT, title TEXT, sha256 TEXT,
                        format TEXT, pages TEXT, chars INTEGER, first_block INTEGER);
CREATE TABLE blocks (id INTEGER PRIMARY KEY, text TEXT);
CREATE TABLE passages (row INTEGER PRIMARY KEY, doc INTEGER, paragraph INTEGER, start INTEGER, stop INTEGER,
                       sentences TEXT, prose INTEGER, context TEXT);
"""


class MemoryPassages:
    """The passages of a build not yet saved: every chunk and document text in memory."""

    def __init__(self, documents: Sequence[Document], chunks: Sequence[Chunk]) -> None:
        self.documents = tuple(documents)
        self.chunks = tuple(chunks)

    def __len__(self) -> int:
        return len(self.chunks)

    def at(self, rows: Sequence[int]) -> list[Chunk]:
        return [self.chunks[int(r)] for r in rows]

    def all(self) -> list[Chunk]:
        return list(self.chunks)

    def document_text(self, doc_row: int) -> str:
        return self.documents[doc_row].text

    @property
    def document_chars(self) -> np.ndarray:
        return np.array([len(d.text) for d in self.documents], dtype=np.int64)


def write_database(path: Path, documents: Sequence[Document], chunks: Sequence[Chunk],
                   chunk_doc: np.ndarray, block_chars: int) -> None:
    """Write documents (text in blocks) and passages (offsets) into a new SQLite file."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode=OFF")  # a staging file: a failed build is thrown away
        connection.execute("PRAGMA synchronous=OFF")  # the build folder is fsynced as a whole
        connection.executescript(SCHEMA)
        first = 0
        for row, doc in enumerate(documents):
            pieces = [doc.text[i : i + block_chars] for i in range(0, len(doc.text), block_chars)]
            connection.execute("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?)",
                               (row, doc.collection, doc.source, doc.title, doc.sha256, doc.format,
                                json.dumps(list(doc.pages)), len(doc.text), first))
            connection.executemany("INSERT INTO blocks VALUES (?,?)", enumerate(pieces, start=first))
            first += len(pieces)
        connection.executemany("INSERT INTO passages VALUES (?,?,?,?,?,?,?,?)", _passage_rows(chunks, chunk_doc))
        connection.commit()
    finally:
        connection.close()


def _passage_rows(chunks: Sequence[Chunk], chunk_doc: np.ndarray) -> Iterator[tuple]:
    for row, (chunk, doc) in enumerate(zip(chunks, chunk_doc.tolist())):
        yield (row, doc, chunk.paragraph, chunk.start, chunk.end, json.dumps([list(s) for s in chunk.sentences]),
               int(chunk.prose), chunk.context)


class SqlitePassages:
    """The passages and document texts of a saved build, read from its SQLite file on demand."""

    def __init__(self, path: Path, block_chars: int) -> None:
        self.path = Path(path)
        self.block_chars = block_chars
        # The connections are opened now and lent to one thread at a time: an open file stays
        # readable when a later build's cleanup (or a user) deletes the folder under a serving
        # process. One lock over one connection made concurrent questions queue (py-spy: a
        # fifth of the server's samples under 16 clients were threads waiting for it).
        self._kept: OrderedDict[int, Chunk] = OrderedDict()
        self._kept_lock = threading.Lock()
        uri = f"{self.path.resolve().as_uri()}?mode=ro&immutable=1"
        connections = [sqlite3.connect(uri, uri=True, check_same_thread=False) for _ in range(READERS)]
        self._readers: queue.SimpleQueue = queue.SimpleQueue()
        self._readers.put(connections[0])
        self.documents, self.document_chars, self.first_block = self._read_documents()
        self._first_block = self.first_block.tolist()  # Python ints: read per candidate
        # A question's pages are read through a memory map rather than a read() call each (the
        # file never changes): 190 random passages of 1M fetched in 3.1-3.7 ms, not 4.0-4.1.
        # Mapped after the documents are read: their rows lie among the text blocks, and
        # mapping them in would have added 150 MB of the file to the process at 1M.
        for connection in connections:
            connection.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        for connection in connections[1:]:
            self._readers.put(connection)
        # rows are 0 .. n-1 (write_database): the last one is one B-tree descent, where COUNT(*)
        # reads the whole table (1M passages: 8-23 ms, and 160 MB of it mapped into the process)
        self.size = int(self._query("SELECT COALESCE(MAX(row) + 1, 0) FROM passages")[0][0])

    def _query(self, sql: str, parameters: Sequence = ()) -> list[tuple]:
        connection = self._readers.get()
        try:
            return connection.execute(sql, parameters).fetchall()
        finally:
            self._readers.put(connection)

    def _read_documents(self) -> tuple[tuple[Document, ...], np.ndarray, np.ndarray]:
        """Every document without its text (title, source, format, pages, hash), its length,
        and the id of its first text block (one extra entry at the end)."""
        rows = self._query(
            "SELECT collection, source, title, sha256, format, pages, chars, first_block FROM documents ORDER BY row")
        documents = tuple(Document(source, collection, title, "", sha, fmt, tuple(json.loads(pages)))
                          for collection, source, title, sha, fmt, pages, _, _ in rows)
        chars = np.array([r[6] for r in rows], dtype=np.int64)
        first = np.array([r[7] for r in rows], dtype=np.int64)
        blocks = (chars + self.block_chars - 1) // self.block_chars
        return documents, chars, np.concatenate([first, [int(first[-1] + blocks[-1]) if len(rows) else 0]])

    def __len__(self) -> int:
        return self.size

    def at(self, rows: Sequence[int]) -> list[Chunk]:
        """The passages at `rows`; the last KEPT_CHUNKS fetched are kept decoded (a question's
        fetch, text cut from its blocks and a Chunk made of each, was a tenth of its CPU)."""
        wanted = [int(r) for r in rows]
        with self._kept_lock:
            found = {r: self._kept[r] for r in wanted if r in self._kept}
            for r in found:
                self._kept.move_to_end(r)
        missing = sorted(set(wanted) - found.keys())
        fetched = dict(zip(missing, self._read(missing))) if missing else {}
        with self._kept_lock:
            self._kept.update(fetched)
            while len(self._kept) > KEPT_CHUNKS:
                self._kept.popitem(last=False)
        found.update(fetched)
        return [found[r] for r in wanted]

    def _read(self, rows: Sequence[int]) -> list[Chunk]:
        wanted = [int(r) for r in rows]
        found: dict[int, tuple] = {}
        for part in _parts(sorted(set(wanted))):
            marks = ",".join("?" * len(part))
            found.update((record[0], record) for record in self._query(
                f"SELECT row, doc, paragraph, start, stop, sentences, prose, context FROM passages "
                f"WHERE row IN ({marks})", part))
        records = [found[r] for r in wanted]
        # one JSON parse for every passage's sentence offsets (a call per passage costs more)
        offsets = json.loads(f"[{','.join(record[5] for record in records)}]")
        documents = self.documents
        return [Chunk(documents[doc].source, paragraph, start, stop, text, tuple(map(tuple, spans)), bool(prose),
                      context)
                for (_, doc, paragraph, start, stop, _, prose, context), text, spans
                in zip(records, self._texts(records), offsets)]

    def _texts(self, records: Sequence[tuple]) -> list[str]:
        """Each passage's text, cut from the blocks of its document it spans."""
        size, first = self.block_chars, self._first_block
        spans = [(first[doc] + start // size, first[doc] + max(start, stop - 1) // size)
                 for _, doc, _, start, stop, *_ in records]
        ids = sorted({b for lo, hi in spans for b in range(lo, hi + 1)})
        blocks: dict[int, str] = {}
        for part in _parts(ids):
            marks = ",".join("?" * len(part))
            blocks.update(self._query(f"SELECT id, text FROM blocks WHERE id IN ({marks})", part))
        out = []
        for (lo, hi), (_, doc, _, start, stop, *_) in zip(spans, records):
            offset = (lo - first[doc]) * size
            text = blocks.get(lo, "") if lo == hi else "".join(blocks.get(b, "") for b in range(lo, hi + 1))
            out.append(text[start - offset : stop - offset])
        return out

    def all(self) -> list[Chunk]:
        return [chunk for part in _parts(list(range(self.size)), 20_000) for chunk in self._read(part)]

    def document_text(self, doc_row: int) -> str:
        lo, hi = int(self.first_block[doc_row]), int(self.first_block[doc_row + 1])
        rows = self._query("SELECT text FROM blocks WHERE id >= ? AND id < ? ORDER BY id", (lo, hi))
        return "".join(text for (text,) in rows)


def _parts(items: list[int], size: int = ROWS_PER_STATEMENT) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
