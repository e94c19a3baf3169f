"""qa/store.py: transactions, generations, duplicate copies and their hand-over."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from qa.schema import Article, Chunk
from qa.store import Store, StoreError

BODY = "The bridge reopened on Monday. It cost $38.6 million."


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "meta.sqlite")
    yield store
    store.close()


def article(article_id: str, text: str = BODY, title: str = "Bridge reopens") -> Article:
    return Article(article_id, title, text, source="Gazette", published="2026-03-03", meta={"path": f"{article_id}.txt"})


def chunks_for(a: Article, n: int = 2) -> tuple[list[Chunk], np.ndarray]:
    cut = a.text.index(". ") + 1
    spans = [(0, cut), (cut + 1, len(a.text))][:n]
    chunks = [Chunk(a.id, a.text[s:e], s, e, ((s, e),)) for s, e in spans]
    vectors = np.eye(len(chunks), 4, dtype=np.float32)
    return chunks, vectors


def put(store: Store, a: Article, duplicate_of: str | None = None) -> list[int]:
    with store.transaction():
        store.put_article(a, duplicate_of=duplicate_of)
        if duplicate_of:
            return []
        return store.put_chunks(*chunks_for(a))


def chunk_owners(store: Store) -> list[str]:
    return [row[0] for row in store._all("SELECT article_id FROM chunks ORDER BY id")]


def test_transaction_commits_and_bumps_generation(store, tmp_path):
    assert store.generation == 0
    ids = put(store, article("a"))
    assert len(ids) == 2 and store.generation == 1
    other = Store(tmp_path / "meta.sqlite", readonly=True)  # a second connection sees the commit
    try:
        assert other.article("a") == article("a")
        assert other.counts() == {"articles": 1, "duplicates": 0, "chunks": 2}
        assert other.generation == 1
    finally:
        other.close()


def test_each_transaction_increments_generation(store):
    put(store, article("a"))
    put(store, article("b", "Another story. Entirely new."))
    with store.transaction():
        store.delete_article("a")
    assert store.generation == 3


def test_transaction_rolls_back_on_error(store):
    put(store, article("a"))
    with pytest.raises(RuntimeError, match="boom"):
        with store.transaction():
            second = article("b", "Second story. More text.")
            store.put_article(second)
            store.put_chunks(*chunks_for(second))
            store.delete_article("a")
            raise RuntimeError("boom")
    assert store.generation == 1
    assert store.article("b") is None
    assert store.article("a") is not None
    assert store.counts() == {"articles": 1, "duplicates": 0, "chunks": 2}
    assert chunk_owners(store) == ["a", "a"]


def test_store_usable_after_rollback(store):
    with pytest.raises(ValueError):
        with store.transaction():
            store.put_article(article("a"))
            raise ValueError
    put(store, article("b"))
    assert [row[0] for row in store.articles()] == ["b"]


def test_chunks_by_id_rebuilds_text_from_article(store):
    ids = put(store, article("a"))
    rows = store.chunks_by_id(ids)
    assert [rows[i][0].text for i in ids] == ["The bridge reopened on Monday.", "It cost $38.6 million."]
    assert all(rows[i][1].id == "a" for i in ids)
    assert rows[ids[1]][0].sentences == ((31, len(BODY)),)


def test_chunks_of_an_article_in_text_order(store):
    put(store, article("a"))
    put(store, article("b", "Another story. With two sentences."))
    chunks = [chunk for chunk, _ in store.chunks_of("a")]
    assert [c.text for c in chunks] == ["The bridge reopened on Monday.", "It cost $38.6 million."]
    assert all(a.id == "a" for _, a in store.chunks_of("a")) and store.chunks_of("missing") == []


def test_put_article_twice_replaces_it(store):
    put(store, article("a"))
    with store.transaction():
        store.put_article(article("a", title="New title"))
    assert store.article("a").title == "New title"
    assert store.counts()["articles"] == 1


def test_iter_vectors_in_id_order(store):
    ids = put(store, article("a"))
    (got_ids, vectors), = list(store.iter_vectors())
    assert got_ids.tolist() == ids
    assert vectors.shape == (2, 4) and vectors.dtype == np.float32
    assert np.array_equal(vectors, np.eye(2, 4, dtype=np.float32))


def test_find_copy_and_copies_of(store):
    put(store, article("orig"))
    assert store.find_copy(article("x").text_hash, exclude="x") == "orig"
    assert store.find_copy(article("orig").text_hash, exclude="orig") is None
    put(store, article("copy-b"), duplicate_of="orig")
    put(store, article("copy-a"), duplicate_of="orig")
    assert store.copies_of(["orig", "copy-a"]) == {"orig": ("copy-a", "copy-b"), "copy-a": ()}
    assert store.counts() == {"articles": 1, "duplicates": 2, "chunks": 2}
    assert store.hashes("copy-a") == (article("copy-a").content_hash, "orig")


def test_deleting_original_hands_chunks_to_its_copy(store):
    ids = put(store, article("orig"))
    put(store, article("copy"), duplicate_of="orig")
    with store.transaction():
        removed = store.delete_article("orig")
    assert removed == []  # the vectors stay: the copy owns them now
    assert store.article("orig") is None
    assert store.hashes("copy")[1] is None
    assert chunk_owners(store) == ["copy", "copy"]
    assert sorted(store.chunks_by_id(ids)) == ids
    assert store.orphans() == (0, 0, 0)


def test_a_copy_under_another_headline_gets_chunks_of_its_own(store):
    ids = put(store, article("orig"))
    put(store, article("copy", title="Bridge open again"), duplicate_of="orig")
    with store.transaction():
        removed = store.delete_article("orig")
    assert sorted(removed) == sorted(ids)  # searched and embedded with the old headline: gone
    assert store.unindexed_originals() == ["copy"]  # for the ingest to index under its own


def test_other_copies_follow_the_new_original(store):
    put(store, article("orig"))
    put(store, article("copy-1"), duplicate_of="orig")
    put(store, article("copy-2"), duplicate_of="orig")
    with store.transaction():
        store.delete_article("orig")
    assert store.hashes("copy-1")[1] is None
    assert store.hashes("copy-2")[1] == "copy-1"
    assert store.copies_of(["copy-1"]) == {"copy-1": ("copy-2",)}


def test_deleting_article_without_copy_removes_its_chunks(store):
    ids = put(store, article("a"))
    with store.transaction():
        removed = store.delete_article("a")
    assert sorted(removed) == ids
    assert store.counts() == {"articles": 0, "duplicates": 0, "chunks": 0}


def test_deleting_a_copy_leaves_the_original(store):
    put(store, article("orig"))
    put(store, article("copy"), duplicate_of="orig")
    with store.transaction():
        assert store.delete_article("copy") == []
    assert chunk_owners(store) == ["orig", "orig"]
    assert store.copies_of(["orig"]) == {"orig": ()}


def test_orphans_detected(store, tmp_path):
    put(store, article("a"))
    put(store, article("b", "Other story. Second line."))
    raw = sqlite3.connect(tmp_path / "meta.sqlite")
    raw.execute("DELETE FROM chunks WHERE article_id = 'a'")
    raw.execute("DELETE FROM articles WHERE id = 'b'")
    raw.commit()
    raw.close()
    assert store.orphans() == (2, 1, 0)


def test_info_roundtrip(store):
    with store.transaction():
        store.set_info("settings", {"model": "fake-hash", "dim": 64})
    assert store.get_info("settings") == {"model": "fake-hash", "dim": 64}
    assert store.get_info("missing", "default") == "default"


def test_garbage_file_is_a_store_error(tmp_path):
    path = tmp_path / "meta.sqlite"
    path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="not a readable index database"):
        Store(path, readonly=True)
