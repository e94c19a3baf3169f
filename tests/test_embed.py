"""qa/embed.py: backend choice, one fallback warning, the ONNX export cache, and (slow) the real
model under ONNX int8 against PyTorch fp32, with the same tokens and offsets."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

import qa.embed as embed
from qa.embed import Embedder


def test_unknown_backend_names_the_choices(monkeypatch):
    monkeypatch.delenv("QA_EMBED_BACKEND", raising=False)
    with pytest.raises(ValueError, match="onnx-int8.*torch"):
        Embedder(backend="tensorrt")
    monkeypatch.setenv("QA_EMBED_BACKEND", "torch")
    assert Embedder().requested_backend == "torch"


def test_missing_onnxruntime_warns_once_and_falls_back(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if not installed
    monkeypatch.setattr(embed, "_warned", set())
    embedder = Embedder(str(tmp_path), backend="auto")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert embedder._load_onnx(str(tmp_path)) is None
        assert Embedder(str(tmp_path))._load_onnx(str(tmp_path)) is None
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "onnxruntime is not installed" in messages[0] and "PyTorch" in messages[0]


def test_folder_without_tokenizer_json_is_left_to_torch(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    monkeypatch.setattr(embed, "_warned", set())
    assert Embedder(str(tmp_path), backend="auto")._load_onnx(str(tmp_path)) is None


def test_export_is_cached_per_model_content(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_CACHE", str(tmp_path / "cache"))
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text('{"hidden_size": 8}')
    key = embed.model_key(str(model))
    assert key == embed.model_key(str(model))
    cached = tmp_path / "cache" / "onnx" / key / "model-int8.onnx"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"already exported")
    monkeypatch.setattr(embed, "_export_fp32", lambda *a: pytest.fail("no second export"))
    assert embed.export_onnx(str(model), quantized=True) == cached
    (model / "config.json").write_text('{"hidden_size": 16}')  # another model: another key
    assert embed.model_key(str(model)) != key


def test_max_seq_length_capped_by_positions(tmp_path):
    (tmp_path / "sentence_bert_config.json").write_text('{"max_seq_length": 512}')
    (tmp_path / "config.json").write_text('{"max_position_embeddings": 128}')
    assert embed._max_seq_length(str(tmp_path)) == 128


@pytest.mark.slow
def test_onnx_int8_matches_torch_on_news(real_embedder, tmp_path, monkeypatch):
    """The bundled model: int8 vectors within ~1% cosine of PyTorch fp32, and the light tokenizer
    gives the same token ids and offsets as the transformers one (chunking depends on them)."""
    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("QA_CACHE", str(tmp_path / "cache"))
    texts = [
        "Harbour bridge reopens\nThe Kestrel bridge reopened on Monday after repairs costing £4.2m.",
        "Miller & Daughters, the bakery chain, was bought by a rival for $310m.",
        "short",
        "Ünïcödé names — like Zoë Ørsted — keep their offsets.",
    ]
    fast, slow = Embedder(backend="onnx-int8"), Embedder(backend="torch")
    a, b = fast.encode(texts), slow.encode(texts)
    assert fast.backend == "onnx-int8" and slow.backend == "torch"
    assert a.shape == b.shape and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
    assert float((a * b).sum(1).min()) > 0.97
    assert fast.max_tokens == slow.max_tokens and fast.dim == slow.dim
    for text in texts:
        assert fast.token_spans(text) == slow.token_spans(text)
    assert fast.count_tokens(texts) == slow.count_tokens(texts)
    assert fast.tokenizer.convert_ids_to_tokens([101])  # anything else: the transformers tokenizer


def test_quantizing_leaves_the_application_s_logging_as_it_was(tmp_path):
    pytest.importorskip("onnxruntime")
    import logging

    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weights = numpy_helper.from_array(np.ones((4, 4), dtype=np.float32), "w")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "tiny",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [weights])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "fp32.onnx")
    root = logging.getLogger()
    before = (root.level, root.handlers[:])
    root.setLevel(logging.WARNING)
    root.handlers[:] = []  # as in an application that configured no logging (pytest adds its own)
    try:
        embed._quantize(tmp_path / "fp32.onnx", tmp_path / "int8.onnx")
        assert (tmp_path / "int8.onnx").stat().st_size > 0
        assert root.level == logging.WARNING and root.handlers == []
    finally:
        root.setLevel(before[0])
        root.handlers[:] = before[1]
