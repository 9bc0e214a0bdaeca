"""Questions answered together (qa.batching): the same vectors, rankings and replies as
alone, through the real ONNX export, the real engine and the real server; kept answers
never outlive the index build they came from."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest

from conftest import SEEDS
from qa.batching import AnswerCache, BatchingEncoder, cached_ask
from qa.config import Settings
from qa.engine import Engine
from qa.onnx_encoder import OnnxEncoder, export_folder
from qa.server import create_app, serving

QUESTIONS = [
    "Where was the European Cybercrime Forum held?",
    "How many countries participate in Program Global Shield?",
    "What is the population of Tokyo?",
    "Which chemical made up most of the seizures?",
    "What role did PNR analysis play in terrorism investigations?",
    "hello",
    "Tell me, in as many words as it takes, which agency stationed personnel in how many countries abroad",
    "word " * 300,
]


@pytest.fixture(scope="module")
def onnx_seeds(tmp_path_factory, embedder) -> Settings:
    """The seeds indexed in a temporary folder with the model's ONNX export beside them."""
    settings = Settings(docs=(SEEDS,), index_dir=tmp_path_factory.mktemp("onnx-seeds"))
    Engine.open(settings).export_for_fast_start()
    return settings


@pytest.mark.slow
def test_a_question_has_the_same_vector_alone_or_in_a_batch(onnx_seeds):
    encoder = OnnxEncoder(export_folder(onnx_seeds.index_dir), threads=1, token_bucket=8)
    together = encoder.encode_queries(QUESTIONS + QUESTIONS[:3])
    alone = np.vstack([encoder.encode_queries([q]) for q in QUESTIONS + QUESTIONS[:3]])
    assert np.array_equal(together, alone)  # bit for bit, not close
    lengths = [encoder.padded_length(encoder.count_tokens(q)) for q in QUESTIONS]
    assert len(set(lengths)) < len(lengths)  # some questions did share a run


@pytest.mark.slow
def test_concurrent_callers_share_runs_and_get_their_own_rows(onnx_seeds):
    encoder = OnnxEncoder(export_folder(onnx_seeds.index_dir))
    runs = []
    real_encode = encoder.encode_queries

    def counting(texts):
        runs.append(len(texts))
        return real_encode(texts)

    encoder.encode_queries = counting
    # A long wait ends as soon as every caller has arrived (the most texts a run takes).
    batching = BatchingEncoder(encoder, wait_ms=5000, max_texts=len(QUESTIONS))
    batching.encode_queries(QUESTIONS[:1])
    assert runs == [1]  # a lone question waits for nobody
    batching.encode_queries(QUESTIONS[:2])  # a run with company: the next leader waits
    runs.clear()
    start = threading.Barrier(len(QUESTIONS))

    def ask(q):
        start.wait()
        return batching.encode_queries([q])

    with ThreadPoolExecutor(len(QUESTIONS)) as pool:
        rows = list(pool.map(ask, QUESTIONS))
    assert runs == [len(QUESTIONS)]
    assert np.array_equal(np.vstack(rows), np.vstack([real_encode([q]) for q in QUESTIONS]))
    assert batching.dimension == encoder.dimension and batching.truncate("x") == encoder.truncate("x")


@pytest.mark.slow
def test_the_server_replies_alike_with_and_without_batching(onnx_seeds):
    batched = Engine.open(onnx_seeds)
    alone = Engine.open(onnx_seeds.replace(batch_max_questions=1, answer_cache_size=0))
    assert isinstance(batched.embedder, BatchingEncoder) and isinstance(alone.embedder, OnnxEncoder)
    expected = {q: alone.ask(q, 5, "hybrid").to_dict() for q in QUESTIONS}

    async def burst(url):
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            return await asyncio.gather(*(http.get("/api/ask", params={"q": q, "k": 5}) for q in QUESTIONS * 3))

    with serving(create_app(batched, ui=False)) as url:
        replies = asyncio.run(burst(url))
    assert [r.status_code for r in replies] == [200] * len(replies)
    assert [r.json() for r in replies] == [expected[q] for q in QUESTIONS * 3]


def test_a_kept_answer_is_not_served_after_the_index_changes(tiny_settings, embedder):
    engine = Engine.open(tiny_settings)
    cache = AnswerCache(8)
    question = "Which moon orbits Saturn?"
    first = cached_ask(engine, cache, question, 3, "hybrid")
    assert cached_ask(engine, cache, question, 3, "hybrid") is first  # kept
    assert cached_ask(engine, cache, question, 2, "hybrid") is not first  # another k is another key
    engine.add_documents([("saturn.txt", b"Titan is the largest moon of Saturn, with a thick hazy atmosphere.\n")])
    after = cached_ask(engine, cache, question, 3, "hybrid")
    assert after is not first and after.results[0].source == "saturn.txt"
    assert cached_ask(engine, cache, question, 3, "hybrid") is after


def test_the_cache_keeps_only_the_latest_answers(tiny_settings, embedder):
    engine = Engine.open(tiny_settings)
    cache = AnswerCache(2)
    answers = [cached_ask(engine, cache, q, 1, "bm25") for q in ("cows", "moons", "storm")]
    assert cached_ask(engine, cache, "storm", 1, "bm25") is answers[2]
    assert cached_ask(engine, cache, "cows", 1, "bm25") is not answers[0]  # the oldest went first
    off = AnswerCache(0)
    assert cached_ask(engine, off, "cows", 1, "bm25") is not cached_ask(engine, off, "cows", 1, "bm25")
