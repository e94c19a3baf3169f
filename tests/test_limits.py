"""Limits on input, each with a clear message (file size, article length, question length, many
files at once), and article text that is never executed or rendered as markup by the CLI."""

from __future__ import annotations

import gc
import json
import os
import time
from pathlib import Path

import pytest

import qa.cli
from conftest import FakeEmbedder, write_articles
from qa.assistant import Assistant
from qa.config import Config
from qa.embed import Embedder
from qa.index import ArticleIndex, verify
from qa.ingest import Ingestor
from reliability_kit import cli, onnx_cache, tiny_model, tiny_model_cache

GOOD = {"good.txt": "Harbour bridge reopens\n\nThe Kestrel bridge reopened on Monday after a 14-month repair."}


# --- file size and article length ----------------------------------------------------------------


def test_file_over_the_size_limit_is_skipped_by_name_before_reading(tmp_path, capsys):
    folder = write_articles(tmp_path / "in", GOOD)
    big = folder / "huge.txt"
    with open(big, "wb") as handle:  # sparse: no disk space used, nothing read
        handle.truncate(Config().max_file_bytes + 1)
    code, out, err = cli(capsys, "ingest", "--index", tmp_path / "idx", "--model", tiny_model(), folder)
    assert code == 2
    assert f"skipped {big}: file is 20,000,001 bytes; the limit is 20,000,000" in err
    assert "1 added" in out and "1 rejected" in out


def test_article_over_the_length_limit_is_skipped_and_its_neighbours_kept(tmp_path, capsys):
    limit = Config().max_article_chars
    records = [{"id": "long", "title": "Long", "text": "word " * (limit // 5) + "end."}, {"id": "short", "title": "Short", "text": "A short story."}]
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "wire.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    code, out, err = cli(capsys, "ingest", "--index", tmp_path / "idx", "--model", tiny_model(), folder)
    assert code == 2
    length = len(records[0]["text"])
    assert f"skipped {folder / 'wire.jsonl'}: article 'long' is {length:,} characters; the limit is {limit:,}" in err
    assert [row[0] for row in ArticleIndex(tmp_path / "idx").open().store.articles()] == ["short"]


def test_limits_follow_the_config(tmp_path):
    folder = write_articles(tmp_path / "in", {**GOOD, "big.txt": "Big\n\n" + "x" * 3000, "long.md": "# Long\n\n" + "Words here. " * 100})
    config = Config(model="fake-hash", max_file_bytes=2000, max_article_chars=1000)
    report = Ingestor(ArticleIndex(tmp_path / "idx"), FakeEmbedder(), config).ingest([folder])
    reasons = sorted(str(e) for e in report.errors)
    assert reasons == [
        f"{folder / 'big.txt'}: file is 3,005 bytes; the limit is 2,000",
        f"{folder / 'long.md'}: article 'long' is 1,199 characters; the limit is 1,000",
    ]
    assert report.added == 1


# --- question length -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_index(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("limits")
    folder = write_articles(root / "in", {
        **GOOD,
        "script.txt": "Council vote\n\n<script>alert('pwned')</script> The council approved the <b>harbour</b> budget on Tuesday.\n\n"
        "Councillor \x1b[2J\x1b[31mJane Doe\x1b[0m said the vote was close.",
    })
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QA_CACHE", str(onnx_cache()))
        assert qa.cli.main(["ingest", "--index", str(root / "idx"), "--model", str(tiny_model()), str(folder)]) == 0
    return root / "idx"


def test_question_over_the_length_limit_is_a_value_error(small_index):
    model = str(tiny_model())
    assistant = Assistant(small_index, Config(model=model), embedder=Embedder(model))
    with pytest.raises(ValueError, match="question is 1,001 characters; the limit is 1,000"):
        assistant.ask("x" * 1001)
    with pytest.raises(ValueError, match="question is empty"):
        assistant.ask("   ")
    assert assistant.ask("y" * 999 + "?").question  # at the limit: answered


def test_question_over_the_length_limit_through_the_cli(small_index, capsys):
    code, out, err = cli(capsys, "ask", "--index", small_index, "x" * 1001)
    assert code == 1 and out == ""
    assert err == "error: question is 1,001 characters; the limit is 1,000\n"


# --- many files at once ------------------------------------------------------------------------------


def open_files() -> set[str]:
    """What this process has open (files, sockets, pipes)."""
    gc.collect()  # an index object unreachable but not yet collected still holds its database
    names = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            names.add(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass  # the listing's own descriptor
    return names


def test_many_files_in_one_ingest(tmp_path):
    """The engine takes a large upload in one call (the UI caps how many files a person drops):
    every file reported, no file handle left open, time linear in the files."""
    folder = write_articles(tmp_path / "in", {
        f"batch-{i // 100}/story-{i:04d}.txt": f"Story {i}\n\nThe town of Place{i} opened {i % 17} parks. Residents welcomed them."
        for i in range(1500)
    })
    (folder / "batch-0" / "broken.json").write_text("{ not json")
    before = open_files()
    started = time.monotonic()
    report = Ingestor(ArticleIndex(tmp_path / "idx"), FakeEmbedder(), Config(model="fake-hash")).ingest([folder])
    assert time.monotonic() - started < 60
    assert (report.added, len(report.files), report.rejected) == (1500, 1501, 1)
    assert open_files() - before == set()  # nothing left open: not an input file, not the index's database
    assert verify(ArticleIndex(tmp_path / "idx").open()) == []


# --- article text is data, never markup or terminal control ----------------------------------------


def test_cli_prints_article_markup_literally(small_index, capsys):
    code, out, err = cli(capsys, "ask", "--index", small_index, "What did the council approve?")
    assert code == 0, err
    assert "<script>alert('pwned')</script>" in out and "<b>harbour</b>" in out
    assert "&lt;" not in out and "\x1b" not in out  # not escaped, and no terminal escape sequence
    code, out, err = cli(capsys, "ask", "--index", small_index, "--json", "What did the council approve?")
    reply = json.loads(out)
    assert any("<script>alert('pwned')</script>" in c["passage"] for c in reply["citations"])


def test_terminal_escape_sequences_never_reach_the_index(small_index):
    articles = ArticleIndex(small_index).open().store
    text = articles.article("script").text
    assert "\x1b" not in text and "[2J" in text  # the ESC is gone; what is left is inert text
