"""Pick the sentences of a passage that answer the question.

Sentence vectors are computed at build time, so scoring a passage's sentences is one small
matrix-vector product. Three light lexical signals refine the cosine:

- overlap: the share of the question's IDF weight found in the sentence (names matter);
- echo: a sentence made almost only of the question's own words restates it rather than
  answering it ("My department has two specific roles." for "What are its two roles?");
- answer type: questions asking how many / when / how much money prefer sentences
  holding a number, a date or a sum (see qa.answer_types);
- answer span: a sentence holding a span of the finer kind asked for (a person for "who",
  a duration for "how long"; qa.span_presence) is preferred too;
- a sentence that asks (ends with "?") restates a question rather than answering it
  (qa.interrogative);
- exact tokens: a question naming a code or version (`E4`, `4.1.2`) prefers the sentence
  holding it exactly (see qa.exact_tokens).

The weights are `Settings.highlight` (qa.params.HighlightParams).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from qa.answer_types import AnswerType, holds
from qa.exact_tokens import holds_all
from qa.interrogative import is_interrogative
from qa.lexical import question_stopwords
from qa.params import HighlightParams

@dataclass(frozen=True)
class Highlight:
    """A span inside a passage's text: `passage.text[start:end] == text`."""

    start: int
    end: int
    text: str
    score: float


def term_overlap(query_terms: Mapping[str, float], terms: set[str]) -> float:
    """Share of the question's IDF weight whose terms occur in `terms` (0..1)."""
    total = sum(query_terms.values())
    if total <= 0:
        return 0.0
    return sum(w for t, w in query_terms.items() if t in terms) / total


def echo(query_terms: Mapping[str, float], terms: set[str]) -> float:
    """Share of a sentence's content terms that are the question's own (0..1)."""
    own = {t for t in terms if t not in question_stopwords()}
    return len(own & query_terms.keys()) / len(own) if own else 1.0


def sentence_scores(
    query_vector: np.ndarray,
    sentence_vectors: np.ndarray,
    sentences: Sequence[str],
    sentence_terms: Sequence[set[str]],
    query_terms: Mapping[str, float],
    wanted: AnswerType | None,
    params: HighlightParams = HighlightParams(),
    codes: tuple[str, ...] = (),
    holding: Sequence[bool] | None = None,
    asked: str | None = None,
) -> np.ndarray:
    scores = (sentence_vectors @ query_vector).astype(np.float64)
    for i, (text, terms) in enumerate(zip(sentences, sentence_terms)):
        scores[i] += params.lexical_weight * term_overlap(query_terms, terms)
        if query_terms:
            scores[i] -= params.echo_weight * max(0.0, echo(query_terms, terms) - params.echo_free)
        if wanted is not None and holds(text, wanted):
            scores[i] += params.answer_type_weight
        if codes and holds_all(text, codes):
            scores[i] += params.exact_token_weight
        if holding is not None and holding[i]:
            scores[i] += params.answer_span_weight
        if is_interrogative(text):
            scores[i] -= params.question_sentence_penalty
        if asked and asked in terms:
            scores[i] += params.asked_noun_weight
    return scores


def highlight_passage(
    text: str,
    spans: tuple[tuple[int, int], ...],
    query_vector: np.ndarray,
    sentence_vectors: np.ndarray,
    sentence_terms: Sequence[set[str]],
    query_terms: Mapping[str, float],
    wanted: AnswerType | None = None,
    max_highlights: int = 2,
    params: HighlightParams = HighlightParams(),
    codes: tuple[str, ...] = (),
    holding: Sequence[bool] | None = None,
    asked: str | None = None,
) -> list[Highlight]:
    """The best-answering sentences of one passage, best first.

    Args:
        text: the passage text.
        spans: its sentence offsets, relative to `text`.
        query_vector: the encoded question.
        sentence_vectors: one row per span.
        sentence_terms: the stemmed tokens of each sentence.
        query_terms: the question's content terms with their IDF weights.
        wanted: the kind of answer the question asks for (see qa.answer_types), if any.
        max_highlights: at most this many sentences.
        params: the weights (qa.params.HighlightParams).
        codes: the codes the question names (qa.exact_tokens).
        holding: per sentence, whether it holds an answer of the finer kind the question
            asks for (qa.span_presence; a person for "who", a duration for "how long").
        asked: the stem of the word a which/what question names its answer by
            (qa.answer_types.asked_term), if any.
    """
    if not spans:
        return []
    sentences = [text[s:e] for s, e in spans]
    scores = sentence_scores(query_vector, sentence_vectors, sentences, sentence_terms, query_terms, wanted,
                             params, codes, holding, asked)
    order = np.argsort(-scores, kind="stable")
    best = float(scores[order[0]])
    chosen = [order[0]] + [i for i in order[1:max_highlights] if best > 0 and scores[i] >= best * params.second_sentence_ratio]
    return [Highlight(spans[i][0], spans[i][1], sentences[i], float(scores[i])) for i in chosen]
