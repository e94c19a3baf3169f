"""qa/ann.py: the FAISS index type follows the passage count; IVF keeps recall; ids survive."""

from __future__ import annotations

import json

import faiss
import numpy as np
import pytest

import qa.ann as ann
from qa.index import ArticleIndex, verify
from qa.ingest import Ingestor


def clustered(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    """Points around 40 fixed centres (like topics); `seed` draws other points around the same ones."""
    centres = np.random.default_rng(0).normal(size=(40, dim))
    rng = np.random.default_rng(seed)
    x = centres[rng.integers(0, 40, n)] + rng.normal(scale=0.6, size=(n, dim))
    x = x.astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def source_of(vectors: np.ndarray, ids: np.ndarray, batch: int = 700):
    return lambda: ((ids[i : i + batch], vectors[i : i + batch]) for i in range(0, len(ids), batch))


def test_plan_follows_size():
    assert ann.plan(10).kind == "flat" and ann.plan(ann.FLAT_MAX).kind == "flat"
    big = ann.plan(ann.FLAT_MAX + 1)
    assert big.kind == "ivf-sq8" and big.nlist & (big.nlist - 1) == 0
    assert ann.plan(1_000_000).nlist > ann.plan(200_000).nlist


def test_flat_build_and_ids():
    vectors, ids = clustered(500), np.arange(100, 600, dtype=np.int64)
    index = ann.build(source_of(vectors, ids), len(ids), vectors.shape[1])
    assert ann.kind(index) == "flat" and index.ntotal == 500
    assert ann.ids(index).tolist() == ids.tolist()
    _, found = ann.search(index, vectors[:3], 1)
    assert found[:, 0].tolist() == ids[:3].tolist()


def test_ivf_recall_against_exact_and_round_trip(monkeypatch, tmp_path):
    monkeypatch.setattr(ann, "FLAT_MAX", 1000)
    vectors, ids = clustered(6000), np.arange(6000, dtype=np.int64) * 3 + 7
    index = ann.build(source_of(vectors, ids), len(ids), vectors.shape[1])
    assert ann.kind(index).startswith("ivf") and ann.kind(index).endswith("-sq8")
    assert ann.ids(index).tolist() == ids.tolist()
    exact = ann.empty(vectors.shape[1])
    exact.add_with_ids(vectors, ids)
    queries = clustered(100, seed=5)
    _, want = exact.search(queries, 10)
    _, got = ann.search(index, queries, 10)
    assert ann.recall(got, want) >= 0.95
    faiss.write_index(index, str(tmp_path / "v.faiss"))
    again = faiss.read_index(str(tmp_path / "v.faiss"))
    assert faiss.extract_index_ivf(again).nprobe == faiss.extract_index_ivf(index).nprobe
    index.remove_ids(ids[:10])
    index.add_with_ids(vectors[:2], np.array([1, 2], dtype=np.int64))
    assert ann.ids(index).tolist() == sorted([1, 2, *ids[10:].tolist()])


def test_needs_rebuild(monkeypatch):
    monkeypatch.setattr(ann, "FLAT_MAX", 1000)
    flat = ann.empty(8)
    assert not ann.needs_rebuild(flat, 1000) and ann.needs_rebuild(flat, 1001)
    vectors, ids = clustered(3000, dim=8), np.arange(3000, dtype=np.int64)
    ivf = ann.build(source_of(vectors, ids), 3000, 8)
    assert not ann.needs_rebuild(ivf, 3000)
    assert ann.needs_rebuild(ivf, 400)  # shrank: exact search again
    assert ann.needs_rebuild(ivf, 3000 * 64)  # grew: more lists


def test_recall_helper():
    assert ann.recall(np.array([[1, 2, 3]]), np.array([[3, 2, 9]])) == pytest.approx(2 / 3)
    assert ann.recall(np.array([[1]]), np.array([[-1]])) == 1.0


def test_index_switches_to_ivf_past_flat_max(tmp_path, news_dir, fake_embedder, fake_config, monkeypatch):
    monkeypatch.setattr(ann, "FLAT_MAX", 4)
    folder = tmp_path / "more"
    folder.mkdir()
    for i in range(12):
        (folder / f"a{i}.txt").write_text(f"Story {i}\n\nThe council met on day {i} to discuss the harbour budget {i * 7}.\n")
    directory = tmp_path / "idx"
    Ingestor(ArticleIndex(directory), fake_embedder, fake_config).ingest([news_dir, folder])
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["faiss_type"].startswith("ivf")
    index = ArticleIndex(directory).open()
    assert verify(index) == []
    (hits,) = index.dense_search(fake_embedder.encode(["harbour budget day 3"]), 5)
    assert hits
