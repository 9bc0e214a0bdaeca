"""Retrieval metrics as pure functions over ranked ids and relevance judgements.

Conventions (those of BEIR / pytrec_eval): a document counts once, at its first rank;
nDCG's ideal DCG uses min(number relevant, k) positions.
"""

from __future__ import annotations

import math
import re
from typing import Mapping, Sequence

_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_SPACE = re.compile(r"\s+")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"'})


def normalize(text: str) -> str:
    """The matching rule of the eval set: case-folded, straight quotes, dashes to '-',
    runs of white space to one space."""
    text = text.casefold().translate(_QUOTES)
    text = _DASHES.sub("-", text)
    return _SPACE.sub(" ", text).strip()


def contains(haystack: str, needle: str) -> bool:
    return normalize(needle) in normalize(haystack)


def dedupe(ranked: Sequence[str]) -> list[str]:
    """Keep each id at its first rank only."""
    seen: set[str] = set()
    out = []
    for item in ranked:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def first_hit_rank(hits: Sequence[bool]) -> int | None:
    """1-based rank of the first True, or None."""
    for i, hit in enumerate(hits, start=1):
        if hit:
            return i
    return None


def hit_at(rank: int | None, k: int) -> float:
    return 1.0 if rank is not None and rank <= k else 0.0


def reciprocal_rank(rank: int | None, k: int) -> float:
    return 1.0 / rank if rank is not None and rank <= k else 0.0


def ndcg_at(ranked: Sequence[str], relevance: Mapping[str, int], k: int) -> float:
    """Normalised discounted cumulative gain with graded relevance (gain = grade)."""
    ranked = dedupe(ranked)[:k]
    dcg = sum(relevance.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked))
    ideal_grades = sorted((g for g in relevance.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal_grades))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranked: Sequence[str], relevance: Mapping[str, int], k: int) -> float:
    relevant = {d for d, g in relevance.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant & set(dedupe(ranked)[:k])) / len(relevant)


def mrr_at(ranked: Sequence[str], relevance: Mapping[str, int], k: int) -> float:
    ranked = dedupe(ranked)[:k]
    return reciprocal_rank(first_hit_rank([relevance.get(d, 0) > 0 for d in ranked]), k)


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100), as numpy's default."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def span_hit(span: str, answer: str, max_ratio: float = 3.0) -> bool:
    """An answer span hits when it contains the gold answer and is at most `max_ratio`
    times its length (both normalised): "Budapest" and "in Budapest" hit "Budapest", the
    whole sentence does not."""
    span, answer = normalize(span), normalize(answer)
    return bool(answer) and answer in span and len(span) <= max_ratio * len(answer)
