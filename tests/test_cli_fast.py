"""`python -m qa ask` on an up-to-date index answers through the ONNX export: the heavy
libraries (torch, sentence-transformers, transformers, gradio, ray) are never imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from qa.engine import Engine
from qa.onnx_encoder import export_folder

HEAVY = ("torch", "sentence_transformers", "transformers", "gradio", "ray")


def imported_modules(importtime_stderr: str) -> set[str]:
    """Every module named in `python -X importtime` output (`import time: self | total | name`)."""
    return {line.rsplit("|", 1)[1].strip() for line in importtime_stderr.splitlines()
            if line.startswith("import time:") and line.count("|") == 2}


@pytest.mark.slow
def test_ask_on_an_up_to_date_index_imports_no_heavy_library(tiny_settings, embedder):
    engine = Engine.open(tiny_settings)
    engine.export_for_fast_start()  # as `python -m qa build` leaves it
    assert (export_folder(tiny_settings.index_dir) / "model.onnx").is_file()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "qa", "ask", "How many moons does Mars have?", "--json",
         "--docs", str(tiny_settings.docs[0]), "--index", str(tiny_settings.index_dir)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    modules = imported_modules(proc.stderr)
    assert "qa.onnx_encoder" in modules and "onnxruntime" in modules  # the output is read right
    assert {m.split(".")[0] for m in modules} & set(HEAVY) == set()
    answer = json.loads(proc.stdout)
    assert answer["results"][0]["source"] == "space.txt"
    assert "Phobos" in answer["results"][0]["text"]
