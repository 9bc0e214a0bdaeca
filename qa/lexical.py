"""BM25 over the same passages as the dense index (bm25s, English stemming, stop words)."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from qa.params import LexicalParams

log = logging.getLogger(__name__)

# What each passage's BM25 entry holds: "passage" (its text) or "title+passage" (the
# document's title before it, unless the passage already contains it, in documents of at most
# `LexicalParams.title_max_passages` passages). k1, b and that limit are qa.params.LexicalParams.
TEXT = "title+passage"


def config(params: LexicalParams = LexicalParams()) -> dict:
    """Everything that shapes the stored BM25 index; the manifest records it, and a change
    rebuilds BM25 (the vectors are reused)."""
    return {"k1": params.k1, "b": params.b, "text": TEXT, "title_max_passages": params.title_max_passages,
            "tokenizer": "bm25s-en-stopwords+snowball-english"}


def passage_text(title: str, text: str, mode: str | None = None, document_passages: int = 1,
                 title_max_passages: int = LexicalParams.title_max_passages) -> str:
    """The text BM25 indexes for one passage (`mode` defaults to `TEXT`)."""
    if (mode or TEXT) == "title+passage" and title and title not in text and document_passages <= title_max_passages:
        return f"{title}\n{text}"
    return text


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


# bm25s.tokenize's defaults, reproduced so a query is tokenized without its per-call set-up
# (tests/test_retrieval.py checks both agree).
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, stop words removed, Snowball-stemmed tokens of each text (the same
    tokens as `bm25s.tokenize(texts, stopwords="en", stemmer=...)`)."""
    stop, stem = _stopwords(), _stemmer().stemWords
    return [stem([t for t in _TOKEN.findall(text.lower()) if t not in stop]) for text in texts]


# Question and function words: they say what kind of answer is wanted, not what it is about.
QUESTION_WORDS = (
    "what which who whom whose when where why how whether did does do done doing give gave given "
    "he she her his him hers they them their its we our us you your i me my mine was were been being "
    "has have had having can could would should shall may might must most more much many long often "
    "name named called about from than also any some all each other there here"
).split()


@lru_cache(maxsize=1)
def question_stopwords() -> frozenset[str]:
    """QUESTION_WORDS, as written and as stemmed."""
    return frozenset(t for toks in tokenize(QUESTION_WORDS) for t in toks) | frozenset(QUESTION_WORDS)


def content_terms(tokens: Sequence[str]) -> list[str]:
    """Stemmed tokens without question and function words."""
    stop = question_stopwords()
    return [t for t in tokens if t not in stop]


@lru_cache(maxsize=1 << 16)
def term_set(text: str) -> frozenset[str]:
    """The distinct stemmed terms of `text`, cached: highlighting asks about the same
    passages' sentences again and again."""
    return frozenset(tokenize([text])[0])


def import_bm25s():
    """bm25s, imported on first use; its import sets its logger to DEBUG, which would print
    "Building index from tokens" into every build's output, so that is undone here."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


class LexicalIndex:
    """BM25 scores for every passage, in the passage order of the store."""

    def __init__(self, retriever, size: int) -> None:
        self._retriever = retriever
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str], params: LexicalParams = LexicalParams()) -> "LexicalIndex":
        bm25s = import_bm25s()

        retriever = bm25s.BM25(k1=params.k1, b=params.b)
        corpus = tokenize(texts)
        if corpus and not any(corpus):
            # Only stop words or punctuation anywhere ("To be or not to be."): bm25s cannot
            # index an empty vocabulary, so give it one term no query can produce.
            corpus[0] = ["\x00"]
        retriever.index(corpus, show_progress=False)
        return cls(retriever, len(texts))

    def save(self, folder: Path) -> None:
        self._retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, size: int, mmap: bool = False) -> "LexicalIndex":
        """The saved index; with `mmap`, its score matrix stays on disk (memory-mapped)."""
        bm25s = import_bm25s()

        retriever = bm25s.BM25.load(str(folder), show_progress=False, verbosity=0, mmap=mmap)
        return cls(retriever, size)

    def known_terms(self, terms: Sequence[str]) -> list[str]:
        vocab = self._retriever.vocab_dict
        return [t for t in terms if t in vocab]

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for `query` (zeros when no query term is indexed)."""
        terms = self.known_terms(tokenize([query])[0])
        if not terms:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(terms), dtype=np.float32)

    def matches(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        """The passages holding a query term (ascending rows) and their BM25 scores: the
        same float32 values as `scores` (each term's postings added in query order, as
        bm25s does), in time proportional to the postings read, not to the passages."""
        ids = [self._retriever.vocab_dict[t] for t in self.known_terms(tokenize([query])[0])]
        matrix = self._retriever.scores
        if not ids or self._retriever.nonoccurrence_array is not None:  # a variant scoring every passage
            full = self.scores(query)
            rows = np.flatnonzero(full)
            return rows, full[rows]
        # plain views of the memory-mapped arrays: numpy.memmap's slicing is Python code
        indptr, indices, data = (np.asarray(matrix[k]).view(np.ndarray) for k in ("indptr", "indices", "data"))
        spans = [(int(indptr[i]), int(indptr[i + 1])) for i in ids]
        postings = np.sort(np.concatenate([indices[a:b] for a, b in spans]))
        rows = postings[np.concatenate([[True], postings[1:] != postings[:-1]])] if len(postings) else postings
        # zeros of a large size are mapped lazily: only the pages the postings touch are cleared
        summed = np.zeros(self.size, dtype=np.dtype(self._retriever.dtype))
        for a, b in spans:  # a term's postings name each passage once, so fancy adding is exact
            summed[indices[a:b]] += data[a:b]
        out = summed[rows]
        keep = np.flatnonzero(out)
        return rows[keep].astype(np.int64), out[keep].astype(np.float32)

    def ideal_score(self, query: str) -> float:
        """An upper bound of any passage's BM25 score for `query`: the sum of its terms' idf,
        the weight a term reaches as its count grows (bm25s scores Lucene's way, with no
        (k1 + 1) factor); terms the collection lacks count at the highest idf, question and
        function words not at all (they say what kind of answer is wanted). The best
        passage's share of it says how much of the question the words alone match."""
        tokens = content_terms(tokenize([query])[0])
        idf = self.idf(tokens)
        return float(sum(idf[t] for t in tokens))

    def idf(self, terms: Sequence[str]) -> dict[str, float]:
        """BM25 (Lucene) inverse document frequency of each term; a term no passage
        contains gets the highest value, since it is the most telling of all."""
        vocab = self._retriever.vocab_dict
        n = self.size
        out = {}
        for term in terms:
            df = int(self._document_frequencies[vocab[term]]) if term in vocab else 0
            out[term] = float(np.log(1 + (n - df + 0.5) / (df + 0.5)))
        return out

    def max_idf(self) -> float:
        """The IDF of a term no passage holds: the highest any term can have."""
        return float(np.log(1 + (self.size + 0.5) / 0.5))

    @property
    def _document_frequencies(self) -> np.ndarray:
        # bm25s keeps a CSC matrix with one column per term: its non-zeros are passages.
        if not hasattr(self, "_df"):
            self._df = np.diff(self._retriever.scores["indptr"])
        return self._df
