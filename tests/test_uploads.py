"""qa/uploads.py: uploads saved with safe names that never replace another story, then ingested
(with the fake embedder)."""

from __future__ import annotations

import json

import pytest

from qa.uploads import MAX_UPLOAD_FILES, MAX_UPLOAD_MB, add_uploads, upload_name


@pytest.mark.parametrize("name, safe", [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("/abs/x.txt", "x.txt"),
    ("..\\..\\windows\\evil.md", "evil.md"),
    ("my news (1).HTML", "my-news-1.html"),
    (".hidden.json", "hidden.json"),
    ("..", "upload"),
    ("a..b....jsonl", "a.b.jsonl"),
    ("Núñez interview.txt", "Núñez-interview.txt"),
    ("x\u202egnp.txt", "x-gnp.txt"),
])
def test_upload_names_are_sanitized(name, safe):
    assert upload_name(name) == safe


def test_uploads_land_inside_the_uploads_folder(fake_assistant):
    text = b"Title\n\nSome article text about a harbour."
    other = b"Other title\n\nA different article, about the new ferry route to the islands."
    results = add_uploads(fake_assistant, [("../../etc/passwd.txt", text), ("/abs/x.txt", other)])
    uploads = fake_assistant.index_dir / "uploads"
    assert [r.status for r in results] == ["added", "added"]
    assert sorted(p.name for p in uploads.iterdir()) == ["passwd.txt", "x.txt"]
    assert {row[0] for row in fake_assistant.articles()} == {"passwd", "x"}


def test_too_big_wrong_type_and_too_many_files_are_refused(fake_assistant):
    files = [("big.txt", b"x" * (MAX_UPLOAD_MB * 1024 * 1024 + 1)), ("tool.exe", b"MZ"), ("notype", b"text")]
    files += [(f"a{i}.txt", f"Title {i}\n\nBody number {i}.".encode()) for i in range(MAX_UPLOAD_FILES)]
    results = add_uploads(fake_assistant, files)
    assert [r.file for r in results] == [name for name, _ in files]
    by_name = {r.file: r for r in results}
    assert "the limit is 5 MB" in by_name["big.txt"].problems
    assert "unsupported file type .exe" in by_name["tool.exe"].problems
    assert "unsupported file type (none)" in by_name["notype"].problems
    assert sum(r.status == "added" for r in results) == MAX_UPLOAD_FILES - 3
    assert sum("another batch" in r.problems for r in results) == 3


def test_a_bad_upload_leaves_the_index_and_the_earlier_file_as_they_were(fake_assistant):
    good = b"Harbour news\n\nThe bridge reopened on Monday."
    add_uploads(fake_assistant, [("news.txt", good)])
    before = fake_assistant.stats()
    results = add_uploads(fake_assistant, [("news.txt", b"\x00\x01\x02 binary"), ("other.json", b"[1, 2")])
    assert [r.status for r in results] == ["rejected", "rejected"]
    assert results[0].problems and results[1].problems
    assert (fake_assistant.index_dir / "uploads" / "news.txt").read_bytes() == good
    assert sorted(p.name for p in (fake_assistant.index_dir / "uploads").iterdir()) == ["news.txt"]
    after = fake_assistant.stats()
    assert (after["articles"], after["chunks"]) == (before["articles"], before["chunks"])


def test_the_same_name_twice_in_one_batch_keeps_both(fake_assistant):
    results = add_uploads(fake_assistant, [("a/n.txt", b"One\n\nFirst story."), ("b/n.txt", b"Two\n\nSecond story.")])
    assert [r.status for r in results] == ["added", "added"]
    assert sorted(p.name for p in (fake_assistant.index_dir / "uploads").iterdir()) == ["n-2.txt", "n.txt"]


def test_an_upload_never_replaces_another_story(fake_assistant, tmp_path):
    elsewhere = tmp_path / "library" / "marlow.txt"
    elsewhere.parent.mkdir()
    elsewhere.write_text("Marlow raises money\n\nMarlow Robotics raised $27 million.")
    fake_assistant.ingest([elsewhere.parent])  # loaded from elsewhere: its id is "marlow"
    first = b"Ferry returns\n\nThe ferry to Mirren Point returns in May."
    second = b"Fenwick Sound port\n\nThe Fenwick Sound port director is Martina Kowalczyk."
    results = add_uploads(fake_assistant, [("marlow.txt", b"Bakery sold\n\nHearthstone Foods bought the bakery chain."), ("page.txt", first)])
    results += add_uploads(fake_assistant, [("page.txt", second)])  # another story of the same file name ("index.html" of a saved page)
    results += add_uploads(fake_assistant, [("page.txt", first.replace(b"May", b"June"))])  # a new version of the first
    assert [(r.status, r.articles) for r in results] == [("added", "marlow-2"), ("added", "page"), ("added", "page-2"), ("updated", "page")]
    titles = {row[0]: row[1] for row in fake_assistant.articles()}
    assert titles == {"marlow": "Marlow raises money", "marlow-2": "Bakery sold", "page": "Ferry returns", "page-2": "Fenwick Sound port"}


def test_a_json_record_whose_own_id_is_another_story_s_gets_a_numbered_id(fake_assistant):
    add_uploads(fake_assistant, [("feed-a.jsonl", b'{"id": "7", "title": "Ferry returns", "text": "The ferry returns in May."}\n')])
    feed = [{"id": "7", "title": "Bake sale", "text": "The bake sale raised money."}, {"id": "8", "title": "Tram", "text": "Trams run."}]
    results = add_uploads(fake_assistant, [("feed-b.json", json.dumps(feed).encode())])  # another feed numbers alike
    update = {"id": "7", "title": "Ferry returns", "text": "The ferry returns in June."}
    results += add_uploads(fake_assistant, [("fix.json", json.dumps(update).encode())])  # the same headline: a new version
    assert [(r.status, r.articles) for r in results] == [("added", "7-2, 8"), ("updated", "7")]
    titles = {row[0]: row[1] for row in fake_assistant.articles()}
    assert titles == {"7": "Ferry returns", "7-2": "Bake sale", "8": "Tram"}


def test_numbered_ids_skip_those_the_file_or_batch_gives_and_a_new_version_keeps_its_number(fake_assistant):
    def record(rid, title):
        return {"id": rid, "title": title, "text": f"The story of {title.lower()}."}

    add_uploads(fake_assistant, [("old.json", json.dumps(record("7", "Ferry")).encode())])
    feed = json.dumps([record("7", "Bake sale"), record("7-2", "Tram")]).encode()  # "7" is taken; "7-2" is the file's own
    other = json.dumps(record("1", "Budget")).encode()
    results = add_uploads(fake_assistant, [("feed.json", feed), ("a.json", other), ("b.json", json.dumps(record("1", "Fire")).encode())])
    assert [(r.status, r.articles) for r in results] == [("added", "7-3, 7-2"), ("added", "1"), ("added", "1-2")]
    again = json.dumps([record("7", "Bake sale")]).encode()  # the feed again: its story is 7-3 now
    assert [(r.status, r.articles) for r in add_uploads(fake_assistant, [("feed-again.json", again)])] == [("unchanged", "7-3")]
    titles = {row[0]: row[1] for row in fake_assistant.articles()}
    assert titles == {"7": "Ferry", "7-2": "Tram", "7-3": "Bake sale", "1": "Budget", "1-2": "Fire"}


def test_a_numbered_id_is_given_again_only_to_the_same_story_and_one_feed_s_repeated_id_is_one_article(fake_assistant):
    def upload(name, *records):
        lines = "".join(json.dumps({"id": "7", "title": title, "text": text}) + "\n" for title, text in records)
        return [(r.status, r.articles) for r in add_uploads(fake_assistant, [(name, lines.encode())])]

    upload("a.jsonl", ("Weather", "Rain all day."))
    assert upload("b.jsonl", ("Traffic", "The M1 was shut.")) == [("added", "7-2")]
    assert upload("c.jsonl", ("Traffic", "A lorry blocked the ring road.")) == [("added", "7-3")]  # another traffic story
    assert upload("d.jsonl", ("Fares", "Fares rise to 5 pounds."), ("Fares", "Fares rise to 6 pounds.")) == [("added", "7-4, 7-4")]
    texts = {row[0]: fake_assistant.index.store.article(row[0]).text for row in fake_assistant.articles()}
    assert texts == {"7": "Rain all day.", "7-2": "The M1 was shut.", "7-3": "A lorry blocked the ring road.", "7-4": "Fares rise to 6 pounds."}


def test_a_renumbered_record_with_a_lone_surrogate_is_read_as_before(fake_assistant):
    add_uploads(fake_assistant, [("old.json", b'{"id": "7", "title": "Ferry", "text": "The ferry returns."}')])
    [result] = add_uploads(fake_assistant, [("new.json", b'{"id": "7", "title": "Odd", "text": "A lone half \\ud83d here."}')])
    assert (result.status, result.articles) == ("added", "7-2")


def test_a_json_upload_named_like_another_story_or_a_batch_s_other_file_replaces_nothing(fake_assistant):
    first = add_uploads(fake_assistant, [("story.txt", b"Ferry returns\n\nThe ferry to Mirren Point returns in May.")])
    record = json.dumps({"title": "Bake sale", "text": "The bake sale raised money for the library."}).encode()
    results = add_uploads(fake_assistant, [("story.json", record)])  # no id of its own: it would be "story"
    results += add_uploads(fake_assistant, [("n.txt", b"One\n\nFirst story."), ("n.md", b"Two\n\nSecond story.")])  # both "n"
    assert [(r.status, r.articles) for r in first + results] == [("added", "story"), ("added", "story-2"), ("added", "n"), ("added", "n-2")]
    titles = {row[0]: row[1] for row in fake_assistant.articles()}
    assert titles == {"story": "Ferry returns", "story-2": "Bake sale", "n": "One", "n-2": "Two"}


def test_a_text_file_and_a_json_record_of_one_batch_with_the_same_id_are_both_kept(fake_assistant):
    record = json.dumps({"id": "7", "title": "Harbour bridge", "text": "The bridge reopened."}).encode()
    results = add_uploads(fake_assistant, [("7.txt", b"Ferry timetable\n\nFerries run hourly."), ("feed.json", record)])
    assert [(r.status, r.articles) for r in results] == [("added", "7"), ("added", "7-2")]
    other = json.dumps({"id": "9", "title": "Library", "text": "The library opens late."}).encode()
    story = add_uploads(fake_assistant, [("feed2.json", other), ("9.txt", b"Tram works\n\nTrams stop.")])
    assert [(r.status, r.articles) for r in story] == [("added", "9"), ("added", "9-2")]

