"""BM25 over the same passages as the dense index (bm25s, English stemming, stop words)."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

log = logging.getLogger(__name__)

K1 = 1.2
B = 0.75


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, stop words removed, Snowball-stemmed tokens of each text."""
    import bm25s

    return bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False
    )


class LexicalIndex:
    """BM25 scores for every passage, in the passage order of the store."""

    def __init__(self, retriever, size: int) -> None:
        self._retriever = retriever
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str], k1: float = K1, b: float = B) -> "LexicalIndex":
        import bm25s

        retriever = bm25s.BM25(k1=k1, b=b)
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
    def load(cls, folder: Path, size: int) -> "LexicalIndex":
        import bm25s

        retriever = bm25s.BM25.load(str(folder), show_progress=False, verbosity=0)
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

    @property
    def _document_frequencies(self) -> np.ndarray:
        # bm25s keeps a CSC matrix with one column per term: its non-zeros are passages.
        if not hasattr(self, "_df"):
            self._df = np.diff(self._retriever.scores["indptr"])
        return self._df
