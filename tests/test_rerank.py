"""The optional cross-encoder stage, with a tiny randomly initialised BERT built here."""

from __future__ import annotations

import numpy as np
import pytest

from qa.config import Settings
from qa.documents import load_collection
from qa.engine import open_index
from qa.errors import ModelLoadError
from qa.rerank import CrossEncoderReranker, load_reranker
from qa.retrieval import Retriever

from tests.conftest import write_docs

WORDS = ("the a is of and in has planet mars moon moons two small jupiter largest giant red storm saturn rings "
         "ice rock cow cows milk farm dog sheep fox foxes night meadow morning graze which what how many").split()

DOCS = {
    "space.md": "Mars is the fourth planet and has two small moons.\n\n"
    "Jupiter is the largest planet and has a giant red storm.\n\n"
    "Saturn has rings of ice and rock.\n",
    "farm.md": "Cows give milk every morning and graze in the meadow.\n\n"
    "The farm dog guards the sheep from foxes at night.\n\n"
    "Sheep graze in the meadow in the morning.\n",
}


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory) -> str:
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    folder = tmp_path_factory.mktemp("cross-encoder")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    torch.manual_seed(7)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128, num_labels=1)
    BertForSequenceClassification(config).save_pretrained(folder)
    BertTokenizer(str(folder / "vocab.txt")).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def index(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("rerank")
    folder = write_docs(root / "docs", DOCS)
    index, _ = open_index(Settings(docs=(folder,), index_dir=root / "index"), embedder, [load_collection(folder)])
    return index


def test_reranker_reorders_by_cross_encoder_scores(index, embedder, tiny_cross_encoder):
    from sentence_transformers import CrossEncoder

    reranker = CrossEncoderReranker(tiny_cross_encoder)
    direct = CrossEncoder(tiny_cross_encoder, local_files_only=True)
    n = len(index.chunks)
    question = "How many moons has Mars?"
    first = Retriever(index, embedder).search(question, n).hits
    depth = 4
    second = Retriever(index, embedder, reranker=reranker, rerank_depth=depth).search(question, n).hits
    # the block re-scored is the first stage's top `depth`, re-ordered by the cross-encoder
    block = [h.row for h in first[:depth]]
    expected = np.asarray(direct.predict([(question, index.chunks[r].text) for r in block]), dtype=np.float64)
    want = [block[i] for i in np.lexsort((block, -expected))]
    assert [h.row for h in second[:depth]] == want
    np.testing.assert_allclose([h.score for h in second[:depth]], np.sort(expected)[::-1], rtol=1e-5)
    # the cross-encoder's order is not the first stage's (else the test would prove nothing)
    assert want != block
    # below the block the first-stage order is kept, scored below the block
    assert [h.row for h in second[depth:]] == [h.row for h in first[depth:]]
    scores = [h.score for h in second]
    assert scores == sorted(scores, reverse=True)
    # k still cuts the list
    assert len(Retriever(index, embedder, reranker=reranker, rerank_depth=depth).search(question, 2).hits) == 2


def test_reranker_from_settings(index, embedder, tiny_cross_encoder):
    retriever = Retriever.from_settings(index, embedder, Settings(reranker=tiny_cross_encoder, rerank_depth=3))
    assert retriever.reranker is load_reranker(tiny_cross_encoder, "cpu")
    assert retriever.rerank_depth == 3
    assert Retriever.from_settings(index, embedder, Settings()).reranker is None  # off by default


def test_missing_reranker_is_a_clear_error(tmp_path):
    with pytest.raises(ModelLoadError):
        CrossEncoderReranker(str(tmp_path / "no-such-model"))
