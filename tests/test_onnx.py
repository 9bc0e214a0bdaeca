"""Questions answered through the model's ONNX export: the same vectors, and no torch import."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, SEEDS
from qa.config import Settings
from qa.embedding import resolve_model_path
from qa.engine import query_embedder
from qa.onnx_encoder import OnnxEncoder, export_folder, export_model, load_onnx_encoder

TEXTS = ["Where was the cybercrime forum held?", "hello", "word " * 400,
         "Mars has two small moons, Phobos and Deimos.", "Ünïcödé — and emoji 🚀 too"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory, embedder):
    folder = tmp_path_factory.mktemp("onnx")
    export_model(resolve_model_path(""), embedder.name, folder)
    return folder


def test_onnx_vectors_equal_the_torch_model(exported, embedder):
    onnx = OnnxEncoder(exported)
    assert (onnx.name, onnx.dimension, onnx.max_tokens) == (embedder.name, embedder.dimension, embedder.max_tokens)
    np.testing.assert_allclose(onnx.encode_queries(TEXTS), embedder.encode_queries(TEXTS), atol=1e-5)
    np.testing.assert_allclose(onnx.encode_documents(TEXTS), embedder.encode_documents(TEXTS), atol=1e-5)
    assert [onnx.count_tokens(t) for t in TEXTS] == [embedder.count_tokens(t) for t in TEXTS]
    assert [onnx.truncate(t) for t in TEXTS] == [embedder.truncate(t) for t in TEXTS]


def test_an_export_for_another_model_is_not_used(exported, tmp_path):
    assert load_onnx_encoder(exported.parent / "nowhere", "x") is None
    (tmp_path / "onnx").symlink_to(exported, target_is_directory=True)
    assert load_onnx_encoder(tmp_path, "some/other-model") is None
    assert isinstance(load_onnx_encoder(tmp_path, OnnxEncoder(exported).name), OnnxEncoder)


@pytest.mark.slow
def test_ask_after_a_build_answers_without_torch(tmp_path, seeds_engine):
    index = tmp_path / "index"
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-m", "qa", "build", "--docs", str(SEEDS), "--index", str(index)],
                   cwd=ROOT, env=env, check=True, capture_output=True, timeout=600)
    assert (export_folder(index) / "model.onnx").is_file()
    probe = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from qa.config import Settings\n"
        "from qa.engine import Engine\n"
        f"e = Engine.open(Settings(docs=(Path({str(SEEDS)!r}),), index_dir=Path({str(index)!r})))\n"
        "a = e.ask('Where was the European Cybercrime Forum held?')\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'built': e.build_report is not None,\n"
        "                  'answer': [(r.source, r.paragraph) for r in a.results]}))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, check=True, capture_output=True,
                         text=True, timeout=600)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["torch"] is False and seen["built"] is False
    expected = seeds_engine.ask("Where was the European Cybercrime Forum held?")
    assert [tuple(x) for x in seen["answer"]] == [(r.source, r.paragraph) for r in expected.results]


def test_onnx_queries_off_keeps_torch(tmp_path, exported):
    (tmp_path / "onnx").symlink_to(exported, target_is_directory=True)
    on = Settings(docs=(SEEDS,), index_dir=tmp_path)
    assert isinstance(query_embedder(on).encoder, OnnxEncoder)  # behind the batching wrapper
    assert isinstance(query_embedder(on.replace(batch_max_questions=1)), OnnxEncoder)
    assert query_embedder(on.replace(onnx_queries=False)) is None
