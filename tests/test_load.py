"""Concurrent clients on the real server: no errors, and every answer is the engine's own."""

import asyncio
import sys
from pathlib import Path

import httpx

from qa.server import create_app, serving

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from load import run  # noqa: E402

QUESTIONS = [
    "Where was the European Cybercrime Forum held?",
    "How many countries participate in Program Global Shield?",
    "What is the population of Tokyo?",
    "Which chemical made up most of the seizures?",
]


def test_concurrent_clients_get_correct_answers_and_no_errors(seeds_engine):
    expected = {q: seeds_engine.ask(q, k=5).to_dict() for q in QUESTIONS}
    with serving(create_app(seeds_engine)) as url:
        latencies, errors, _, health, _ = asyncio.run(run(url, QUESTIONS, clients=8, seconds=3, max_requests=200))

        async def burst():
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                replies = await asyncio.gather(*(http.get("/api/ask", params={"q": q, "k": 5}) for q in QUESTIONS * 4))
            return [(r.status_code, r.json()) for r in replies]

        replies = asyncio.run(burst())
    assert errors == [] and len(latencies) >= 8 and health
    for (status, body), question in zip(replies, QUESTIONS * 4):
        assert status == 200 and body == expected[question]
