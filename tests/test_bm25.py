"""qa/bm25.py: main + delta + tombstones answer like a fresh index; files per generation."""

from __future__ import annotations

import json

import numpy as np
import pytest

import qa.bm25 as bm25_module
from qa.bm25 import IncrementalBM25
from qa.index import ArticleIndex, verify
from qa.ingest import Ingestor

DOCS = {
    1: "Harbour bridge reopens after repairs to the Kestrel crossing",
    2: "Bakery chain Miller and Daughters bought by a rival group",
    3: "School inspectors praise the new science block",
    4: "Ferry workers strike, crossings to the island cancelled",
    5: "Bridge tolls rise again, drivers say the crossing costs too much",
    6: "Council budget: more money for schools and roads",
}


def tokenize(texts):
    return [[w for w in t.lower().replace(",", " ").replace(":", " ").split() if len(w) > 2] for t in texts]


def source(docs):
    return lambda: iter([(list(docs), list(docs.values()))])


def fresh(docs):
    return IncrementalBM25.build(tokenize, source(docs)())


def ranked_ids(bm25, query, k=10):
    return [i for i, _ in bm25.search(tokenize([query]), k)[0]]


def test_fresh_index_finds_by_terms():
    bm25 = fresh(DOCS)
    assert ranked_ids(bm25, "kestrel bridge")[0] == 1
    assert set(ranked_ids(bm25, "crossing")) == {1, 5}
    assert bm25.search([[]], 5) == [[]]
    assert bm25.ids().tolist() == sorted(DOCS)


def test_delta_additions_are_found_and_scored_like_main():
    main = {i: DOCS[i] for i in (1, 2, 3, 4)}
    bm25 = fresh(main)
    bm25.stage([5, 6])
    assert bm25.sync(lambda ids: [DOCS[i] for i in ids], source(DOCS)) == "delta"
    assert bm25.ids().tolist() == sorted(DOCS)
    full = fresh(DOCS)
    for query in ("bridge crossing", "schools roads money", "tolls drivers", "strike"):
        got, want = bm25.search(tokenize([query]), 3)[0], full.search(tokenize([query]), 3)[0]
        assert [i for i, _ in got] == [i for i, _ in want], query
        assert all(s > 0 for _, s in got)  # scores differ a little: main keeps its own statistics until compacted


def test_removed_chunks_are_never_returned():
    bm25 = fresh(DOCS)
    bm25.stage([7])
    bm25.sync(lambda ids: ["kestrel bridge kestrel"], source(DOCS))
    bm25.remove([1, 7, 999])
    assert 1 not in ranked_ids(bm25, "kestrel bridge") and 7 not in ranked_ids(bm25, "kestrel bridge")
    assert bm25.ids().tolist() == [2, 3, 4, 5, 6]
    assert len(bm25) == 5


def test_staged_then_removed_before_sync_is_dropped():
    bm25 = fresh(DOCS)
    bm25.stage([8])
    bm25.remove([8])
    bm25.sync(lambda ids: pytest.fail("no texts needed"), source(DOCS))
    assert 8 not in bm25.ids()


def test_compaction_when_delta_outgrows_main(monkeypatch):
    monkeypatch.setattr(bm25_module, "COMPACT_MIN", 2)
    bm25 = fresh({1: DOCS[1], 2: DOCS[2]})
    bm25.stage([3, 4, 5])
    assert bm25.sync(lambda ids: pytest.fail("compaction reads the source"), source(DOCS)) == "compact"
    assert bm25.delta_ids == [] and bm25.main_ids.tolist() == sorted(DOCS)
    full = fresh(DOCS)
    assert bm25.search(tokenize(["bridge crossing"]), 5) == full.search(tokenize(["bridge crossing"]), 5)


def test_idf_counts_delta_and_unseen_tokens_weigh_most():
    bm25 = fresh({1: DOCS[1], 2: DOCS[2]})
    before = bm25.idf(["bridge"])["bridge"]
    bm25.add([5], [DOCS[5]])
    weights = bm25.idf(["bridge", "tolls", "zzz"])
    assert weights["bridge"] < before  # now in 2 of 3 chunks
    assert weights["zzz"] >= max(weights.values())


def test_save_load_round_trip_and_main_is_hard_linked(tmp_path):
    bm25 = fresh(DOCS)
    first = tmp_path / "bm25-000001"
    first.mkdir()
    bm25.save(first)
    bm25.saved_to(first)
    bm25.add([9], ["night ferry returns"])
    bm25.remove([2])
    second = tmp_path / "bm25-000002"
    second.mkdir()
    bm25.save(second)
    main_files = sorted(p.name for p in second.iterdir() if p.name.startswith("main."))
    assert main_files
    for name in main_files:  # unchanged main: same inode, nothing rewritten
        assert (second / name).stat().st_ino == (first / name).stat().st_ino
    loaded = IncrementalBM25.load(second, tokenize)
    assert loaded.ids().tolist() == bm25.ids().tolist()
    for query in ("ferry night", "bakery rival", "bridge"):
        assert loaded.search(tokenize([query]), 5) == bm25.search(tokenize([query]), 5)
    assert json.loads((second / "delta.json").read_text())["ids"] == [9]


def test_empty_and_tokenless_corpora(tmp_path):
    empty = IncrementalBM25.build(tokenize, iter([]))
    assert empty.search(tokenize(["bridge"]), 5) == [[]] and len(empty) == 0
    stopwords_only = IncrementalBM25.build(tokenize, iter([([1], ["a an of"])]))
    assert stopwords_only.ids().tolist() == [1] and stopwords_only.search(tokenize(["bridge"]), 5) == [[]]
    stopwords_only.save(tmp_path)
    assert IncrementalBM25.load(tmp_path, tokenize).ids().tolist() == [1]


def test_older_folder_layout_is_refused_for_a_rebuild(tmp_path):
    with pytest.raises(bm25_module.BM25Error, match="rebuilt from the store"):
        IncrementalBM25.load(tmp_path, tokenize)


def test_adding_one_article_does_not_rebuild_bm25(tmp_path, news_dir, fake_embedder, fake_config, monkeypatch):
    directory = tmp_path / "idx"
    Ingestor(ArticleIndex(directory), fake_embedder, fake_config).ingest([news_dir])
    builds = []
    original = IncrementalBM25._build_main
    monkeypatch.setattr(IncrementalBM25, "_build_main", lambda self, src: (builds.append(1), original(self, src)))
    late = tmp_path / "late"
    late.mkdir()
    (late / "ferry.txt").write_text("Ferry strike\n\nFerry workers walked out on Friday. Crossings to Kestrel island were cancelled.\n")
    Ingestor(ArticleIndex(directory), fake_embedder, fake_config).ingest([late])
    assert builds == []
    index = ArticleIndex(directory).open()
    assert verify(index) == []
    (hits,) = index.bm25_search(["ferry strike crossings"], 5)
    assert index.store.chunks_by_id([hits[0][0]])[hits[0][0]][1].id == "ferry"
    manifest = json.loads((directory / "manifest.json").read_text())
    assert json.loads((directory / manifest["bm25"] / "delta.json").read_text())["ids"]
