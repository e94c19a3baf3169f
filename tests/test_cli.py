"""qa/cli.py + qa/commands.py: the command-line contract, run in-process with the fake embedder."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

import qa.assistant
import qa.read
from conftest import FakeEmbedder
from qa.cli import main
from qa.entities import EntityTagger

REPLY_KEYS = {"question", "found", "answer", "score", "citations", "timings_ms"}
CITATION_KEYS = {"n", "article_id", "title", "source", "url", "published", "passage", "answer_start", "answer_end", "score"}
TIMING_KEYS = {"retrieve", "read", "total"}
_TAGGER = EntityTagger()  # one spaCy load for the whole file instead of one per Assistant


@pytest.fixture(autouse=True)
def fake_models(monkeypatch, tmp_path):
    monkeypatch.setattr(qa.assistant, "Embedder", lambda *args, **kwargs: FakeEmbedder())
    if hasattr(qa.read, "EntityTagger"):
        monkeypatch.setattr(qa.read, "EntityTagger", lambda *args, **kwargs: _TAGGER)
    monkeypatch.setenv("QA_INDEX", str(tmp_path / "default-index"))  # never touch the project's index/


@pytest.fixture
def index(tmp_path, news_dir, capsys) -> str:
    directory = str(tmp_path / "idx")
    assert main(["ingest", "--index", directory, "--model", "fake-hash", str(news_dir)]) == 0
    capsys.readouterr()
    return directory


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- ingest -----------------------------------------------------------------------------------


def test_ingest_prints_one_line_summary(tmp_path, news_dir, capsys):
    code, out, err = run(capsys, "ingest", "--index", str(tmp_path / "idx"), "--model", "fake-hash", str(news_dir))
    assert code == 0
    assert out.strip().splitlines() == [out.strip()]
    assert out.startswith("3 added, 0 updated, 0 unchanged, 0 duplicate copies, 0 rejected; 3 passages")
    assert err == ""


def test_reingest_reports_unchanged(index, news_dir, capsys):
    code, out, _ = run(capsys, "ingest", "--index", index, "--model", "fake-hash", str(news_dir))
    assert code == 0 and out.startswith("0 added, 0 updated, 3 unchanged")


def test_ingest_bad_file_exits_2_naming_file_and_reason(tmp_path, news_dir, capsys):
    bad = news_dir / "blank.txt"
    bad.write_text("   \n")
    code, out, err = run(capsys, "ingest", "--index", str(tmp_path / "idx"), "--model", "fake-hash", str(news_dir))
    assert code == 2
    assert f"{bad}: file is empty" in err
    assert "3 added" in out and "1 rejected" in out


def test_ingest_missing_path_exits_2(tmp_path, news_dir, capsys):
    missing = tmp_path / "nowhere"
    code, out, err = run(capsys, "ingest", "--index", str(tmp_path / "idx"), "--model", "fake-hash", str(news_dir), str(missing))
    assert code == 2
    assert f"{missing}: no such file or folder" in err
    assert "3 added" in out


def test_ingest_rebuild_replaces_the_index(index, news_dir, capsys):
    code, _, _ = run(capsys, "ingest", "--rebuild", "--index", index, "--model", "fake-hash", str(news_dir / "school.md"))
    assert code == 0
    _, out, _ = run(capsys, "list", "--index", index)
    assert [line.split("\t")[0] for line in out.splitlines()] == ["school"]


def test_ingest_rebuild_keeps_the_articles_uploaded_through_the_ui(index, news_dir, capsys):
    uploads = Path(index) / "uploads"
    uploads.mkdir()
    (uploads / "upload-note.md").write_text("# Orchard festival\n\nThe orchard festival drew 4,000 visitors on Sunday.\n")
    assert main(["ingest", "--index", index, "--model", "fake-hash", str(uploads / "upload-note.md")]) == 0
    code, _, _ = run(capsys, "ingest", "--rebuild", "--index", index, "--model", "fake-hash", str(news_dir / "school.md"))
    assert code == 0
    _, out, _ = run(capsys, "list", "--index", index)
    assert sorted(line.split("\t")[0] for line in out.splitlines()) == ["school", "upload-note"]
    assert (uploads / "upload-note.md").exists()


# --- ask --------------------------------------------------------------------------------------


def test_ask_json_has_contract_keys(index, capsys):
    code, out, err = run(capsys, "ask", "--index", index, "--json", "How much did the bridge project cost?")
    assert code == 0, err
    reply = json.loads(out)
    assert REPLY_KEYS <= reply.keys()
    assert reply["question"] == "How much did the bridge project cost?"
    assert isinstance(reply["found"], bool) and isinstance(reply["score"], float)
    assert TIMING_KEYS <= reply["timings_ms"].keys()
    assert all(isinstance(v, (int, float)) and v >= 0 for v in reply["timings_ms"].values())
    assert reply["citations"]
    for n, citation in enumerate(reply["citations"], start=1):
        assert CITATION_KEYS <= citation.keys()
        assert citation["n"] == n
        assert citation["article_id"] in {"bridge", "school", "wire-1"}
        assert isinstance(citation["passage"], str) and citation["passage"]


def test_ask_json_answer_is_quoted_from_first_citation(index, capsys):
    _, out, _ = run(capsys, "ask", "--index", index, "--json", "How much did the bridge project cost?")
    reply = json.loads(out)
    assert reply["found"] is True
    first = reply["citations"][0]
    assert first["article_id"] == "bridge"
    assert first["passage"][first["answer_start"] : first["answer_end"]] == reply["answer"]
    assert "38.6 million" in reply["answer"]
    assert all(c["answer_start"] is None and c["answer_end"] is None for c in reply["citations"][1:])


def test_ask_top_k_limits_citations(index, capsys):
    _, out, _ = run(capsys, "ask", "--index", index, "--json", "--top-k", "1", "Who bought the bakery chain?")
    assert len(json.loads(out)["citations"]) == 1


def test_ask_plain_text_output_cites_articles(index, capsys):
    code, out, _ = run(capsys, "ask", "--index", index, "How much did the bridge project cost?")
    assert code == 0
    assert "[1] Harbour bridge reopens" in out and "(bridge)" in out


def test_ask_questions_plain_text_file(index, tmp_path, capsys):
    questions = tmp_path / "questions.txt"
    questions.write_text("How much did the bridge project cost?\n\nWho founded the bakery chain?\n", encoding="utf-8")
    code, out, _ = run(capsys, "ask", "--index", index, "--questions", str(questions))
    assert code == 0
    replies = [json.loads(line) for line in out.splitlines()]
    assert [r["question"] for r in replies] == ["How much did the bridge project cost?", "Who founded the bakery chain?"]
    assert all(REPLY_KEYS <= r.keys() for r in replies)


def test_ask_chat_asks_each_line_as_a_follow_up_until_an_empty_line(index, capsys, monkeypatch):
    import io

    lines = "When did the Kestrel bridge reopen?\nHow much did it cost?\n\nHow much did it cost?\n" + "x" * 1001 + "\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    code, out, err = run(capsys, "ask", "--index", index, "--chat", "--json")
    replies = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["question"] for r in replies] == ["When did the Kestrel bridge reopen?", "How much did it cost?", "How much did it cost?"]
    assert replies[1]["query"] == "When did the Kestrel bridge reopen? How much did it cost?"  # a follow-up
    assert replies[2]["query"] == "How much did it cost?"  # after the empty line: a new conversation
    assert "the limit is 1,000" in err  # an over-long line is refused and the chat goes on


def test_ask_questions_jsonl_file(index, tmp_path, capsys):
    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        json.dumps({"question": "Who cut the ribbon?", "answers": ["Linda Okafor"]}) + "\n"
        + json.dumps({"question": "Which school posted record results?"}) + "\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "ask", "--index", index, "--questions", str(questions))
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 2
    assert [json.loads(line)["question"] for line in lines] == ["Who cut the ribbon?", "Which school posted record results?"]


def test_ask_questions_jsonl_without_question_field_is_an_error(index, tmp_path, capsys):
    questions = tmp_path / "questions.jsonl"
    questions.write_text('{"q": "typo"}\n', encoding="utf-8")
    code, _, err = run(capsys, "ask", "--index", index, "--questions", str(questions))
    assert code == 1
    assert f"{questions}:1" in err and "question" in err


def test_ask_empty_question_is_an_error(index, capsys):
    code, out, err = run(capsys, "ask", "--index", index, "   ")
    assert code == 1 and out == ""
    assert "question is empty" in err


def test_ask_on_emptied_index_is_not_found(index, capsys):
    assert run(capsys, "remove", "--index", index, "bridge", "school", "wire-1")[0] == 0
    code, out, _ = run(capsys, "ask", "--index", index, "--json", "How much did the bridge project cost?")
    assert code == 0
    reply = json.loads(out)
    assert (reply["found"], reply["answer"], reply["citations"]) == (False, None, [])


def test_ask_without_index_tells_how_to_build_one(tmp_path, capsys):
    missing = tmp_path / "no-index-here"
    code, out, err = run(capsys, "ask", "--index", str(missing), "What happened?")
    assert code == 1 and out == ""
    assert "python -m qa ingest" in err and str(missing) in err
    assert "Traceback" not in err


# --- list / remove / stats --------------------------------------------------------------------


def test_list_shows_articles(index, capsys):
    code, out, _ = run(capsys, "list", "--index", index)
    assert code == 0
    rows = [line.split("\t") for line in out.splitlines()]
    assert [row[0] for row in rows] == ["bridge", "school", "wire-1"]
    assert rows[0][1:4] == ["Harbour bridge reopens", "Port Gazette", "2026-03-03"]


def test_a_reader_that_goes_away_is_no_error(index):
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-m", "qa", "list", "--index", index], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               cwd=Path(__file__).resolve().parent.parent)
    process.stdout.close()  # as "qa list | head -1" does once it has its line
    error = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141 and error == ""


def test_remove_then_list(index, capsys):
    code, out, _ = run(capsys, "remove", "--index", index, "bridge")
    assert code == 0 and out.strip() == "removed bridge"
    _, out, _ = run(capsys, "list", "--index", index)
    assert [line.split("\t")[0] for line in out.splitlines()] == ["school", "wire-1"]


def test_remove_unknown_id_fails_with_message(index, capsys):
    code, out, err = run(capsys, "remove", "--index", index, "school", "no-such-article")
    assert code != 0
    assert "no-such-article" in err and "not in the index" in err
    assert out.strip() == "removed school"


def test_stats_prints_counts(index, capsys):
    code, out, _ = run(capsys, "stats", "--index", index)
    assert code == 0
    lines = set(out.splitlines())
    assert {"articles: 3", "chunks: 3", "duplicates: 0", "model: fake-hash"} <= lines


def test_stats_check_ok(index, capsys):
    code, out, err = run(capsys, "stats", "--check", "--index", index)
    assert code == 0
    assert "articles: 3" in out and "check: ok" in out and err == ""


def test_stats_check_fails_on_damaged_index(index, capsys):
    raw = sqlite3.connect(Path(index) / "meta.sqlite")
    raw.execute("DELETE FROM chunks WHERE article_id = 'school'")
    raw.commit()
    raw.close()
    code, out, err = run(capsys, "stats", "--check", "--index", index)
    assert code == 1
    assert "check failed:" in err and "check: ok" not in out


# --- QA_INDEX ---------------------------------------------------------------------------------


def test_qa_index_env_is_the_default_index(tmp_path, news_dir, monkeypatch, capsys):
    folder = tmp_path / "from-env"
    monkeypatch.setenv("QA_INDEX", str(folder))
    code, _, _ = run(capsys, "ingest", "--model", "fake-hash", str(news_dir / "bridge.txt"))
    assert code == 0
    assert (folder / "manifest.json").is_file()
    code, out, _ = run(capsys, "list")
    assert code == 0 and out.split("\t")[0] == "bridge"
    code, out, _ = run(capsys, "stats")
    assert f"index: {folder}" in out.splitlines()


def test_ingest_with_another_model_into_an_existing_index_is_refused(index, news_dir, capsys):
    code, _, err = run(capsys, "ingest", "--index", index, "--model", "other-model", str(news_dir))
    assert code == 1
    assert "fake-hash" in err and "--rebuild" in err
