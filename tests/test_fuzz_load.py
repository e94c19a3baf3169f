"""Hostile input for every loader (qa.load.load_file on .txt .md .html .json .jsonl): random bytes,
huge lines, deep nesting, tag soup, invisible and control characters, mixed encodings.

The contract: load_file never raises and never hangs. Each problem is a LoadError whose message
starts with the file's path; each article it returns can be stored (UTF-8 encodable, no control
characters, a bounded title) and indexed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.load import EXTENSIONS, MAX_TITLE_CHARS, LoadError, load_file

PER_EXAMPLE_SECONDS = 5  # hypothesis deadline: a slow example fails the test
HANG_SECONDS = 30  # a hard stop (SIGALRM) for an example that never returns
FUZZ = settings(
    max_examples=int(os.environ.get("QA_FUZZ_EXAMPLES", 60)),  # e.g. QA_FUZZ_EXAMPLES=2000 for a long hunt
    deadline=timedelta(seconds=PER_EXAMPLE_SECONDS),
    database=None,  # no .hypothesis folder in the project
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FOLDER = Path(tempfile.mkdtemp(prefix="qa-fuzz-"))


@pytest.fixture(scope="module", autouse=True)
def _warm_html_parser_and_clean_up():
    """Import trafilatura once, so that its import time does not count against an example."""
    import trafilatura  # noqa: F401

    yield
    shutil.rmtree(FOLDER, ignore_errors=True)


class Hang(Exception):
    pass


@contextmanager
def time_limit(seconds: int):
    def alarm(signum, frame):
        raise Hang(f"no result after {seconds}s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def load(name: str, data: bytes, **limits):
    path = FOLDER / name
    path.write_bytes(data)
    with time_limit(HANG_SECONDS):
        loaded = load_file(path, FOLDER, **limits)
    check(path, loaded)
    return loaded


def check(path: Path, loaded) -> None:
    """Only LoadErrors naming the file; every article storable."""
    for error in loaded.errors:
        assert isinstance(error, LoadError)
        assert str(error).startswith(str(path)) and error.reason
    for article in loaded.articles:
        assert isinstance(article.id, str) and article.id
        assert article.text.strip() and isinstance(article.title, str)
        assert len(article.title) <= MAX_TITLE_CHARS
        for value in (article.id, article.title, article.text, article.source, article.url, article.author, article.published):
            if value is not None:
                value.encode("utf-8")  # SQLite stores UTF-8: no lone surrogates
        assert not any(ord(ch) < 32 and ch != "\n" for ch in article.text)
        assert not any(0x7F <= ord(ch) <= 0x9F for ch in article.text)  # no C1 (8-bit CSI) either
        json.dumps(article.meta, ensure_ascii=False).encode("utf-8")
        assert article.content_hash and article.text_hash


# --- strategies --------------------------------------------------------------------------------

NASTY = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u2028\u2029\x00\x01\x07\x1b\x7f\x85\x9b\r\t\x0b\x0c\ud800\udfff€é中😀\u202e"
texty = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(NASTY), st.sampled_from(" .\n\n#<>&\"{}[]:,")), max_size=3000)
encodings = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"])


@st.composite
def encoded_text(draw) -> bytes:
    """Text in one encoding or pieces in several (a file pasted together from two sources)."""
    parts = draw(st.lists(st.tuples(texty, encodings), min_size=1, max_size=3))
    return b"".join(text.encode(encoding, errors="surrogatepass" if encoding.startswith("utf") else "replace") for text, encoding in parts)


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), texty)
json_values = st.recursive(json_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texty, inner, max_size=4)), max_leaves=20)
article_keys = st.sampled_from(["id", "title", "text", "body", "content", "url", "source", "published", "date", "author", "extra"])
records = st.dictionaries(article_keys, st.one_of(texty, json_values), max_size=8)


def json_bytes(value) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", errors="surrogatepass")


tags = st.sampled_from(["div", "p", "b", "i", "span", "article", "main", "table", "tr", "td", "script", "style", "a", "h1", "title", "head", "body", "html", "!--", "br", "svg", "template", "noscript"])


attributes = st.sampled_from(["", " class=x", ' id="a', " onload=alert(1)", " style='", " charset=x-unknown"])


@st.composite
def tag_soup(draw) -> bytes:
    pieces = []
    for _ in range(draw(st.integers(1, 40))):
        kind = draw(st.integers(0, 3))
        tag = draw(tags)
        if kind == 0:
            pieces.append(f"<{tag}{draw(attributes)}>")
        elif kind == 1:
            pieces.append(f"</{tag}>")
        elif kind == 2:
            pieces.append(draw(texty))
        else:
            depth = draw(st.integers(1, 3000))
            pieces.append(f"<{tag}>" * depth + draw(texty) + f"</{tag}>" * draw(st.integers(0, depth)))
    return "".join(pieces).encode(draw(encodings), errors="replace")


# --- property tests ------------------------------------------------------------------------------


@FUZZ
@given(data=st.binary(max_size=4000), suffix=st.sampled_from(EXTENSIONS))
def test_random_bytes(data, suffix):
    load(f"random{suffix}", data)


@FUZZ
@given(data=encoded_text(), suffix=st.sampled_from((".txt", ".md")))
def test_text_and_markdown(data, suffix):
    load(f"text{suffix}", data)


@FUZZ
@given(data=tag_soup(), suffix=st.sampled_from((".html", ".htm")))
def test_html_tag_soup(data, suffix):
    load(f"page{suffix}", data)


@FUZZ
@given(value=st.one_of(records, st.lists(st.one_of(records, json_values), max_size=5), json_values))
def test_json(value):
    load("data.json", json_bytes(value))


@FUZZ
@given(lines=st.lists(st.one_of(records.map(json_bytes), json_values.map(json_bytes), st.binary(max_size=200)), max_size=8))
def test_jsonl(lines):
    load("data.jsonl", b"\n".join(lines))


# --- hostile cases, each once ----------------------------------------------------------------------

DEEP = 100_000
GOOD = json.dumps({"title": "Bridge reopens", "text": "The bridge reopened on Monday."}).encode()
HOSTILE = {
    "nested-lists.json": b"[" * DEEP + b"]" * DEEP,
    "nested-objects.json": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    "nested-line.jsonl": b"[" * DEEP + b"]" * DEEP + b"\n" + GOOD + b"\n",
    "unclosed-nesting.json": b"[" * DEEP,
    "deep-published.json": b'{"text": "The bridge reopened.", "published": ' + b"[" * 900 + b"]" * 900 + b"}",
    "huge-integer.json": b'{"text": "The bridge reopened.", "id": ' + b"9" * 5000 + b"}",
    "huge-integer.jsonl": b'{"text": "The bridge reopened.", "id": ' + b"9" * 5000 + b"}\n" + GOOD + b"\n",
    "lone-surrogates.jsonl": b'{"id": "a\\ud800", "title": "T\\udfff", "text": "Body \\ud83d text.", "author": "\\udc00"}\n',
    "line-separator-in-string.jsonl": json.dumps({"text": "One\u2028two.\u2029Three."}, ensure_ascii=False).encode() + b"\n" + GOOD,
    "huge-title.json": json.dumps({"title": "T" * 2_000_000, "text": "Body."}).encode(),
    "huge-line.txt": b"Headline\n\n" + b"x" * 3_000_000,
    "huge-line-with-at.txt": b"Headline\n\n" + b"a" * 500_000 + b"@" + b"b" * 500_000,
    "huge-spaces-byline.txt": ("\u00a0" * 300_000 + "By Ann Lee | Gazette | 3 May 2024\nHeadline\n\nBody.").encode(),
    "many-short-lines.md": b"# Title\n\n" + b"a.\n" * 500_000,
    "nested-divs.html": b"<html><body>" + b"<div>" * 5000 + b"<p>" + b"Words of the story. " * 50 + b"</p>" + b"</div>" * 5000 + b"</body></html>",
    "nested-divs-100k.html": b"<html><body>" + b"<div>" * DEEP + b"<p>text</p>" + b"</div>" * DEEP + b"</body></html>",
    "nested-inline.html": b"<p>" + b"<b><i>" * 20_000 + b"deep" + b"</i></b>" * 20_000 + b"</p>",
    "unclosed-tags.html": b"<html><body>" + b"<table><tr><td>" * 10_000,
    "script-only.html": b"<html><body><script>" + b"alert(1);" * 100_000 + b"</script></body></html>",
    "zero-width.txt": ("Head\u200bline\n\n" + "\u200b\u200c\u200d\ufeff\u2060" * 20_000 + "The bridge\u200b reopened.").encode(),
    "controls.txt": ("Headline\n\nThe bridge\x1b[31m reopened\x07 on Monday.\x9b2J").encode("utf-8"),
    "mixed-encodings.txt": "Café headline\n\n".encode() + "Le café était fermé.".encode("cp1252") + " naïve".encode(),
    "utf16-odd-length.txt": b"\xff\xfe" + "Headline\n\nBody.".encode("utf-16-le") + b"\x00",
    "bom-only.md": b"\xef\xbb\xbf",
    "nul-bytes.txt": b"Headline\n\nBody\x00 text.",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file(name):
    started = time.monotonic()
    loaded = load(name, HOSTILE[name])
    assert time.monotonic() - started < 15, f"{name} took {time.monotonic() - started:.1f}s"
    assert loaded.articles or loaded.errors


def test_hostile_findings_are_reported_not_fatal():
    """What the hostile files above give: a clear reason, and the good records beside bad ones kept."""
    names = ("nested-lists.json", "nested-line.jsonl", "huge-integer.jsonl", "deep-published.json", "huge-title.json", "huge-line.txt")
    reasons = {name: [e.reason for e in load(name, HOSTILE[name]).errors] for name in names}
    assert reasons["nested-lists.json"] == ["JSON nested too deeply"]
    assert "JSON nested too deeply" in reasons["nested-line.jsonl"]
    assert any("4300 digits" in r for r in reasons["huge-integer.jsonl"])
    assert len(load("huge-integer.jsonl", HOSTILE["huge-integer.jsonl"]).articles) == 1
    assert any("field 'published'" in r for r in reasons["deep-published.json"])
    assert any("title of 2,000,000 characters" in r for r in reasons["huge-title.json"])
    assert any("characters; the limit is" in r for r in reasons["huge-line.txt"])
    separators = load("line-separator-in-string.jsonl", HOSTILE["line-separator-in-string.jsonl"])
    assert len(separators.articles) == 2 and separators.articles[0].text == "One\ntwo.\nThree."
    surrogates = load("lone-surrogates.jsonl", HOSTILE["lone-surrogates.jsonl"]).articles[0]
    assert (surrogates.id, surrogates.title, surrogates.text) == ("a\ufffd", "T\ufffd", "Body \ufffd text.")
    controls = load("controls.txt", HOSTILE["controls.txt"]).articles[0]
    assert controls.text == "The bridge[31m reopened on Monday.2J"  # no ESC, BEL or CSI left to reach a terminal


def test_fifo_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with time_limit(10):
        loaded = load_file(fifo, tmp_path)
    assert [e.reason for e in loaded.errors] == ["not a regular file (a pipe, socket or device), expected a file"]
