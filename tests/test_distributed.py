"""Embedding on Ray: the same index and the same answers as a local build, on a real local Ray."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from qa.cli import with_ray_default
from qa.distributed.ray_embedding import RayUnavailableError, connect, plan_for
from qa.engine import Engine
from qa.evaluation.harness import load_questions

from conftest import SEED_QUESTIONS

ray = pytest.importorskip("ray", reason="requirements-distributed.txt is not installed")


@pytest.mark.parametrize("free, actors", [(1, 1), (2, 1), (2.5, 1), (3, 2), (16, 15)])
def test_actor_pool_leaves_a_cpu_for_ray_data(free, actors):
    assert plan_for(free, 64).actors == actors


@pytest.mark.parametrize("args, expected", [
    (["build", "--ray"], ["build", "--ray", "local"]),
    (["build", "--ray", "--docs", "x"], ["build", "--ray", "local", "--docs", "x"]),
    (["build", "--ray", "ray://head:10001"], ["build", "--ray", "ray://head:10001"]),
    (["build", "--docs", "x"], ["build", "--docs", "x"]),
])
def test_ray_flag_alone_means_a_local_ray(args, expected):
    assert with_ray_default(args) == expected


def test_missing_ray_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if the package were not installed
    with pytest.raises(RayUnavailableError, match="requirements-distributed.txt"):
        connect("local")


@pytest.fixture(scope="module")
def local_ray():
    connect("local", num_cpus=2)
    yield
    ray.shutdown()


@pytest.mark.slow
def test_ray_build_equals_local_build(local_ray, seeds_engine, seeds_settings, tmp_path):
    on_ray = Engine.open(seeds_settings.replace(index_dir=tmp_path / "ray-index", ray_address="local"))
    local, remote = seeds_engine.index, on_ray.index
    assert [(c.start, c.end, c.text) for c in remote.chunks] == [(c.start, c.end, c.text) for c in local.chunks]
    np.testing.assert_allclose(remote.passage_vectors, local.passage_vectors, atol=1e-5)
    # stored as float16: a 1e-6 difference can round to neighbouring values, one step (<= 2.5e-4) apart
    np.testing.assert_allclose(np.asarray(remote.sentence_vectors, dtype=np.float32),
                               np.asarray(local.sentence_vectors, dtype=np.float32), atol=2.5e-4)
    assert remote.manifest["model"] == local.manifest["model"]
    questions = [q.question for q in load_questions(SEED_QUESTIONS)]
    assert len(questions) == 33
    for a, b in zip(seeds_engine.ask_batch(questions), on_ray.ask_batch(questions)):
        assert [(r.source, r.paragraph) for r in a.results] == [(r.source, r.paragraph) for r in b.results]
        assert a.answerable == b.answerable
