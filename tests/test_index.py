"""qa/index.py: the index folder built by an ingest, reopened, verified, guarded and repaired."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT
from qa.index import DATABASE, MANIFEST, ArticleIndex, IndexBusyError, IndexOpenError, verify
from qa.ingest import Ingestor
from qa.schema import Article, Chunk
from qa.store import Store


@pytest.fixture
def index_dir(tmp_path, news_dir, fake_embedder, fake_config) -> Path:
    directory = tmp_path / "idx"
    Ingestor(ArticleIndex(directory), fake_embedder, fake_config).ingest([news_dir])
    return directory


def opened(directory: Path) -> ArticleIndex:
    return ArticleIndex(directory).open()


def test_open_in_fresh_object_reads_settings_and_counts(index_dir):
    index = opened(index_dir)
    assert index.settings == {"model": "fake-hash", "chunk_tokens": 128, "overlap_sentences": 1, "dim": 64}
    assert index.store.counts() == {"articles": 3, "duplicates": 0, "chunks": 3}
    assert index.derived.faiss.ntotal == 3


def test_dense_search_returns_stored_chunk_ids(index_dir, fake_embedder):
    index = opened(index_dir)
    (hits,) = index.dense_search(fake_embedder.encode(["Who bought the bakery chain Miller & Daughters?"]), 10)
    ids = set(index.store.chunk_ids().tolist())
    assert len(hits) == 3 and {i for i, _ in hits} == ids
    best = index.store.chunks_by_id([hits[0][0]])[hits[0][0]][1]
    assert best.id == "wire-1"
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)


def test_bm25_search_returns_stored_chunk_ids(index_dir):
    index = opened(index_dir)
    (hits,) = index.bm25_search(["Kestrel bridge repair"], 10)
    assert hits and {i for i, _ in hits} <= set(index.store.chunk_ids().tolist())
    assert index.store.chunks_by_id([hits[0][0]])[hits[0][0]][1].id == "bridge"
    assert index.bm25_search(["the of and"], 10) == [[]]  # stopwords only


def test_verify_sound_index(index_dir):
    assert verify(opened(index_dir)) == []


def test_verify_reports_deleted_chunk_row(index_dir):
    raw = sqlite3.connect(index_dir / DATABASE)
    raw.execute("DELETE FROM chunks WHERE article_id = 'school'")
    raw.commit()
    raw.close()
    problems = verify(opened(index_dir))
    assert problems
    text = " ".join(problems)
    assert "FAISS holds 3 vectors, the store 2 chunks" in text
    assert "1 articles without chunks" in text


def test_verify_reports_chunk_offsets_outside_article(index_dir):
    raw = sqlite3.connect(index_dir / DATABASE)
    raw.execute('UPDATE chunks SET "end" = 100000 WHERE article_id = \'bridge\'')
    raw.commit()
    raw.close()
    assert any("offsets outside" in p for p in verify(opened(index_dir)))


def test_missing_index_names_how_to_build_one(tmp_path):
    with pytest.raises(IndexOpenError, match="no index here yet.*python -m qa ingest"):
        ArticleIndex(tmp_path / "nothing").open()


def test_other_model_is_refused_with_rebuild_hint(index_dir):
    index = opened(index_dir)
    index.check_settings("fake-hash", 64)  # its own model is fine
    with pytest.raises(IndexOpenError, match="--rebuild") as caught:
        index.check_settings("another-model")
    assert "fake-hash" in str(caught.value) and "another-model" in str(caught.value)
    with pytest.raises(IndexOpenError, match="--rebuild"):
        index.check_settings(dim=384)


def test_ingest_with_other_model_is_refused(index_dir, news_dir, fake_embedder, fake_config):
    config = fake_config.override(model="another-model")
    with pytest.raises(IndexOpenError, match="--rebuild"):
        Ingestor(ArticleIndex(index_dir), fake_embedder, config).ingest([news_dir])
    assert verify(opened(index_dir)) == []


def test_newer_manifest_format_refused(index_dir):
    manifest = json.loads((index_dir / MANIFEST).read_text())
    (index_dir / MANIFEST).write_text(json.dumps({**manifest, "format_version": 999}))
    with pytest.raises(IndexOpenError) as caught:
        ArticleIndex(index_dir).open()
    message = str(caught.value)
    assert str(index_dir / MANIFEST) in message and "999" in message and "--rebuild" in message


def test_garbage_database_is_an_open_error(tmp_path):
    directory = tmp_path / "idx"
    directory.mkdir()
    (directory / DATABASE).write_bytes(b"SQLite format 2\x00 garbage " * 200)
    with pytest.raises(IndexOpenError) as caught:
        ArticleIndex(directory).open()
    assert str(directory / DATABASE) in str(caught.value) and "--rebuild" in str(caught.value)
    assert not isinstance(caught.value, sqlite3.Error)


def test_garbage_database_over_a_built_index_is_an_open_error(index_dir):
    for extra in ("meta.sqlite-wal", "meta.sqlite-shm"):
        (index_dir / extra).unlink(missing_ok=True)
    (index_dir / DATABASE).write_bytes(b"\x00\x01garbage" * 1000)
    with pytest.raises(IndexOpenError, match="not a readable index database"):
        ArticleIndex(index_dir).open()


def test_unreadable_manifest_is_rebuilt_from_store(index_dir):
    (index_dir / MANIFEST).write_text("{ not json")
    index = opened(index_dir)
    assert index.derived.faiss.ntotal == 3
    assert verify(index) == []


def test_missing_faiss_file_is_rebuilt_from_store(index_dir):
    manifest = json.loads((index_dir / MANIFEST).read_text())
    (index_dir / manifest["faiss"]).unlink()
    index = opened(index_dir)
    assert verify(index) == []
    assert (index_dir / json.loads((index_dir / MANIFEST).read_text())["faiss"]).exists()


def test_lock_busy_from_another_thread(tmp_path):
    index = ArticleIndex(tmp_path / "idx")
    holding, release = threading.Event(), threading.Event()

    def hold():
        with ArticleIndex(tmp_path / "idx").lock():
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(10)
        with pytest.raises(IndexBusyError, match="another ingest is writing to this index") as caught:
            with index.lock(timeout=0):
                pass
        assert str(tmp_path / "idx") in str(caught.value) and "try again" in str(caught.value)
    finally:
        release.set()
        thread.join()
    with index.lock(timeout=0):  # free again once the holder is done
        pass


def test_lock_busy_from_another_process_names_its_pid(tmp_path):
    directory = tmp_path / "idx"
    script = (
        "import sys, time\n"
        "from qa.index import ArticleIndex\n"
        f"with ArticleIndex({str(directory)!r}).lock():\n"
        "    print('locked', flush=True)\n"
        "    sys.stdin.readline()\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(IndexBusyError, match=f"pid {child.pid}"):
            with ArticleIndex(directory).lock(timeout=0):
                pass
    finally:
        child.stdin.write("\n")
        child.stdin.flush()
        child.wait(10)


def test_store_ahead_of_manifest_is_repaired_on_open(index_dir, fake_embedder):
    store = Store(index_dir / DATABASE)
    article = Article("late", "Ferry strike", "Ferry workers walked out on Friday. Crossings were cancelled.")
    chunk = Chunk("late", article.text, 0, len(article.text), ((0, 34), (35, len(article.text))))
    with store.transaction():
        store.put_article(article)
        store.put_chunks([chunk], fake_embedder.encode([article.text]))
    store.close()
    stale = json.loads((index_dir / MANIFEST).read_text())

    index = opened(index_dir)
    assert verify(index) == []
    manifest = json.loads((index_dir / MANIFEST).read_text())
    assert manifest["generation"] == stale["generation"] + 1
    assert manifest["counts"]["chunks"] == 4
    (hits,) = index.bm25_search(["ferry strike crossings"], 5)
    assert index.store.chunks_by_id([hits[0][0]])[hits[0][0]][1].id == "late"
    (dense,) = index.dense_search(fake_embedder.encode(["Ferry workers walked out"]), 1)
    assert index.store.chunks_by_id([dense[0][0]])[dense[0][0]][1].id == "late"
    assert verify(opened(index_dir)) == []  # and the repair was written for the next opener


def test_idf_rarer_tokens_weigh_more(index_dir):
    index = opened(index_dir)
    weights = index.idf(index.stem(["kestrel", "bridg", "zzzunseen"]))
    assert weights[index.stem(["zzzunseen"])[0]] >= max(weights.values()) - 1e-9
    assert all(np.isfinite(v) and v > 0 for v in weights.values())
