"""qa/ingest.py: adding, skipping, updating, de-duplicating and removing articles; failures mid-ingest."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

import qa.ingest
from conftest import FakeEmbedder, write_articles
from qa.index import ArticleIndex, verify
from qa.ingest import Ingestor, remove_articles
from qa.store import Store


@pytest.fixture
def ingest(tmp_path, fake_embedder, fake_config):
    """ingest(*paths) into tmp_path/idx with one shared fake embedder."""
    directory = tmp_path / "idx"

    def run(*paths, embedder: FakeEmbedder = fake_embedder):
        return Ingestor(ArticleIndex(directory), embedder, fake_config).ingest(list(paths))

    run.directory = directory
    return run


def opened(directory: Path) -> ArticleIndex:
    return ArticleIndex(directory).open()


def chunk_texts(index: ArticleIndex, article_id: str) -> list[str]:
    rows = index.store.chunks_by_id(index.store.chunk_ids().tolist())
    return [chunk.text for chunk, article in sorted(rows.values(), key=lambda r: r[0].start) if article.id == article_id]


def top_article(index: ArticleIndex, query: str) -> str | None:
    (hits,) = index.bm25_search([query], 5)
    return index.store.chunks_by_id([hits[0][0]])[hits[0][0]][1].id if hits else None


def assert_complete_or_absent(index: ArticleIndex) -> None:
    """Every stored original has chunks that run from the start of its text to its end without gaps."""
    for article_id, _, _, _, count, copy_of in index.store.articles():
        article = index.store.article(article_id)
        if copy_of:
            assert count == 0
            continue
        rows = index.store.chunks_by_id(index.store.chunk_ids().tolist()).values()
        spans = sorted((chunk.start, chunk.end) for chunk, owner in rows if owner.id == article_id)
        assert spans, f"{article_id} has no chunks"
        assert spans[0][0] == 0 and max(e for _, e in spans) == len(article.text)
        for (_, end), (start, _) in zip(spans, spans[1:]):
            assert start <= end or article.text[end:start].strip() == ""


def test_ingest_news_counts(ingest, news_dir):
    report = ingest(news_dir)
    assert (report.added, report.updated, report.unchanged, report.duplicates, report.rejected) == (3, 0, 0, 0, 0)
    assert report.chunks == 3
    assert [f.status for f in report.files] == ["added", "added", "added"]
    assert "3 added" in report.summary()
    index = opened(ingest.directory)
    assert [row[0] for row in index.store.articles()] == ["bridge", "school", "wire-1"]
    assert verify(index) == []


def test_reingest_unchanged_does_no_embedding(ingest, news_dir, fake_embedder):
    ingest(news_dir)
    before = fake_embedder.texts_encoded
    generation = opened(ingest.directory).store.generation
    report = ingest(news_dir)
    assert fake_embedder.texts_encoded == before
    assert (report.unchanged, report.added, report.updated, report.chunks) == (3, 0, 0, 0)
    assert [f.status for f in report.files] == ["unchanged"] * 3
    assert opened(ingest.directory).store.generation == generation


def test_changed_article_replaces_its_chunks(ingest, news_dir, fake_embedder):
    ingest(news_dir)
    old_chunks = chunk_texts(opened(ingest.directory), "bridge")
    (news_dir / "bridge.txt").write_text(
        "Harbour bridge closes again\n\nThe Kestrel bridge closed on Friday because of cracked cables.", encoding="utf-8")
    before = fake_embedder.texts_encoded
    report = ingest(news_dir)
    assert (report.updated, report.unchanged, report.added) == (1, 2, 0)
    assert fake_embedder.texts_encoded - before == 1
    index = opened(ingest.directory)
    assert chunk_texts(index, "bridge") == ["The Kestrel bridge closed on Friday because of cracked cables."]
    assert old_chunks != chunk_texts(index, "bridge")
    assert top_article(index, "ribbon Okafor million") != "bridge"  # the old text is no longer searchable
    assert top_article(index, "cracked cables") == "bridge"
    assert index.store.counts()["chunks"] == 3
    assert verify(index) == []


def test_exact_duplicate_stored_once(ingest, news_dir):
    shutil.copy(news_dir / "school.md", news_dir / "school2.md")
    report = ingest(news_dir)
    assert (report.added, report.duplicates) == (3, 1)
    index = opened(ingest.directory)
    rows = {row[0]: row for row in index.store.articles()}
    assert rows["school2"][4:] == (0, "school")
    assert rows["school"][4:] == (1, None)
    assert index.store.copies_of(["school"]) == {"school": ("school2",)}
    assert index.store.counts() == {"articles": 3, "duplicates": 1, "chunks": 3}
    assert verify(index) == []


def test_duplicate_of_already_indexed_article(ingest, news_dir, tmp_path, fake_embedder):
    ingest(news_dir)
    later = write_articles(tmp_path / "later", {"syndicated.md": (news_dir / "school.md").read_text()})
    before = fake_embedder.texts_encoded
    report = ingest(later)
    assert report.duplicates == 1 and fake_embedder.texts_encoded == before
    assert opened(ingest.directory).store.copies_of(["school"]) == {"school": ("syndicated",)}


def test_removing_original_keeps_its_copy_searchable(ingest, news_dir):
    shutil.copy(news_dir / "school.md", news_dir / "school2.md")
    ingest(news_dir)
    assert remove_articles(ArticleIndex(ingest.directory), ["school"]) == []
    index = opened(ingest.directory)
    assert top_article(index, "Stonebridge Academy results") == "school2"
    assert verify(index) == []


def test_changing_an_original_hands_its_old_chunks_to_the_copy(ingest, news_dir):
    old_body = (news_dir / "school.md").read_text()
    (news_dir / "school2.md").write_text(old_body)
    ingest(news_dir)
    (news_dir / "school.md").write_text("# School closes\n\nStonebridge Academy closed for a week after a flood.")
    report = ingest(news_dir)
    assert (report.updated, report.unchanged) == (1, 3)
    index = opened(ingest.directory)
    assert index.store.hashes("school2")[1] is None  # no longer a copy: it owns the old text now
    assert chunk_texts(index, "school2")[0].startswith("Students at Stonebridge Academy")
    assert chunk_texts(index, "school") == ["Stonebridge Academy closed for a week after a flood."]
    assert verify(index) == []


def test_a_copy_under_another_headline_is_indexed_with_it_when_its_original_changes(ingest, news_dir):
    body = (news_dir / "school.md").read_text().split("\n", 1)[1]
    (news_dir / "school2.md").write_text("# Academy celebrates its best results\n" + body)
    ingest(news_dir)
    (news_dir / "school.md").write_text("# School closes\n\nStonebridge Academy closed for a week after a flood.")
    ingest(news_dir)
    index = opened(ingest.directory)
    assert chunk_texts(index, "school2")[0].startswith("Students at Stonebridge Academy")  # indexed in the same run
    assert verify(index) == []


def test_a_copy_that_takes_over_keeps_the_other_copies(ingest, news_dir, fake_embedder, fake_config):
    body = (news_dir / "school.md").read_text().split("\n", 1)[1]
    (news_dir / "school2.md").write_text("# Academy celebrates\n" + body)
    (news_dir / "school3.md").write_text("# Record grades at the academy\n" + body)
    ingest(news_dir)
    Ingestor(ArticleIndex(ingest.directory), fake_embedder, fake_config).remove(["school"])
    index = opened(ingest.directory)
    assert index.store.copies_of(["school2"]) == {"school2": ("school3",)}  # not a second original without passages
    assert chunk_texts(index, "school2") and verify(index) == []


def test_remove_articles_and_report_missing(ingest, news_dir):
    ingest(news_dir)
    missing = remove_articles(ArticleIndex(ingest.directory), ["bridge", "nope", "wire-1", "also-nope"])
    assert missing == ["nope", "also-nope"]
    index = opened(ingest.directory)
    assert [row[0] for row in index.store.articles()] == ["school"]
    assert top_article(index, "Kestrel bridge") is None
    assert verify(index) == []


def test_bad_inputs_reported_good_files_indexed(ingest, news_dir):
    (news_dir / "empty.txt").write_bytes(b"")
    (news_dir / "picture.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    (news_dir / "notes.pdf").write_text("%PDF-1.4")
    (news_dir / "feed.jsonl").write_text('{"id": "ok", "text": "Ferry fares rise."}\n{broken\n', encoding="utf-8")
    report = ingest(news_dir)
    reasons = {(Path(e.path).name, e.line): e.reason for e in report.errors}
    assert set(reasons) == {("empty.txt", None), ("picture.txt", None), ("notes.pdf", None), ("feed.jsonl", 2)}
    assert "empty" in reasons[("empty.txt", None)]
    assert "binary" in reasons[("picture.txt", None)]
    assert "unsupported" in reasons[("notes.pdf", None)]
    assert "malformed JSON" in reasons[("feed.jsonl", 2)]
    statuses = {Path(f.path).name: f.status for f in report.files}
    assert statuses["empty.txt"] == "rejected" and statuses["feed.jsonl"] == "partial"
    assert report.added == 4
    assert [row[0] for row in opened(ingest.directory).store.articles()] == ["bridge", "ok", "school", "wire-1"]


def test_duplicates_within_one_ingest_are_flushed_in_order(ingest, tmp_path, monkeypatch):
    monkeypatch.setattr(qa.ingest, "BATCH_CHUNKS", 1000)
    body = "A fire closed the Oakley paper mill on Sunday. Nobody was hurt."
    folder = write_articles(tmp_path / "mill", {"a.txt": f"Mill fire\n\n{body}", "b.txt": f"Fire at mill\n\n{body}"})
    report = ingest(folder)
    assert (report.added, report.duplicates) == (1, 1)
    index = opened(ingest.directory)
    assert index.store.copies_of(["a"]) == {"a": ("b",)}
    assert verify(index) == []


def test_same_id_twice_in_one_ingest_keeps_only_later_version(ingest, tmp_path):
    folder = write_articles(tmp_path / "clash", {
        "a.txt": "Alpha title\n\nThe alpha story is about otters swimming in the river.",
        "b.jsonl": json.dumps({"id": "a", "title": "Beta", "text": "The beta story covers rail fares."}) + "\n",
    })
    report = ingest(folder)
    assert [(Path(e.path).name, "comes again from" in e.reason) for e in report.errors] == [("a.txt", True)]  # the dropped file
    assert {Path(f.path).name: (f.status, f.article_ids) for f in report.files} == {"a.txt": ("rejected", ()), "b.jsonl": ("added", ("a",))}
    index = opened(ingest.directory)
    assert chunk_texts(index, "a") == ["The beta story covers rail fares."]
    assert verify(index) == []


# --- an ingest that fails part-way ------------------------------------------------------------


def many_articles(folder: Path, n: int = 8) -> Path:
    return write_articles(folder, {
        f"story-{i:02d}.txt": f"Story {i} headline\n\nThe town of Place{i} opened {i} new parks this year. "
        f"Residents of Place{i} welcomed the parks at a festival." for i in range(n)})


def fail_on_second_call(monkeypatch, cls, name):
    original = getattr(cls, name)
    calls = {"n": 0}

    def failing(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk on fire")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, failing)
    return calls


@pytest.mark.parametrize("target", [(FakeEmbedder, "encode"), (Store, "put_chunks")], ids=["encode", "put_chunks"])
def test_failed_ingest_leaves_a_sound_index(ingest, news_dir, tmp_path, monkeypatch, target):
    ingest(news_dir)
    monkeypatch.setattr(qa.ingest, "BATCH_CHUNKS", 2)
    calls = fail_on_second_call(monkeypatch, *target)
    with pytest.raises(RuntimeError, match="disk on fire"):
        ingest(many_articles(tmp_path / "more"))
    assert calls["n"] == 2
    monkeypatch.undo()

    index = opened(ingest.directory)
    assert verify(index) == []
    assert_complete_or_absent(index)
    ids = [row[0] for row in index.store.articles()]
    assert {"bridge", "school", "wire-1"} <= set(ids)
    # the first batch was committed whole; the failed batch and everything after it is absent
    assert set(ids) - {"bridge", "school", "wire-1"} == {"story-00", "story-01"}
    assert top_article(index, "Kestrel bridge") == "bridge"
    assert top_article(index, "Hearthstone bakery") == "wire-1"


def test_failed_update_keeps_previous_version(ingest, news_dir, monkeypatch):
    ingest(news_dir)
    (news_dir / "bridge.txt").write_text("Bridge shut\n\nThe Kestrel bridge shut after cables cracked.", encoding="utf-8")

    def broken(self, texts):
        raise RuntimeError("model crashed")

    monkeypatch.setattr(FakeEmbedder, "encode", broken)
    with pytest.raises(RuntimeError, match="model crashed"):
        ingest(news_dir)
    monkeypatch.undo()
    index = opened(ingest.directory)
    assert verify(index) == []
    assert "14-month repair" in index.store.article("bridge").text
    assert top_article(index, "14-month repair") == "bridge"


def test_failed_ingest_releases_the_lock(ingest, news_dir, monkeypatch):
    monkeypatch.setattr(FakeEmbedder, "encode", lambda self, texts: (_ for _ in ()).throw(RuntimeError("x")))
    with pytest.raises(RuntimeError):
        ingest(news_dir)
    with ArticleIndex(ingest.directory).lock(timeout=0):
        pass


def test_ingest_after_failure_completes_the_rest(ingest, news_dir, tmp_path, monkeypatch, fake_embedder):
    ingest(news_dir)
    monkeypatch.setattr(qa.ingest, "BATCH_CHUNKS", 2)
    more = many_articles(tmp_path / "more")
    fail_on_second_call(monkeypatch, FakeEmbedder, "encode")
    with pytest.raises(RuntimeError):
        ingest(more)
    monkeypatch.undo()
    report = ingest(more)
    assert report.added + report.unchanged == 8 and report.added > 0
    index = opened(ingest.directory)
    assert index.store.counts()["articles"] == 11
    assert verify(index) == []
    assert_complete_or_absent(index)


def test_near_duplicate_is_stored_once_and_listed_as_also_in(tmp_path, fake_embedder, fake_config):
    story = " ".join(f"Sentence {i} of the syndicated report says the council met on Monday about item {i}." for i in range(30))
    refiled = story.replace("item 29.", "item twenty-nine, officials said.")
    folder = write_articles(tmp_path / "in", {"wire/a.txt": "Council meets\n\n" + story, "paper/b.txt": "Council meets again\n\n" + refiled})
    assistant = __import__("qa.assistant", fromlist=["Assistant"]).Assistant(tmp_path / "ix", fake_config, fake_embedder)
    report = assistant.ingest([folder])
    assert report.added == 1 and report.duplicates == 1
    store = assistant.index.store
    assert store.copies_of(["paper/b"]) == {"paper/b": ("wire/a",)}  # the first one ingested is the original
    reply = assistant.ask("What did the council meet about on Monday?")
    passages = [c.passage for c in reply.citations]
    assert len(passages) == len(set(passages))  # the same text is never shown twice
    assert {c.article_id for c in reply.citations} == {"paper/b"} and reply.citations[0].also_in == ("wire/a",)


def test_an_edited_near_copy_takes_over_from_its_original(tmp_path, fake_embedder, fake_config):
    from qa.index import verify

    story = " ".join(f"Line {i} of the ferry report says a return ticket on route {i} costs $22." for i in range(30))
    folder = write_articles(tmp_path / "in", {"wire.txt": "Ferry fares\n\n" + story, "paper.txt": "Ferry fares\n\n" + story})
    assistant = __import__("qa.assistant", fromlist=["Assistant"]).Assistant(tmp_path / "ix", fake_config, fake_embedder)
    assistant.ingest([folder])
    store = assistant.index.store
    original, copy = ("paper", "wire") if store.copies_of(["paper"])["paper"] else ("wire", "paper")
    corrected = write_articles(tmp_path / "fix", {f"{copy}.txt": "Ferry fares\n\n" + story.replace("route 29 costs $22", "route 29 costs $25")})
    report = assistant.ingest([corrected])
    assert (report.updated, report.duplicates) == (1, 0)
    assert store.copies_of([copy]) == {copy: (original,)}  # the corrected text is the one cited, the older one its copy
    assert store.chunks_of(original) == [] and verify(assistant.index) == []
    assert "$25" in " ".join(c.passage for c in assistant.ask("What does a return ticket on route 29 cost?").citations)
    retitled = write_articles(tmp_path / "retitled", {f"{original}.txt": "Ferry fares rise\n\n" + story})
    assistant.ingest([retitled])  # a new headline on the older text: it stays the copy
    assert store.copies_of([copy]) == {copy: (original,)} and verify(assistant.index) == []


def test_a_new_headline_on_an_original_keeps_its_copies(ingest, news_dir):
    body = (news_dir / "school.md").read_text().split("\n", 1)[1]
    (news_dir / "school2.md").write_text("# Academy celebrates\n" + body)
    ingest(news_dir)
    (news_dir / "school.md").write_text("# Stonebridge results day\n" + body)
    report = ingest(news_dir)
    index = opened(ingest.directory)
    assert report.updated == 1 and index.store.copies_of(["school"]) == {"school": ("school2",)}
    assert chunk_texts(index, "school") and verify(index) == []


def test_a_copy_retitled_as_its_original_is_rewritten_keeps_its_own_text(ingest, news_dir):
    body = (news_dir / "school.md").read_text().split("\n", 1)[1]
    (news_dir / "school2.md").write_text("# Academy celebrates\n" + body)
    ingest(news_dir)
    (news_dir / "school.md").write_text("# School closes\n\nStonebridge Academy closed for a week after a flood.")
    (news_dir / "school2.md").write_text("# Academy celebrates its results\n" + body)  # the same run: a new headline
    ingest(news_dir)
    index = opened(ingest.directory)
    assert index.store.hashes("school2")[1] is None  # not a copy of the flood story
    assert chunk_texts(index, "school2")[0].startswith("Students at Stonebridge Academy") and verify(index) == []


def test_copies_promoted_together_do_not_demote_each_other(tmp_path, fake_embedder, fake_config):
    from qa.index import verify

    def words(seed, n):  # a paragraph of made-up words, the same for the same seed
        r = random.Random(seed)
        made = ["".join(r.choice("bdgklmnprstvz") + r.choice("aeiou") for _ in range(3)) for _ in range(n)]
        return " ".join(w + ("." if i % 10 == 9 else "") for i, w in enumerate(made))

    shared = words(1, 400)
    a2, b2 = f"{shared} {words(2, 40)}", f"{shared} {words(3, 40)}"  # near copies of each other
    stories = {"a": f"{a2} {words(4, 60)}", "b": f"{b2} {words(5, 60)}", "a2": a2, "b2": b2}  # a2 near a, b2 near b; a and b apart
    assistant = __import__("qa.assistant", fromlist=["Assistant"]).Assistant(tmp_path / "ix", fake_config, fake_embedder)
    for name, text in stories.items():
        assistant.ingest([write_articles(tmp_path / name, {f"{name}.txt": "Harbour works\n\n" + text})])
    assert assistant.index.store.copies_of(["a", "b"]) == {"a": ("a2",), "b": ("b2",)}
    assistant.remove(["a", "b"])  # both copies promoted and indexed in one run, neither edited
    assert verify(assistant.index) == []  # no copy holding passages, no original without them


def test_removing_an_original_indexes_its_near_duplicate(tmp_path, fake_embedder, fake_config):
    from qa.index import verify

    story = " ".join(f"Line {i} of the report on the harbour works notes progress on section {i}." for i in range(30))
    folder = write_articles(tmp_path / "in", {"a.txt": "Harbour works\n\n" + story, "b.txt": "Harbour works\n\n" + story + " A late update."})
    Assistant = __import__("qa.assistant", fromlist=["Assistant"]).Assistant
    assistant = Assistant(tmp_path / "ix", fake_config, fake_embedder)
    assistant.ingest([folder])
    original = next(a for a in ("a", "b") if assistant.index.store.copies_of([a])[a])
    copy = "b" if original == "a" else "a"
    assert assistant.remove([original]) == []
    assert verify(assistant.index) == []
    reply = assistant.ask("harbour works progress on section 12")
    assert reply.citations[0].article_id == copy
