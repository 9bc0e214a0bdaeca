"""Pooled sentence vectors (StoreParams.sentence_vectors = "pooled"): a sentence's vector is
the mean of its passage's token embeddings over its characters. Real model, real builds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import SEEDS, TINY_DOCS, write_docs
from qa.config import Settings
from qa.documents import load_collection
from qa.params import StoreParams
from qa.store import build_index
from qa.store.embed_queue import centred
from qa.store.manifest import stale_reason

PROSE = ("The European Cybercrime Forum met in Budapest last April to discuss the partnership with "
         "the Department of Justice. Delegates agreed to share evidence about banking fraud within "
         "days rather than months. The next meeting will take place in Lisbon in the autumn.")


def spans_of(text: str) -> list[tuple[int, int]]:
    out, start = [], 0
    for end in [i + 1 for i, ch in enumerate(text) if ch == "." and (i + 1 == len(text) or text[i + 1] == " ")]:
        out.append((start, end))
        start = end + 1
    return out


def settings_for(docs: Path, index_dir: Path, mode: str) -> Settings:
    return Settings(docs=(docs,), index_dir=index_dir, store=StoreParams(sentence_vectors=mode))


@pytest.fixture(scope="module")
def seed_builds(embedder, tmp_path_factory):
    """The seed documents built with encoded and with pooled sentence vectors."""
    scratch = tmp_path_factory.mktemp("pooling")
    return {mode: build_index([load_collection(SEEDS)], embedder, settings_for(SEEDS, scratch / mode, mode))[0]
            for mode in ("encoded", "pooled")}


def test_pooled_sentence_vectors_are_close_to_encoded_ones_for_prose(embedder):
    spans = spans_of(PROSE)
    passages, [(pooled, covered)] = embedder.encode_pooled([PROSE], [spans])
    encoded = embedder.encode_documents([PROSE[s:e] for s, e in spans])
    assert covered.all()
    assert np.allclose(np.linalg.norm(pooled, axis=1), 1.0, atol=1e-4)
    assert np.sum(pooled * encoded, axis=1).min() > 0.5  # measured 0.93, 0.74, 0.55
    # Uncentred, the last sentence leans towards the first (the passage's topic: 0.75);
    # centred as a build does, each pooled sentence is nearest its own encoded vector.
    centred_vectors = centred(pooled, passages[0], StoreParams().sentence_centring)
    sims = centred_vectors @ encoded.T
    assert (np.argmax(sims, axis=1) == np.arange(len(spans))).all(), sims
    assert np.diag(sims).min() > 0.55  # measured 0.92, 0.74, 0.60


def test_passage_vectors_are_those_of_encode_documents(embedder):
    passages, _ = embedder.encode_pooled([PROSE, "Short one."], [spans_of(PROSE), [(0, 10)]])
    assert np.abs(passages - embedder.encode_documents([PROSE, "Short one."])).max() < 1e-5


def test_a_sentence_beyond_the_model_window_is_reported_uncovered(embedder):
    long_text = " ".join([PROSE] * 12)  # far beyond 256 word pieces
    spans = spans_of(long_text)
    _, [(_, covered)] = embedder.encode_pooled([long_text], [spans])
    assert covered[0] and not covered[-1]
    assert 0 < covered.sum() < len(spans)


def test_a_pooled_build_keeps_passage_vectors_and_records_its_choice(seed_builds, embedder):
    encoded, pooled = seed_builds["encoded"], seed_builds["pooled"]
    assert np.abs(np.asarray(encoded.passage_vectors) - np.asarray(pooled.passage_vectors)).max() < 1e-5
    a = np.asarray(encoded.sentence_vectors, dtype=np.float32)
    b = np.asarray(pooled.sentence_vectors, dtype=np.float32)
    cosines = np.sum(a * b, axis=1)
    assert np.median(cosines) > 0.9  # one-sentence passages keep their vector; prose sits close
    assert pooled.manifest["store"]["sentence_vectors"] == "pooled"
    settings = settings_for(SEEDS, Path("unused"), "encoded")
    assert "sentence vectors changed" in stale_reason(pooled.manifest, embedder, settings, None)
    assert stale_reason(encoded.manifest, embedder, settings, None) is None


def test_passages_under_a_heading_encode_their_sentences(tmp_path, embedder):
    docs = write_docs(tmp_path / "docs", TINY_DOCS)
    index, _ = build_index([load_collection(docs)], embedder, settings_for(docs, tmp_path / "index", "pooled"))
    for row, chunk in enumerate(index.chunks):
        if chunk.context:
            rows = index.sentence_rows(row)
            expected = embedder.encode_documents(chunk.sentence_texts())
            assert np.abs(np.asarray(index.sentence_vectors[rows], dtype=np.float32) - expected).max() < 2e-3
            return
    pytest.fail("no passage under a heading")


def test_the_onnx_encoder_pools_as_the_torch_model_does(embedder, tmp_path):
    pytest.importorskip("onnxruntime")
    from qa.embedding import resolve_model_path
    from qa.onnx_encoder import OnnxEncoder, export_model

    encoder = OnnxEncoder(export_model(resolve_model_path(""), embedder.name, tmp_path / "onnx"))
    texts = [PROSE, " ".join([PROSE] * 12)]
    spans = [spans_of(t) for t in texts]
    torch_passages, torch_pooled = embedder.encode_pooled(texts, spans)
    onnx_passages, onnx_pooled = encoder.encode_pooled(texts, spans)
    assert np.abs(torch_passages - onnx_passages).max() < 1e-4
    for (tv, tc), (ov, oc) in zip(torch_pooled, onnx_pooled):
        assert (tc == oc).all()
        assert np.abs(tv - ov).max() < 1e-4


def test_an_unknown_choice_is_refused():
    with pytest.raises(ValueError):
        StoreParams(sentence_vectors="averaged")
