"""Fusion arithmetic on hand-computed arrays, the ranking contract of every mode, and the
BM25 tokenizer."""

from __future__ import annotations

import numpy as np
import pytest

from qa.config import FUSIONS, MODES, Settings, load_settings
from qa.embedding import load_embedder
from qa.engine import Engine, open_index
from qa.errors import BadQueryError
from qa.documents import load_collection
from qa.lexical import term_set, tokenize
from qa.retrieval import SCORE_DECIMALS, RRF_K, Retriever, fuse, minmax, ranks, rrf, zscore

from tests.conftest import write_docs

# --- fusion arithmetic ------------------------------------------------------------------


def test_minmax_scales_to_unit_interval():
    np.testing.assert_allclose(minmax(np.array([2.0, 4.0, 3.0])), [0.0, 1.0, 0.5])
    np.testing.assert_allclose(minmax(np.array([7.0, 7.0])), [0.0, 0.0])  # no spread: no signal
    assert minmax(np.array([])).shape == (0,)


def test_zscore_uses_population_std():
    # mean 2, population std sqrt(2/3)
    np.testing.assert_allclose(zscore(np.array([1.0, 2.0, 3.0])), [-1.224744871, 0.0, 1.224744871], atol=1e-9)
    np.testing.assert_allclose(zscore(np.array([5.0, 5.0, 5.0])), [0.0, 0.0, 0.0])


def test_ranks_share_the_better_rank_on_ties():
    np.testing.assert_array_equal(ranks(np.array([0.5, 0.9, 0.5, 0.1])), [2, 1, 2, 4])
    np.testing.assert_array_equal(ranks(np.array([3.0])), [1])


def test_rrf_sums_reciprocal_ranks_with_k():
    # candidate 0 is first in list A and third in list B; k = 10
    fused = rrf([np.array([1, 2, 3]), np.array([3, 2, 1])], k=10)
    np.testing.assert_allclose(fused, [1 / 11 + 1 / 13, 1 / 12 + 1 / 12, 1 / 13 + 1 / 11])
    assert RRF_K == 60
    np.testing.assert_allclose(rrf([np.array([2, 1])]), [1 / 62, 1 / 61])
    # a candidate missing from a list gets nothing from it
    np.testing.assert_allclose(rrf([np.array([np.inf, 1, np.inf])], k=1), [0.0, 0.5, 0.0])


def test_fuse_convex_minmax_and_zscore():
    dense = np.array([0.2, 0.6, 0.4])
    bm25 = np.array([10.0, 0.0, 5.0])
    # minmax: dense -> [0, 1, .5], bm25 -> [1, 0, .5]
    np.testing.assert_allclose(fuse(dense, bm25, "minmax", 0.75), [0.25, 0.75, 0.5])
    # zscore: dense -> [-1.2247, 1.2247, 0], bm25 -> [1.2247, -1.2247, 0]
    z = 1.224744871
    np.testing.assert_allclose(fuse(dense, bm25, "zscore", 0.25), [-0.25 * z + 0.75 * z, 0.25 * z - 0.75 * z, 0.0], atol=1e-12)


def test_fuse_rrf_ignores_weight_and_uses_k():
    dense = np.array([0.9, 0.1, 0.5])
    bm25 = np.array([1.0, 3.0, 2.0])
    got = fuse(dense, bm25, "rrf", 0.99, rrf_k=1)
    # dense ranks 0,2,1; bm25 ranks 1,2,0
    np.testing.assert_allclose(got, [1 / 2 + 1 / 4, 1 / 4 + 1 / 2, 1 / 3 + 1 / 3])
    # tied scores share a rank
    np.testing.assert_allclose(fuse(np.array([0.5, 0.5]), np.array([1.0, 0.0]), "rrf", 0.5, rrf_k=1),
                               [1 / 2 + 1 / 2, 1 / 2 + 1 / 3])
    with pytest.raises(BadQueryError):
        fuse(dense, bm25, "sum", 0.5)


def test_fusion_is_a_setting():
    assert Settings().fusion in FUSIONS
    assert load_settings(environ={"QA_FUSION": "rrf", "QA_RRF_K": "20"}).rrf_k == 20
    assert load_settings(environ={"QA_FUSION": "rrf"}).fusion == "rrf"
    with pytest.raises(BadQueryError):
        Settings(fusion="max")
    with pytest.raises(BadQueryError):
        Settings(rrf_k=0)


# --- tokenizer --------------------------------------------------------------------------


def test_tokenize_matches_bm25s():
    import bm25s

    from qa.lexical import _stemmer

    texts = ["The cows were grazing in the meadows.", "", "Ünïcode STRASSE 3D x2 a_b don't",
             "Mars is the fourth planet; it has two moons!"]
    expected = bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)
    assert tokenize(texts) == expected
    assert term_set("Cows and cows graze") == frozenset({"cow", "graze"})


# --- the ranking contract, for every mode -------------------------------------------------

DUPLICATE = "Saturn has bright rings made of ice and rock, and dozens of moons."
CONTRACT_DOCS = {
    "planets.md": "# Planets\n\nMars is the fourth planet from the Sun and has two small moons.\n\n"
    f"{DUPLICATE}\n\nJupiter is the largest planet and has a giant red storm.\n",
    # The same heading: a Markdown passage is embedded with its heading trail, so twins need the same one.
    "copy.md": f"# Planets\n\n{DUPLICATE}\n",
    "farm.txt": "Cows give milk every morning and graze in the meadow.\n\nThe farm dog guards the sheep at night.\n",
}


@pytest.fixture(scope="module")
def contract_index(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("contract")
    folder = write_docs(root / "docs", CONTRACT_DOCS)
    settings = Settings(docs=(folder,), index_dir=root / "index")
    index, _ = open_index(settings, embedder, [load_collection(folder)])
    return index


def test_bm25_candidates_come_from_the_postings_with_bm25s_scores(contract_index):
    """Candidates are summed from the query terms' postings only (not a vector over every
    passage): the passages and float32 scores must be bm25s's own, a repeated term included."""
    lexical, everyone = contract_index.lexical, np.arange(contract_index.passages)
    for query in ("Mars moons", "planet planet storm", "dog sheep milk", "zzz unknown", "the"):
        full = lexical.scores(query)
        rows, scores = lexical.matches(query)
        assert rows.tolist() == np.flatnonzero(full).tolist()
        assert scores.tolist() == full[rows].tolist()
        assert contract_index.lexical_scores(query, everyone).tolist() == full.astype(np.float64).tolist()
    rows, best = contract_index.lexical_candidates("Mars moons", contract_index.passages)
    assert sorted(rows.tolist()) == everyone.tolist()  # passages scoring zero fill the list
    assert best == float(lexical.scores("Mars moons").max()) > 0


@pytest.mark.parametrize("fusion", FUSIONS)
@pytest.mark.parametrize("mode", MODES)
def test_ranking_contract(contract_index, embedder, mode, fusion):
    retriever = Retriever(contract_index, embedder, fusion=fusion)
    n = len(contract_index.chunks)
    for question in ("Which planet has rings of ice?", "How many moons does Mars have?", "zzzz qqqq"):
        for k in (1, 3, n + 5):
            hits = retriever.search(question, k, mode).hits
            assert 1 <= len(hits) <= min(k, n)
            scores = [h.score for h in hits]
            assert scores == sorted(scores, reverse=True)
            for a, b in zip(hits, hits[1:]):  # ties broken by passage row
                assert a.score > b.score or a.row < b.row
            assert len({h.row for h in hits}) == len(hits)
    # (no title word in the query: BM25 indexes each passage with its document title)
    hits = retriever.search("What has bright rings made of ice and rock?", 2, mode).hits
    twins = [i for i, c in enumerate(contract_index.chunks) if c.text == DUPLICATE]
    assert len(twins) == 2
    # the two identical passages score the same, and the lower row comes first
    assert [h.row for h in hits] == twins
    assert hits[0].score == hits[1].score


def test_modes_differ_on_a_keyword_question(contract_index, embedder):
    retriever = Retriever(contract_index, embedder)
    bm25 = retriever.search("Jupiter storm", 1, "bm25").hits[0]
    assert "Jupiter" in contract_index.chunks[bm25.row].text
    assert bm25.lexical > 0
    dense = retriever.search("What do cows produce?", 1, "dense").hits[0]
    assert "milk" in contract_index.chunks[dense.row].text


@pytest.mark.parametrize("mode", MODES)
def test_search_batch_matches_single(contract_index, embedder, mode):
    """Alone or in a batch of questions of other lengths: the same ranking, the same scores."""
    retriever = Retriever(contract_index, embedder)
    questions = ["Which planet is the largest?", "What guards the sheep?",
                 "Tell me which of the planets in this little collection has a giant red storm on it"]
    batch = retriever.search_batch(questions, 5, mode)
    for q, ranking in zip(questions, batch):
        single = retriever.search(q, 5, mode)
        assert [(h.row, h.score, h.dense, h.best_sentence) for h in single.hits] == \
            [(h.row, h.score, h.dense, h.best_sentence) for h in ranking.hits]


def test_scores_are_settled_to_fixed_decimals(contract_index, embedder):
    """Scores that decide ranks carry no float noise past SCORE_DECIMALS, so equal-in-exact-
    arithmetic scores are equal on every CPU (a float32 product differs by row position)."""
    hits = Retriever(contract_index, embedder).search("Which planet has rings?", 10, "hybrid").hits
    for h in hits:
        for value in (h.score, h.dense, h.lexical, h.best_sentence):
            assert value == round(value, SCORE_DECIMALS)


def test_unknown_mode_is_refused(contract_index, embedder):
    with pytest.raises(BadQueryError):
        Retriever(contract_index, embedder).search("x", 3, "sparse")
    with pytest.raises(BadQueryError):
        Retriever(contract_index, embedder, fusion="max")


def test_packaged_model_is_the_session_model(embedder):
    assert load_embedder("", "cpu") is embedder


# --- BM25 text and persistence --------------------------------------------------------------


def test_passage_text_prefixes_the_title_once():
    from qa.lexical import passage_text

    assert passage_text("Mars", "It has two moons.", "title+passage") == "Mars\nIt has two moons."
    assert passage_text("Mars", "Mars has two moons.", "title+passage") == "Mars has two moons."
    assert passage_text("Mars", "It has two moons.", "passage") == "It has two moons."
    assert passage_text("", "It has two moons.", "title+passage") == "It has two moons."
    # a long document's title would match every one of its passages alike
    assert passage_text("Mars", "It has two moons.", "title+passage", document_passages=30) == "It has two moons."


def test_bm25_change_rebuilds_bm25_only(tmp_path, embedder):
    from dataclasses import replace

    from qa import lexical

    folder = write_docs(tmp_path / "docs", CONTRACT_DOCS)
    settings = Settings(docs=(folder,), index_dir=tmp_path / "index")
    collections = [load_collection(folder)]
    first, report = open_index(settings, embedder, collections)
    assert report is not None and first.manifest["lexical"] == lexical.config(settings.lexical)
    assert open_index(settings, embedder, collections)[1] is None  # up to date
    changed = settings.replace(lexical=replace(settings.lexical, k1=settings.lexical.k1 + 0.3))
    second, report = open_index(changed, embedder, collections)
    assert report is not None and report.passages_embedded == 0  # vectors reused
    assert second.manifest["lexical"]["k1"] == changed.lexical.k1
    np.testing.assert_array_equal(first.passage_vectors, second.passage_vectors)


def test_a_how_many_question_damps_passages_without_a_number(embedder, tmp_path):
    """For a how-many question, a passage holding no number gives up RankParams.answer_type_bonus
    of its lead over the weakest candidate; the passage holding the figure keeps its score."""
    from dataclasses import replace

    from qa.params import RankParams

    bonus = RankParams().answer_type_bonus

    docs = write_docs(tmp_path / "docs", {"shield.txt": (
        "As part of this effort we launched Program Global Shield, an initiative to protect the supply "
        "chain by preventing the theft or illegal diversion of precursor chemicals used in explosives.\n\n"
        "More than 80 nations now participate in the program and it has already led to large seizures.\n\n"
        "Program Global Shield is run with the World Customs Organization and its member customs services.\n"
    )})
    engine = Engine.open(Settings(docs=(docs,), index_dir=tmp_path / "index"))
    question = "How many countries participate in Program Global Shield?"
    damped = {engine.index.chunks[h.row].text[:12]: h.score for h in engine.retriever.search(question, 3).hits}
    plain_retriever = Retriever(engine.index, engine.embedder, params=replace(RankParams(), answer_type_bonus=0.0))
    plain = {engine.index.chunks[h.row].text[:12]: h.score for h in plain_retriever.search(question, 3).hits}
    floor = min(plain.values())
    assert damped["More than 80"] == pytest.approx(plain["More than 80"])
    for name in ("As part of t", "Program Glob"):
        assert damped[name] - floor == pytest.approx((plain[name] - floor) * (1 - bonus))
    # A question that does not ask for a quantity is ranked as before.
    other = "Who runs Program Global Shield?"
    assert [h.score for h in engine.retriever.search(other, 3).hits] == pytest.approx(
        [h.score for h in plain_retriever.search(other, 3).hits])


def test_bm25_weighs_less_when_the_question_words_are_not_in_the_collection(embedder, tmp_path):
    """A paraphrase matches the collection on a common word only: its BM25 side is scaled by
    the best passage's share of the ideal score, so it cannot outvote the dense side."""
    docs = write_docs(tmp_path / "docs", {"a.txt": (
        "The department works with Europol on ways for police to recognise violent extremism.\n\n"
        "The department and the European Union signed a statement on supply chain security.\n\n"
        "The department has officers in many countries who work with their partners.\n"
    )})
    engine = Engine.open(Settings(docs=(docs,), index_dir=tmp_path / "index"))
    retriever = engine.retriever
    lexical = engine.index.lexical
    exact = "What does the department do with Europol on violent extremism?"
    paraphrase = "Which EU police agency helps spot radicalised behaviour?"
    strong = retriever._lexical_strength(exact, float(lexical.scores(exact).max()))
    weak = retriever._lexical_strength(paraphrase, float(lexical.scores(paraphrase).max()))
    assert 0.0 <= weak < 0.25 < 0.5 < strong <= 1.0
    # off, the scaling leaves min-max fusion as it was
    from qa.params import RankParams

    off = Retriever(engine.index, engine.embedder, params=RankParams(lexical_full_share=0.0))
    assert off._lexical_strength(paraphrase, float(lexical.scores(paraphrase).max())) == 1.0
    # every content term of the question, once, in a passage of about average length: about
    # 1 / (1 + k1) of the ideal score
    assert max(lexical.scores(exact)) / lexical.ideal_score(exact) == pytest.approx(1 / (1 + engine.settings.lexical.k1), abs=0.1)


def test_fuse_scales_the_lexical_side():
    dense, lexical = np.array([0.2, 0.5, 0.9]), np.array([3.0, 1.0, 0.0])
    full = fuse(dense, lexical, "minmax", 0.6)
    half = fuse(dense, lexical, "minmax", 0.6, lexical_strength=0.5)
    np.testing.assert_allclose(full - half, 0.4 * 0.5 * minmax(lexical))
    np.testing.assert_allclose(fuse(dense, lexical, "minmax", 0.6, lexical_strength=0.0), 0.6 * minmax(dense))


def test_a_passage_that_only_asks_gives_way_to_the_one_that_answers(embedder, tmp_path):
    """A question quoted in a document (an e-mail thread) sits closest to the asker's
    question; its best sentence counts at RankParams.question_sentence_factor, so the reply
    holding the answer ranks first (with the factor at 1 the quoted question does)."""
    docs = write_docs(tmp_path / "docs", {"thread.txt": (
        "> Good question. There are 12 parking spaces in the basement, so they will be allocated by ballot "
        "for the first six months. Put your name down with me by Friday.\n\n"
        ">> Thanks Sara. Is there parking at the new building, and if so how do we get a space? "
        "I drive in from Stockport most days.\n\n"
        "The removal team will pack the monitors in the blue crates on Thursday afternoon.\n")})
    engine = Engine.open(Settings(docs=(docs,), index_dir=tmp_path / "index"))
    question = "How are the parking spaces at the new office being handed out?"
    first = engine.index.chunks[engine.retriever.search(question, 3).hits[0].row].text
    assert "ballot" in first
    from dataclasses import replace

    from qa.params import RankParams

    plain = Retriever(engine.index, engine.embedder, params=replace(RankParams(), question_sentence_factor=1.0))
    assert "Is there parking" in engine.index.chunks[plain.search(question, 3).hits[0].row].text


def test_a_heading_naming_the_questions_code_counts_as_holding_its_telling_words():
    from qa.retrieval import heading_shares

    terms = {"withdrawn": 2.0, "reason": 1.0}
    shares = heading_shares(["4.2.1 (withdrawn)", "4.2.2 (2 May 2024)", ""], terms, ("4.2.1",), 3.0)
    assert shares.tolist() == pytest.approx([(2.0 + 3.0) / 6.0, 0.0, 0.0])
    assert heading_shares(["4.2.1 (withdrawn)"], terms, (), 3.0).tolist() == pytest.approx([2.0 / 3.0])


def test_a_how_many_noun_question_prefers_the_passage_counting_that_noun(embedder, tmp_path):
    """"How many streets ...?": a passage holding a number that reaches to "streets" keeps its
    score, the others give up RankParams.counted_noun_bonus of their lead over the weakest; a
    question whose noun no candidate counts is ranked as with the rule off."""
    from dataclasses import replace

    from qa.params import RankParams

    bonus = RankParams().counted_noun_bonus
    docs = write_docs(tmp_path / "docs", {"study.txt": (
        "The Marlow Heath study looked at how street trees cool the streets of the suburb on summer afternoons.\n\n"
        "Between June and August 2022 we surveyed 42 residential streets, chosen so that each street type "
        "appeared in every part of the suburb.\n\n"
        "Shaded pavements were on average 6 degrees cooler than open ones at three in the afternoon.\n\n"
        "The suburb of Marlow Heath is home to about 38,000 people on the southern edge of Dunmore.\n"
    )})
    engine = Engine.open(Settings(docs=(docs,), index_dir=tmp_path / "index"))
    off = Retriever(engine.index, engine.embedder, params=replace(RankParams(), counted_noun_bonus=0.0))

    def scores(retriever, question):
        return {engine.index.chunks[h.row].text[:12]: h.score for h in retriever.search(question, 4).hits}

    question = "How many streets did the Marlow Heath researchers look at?"
    on, plain = scores(engine.retriever, question), scores(off, question)
    floor = min(plain.values())
    assert bonus > 0 and on["Between June"] == pytest.approx(plain["Between June"])
    for name in ("The Marlow H", "The suburb o"):
        assert on[name] - floor == pytest.approx((plain[name] - floor) * (1 - bonus))
    other = "How many trees did the researchers plant?"
    assert scores(engine.retriever, other) == pytest.approx(scores(off, other))
