"""Tuned numbers, grouped by the stage that reads them; `Settings` holds one of each.

Each group is a frozen dataclass so a sweep is `settings.replace(rank=replace(settings.rank,
...))` through the real engine, and the index manifest records the values it was built with.
Where a value came from is said beside it; docs/evaluation.md has the figures.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class RankParams:
    """How the retriever orders candidates (qa.retrieval).

    Attributes:
        candidates: how many passages each of dense and BM25 contributes before fusion.
        short_lines_penalty: factor on the scores of groups of short lines (menus, dates,
            headings), so they rank below prose that scores the same.
        answer_type_bonus: for a question asking how many / when / how much money, a passage
            holding no number, date or sum gives up this share of its lead over the weakest
            candidate (0 turns it off).
        lexical_full_share: BM25 takes its full weight in score fusion only when its best
            candidate reaches this share of the query's ideal BM25 score, proportionally less
            below (0 turns the scaling off). Swept on the seeds, paraphrases and SciFact train.
        exact_token_bonus: for a question naming a code, version or identifier (`E4`, `4.1.2`,
            `QM103`, `SHELFWISE_BACKUP_KEEP`; see qa.exact_tokens), a passage that does not
            hold every one of them exactly gives up this share of its lead (0 turns it off).
        heading_bonus: a passage under a section heading (not the document title) gains this
            share of the candidates' score range times the share of the question's IDF weight
            its heading holds: a heading names what its section is about.
        counted_noun_bonus: for a "how many <noun>" question, a candidate none of whose
            sentences holds a number reaching to that noun ("42 residential streets";
            qa.span_presence.sentences_counting) gives up this share of its lead (0 turns it off).
        counting_depth: how many of the best candidates are read for that (the rest keep their score).
        question_sentence_factor: a sentence that asks (qa.interrogative) counts with its
            cosine times this when a passage's best sentence is chosen (1 turns it off).
    """

    candidates: int = 100
    short_lines_penalty: float = 0.75
    answer_type_bonus: float = 0.2
    lexical_full_share: float = 0.7
    exact_token_bonus: float = 0.35  # 0.5 cost SciFact train 0.7427 -> 0.7393; 0.2 lost a code question of mixed
    heading_bonus: float = 0.2
    counted_noun_bonus: float = 0.2  # bench/sweep.py 0.1 / 0.2 / 0.35: mixed Hit@3 0.938 -> 0.958 (Hit@1 0.854 / 0.875 / 0.875), other sets flat
    counting_depth: int = 30
    question_sentence_factor: float = 0.0  # 0.5 (with a 0.1 highlight penalty) changed nothing; 0 moved mixed


@dataclass(frozen=True)
class HighlightParams:
    """How sentences inside a passage are scored for highlighting (qa.highlight).

    Attributes:
        lexical_weight: weight of the share of the question's IDF weight in the sentence.
        echo_weight: penalty per unit of echo above `echo_free` (a sentence made of the
            question's own words restates it rather than answering it).
        echo_free: share of a sentence's terms that may come from the question unpunished.
        answer_type_weight: bonus of a sentence holding the kind of answer asked for.
        exact_token_weight: bonus of a sentence holding the question's codes exactly.
        answer_span_weight: bonus of a sentence holding a span of the finer kind the question
            asks for (qa.span_presence: a person, a place, a duration, a code, ...).
        question_sentence_penalty: taken off a sentence that asks (qa.interrogative).
        second_sentence_ratio: a runner-up this close to the best is highlighted too.
        asked_noun_weight: bonus of a sentence holding the word a which/what question names
            its answer by ("floor" in "Which floor ...?": "the fourth floor").
    """

    lexical_weight: float = 0.2
    echo_weight: float = 1.0
    echo_free: float = 0.5
    answer_type_weight: float = 0.1
    exact_token_weight: float = 0.3
    answer_span_weight: float = 0.2  # 0.1: mixed highlight 0.708; 0.2 and 0.3: 0.750 (squad2 0.708 at all three)
    question_sentence_penalty: float = 0.2  # with question_sentence_factor 0: mixed Hit@1 0.812 -> 0.833, highlight 0.750 -> 0.771
    second_sentence_ratio: float = 0.97
    # bench/sweep.py 0 / 0.1 / 0.2 / 0.3 / 0.4, leave one set out on highlight: 0.2 chosen
    # without each set (mixed 0.812 -> 0.833, squad2 0.725 -> 0.742 held out, the rest flat)
    asked_noun_weight: float = 0.2


@dataclass(frozen=True)
class LexicalParams:
    """How BM25 indexes passages (qa.lexical); the manifest records them and a change
    rebuilds BM25 only (the vectors are reused).

    Attributes:
        k1: term-frequency saturation of BM25.
        b: how much a passage's length normalises its term counts.
        title_max_passages: a document's title is indexed with each of its passages only
            when it has at most this many: there (an abstract, a note) the title says what
            every passage is about, while in a long speech it would match every paragraph
            alike (seed questions: Hit@3 1.0 -> 0.967 and one answerable question flagged).
    """

    k1: float = 0.9  # bench/sweep.py k1 0.6-1.5 x b 0.3-0.75: flat; leave one set out keeps 0.9 / 0.4
    b: float = 0.4
    title_max_passages: int = 4


def with_values(group: Any, values: dict[str, str]) -> Any:
    """`group` with fields replaced by `values` given as text (from `--param name=value`)."""
    kinds = {f.name: type(getattr(group, f.name)) for f in fields(group)}
    unknown = set(values) - kinds.keys()
    if unknown:
        raise ValueError(f"unknown parameter(s) {', '.join(sorted(unknown))}: use {', '.join(kinds)}")
    return replace(group, **{k: kinds[k](v) for k, v in values.items()})


@dataclass(frozen=True)
class AnswerabilityParams:
    """A logistic model of "the documents answer this question" (qa.answerability).

    The probability is `1 / (1 + exp(-(bias + sum(weight * feature))))`, with the features of
    `qa.answerability.Evidence`; it is the reported confidence, and a question is answerable
    when it reaches `threshold`. Fitted by bench/fit_answerability.py (logistic regression over
    the question sets, reported leave-one-set-out; see docs/evaluation.md).
    """

    # bench/fit_answerability.py --sweep: C 10, weight 1.5 and threshold 0.45 chosen by the
    # leave-one-set-out figures (unanswerable flagged less answerable flagged over all sets,
    # 25 - 13 against 18 - 11 at best for the nine features before focus, focus_sentence and
    # named); the weights fitted on seeds, paraphrases, calibration, mixed and squad2 together
    # (refitted on the rankings after the table and counted-noun changes: same verdicts in sample;
    # refitted with asked_missing: held out 25 - 15 as before, in sample paraphrases 6 -> 8 of 13
    # flagged, squad2 answerable flagged 2 -> 0). --sweep now prefers C 100, weight 1.5, threshold
    # 0.35 (held out 26 - 9) but that model calls "hello" answerable (0.36): not taken.
    bias: float = -1.7736
    best_sentence: float = 2.801
    dense: float = 5.0375
    coverage: float = -2.9225
    known: float = 0.1478
    type_missing: float = -4.3554
    margin: float = -1.207
    sentence_coverage: float = -2.3731
    sentence_type_missing: float = 2.6266
    missing_max: float = -0.8024
    focus: float = 2.6993
    focus_sentence: float = 3.1943
    named: float = -3.0625
    asked_missing: float = -3.28
    threshold: float = 0.45


@dataclass(frozen=True)
class SpanParams:
    """How qa.answer_span picks the answer inside the highlighted sentence: the candidate
    with the fewest words between it and a question word, plus these penalties (in words).
    Fitted by bench/answer_spans.py on the seed, paraphrase and SQuAD 2.0 questions.

    Attributes:
        punctuation_gap: what a punctuation mark between a candidate and a question
            word adds to their distance, as a content word does (a comma or bracket
            often ends the phrase the answer belongs to).
        counted_noun_window: a number reaches to the question's noun within this many
            words ("75 different countries" for "how many countries").
        counted_noun_bonus: taken off the distance of a number followed by the counted
            noun ("400 people" for "How many people ...?").
        single_word_name_penalty: a one-word name asked for by "who" ("Thank" vs "Vice
            Admiral Laborde").
        person_subject_bonus: taken off the distance of a name that opens the sentence
            when the question asks "who": the subject is who did it.
        max_asked_share: a candidate more than this share of whose words are the
            question's own restates the question and is dropped.
    """

    punctuation_gap: float = 1.0
    counted_noun_window: int = 2
    counted_noun_bonus: float = 1.0
    single_word_name_penalty: float = 1.0
    person_subject_bonus: float = 2.0
    max_asked_share: float = 0.5


SENTENCE_VECTORS = ("encoded", "pooled")


@dataclass(frozen=True)
class StoreParams:
    """How the FAISS folder store lays out and searches a large collection (qa.store).

    Attributes:
        approximate_from: from this many passages on, dense candidates come from an
            approximate index (FAISS `IVF{lists},SQ8`) and are re-scored exactly from the
            stored float32 vectors; below it every passage is compared (exact, as before).
        lists_per_sqrt: the IVF index has this many lists per square root of the passages
            (FAISS's rule of thumb, 4). bench/nprobe.py at 100k passages (hashing embedder,
            load average 7 to 9): 1265 lists reach recall@10 0.974 on the eval questions at
            nprobe 128 with a 2.2 ms search, where 316 lists (1 per square root) reach 0.963
            at 21 ms; training costs 50 s instead of 17 s.
        train_per_list: training vectors per IVF list (FAISS asks for at least 39).
        nprobe: IVF lists searched per question: the smallest of 8, 16, 32, 64, 128 whose
            recall@10 on the eval questions reached 0.95 in bench/nprobe.py (0.935 at 64);
            a build records its recall for passage vectors in the manifest.
        recall_sample: passage vectors used as questions when a build measures the approximate
            index's recall@10 against exact search (recorded in the manifest).
        text_block_chars: a document's text is stored in blocks of this many characters; a
            passage is read from the one or two blocks it spans (1024: a 200-candidate
            question reads about 400 KB of text, not 1.6 MB as with 4096).
        search_threads: FAISS threads a loaded store searches with (set for the process when
            it loads): one question's search is small, and on 2 busy cores more threads only
            wait on each other (10k passages, load average 14: 41 ms with 2, 7 ms with 1).
        sentence_vectors: how a build gets sentence vectors (the best-sentence score and the
            highlight): "encoded", each sentence on its own, or "pooled", the mean of its
            passage's token embeddings over the sentence (qa.span_pooling; no model call of
            its own). Recorded in the manifest: changing it rebuilds.
        sentence_centring: a pooled sentence vector less this much of its passage's vector
            (then normalised): pooled tokens carry their whole passage's context, so the
            sentences of a passage look alike unless what they share is taken out. On the
            seeds and SQuAD passages a pooled sentence is nearest its own encoded vector among
            its passage's sentences for 1120 of 1274 sentences uncentred, 1228 at 0.3 and 1264
            at 0.5 (mean cosine to the encoded vector 0.79, 0.80, 0.78); bench/quality.py
            prefers 0.5 to 0.3 (docs/architecture.md, "Pooled sentence vectors").
    """

    approximate_from: int = 50_000
    lists_per_sqrt: float = 4.0
    train_per_list: int = 40
    nprobe: int = 128
    recall_sample: int = 200
    text_block_chars: int = 1024
    search_threads: int = 1
    sentence_vectors: str = "encoded"
    sentence_centring: float = 0.5

    def __post_init__(self) -> None:
        if self.sentence_vectors not in SENTENCE_VECTORS:
            raise ValueError(f"store.sentence_vectors {self.sentence_vectors!r}: use one of {', '.join(SENTENCE_VECTORS)}")
