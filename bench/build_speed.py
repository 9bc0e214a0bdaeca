"""Build speed against the model's raw encode speed, measured in the same run.

    python bench/build_speed.py [--passages 2000] [--onnx] [--json] [--sentence-vectors pooled]
                                [--docs FOLDER] [--scratch DIR]

The collection is `--passages` paragraphs of one to three real sentences (see
bench/ray_build.py). The build runs through the real store code (`build_index` and
`save_index`, the model already loaded) and every text it sends to the model is recorded;
the raw rate is the same texts encoded again in one call, the model's best case. A row is one
text the model embedded (a passage or a sentence). With `--onnx` the same texts are also
encoded by the model exported to ONNX Runtime, in fp32 and with int8 dynamic quantisation,
with the cosine of each vector to the torch model's. With `--sentence-vectors pooled` the
build pools sentence vectors from its passages' token embeddings (StoreParams.sentence_vectors)
and a row is a passage or a sentence encoded on its own; compare `build_seconds` across runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from qa.config import Settings  # noqa: E402
from qa.evaluation.harness import format_table  # noqa: E402
from qa.params import SENTENCE_VECTORS  # noqa: E402
from ray_build import write_collection  # noqa: E402

SCRATCH = ROOT / ".cache" / "bench" / "build-speed"


class RecordingEmbedder:
    """The real embedder, noting every text a build sends it."""

    def __init__(self, embedder) -> None:
        self._embedder = embedder
        self.texts: list[str] = []

    def __getattr__(self, name):
        return getattr(self._embedder, name)

    def encode_documents(self, texts, progress: bool = False):
        self.texts.extend(texts)
        return self._embedder.encode_documents(texts, progress)

    def encode_pooled(self, texts, spans):
        self.texts.extend(texts)  # passages; their pooled sentences cost no model call
        return self._embedder.encode_pooled(texts, spans)


def timed_build(docs: Path, index_dir: Path, embedder, store=None) -> float:
    from qa.documents import load_collection
    from qa.store import build_index, save_index

    shutil.rmtree(index_dir, ignore_errors=True)
    settings = Settings(docs=(docs,), index_dir=index_dir)
    settings = settings.replace(store=store) if store is not None else settings
    started = time.perf_counter()
    index, _ = build_index([load_collection(docs)], embedder, settings)
    save_index(index, index_dir)
    return time.perf_counter() - started


def timed_encode(encode, texts) -> tuple[np.ndarray, float]:
    started = time.perf_counter()
    vectors = encode(texts)
    return vectors, time.perf_counter() - started


def onnx_rows(texts: list[str], reference: np.ndarray, model_path: str, name: str) -> list[dict]:
    """fp32 and int8 ONNX encoders on `texts`: rate and agreement with the torch vectors."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from qa.onnx_encoder import EXPORT_FILE, OnnxEncoder, export_model

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = export_model(model_path, name, Path(tmp) / "fp32")
        int8 = Path(tmp) / "int8"
        shutil.copytree(fp32, int8)
        quantize_dynamic(str(fp32 / EXPORT_FILE), str(int8 / EXPORT_FILE), weight_type=QuantType.QInt8)
        for label, folder in (("onnx fp32", fp32), ("onnx int8", int8)):
            encoder = OnnxEncoder(folder)
            vectors, seconds = timed_encode(encoder.encode_documents, texts)
            cosines = np.sum(vectors * reference, axis=1)
            rows.append({"backend": label, "rows": len(texts), "seconds": round(seconds, 2),
                         "rows_per_s": round(len(texts) / seconds, 1),
                         "min_cosine": round(float(cosines.min()), 5), "mean_cosine": round(float(cosines.mean()), 5)})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=2000)
    parser.add_argument("--onnx", action="store_true", help="also time the ONNX fp32 and int8 encoders")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--sentence-vectors", choices=SENTENCE_VECTORS, default=None,
                        help="StoreParams.sentence_vectors for the build (default: the shipped one)")
    parser.add_argument("--centring", type=float, default=None, help="StoreParams.sentence_centring")
    parser.add_argument("--scratch", type=Path, default=SCRATCH, help="generated documents and the index")
    parser.add_argument("--build-only", action="store_true", help="time the build alone (no raw encode)")
    parser.add_argument("--docs", type=Path, default=None, help="build this folder instead of generated passages")
    args = parser.parse_args(argv)

    from qa.embedding import load_embedder, resolve_model_path

    settings = Settings()
    embedder = load_embedder(settings.model, settings.device)
    docs = args.docs or args.scratch / f"docs-{args.passages}"
    if args.docs is None:
        shutil.rmtree(docs, ignore_errors=True)
        write_collection(docs, args.passages)
    store = settings.store
    if args.sentence_vectors is not None:
        store = dataclasses.replace(store, sentence_vectors=args.sentence_vectors)
    if args.centring is not None:
        store = dataclasses.replace(store, sentence_centring=args.centring)
    load_before = os.getloadavg()[0]
    recorder = RecordingEmbedder(embedder)
    index_dir = args.scratch / f"index-{os.getpid()}"
    build_s = timed_build(docs, index_dir, recorder, store)
    shutil.rmtree(index_dir, ignore_errors=True)
    texts = recorder.texts
    if args.build_only:
        print(json.dumps({"docs": str(docs), "sentence_vectors": store.sentence_vectors,
                          "sentence_centring": store.sentence_centring, "rows": len(texts),
                          "build_seconds": round(build_s, 2), "load_average_before": round(load_before, 2),
                          "load_average": round(os.getloadavg()[0], 2)}))
        return 0
    reference, raw_s = timed_encode(embedder.encode_documents, texts)
    rows = [
        {"backend": "torch raw encode (baseline)", "rows": len(texts), "seconds": round(raw_s, 2),
         "rows_per_s": round(len(texts) / raw_s, 1), "min_cosine": 1.0, "mean_cosine": 1.0},
        {"backend": "torch end-to-end build", "rows": len(texts), "seconds": round(build_s, 2),
         "rows_per_s": round(len(texts) / build_s, 1), "min_cosine": None, "mean_cosine": None},
    ]
    if args.onnx:
        rows += onnx_rows(texts, reference, resolve_model_path(settings.model), embedder.name)
    result = {"passages": args.passages, "docs": str(docs), "sentence_vectors": store.sentence_vectors,
              "sentence_centring": store.sentence_centring, "rows": len(texts),
              "build_seconds": round(build_s, 2), "build_share_of_raw": round(raw_s / build_s, 3),
              "load_average_before": round(load_before, 2), "load_average": round(os.getloadavg()[0], 2),
              "backends": rows}
    if args.json:
        print(json.dumps(result))
    else:
        header = list(rows[0])
        print(format_table([header] + [["" if r[h] is None else str(r[h]) for h in header] for r in rows]))
        print(f"\nend-to-end build rate / raw encode rate: {result['build_share_of_raw']:.3f}"
              f"  (load average {result['load_average']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
