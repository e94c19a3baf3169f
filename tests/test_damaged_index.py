"""Damaged or mismatched index folders, through the CLI.

Where the design repairs the damage from the SQLite store (a derived file truncated, missing or
garbled; the manifest missing), the index opens and `stats --check` passes. Where it cannot (the
store itself garbled, another model's vectors, a newer format), the CLI prints one `error: …` line
naming the file and the fix (`python -m qa ingest --rebuild …`) and exits 1: never a traceback.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

import qa.cli
from qa.index import ArticleIndex, verify
from reliability_kit import cli, news_text, onnx_cache, run_qa, tiny_model, tiny_model_cache, write_news

REBUILD = "python -m qa ingest --rebuild --index"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """An index of 10 stories built by the CLI with a model folder of its own, kept pristine."""
    root = tmp_path_factory.mktemp("damaged")
    model = root / "model"
    shutil.copytree(tiny_model(32), model)
    articles = write_news(root / "news", 10)
    pristine = root / "pristine"
    result = run_qa("ingest", "--index", pristine, "--model", model, articles)
    assert result.returncode == 0, result.stderr
    return {"root": root, "model": model, "articles": articles, "pristine": pristine}


@pytest.fixture
def index(built, tmp_path) -> Path:
    """A fresh copy of the built index for one test to damage."""
    directory = tmp_path / "idx"
    shutil.copytree(built["pristine"], directory)
    return directory


def manifest(directory: Path) -> dict:
    return json.loads((directory / "manifest.json").read_text())


def check_passes(capsys, directory: Path) -> None:
    code, out, err = cli(capsys, "stats", "--check", "--index", directory)
    assert code == 0 and "check: ok" in out, err


def assert_clear_error(err: str, path: Path, *fragments: str) -> None:
    assert err.startswith("error: ") and err.count("\n") == 1, err  # one line, no traceback
    assert str(path) in err, err
    for fragment in fragments:
        assert fragment in err, err


# --- repaired from the store ---------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncate", "empty", "garble", "delete"])
def test_damaged_faiss_file_is_rebuilt_from_the_store(index, capsys, damage):
    path = index / manifest(index)["faiss"]
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "garble":
        path.write_bytes(data[:64] + bytes(b ^ 0x5A for b in data[64:]))
    else:
        path.unlink()
    check_passes(capsys, index)
    assert verify(ArticleIndex(index).open()) == []


@pytest.mark.parametrize("damage", ["delete", "garble", "empty"])
def test_damaged_bm25_files_are_rebuilt_from_the_store(index, capsys, damage):
    folder = index / manifest(index)["bm25"]
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    if damage == "delete":
        shutil.rmtree(folder)
    for path in files if damage != "delete" else ():
        path.write_bytes(b"" if damage == "empty" else b"\x93NUMPY garbage" * 10)
    check_passes(capsys, index)


@pytest.mark.parametrize("damage", ["delete", "garble", "truncate", "wrong-generation", "wrong-counts"])
def test_missing_or_garbled_manifest_is_rewritten_from_the_store(index, capsys, damage):
    path = index / "manifest.json"
    text = path.read_text()
    if damage == "delete":
        path.unlink()
    elif damage == "garble":
        path.write_text("{ this is not json")
    elif damage == "truncate":
        path.write_text(text[: len(text) // 2])
    elif damage == "wrong-generation":
        path.write_text(json.dumps({**json.loads(text), "generation": 1}))
    else:
        path.write_text(json.dumps({**json.loads(text), "counts": {"articles": 1, "duplicates": 0, "chunks": 1}}))
    check_passes(capsys, index)
    assert manifest(index)["generation"] == ArticleIndex(index).open().store.generation


def test_repaired_index_answers_through_the_cli_subprocess(index):
    (index / manifest(index)["faiss"]).write_bytes(b"\x00" * 100)
    (index / "manifest.json").unlink()
    title, body = news_text(3)
    result = run_qa("ask", "--index", index, "--json", body.split(".")[0] + "?")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    reply = json.loads(result.stdout)
    assert "story-003" in [c["article_id"] for c in reply["citations"]]
    assert run_qa("stats", "--check", "--index", index).returncode == 0


# --- clear errors ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["stats", "ask", "list"])
def test_garbled_database_names_the_file_and_the_rebuild(index, capsys, command):
    database = index / "meta.sqlite"
    database.write_bytes(b"not a database, just bytes " * 4000)
    args = [command, "--index", index] + (["What happened?"] if command == "ask" else [])
    code, out, err = cli(capsys, *args)
    assert code == 1
    assert_clear_error(err, database, "not a readable index database", f"{REBUILD} {index}")


def corrupt_pages(database: Path) -> None:
    """Keep SQLite's header page, scribble over the pages after it (tables and indexes)."""
    data = bytearray(database.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    for start in range(page, len(data), page):
        data[start : start + page // 2] = b"\xde\xad\xbe\xef" * (page // 8)
    database.write_bytes(bytes(data))


@pytest.mark.parametrize("command", ["stats", "stats --check", "ask", "list", "ingest"])
def test_database_with_corrupt_pages_names_the_file_and_the_rebuild(built, index, capsys, command):
    database = index / "meta.sqlite"
    for extra in ("meta.sqlite-wal", "meta.sqlite-shm"):
        assert not (index / extra).exists()  # the ingest process closed the store cleanly
    corrupt_pages(database)
    args = command.split() + ["--index", index]
    args += {"ask": ["What happened?"], "ingest": ["--model", built["model"], built["articles"]]}.get(command, [])
    code, out, err = cli(capsys, *args)
    assert code == 1
    assert_clear_error(err, database, f"{REBUILD} {index}")


def test_rebuild_named_in_the_error_repairs_a_garbled_database(built, index, capsys):
    (index / "meta.sqlite").write_bytes(b"garbage" * 5000)
    code, out, err = cli(capsys, "ingest", "--rebuild", "--index", index, "--model", built["model"], built["articles"])
    assert code == 0, err
    check_passes(capsys, index)
    assert ArticleIndex(index).open().store.counts()["articles"] == 10


def test_newer_manifest_format_is_refused_naming_the_manifest(index, capsys):
    path = index / "manifest.json"
    path.write_text(json.dumps({**manifest(index), "format_version": 7}))
    code, out, err = cli(capsys, "stats", "--check", "--index", index)
    assert code == 1
    assert_clear_error(err, path, "format 7 is newer", "upgrade the program", f"{REBUILD} {index}")


def test_newer_store_format_is_refused_naming_the_database(index, capsys):
    database = index / "meta.sqlite"
    with sqlite3.connect(database) as db:
        db.execute("UPDATE info SET value = '9' WHERE key = 'format_version'")
    code, out, err = cli(capsys, "stats", "--index", index)
    assert code == 1
    assert_clear_error(err, database, "format 9 is newer", f"{REBUILD} {index}")


def test_store_without_settings_names_the_database(index, capsys):
    database = index / "meta.sqlite"
    with sqlite3.connect(database) as db:
        db.execute("DELETE FROM info WHERE key = 'settings'")
    code, out, err = cli(capsys, "ask", "--index", index, "What happened?")
    assert code == 1
    assert_clear_error(err, database, "settings", f"{REBUILD} {index}")


@pytest.mark.parametrize("state", ["empty-file", "schema-only"])
def test_index_whose_creation_was_cut_off_counts_as_none_and_is_started_afresh(built, tmp_path, capsys, state):
    """A first ingest killed between creating meta.sqlite and committing its settings."""
    directory = tmp_path / "idx"
    directory.mkdir()
    database = directory / "meta.sqlite"
    if state == "empty-file":
        database.write_bytes(b"")
    else:
        from qa.store import Store

        Store(database).close()
    code, out, err = cli(capsys, "stats", "--index", directory)
    assert code == 1 and "no index here yet" in err and "python -m qa ingest" in err
    code, out, err = cli(capsys, "ingest", "--index", directory, "--model", built["model"], built["articles"])
    assert code == 0, err
    check_passes(capsys, directory)


@pytest.fixture
def swapped_model(built, tmp_path) -> dict:
    """An index built with a 32-dimensional model whose folder now holds a 48-dimensional one."""
    model = tmp_path / "model"
    shutil.copytree(tiny_model(32), model)
    directory = tmp_path / "idx"
    assert qa.cli.main(["ingest", "--index", str(directory), "--model", str(model), str(built["articles"])]) == 0
    shutil.rmtree(model)
    shutil.copytree(tiny_model(48), model)
    return {"model": model, "index": directory}


def test_model_of_another_dimension_is_refused_when_asking(swapped_model, capsys):
    index = swapped_model["index"]
    code, out, err = cli(capsys, "ask", "--index", index, "When did the bridge reopen?")
    assert code == 1
    assert_clear_error(err, index, "32-dimensional", "48-dimensional", f"{REBUILD} {index}")


def test_model_of_another_dimension_is_refused_when_ingesting(swapped_model, capsys, tmp_path):
    index = swapped_model["index"]
    before = ArticleIndex(index).open().store.counts()
    changed = write_news(tmp_path / "changed", 10, version=lambda i: 2)
    code, out, err = cli(capsys, "ingest", "--index", index, changed)
    assert code == 1
    assert_clear_error(err, index, "32-dimensional", "48-dimensional", f"{REBUILD} {index}")
    opened = ArticleIndex(index).open()
    assert opened.store.counts() == before and verify(opened) == []


def test_index_built_with_another_model_is_refused_by_name(built, index):
    """Asking with an explicitly different embedder (the API; the CLI always uses the index's model)."""
    from qa.assistant import Assistant
    from qa.embed import Embedder
    from qa.index import IndexOpenError

    other = Embedder(str(tiny_model(32, seed=1)))
    with pytest.raises(IndexOpenError, match="built with model") as caught:
        Assistant(index, embedder=other).ask("When did the bridge reopen?")
    assert str(index) in str(caught.value) and "--rebuild" in str(caught.value)
