"""The embedding model on ONNX Runtime: the same vectors without importing torch.

Importing sentence-transformers and torch takes seconds, longer than answering a question.
A build (which has torch loaded anyway) exports the model once to `model.onnx` in the
index folder's `onnx/` subfolder; later processes encode questions with ONNX Runtime and the
model's own `tokenizer.json` (mean pooling and L2 normalisation, as the model's
sentence-transformers modules do). The export carries the model's name, so an index built with
either backend serves with the other.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Sequence

import numpy as np

log = logging.getLogger("qa")

EXPORT_FILE = "model.onnx"
INFO_FILE = "model.json"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def export_folder(index_dir: Path | str) -> Path:
    return Path(index_dir) / "onnx"


def export_model(model_path: str, name: str, folder: Path) -> Path:
    """Write the transformer of the sentence-transformers model at `model_path` as ONNX (needs
    torch and the `onnx` package), beside what the encoder needs to tokenise and pool."""
    import shutil

    import warnings

    import torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    class Hidden(torch.nn.Module):  # named inputs, the last hidden state out
        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    transformers_logging.disable_progress_bar()  # a command's output stays its own
    model = AutoModel.from_pretrained(model_path, local_files_only=True).eval()
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"{EXPORT_FILE}.{os.getpid()}.partial"  # two processes may export at once
    example = torch.ones(1, 8, dtype=torch.long)
    axes = {n: {0: "batch", 1: "tokens"} for n in (*INPUTS, "hidden")}
    with warnings.catch_warnings():  # the exporter's notes on opsets are not the user's concern
        warnings.simplefilter("ignore")
        torch.onnx.export(Hidden(model), (example, example, torch.zeros_like(example)), str(partial),
                          input_names=list(INPUTS), output_names=["hidden"], dynamic_axes=axes, opset_version=17,
                          dynamo=False)
    shutil.copyfile(Path(model_path) / "tokenizer.json", folder / "tokenizer.json")
    config = json.loads((Path(model_path) / "sentence_bert_config.json").read_text())
    info = {"name": name, "max_tokens": int(config.get("max_seq_length", 256)),
            "dimension": int(model.config.hidden_size)}
    (folder / INFO_FILE).write_text(json.dumps(info))
    os.replace(partial, folder / EXPORT_FILE)  # last: a complete export is one that has model.onnx
    return folder


class OnnxEncoder:
    """An Embedder over an exported model: encodes with ONNX Runtime, tokenises with `tokenizers`."""

    def __init__(self, folder: Path | str, threads: int = 0, token_bucket: int = 8) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        folder = Path(folder)
        info = json.loads((folder / INFO_FILE).read_text())
        self.name, self.dimension, self.max_tokens = info["name"], int(info["dimension"]), int(info["max_tokens"])
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        self._session = onnxruntime.InferenceSession(str(folder / EXPORT_FILE), options,
                                                     providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self.token_bucket = max(1, token_bucket)

    def _encode_one_batch(self, texts: Sequence[str]) -> np.ndarray:
        encodings = [self._tokenizer.encode(t) for t in texts]
        return self._run(encodings, min(self.max_tokens, max(len(e.ids) for e in encodings)))

    def _run(self, encodings: Sequence, length: int) -> np.ndarray:
        """One session run over tokenised texts padded to `length` tokens (longer ones are cut),
        mean-pooled and normalised."""
        return self._pool(*self._hidden(encodings, length))

    def _hidden(self, encodings: Sequence, length: int) -> tuple[np.ndarray, np.ndarray]:
        """Token embeddings and attention mask of one session run."""
        ids = np.zeros((len(encodings), length), dtype=np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros_like(ids)
        for i, e in enumerate(encodings):
            n = min(length, len(e.ids))
            ids[i, :n], types[i, :n], mask[i, :n] = e.ids[:n], e.type_ids[:n], 1
            if len(e.ids) > length:  # cut like the model: keep the closing [SEP]
                ids[i, n - 1] = e.ids[-1]
        hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
        return hidden, mask

    @staticmethod
    def _pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.ascontiguousarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """A question is padded to the next multiple of `token_bucket` tokens whether it is
        alone or not, and shares a run only with questions padded to the same length: its
        rows are then computed alike whatever else is in the run, so its vector has the same
        bits alone or in a batch (padding to a neighbour's length would move last digits)."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        encodings = [self._tokenizer.encode(t) for t in texts]
        groups: dict[int, list[int]] = {}
        for row, e in enumerate(encodings):
            groups.setdefault(self.padded_length(len(e.ids)), []).append(row)
        for length, rows in groups.items():
            out[rows] = self._run([encodings[i] for i in rows], length)
        return out

    def padded_length(self, tokens: int) -> int:
        """The length a question of `tokens` word pieces is padded to (at most the window)."""
        return min(self.max_tokens, -(-tokens // self.token_bucket) * self.token_bucket)

    def encode_documents(self, texts: Sequence[str], progress: bool = False, batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # little padding per batch
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            out[rows] = self._encode_one_batch([texts[i] for i in rows])
        return out

    def encode_pooled(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
                      batch_size: int = 64):
        """As `SentenceTransformerEmbedder.encode_pooled`: passage vectors, and each text's
        sentence spans pooled from the same run's token embeddings (texts in the given order)."""
        from qa.span_pooling import encode_pooled

        return encode_pooled(texts, spans, batch_size, self.dimension, self._token_batch)

    def _token_batch(self, batch: list[str]):
        """One batch's passage vectors and each text's token embeddings with their offsets."""
        encodings = [self._tokenizer.encode(t) for t in batch]
        hidden, mask = self._hidden(encodings, min(self.max_tokens, max(len(e.ids) for e in encodings)))
        tokens = []
        for i, e in enumerate(encodings):
            n = int(mask[i].sum())
            offsets = list(e.offsets[:n - 1]) + [(0, 0)]  # a cut text keeps its closing [SEP]
            tokens.append((hidden[i, :n], offsets, len(e.ids) > n))
        return self._pool(hidden, mask), tokens

    def count_tokens(self, text: str) -> int:
        """Word pieces of `text` including the two special tokens."""
        return len(self._tokenizer.encode(text).ids)

    def truncate(self, text: str) -> tuple[str, bool]:
        offsets = self._tokenizer.encode(text, add_special_tokens=False).offsets
        limit = self.max_tokens - 2
        if len(offsets) <= limit:
            return text, False
        return text[: offsets[limit - 1][1]], True


def load_onnx_encoder(index_dir: Path | str, name: str, threads: int = 0, token_bucket: int = 8) -> OnnxEncoder | None:
    """The exported model in `index_dir`, if there is one for the model `name`; else None."""
    folder = export_folder(index_dir)
    try:
        info = json.loads((folder / INFO_FILE).read_text())
    except (OSError, ValueError):
        return None
    if info.get("name") != name or not (folder / EXPORT_FILE).is_file():
        return None
    try:
        return OnnxEncoder(folder, threads, token_bucket)
    except (ImportError, OSError, RuntimeError, ValueError) as exc:  # onnxruntime missing or the file unreadable
        log.warning("cannot use the ONNX export in %s (%s); using the torch model", folder, exc)
        return None
