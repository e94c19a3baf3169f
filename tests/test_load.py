"""qa/load.py: every input format, article ids, encodings, rejections, folder discovery."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.load import LoadError, discover, load_file

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "000_5d0d03b4367bc12b.txt"

HTML_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Glass frog found in cloud forest | Valley Herald</title>
<meta name="author" content="Maria Santos">
<meta property="og:site_name" content="Valley Herald">
<meta property="og:title" content="Glass frog found in cloud forest">
<meta property="article:published_time" content="2025-06-14T08:00:00+00:00">
</head><body>
<div class="cookie-banner"><p>We use cookies to improve your experience. By clicking Accept all you agree
to our cookie policy.</p><button>Accept all</button></div>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
<li><a href="/sport">Sport</a></li><li><a href="/subscribe">Subscribe today</a></li></ul></nav></header>
<main><article>
<h1>Glass frog found in cloud forest</h1>
<p>Biologists working in the Ecuadorian cloud forest have described a new species of glass frog whose
translucent belly shows its beating heart. The team found the frog on a night survey along a mountain stream.</p>
<p>The species, named Hyalinobatrachium vireo, is about 22 millimetres long. Its green back is dotted with
tiny yellow spots, which the researchers say help it stay unseen on moss-covered leaves.</p>
<p>Lead author Dr. Elena Ruiz said the discovery shows how much remains unknown in the region. Fewer than
40 individuals were counted during the three-year study, and the team has asked for the stream to be protected.</p>
</article></main>
<footer><p>Copyright 2025 Valley Herald. All rights reserved.</p><p>Terms of use | Privacy policy | Contact us</p></footer>
</body></html>
"""


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def load_one(path: Path, root: Path | None = None, **limits):
    loaded = load_file(path, root or path.parent, **limits)
    assert loaded.errors == (), loaded.errors
    assert len(loaded.articles) == 1
    return loaded.articles[0]


def only_error(path: Path, root: Path | None = None, **limits) -> LoadError:
    loaded = load_file(path, root or path.parent, **limits)
    assert loaded.articles == ()
    assert len(loaded.errors) == 1
    return loaded.errors[0]


# --- formats ----------------------------------------------------------------------------------


def test_txt_first_nonempty_line_is_title(tmp_path):
    path = write(tmp_path / "bridge.txt", "\n\nHarbour bridge reopens\n\nThe bridge reopened on Monday.\n\nIt cost $38.6 million.")
    article = load_one(path)
    assert article.title == "Harbour bridge reopens"
    assert article.text == "The bridge reopened on Monday.\n\nIt cost $38.6 million."


def test_txt_byline_gives_source_author_and_date(tmp_path):
    path = write(
        tmp_path / "bridge.txt",
        "Harbour bridge reopens\nBy Ann Lee - Port Gazette - March 3, 2026\n\nThe bridge reopened on Monday.",
    )
    article = load_one(path)
    assert (article.title, article.author, article.source, article.published) == (
        "Harbour bridge reopens", "Ann Lee", "Port Gazette", "2026-03-03")
    assert article.text == "The bridge reopened on Monday."


def test_md_hash_heading_is_title(tmp_path):
    path = write(tmp_path / "school.md", "# School posts record results\n\nStudents did well this year.")
    article = load_one(path)
    assert article.title == "School posts record results"
    assert article.text == "Students did well this year."


def test_md_is_read_as_the_words_a_reader_sees(tmp_path):
    path = write(tmp_path / "tram.md", "# **Tram Line** Approved for _Eastport_\n\n*By Kim Vo - Eastport Echo - March 3, 2026*\n\n"
                 "The [city council](https://example.com/council) voted **23 to 9**.\nMayor Dana Brooks called it `huge`.\n\n"
                 "A line with 3 * 4 = 12 and an_underscore_word.\n")
    article = load_one(path)
    assert (article.title, article.author, article.source, article.published) == (
        "Tram Line Approved for Eastport", "Kim Vo", "Eastport Echo", "2026-03-03")
    assert article.text == "The city council voted 23 to 9.\nMayor Dana Brooks called it huge.\n\nA line with 3 * 4 = 12 and an_underscore_word."
    chart = load_one(write(tmp_path / "chart.md", "# Top singles\n\n1. Usher - Yeah\n2. Eminem - Lose Yourself\n\n"
                                                   "Filed by <Reuters> with shares\n+ 5 points."))
    assert chart.text == "1. Usher - Yeah\n2. Eminem - Lose Yourself\n\nFiled by <Reuters> with shares\n+ 5 points."  # ranks, signs stay


def test_html_extracts_text_and_metadata(tmp_path):
    article = load_one(write(tmp_path / "frog.html", HTML_PAGE))
    assert article.title == "Glass frog found in cloud forest"
    assert article.author == "Maria Santos"
    assert article.source == "Valley Herald"
    assert article.published == "2025-06-14"
    assert article.text.startswith("Biologists working in the Ecuadorian cloud forest")
    assert "asked for the stream to be protected." in article.text


def test_html_drops_nav_footer_and_cookie_text(tmp_path):
    text = load_one(write(tmp_path / "frog.htm", HTML_PAGE)).text
    for junk in ("cookies", "Accept all", "Subscribe today", "Copyright", "Terms of use", "Home"):
        assert junk not in text


def test_json_single_object(tmp_path):
    record = {"id": "a-1", "title": "Bakery sold", "body": "Hearthstone bought the chain.", "source": "Wire",
              "date": "2026-02-01", "url": "https://example.org/b", "author": "Kim Park"}
    article = load_one(write(tmp_path / "one.json", json.dumps(record)))
    assert (article.id, article.title, article.text) == ("a-1", "Bakery sold", "Hearthstone bought the chain.")
    assert (article.source, article.published, article.url, article.author) == (
        "Wire", "2026-02-01", "https://example.org/b", "Kim Park")


def test_json_list_of_records(tmp_path):
    records = [{"title": "One", "text": "First story text."}, {"title": "Two", "content": "Second story text."}]
    loaded = load_file(write(tmp_path / "feed" / "many.json", json.dumps(records)), tmp_path)
    assert loaded.errors == ()
    assert [(a.id, a.title, a.text) for a in loaded.articles] == [
        ("feed/many/1", "One", "First story text."), ("feed/many/2", "Two", "Second story text.")]


@pytest.mark.parametrize("text_field", ["text", "body", "content"])
@pytest.mark.parametrize("date_field", ["published", "date"])
def test_jsonl_text_and_date_field_names(tmp_path, text_field, date_field):
    line = json.dumps({"id": "w1", "title": "T", text_field: "The story body.", date_field: "February 1, 2022"})
    article = load_one(write(tmp_path / "wire.jsonl", line + "\n"))
    assert (article.id, article.text, article.published) == ("w1", "The story body.", "2022-02-01")


def test_jsonl_one_article_per_line(tmp_path):
    lines = [json.dumps({"title": f"T{i}", "text": f"Story number {i}."}) for i in range(3)]
    loaded = load_file(write(tmp_path / "wire.jsonl", "\n".join(lines) + "\n"), tmp_path)
    assert [a.text for a in loaded.articles] == ["Story number 0.", "Story number 1.", "Story number 2."]
    assert len({a.id for a in loaded.articles}) == 3


# --- ids --------------------------------------------------------------------------------------


def test_id_is_path_relative_to_root_without_extension(tmp_path):
    path = write(tmp_path / "web" / "page.txt", "Title\n\nBody text.")
    assert load_one(path, tmp_path).id == "web/page"


def test_id_of_single_file_is_its_stem(tmp_path):
    path = write(tmp_path / "web" / "page.md", "# Title\n\nBody text.")
    assert load_one(path, path.parent).id == "page"


def test_json_id_field_wins_over_path(tmp_path):
    path = write(tmp_path / "web" / "page.json", json.dumps({"id": 42, "text": "Body text."}))
    assert load_one(path, tmp_path).id == "42"


# --- encodings --------------------------------------------------------------------------------


def test_utf8(tmp_path):
    path = write(tmp_path / "a.txt", "Título\n\nCafé “quoted” — naïve.".encode("utf-8"))
    article = load_one(path)
    assert (article.title, article.text) == ("Título", "Café “quoted” — naïve.")


def test_utf8_with_bom(tmp_path):
    path = write(tmp_path / "a.txt", b"\xef\xbb\xbfHeadline\n\nCaf\xc3\xa9 story.")
    article = load_one(path)
    assert (article.title, article.text) == ("Headline", "Café story.")


def test_cp1252_bytes(tmp_path):
    path = write(tmp_path / "a.txt", b"Headline\n\ncaf\xe9 \x93quoted\x94")
    assert load_one(path).text == "café “quoted”"


def test_latin1_bytes(tmp_path):
    path = write(tmp_path / "a.txt", "Headline\n\nSeñor Müller à Zürich.".encode("latin-1"))
    assert load_one(path).text == "Señor Müller à Zürich."


def test_utf16_with_bom(tmp_path):
    path = write(tmp_path / "a.txt", "Headline\n\nCafé story.".encode("utf-16"))
    assert load_one(path).text == "Café story."


# --- rejections -------------------------------------------------------------------------------


def test_empty_file_rejected(tmp_path):
    path = write(tmp_path / "empty.txt", b"")
    error = only_error(path)
    assert error.path == str(path) and "empty" in error.reason
    assert str(path) in str(error)


def test_whitespace_only_file_rejected(tmp_path):
    path = write(tmp_path / "blank.md", " \n\t\r\n  \n")
    assert "empty" in only_error(path).reason


def test_binary_file_rejected(tmp_path):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"
    path = write(tmp_path / "picture.txt", png)
    error = only_error(path)
    assert "binary" in error.reason
    assert str(path) in str(error)


def test_malformed_jsonl_line_reported_other_lines_load(tmp_path):
    content = '{"id": "a", "text": "First story."}\n{"id": "b", "text": \n{"id": "c", "text": "Third story."}\n'
    path = write(tmp_path / "wire.jsonl", content)
    loaded = load_file(path, tmp_path)
    assert [a.id for a in loaded.articles] == ["a", "c"]
    assert len(loaded.errors) == 1
    error = loaded.errors[0]
    assert error.line == 2 and "malformed JSON" in error.reason
    assert str(error).startswith(f"{path}:2: ")


def test_malformed_json_file_rejected(tmp_path):
    path = write(tmp_path / "bad.json", '{"title": "x", "text": ')
    error = only_error(path)
    assert "malformed JSON" in error.reason and str(path) in str(error)


def test_record_without_text_rejected(tmp_path):
    path = write(tmp_path / "wire.jsonl", '{"id": "a", "text": "Story."}\n{"id": "b", "title": "No body"}\n')
    loaded = load_file(path, tmp_path)
    assert [a.id for a in loaded.articles] == ["a"]
    (error,) = loaded.errors
    assert error.line == 2 and "no text" in error.reason


def test_json_record_without_text_rejected(tmp_path):
    path = write(tmp_path / "one.json", '{"title": "Only a title", "text": "   "}')
    assert "no text" in only_error(path).reason


def test_json_empty_list_rejected(tmp_path):
    path = write(tmp_path / "feed.json", "[]")
    assert "empty" in only_error(path).reason


def test_unknown_extension_rejected(tmp_path):
    path = write(tmp_path / "report.pdf", "%PDF-1.4 something")
    error = only_error(path)
    assert ".pdf" in error.reason and ".txt" in error.reason
    assert str(path) in str(error)


def test_missing_file_rejected(tmp_path):
    path = tmp_path / "gone.txt"
    error = only_error(path)
    assert "no such file" in error.reason and str(path) in str(error)


def test_file_over_max_bytes_rejected(tmp_path):
    path = write(tmp_path / "big.txt", "Title\n\n" + "word " * 100)
    error = only_error(path, max_bytes=100)
    assert "limit is 100" in error.reason and str(path) in str(error)


def test_article_over_max_chars_rejected(tmp_path):
    path = write(tmp_path / "long.txt", "Title\n\n" + "A sentence here. " * 20)
    error = only_error(path, max_chars=50)
    assert "'long'" in error.reason and "limit is 50" in error.reason


def test_text_file_with_only_a_title_rejected(tmp_path):
    assert "no article text" in only_error(write(tmp_path / "t.txt", "Just a headline\n")).reason


# --- the seed article -------------------------------------------------------------------------


@pytest.fixture
def seed_article():
    if not SEED.is_file():
        pytest.skip(f"seed article not present at {SEED}")
    return load_one(SEED)


def test_seed_keeps_story_paragraphs(seed_article):
    text = seed_article.text
    for sentence in (
        "Secretary of State Antony Blinken and Russian counterpart Foreign Minister Sergey Lavrov held a direct phone conversation Tuesday",
        "The State Department offered a short readout of Tuesday’s conversation",
        "Russian President Vladimir Putin has yet to respond publicly",
        "department spokesman Ned Price said in the five-sentence statement",
        "Kremlin spokesman Dmitry Peskov confirmed Tuesday",
        "was the main trigger for the crisis.",
    ):
        assert sentence in text
    assert text.count("\n\n") == 5  # six story paragraphs


def test_seed_drops_boilerplate(seed_article):
    text = seed_article.text
    for junk in ("comment policy", "Click to Read More", "Click to Hide", "Copyright", "can be reached at", "@"):
        assert junk not in text
    assert text.endswith("was the main trigger for the crisis.")


def test_seed_header_metadata(seed_article):
    assert seed_article.source == "The Washington Times"
    assert seed_article.published == "2022-02-01"
    assert "Washington Times" not in seed_article.text


# --- discover ---------------------------------------------------------------------------------


def test_discover_recursive_sorted_and_skips_hidden(tmp_path):
    for name in ("b.txt", "a.md", "sub/c.json", "sub/deeper/d.jsonl", ".hidden.txt", ".git/config.txt", "sub/.e.txt"):
        write(tmp_path / name, "x")
    found = list(discover([tmp_path]))
    assert [p.relative_to(tmp_path).as_posix() for p, _ in found] == ["a.md", "b.txt", "sub/c.json", "sub/deeper/d.jsonl"]
    assert all(root == tmp_path for _, root in found)


def test_discover_single_file_rooted_at_its_folder(tmp_path):
    path = write(tmp_path / "sub" / "a.txt", "x")
    assert list(discover([path])) == [(path, path.parent)]
