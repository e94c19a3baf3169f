"""qa/evaluate.py and `python -m qa eval`: SQuAD scoring, loading JSONL and SQuAD files, the report."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

import qa.assistant
import qa.read
from conftest import ROOT, SHARED, FakeEmbedder
from qa.cli import main
from qa.config import Config
from qa.entities import EntityTagger
from qa.evaluate import (
    contains, evaluate, exact_match, f1_score, format_report, load_dataset, load_labelled, normalize, summarize, temporary_index,
)
from qa.schema import Reply

_TAGGER = EntityTagger()  # one spaCy load for the whole file

SQUAD_V2 = {
    "version": "v2.0",
    "data": [{
        "title": "Harbour_Bridge",
        "paragraphs": [
            {"context": "The Kestrel bridge reopened on Monday after a 14-month repair. "
                        "The project cost $38.6 million, more than the first estimate.",
             "qas": [
                 {"id": "q1", "question": "How much did the Kestrel bridge project cost?", "is_impossible": False,
                  "answers": [{"text": "$38.6 million", "answer_start": 80}, {"text": "38.6 million", "answer_start": 81}]},
                 {"id": "q2", "question": "Who designed the Kestrel bridge?", "is_impossible": True, "answers": [],
                  "plausible_answers": [{"text": "Monday", "answer_start": 31}]},
             ]},
            {"context": "Mayor Linda Okafor cut the ribbon at 7 a.m. as ferries sounded their horns.",
             "qas": [
                 {"id": "q3", "question": "Who cut the ribbon at the bridge?", "is_impossible": False,
                  "answers": [{"text": "Linda Okafor", "answer_start": 6}]},
                 {"id": "q4", "question": "What did the ferry captains eat for lunch?", "is_impossible": True, "answers": []},
             ]},
        ],
    }],
}
SQUAD_V1 = {
    "version": "1.1",
    "data": [
        {"title": "Bakery", "paragraphs": [{"context": "Hearthstone Foods agreed to buy the bakery chain for $45 million.",
                                             "qas": [{"id": "a", "question": "Who bought the bakery chain?",
                                                      "answers": [{"text": "Hearthstone Foods", "answer_start": 0}]}]}]},
        {"title": "Bakery", "paragraphs": [{"context": "The chain was founded by Agnes Miller in 1961.",
                                             "qas": [{"id": "b", "question": "When was the chain founded?",
                                                      "answers": [{"text": "1961", "answer_start": 41}, {"text": "1961", "answer_start": 41}]}]}]},
    ],
}


@pytest.fixture
def fake_models(monkeypatch, tmp_path):
    monkeypatch.setattr(qa.assistant, "Embedder", lambda *args, **kwargs: FakeEmbedder())
    if hasattr(qa.read, "EntityTagger"):
        monkeypatch.setattr(qa.read, "EntityTagger", lambda *args, **kwargs: _TAGGER)
    monkeypatch.setenv("QA_INDEX", str(tmp_path / "default-index"))  # never touch the project's index/


def write(path: Path, data) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


# --- SQuAD normalisation, exact match, F1 --------------------------------------------------------


def test_normalize_follows_squad():
    assert normalize("The  Cat, sat!") == "cat sat"
    assert normalize("an apple a day") == "apple day"
    assert normalize("Levi's Stadium") == "levis stadium"
    assert normalize("“Quoted” — £5") == "quoted — 5"


@pytest.mark.parametrize(
    "prediction, gold, em, f1",
    [
        ("the cat sat", "cat sat on the mat", 0.0, 2 / 3),
        ("Denver Broncos", "the Denver Broncos", 1.0, 1.0),
        ("Santa Clara, California", "Levi's Stadium in the San Francisco Bay Area at Santa Clara, California", 0.0, 6 / 14),
        ("Carolina Panthers", "Denver Broncos", 0.0, 0.0),
        ("", "the", 1.0, 1.0),  # both normalise to nothing
        ("cat", "the", 0.0, 0.0),
    ],
)
def test_exact_match_and_f1_on_squad_examples(prediction, gold, em, f1):
    assert exact_match(prediction, gold) == em
    assert f1_score(prediction, gold) == pytest.approx(f1)


def test_contains_matches_whole_words_only():
    assert not contains("It cost $400.", "40")
    assert contains("It cost $40 million in all.", "$40 million")
    assert contains("Paris, France", "paris")
    assert not contains("a catalogue", "cat")
    assert not contains(None, "anything") and not contains("", "anything")
    assert not contains("the cat", "the")  # an answer of only stop words matches nothing


# --- summarize -----------------------------------------------------------------------------------


def row(answerable=True, found=True, rank=1, hit=True, em=1.0, f1=1.0, labelled=True, total=10.0, words=2):
    return {"answerable": answerable, "labelled": labelled, "found": found, "rank": rank, "hit": hit, "sentence_hit": hit,
            "em": em, "f1": f1, "answer_words": words if found else 0, "score": 0.5,
            "timings": {"retrieve": total / 2, "read": total / 2, "total": total}}


def test_summarize_hand_made_rows():
    rows = [
        row(rank=1, total=10),
        row(rank=3, hit=False, em=0.0, f1=0.5, total=20, words=4),
        row(rank=None, found=False, hit=False, em=0.0, f1=0.0, total=30),
        row(rank=None, labelled=False, total=40),  # no article ids: left out of retrieval measures
        row(answerable=False, found=False, rank=None, hit=False, em=0.0, f1=0.0, total=50),
        row(answerable=False, found=True, rank=None, hit=False, em=0.0, f1=0.0, total=60),
    ]
    report = summarize(rows)
    assert (report["questions"], report["answerable"], report["unanswerable"], report["with_article_ids"]) == (6, 4, 2, 3)
    assert report["recall@1"] == pytest.approx(1 / 3, abs=1e-4)
    assert report["recall@5"] == pytest.approx(2 / 3, abs=1e-4)
    assert report["mrr"] == pytest.approx((1 + 1 / 3) / 3, abs=1e-4)
    assert report["answer_hit"] == 0.5 and report["exact_match"] == 0.5
    assert report["f1"] == pytest.approx((1 + 0.5 + 0 + 1) / 4)
    assert report["answered_rate"] == 0.75 and report["not_found_rate"] == 0.5
    assert report["overall_exact_match"] == pytest.approx((1 + 0 + 0 + 1 + 1 + 0) / 6, abs=1e-4)
    assert report["answer_words_mean"] == pytest.approx(8 / 3, abs=1e-4)
    assert report["latency_ms"]["total_p50"] == 35.0
    assert report["latency_ms"]["total_p95"] == pytest.approx(57.5)
    assert report["latency_ms"]["read_p50"] == 17.5


def test_summarize_without_rows_or_labels():
    report = summarize([])
    assert report["questions"] == 0 and report["recall@1"] is None and report["latency_ms"]["total_p50"] is None
    assert summarize([row(labelled=False)])["recall@1"] is None
    table = format_report({"format": "jsonl", **summarize([row()])})
    assert "recall@1" in table and "100.0%" in table and "p95" in table and "unanswerable questions" not in table


# --- loading -------------------------------------------------------------------------------------


def test_load_jsonl(tmp_path):
    path = write(tmp_path / "q.jsonl", '{"question": "Who?", "answers": ["Ann"], "article_ids": ["a"]}\n\n'
                                       '{"question": "Why?", "answers": []}\n')
    dataset = load_dataset(path)
    assert dataset.format == "jsonl" and dataset.articles == []
    assert dataset.items == [{"question": "Who?", "answers": ["Ann"], "article_ids": ["a"], "history": []},
                             {"question": "Why?", "answers": [], "article_ids": [], "history": []}]
    assert load_labelled(path) == dataset.items


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"question": "ok"}\n{"question": "broken"\n', r"q\.jsonl:2: malformed JSON line"),
        ('{"question": "ok"}\n\n["not", "an", "object"]\n', r"q\.jsonl:3: expected an object"),
        ('{"question": "ok", "answers": "Ann"}\n', r"q\.jsonl:1: \"answers\" must be a list"),
        ('{"question": "ok", "history": "Who?"}\n', r"q\.jsonl:1: \"history\" must be a list"),
        ('{"question": "ok"}\n{"question": "ok", "history": ["Who?", " "]}\n', r"q\.jsonl:2: \"history\" must list"),
        ("\n\n", r"q\.jsonl: no questions"),
    ],
)
def test_malformed_jsonl_names_file_and_line(tmp_path, content, message):
    with pytest.raises(ValueError, match=message):
        load_dataset(write(tmp_path / "q.jsonl", content))


class _Recorder:
    """Stands in for the Assistant: records what is asked with which history; replies found with the question."""

    def __init__(self):
        self.asked = []

    def ask(self, question, history=None, **options):
        self.asked.append((question, [q for q, _ in history or []]))
        return Reply(question, True, f"answer to {question}", 0.9, (), {"total": 1.0}, sentence=question)


def test_follow_ups_are_asked_after_their_conversation_each_turn_once(tmp_path):
    path = write(tmp_path / "talk.jsonl", "\n".join(json.dumps(q) for q in [
        {"question": "Who won?", "answers": ["Who won"]},
        {"question": "When?", "answers": ["When"], "history": ["Who won?"]},
        {"question": "Where?", "answers": ["nowhere"], "history": ["Who won?", "When?"]},
        {"question": "When?", "answers": ["When"], "history": ["Who lost?"]},
    ]))
    recorder = _Recorder()
    report = evaluate(recorder, path, warm_up=False)
    assert recorder.asked == [("Who won?", []), ("When?", ["Who won?"]), ("Where?", ["Who won?", "When?"]),
                              ("Who lost?", []), ("When?", ["Who lost?"])]
    assert report["answerable"] == 4 and report["answer_hit"] == 0.75


def test_load_squad_v2(tmp_path):
    dataset = load_dataset(write(tmp_path / "dev.json", SQUAD_V2))
    assert dataset.format == "squad-v2.0"
    assert [a["id"] for a in dataset.articles] == ["Harbour_Bridge/1", "Harbour_Bridge/2"]
    assert dataset.articles[0]["title"] == "Harbour Bridge"
    assert dataset.articles[1]["text"] == SQUAD_V2["data"][0]["paragraphs"][1]["context"]
    assert [(i["answers"], i["article_ids"]) for i in dataset.items] == [
        (["$38.6 million", "38.6 million"], ["Harbour_Bridge/1"]),
        ([], ["Harbour_Bridge/1"]),  # impossible: plausible answers are not answers
        (["Linda Okafor"], ["Harbour_Bridge/2"]),
        ([], ["Harbour_Bridge/2"]),
    ]


def test_load_squad_v1_numbers_a_repeated_titles_paragraphs(tmp_path):
    dataset = load_dataset(write(tmp_path / "train.txt", SQUAD_V1))  # told apart by content, not name
    assert dataset.format == "squad-v1.1"
    assert [a["id"] for a in dataset.articles] == ["Bakery/1", "Bakery/2"]
    assert dataset.items[1] == {"question": "When was the chain founded?", "answers": ["1961"], "article_ids": ["Bakery/2"]}


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"version": "v2.0",\n "data": [\n  {"title": "x", }\n]}', r"dev\.json:3: malformed JSON"),
        ({"data": [{"title": "x", "paragraphs": [{"qas": []}]}]}, r"dev\.json: data\[0\]\.paragraphs\[0\]: .*\"context\""),
        ({"data": [{"paragraphs": [{"context": "c", "qas": [{"question": "q", "answers": ["x"]}]}]}]},
         r"data\[0\]\.paragraphs\[0\]\.qas\[0\]: \"answers\" must be"),
        ({"data": {"title": "x"}}, r"\"data\" must be a list"),
        ({"questions": []}, r"dev\.json: expected SQuAD JSON"),
        ({"data": []}, r"no questions"),
    ],
)
def test_malformed_squad_names_file_and_place(tmp_path, content, message):
    with pytest.raises(ValueError, match=message):
        load_dataset(write(tmp_path / "dev.json", content))


def test_temporary_index_is_removed_even_on_error(tmp_path, monkeypatch, fake_models):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dataset = load_dataset(write(tmp_path / "dev.json", SQUAD_V2))
    with pytest.raises(RuntimeError):
        with temporary_index(dataset, Config(model="fake-hash")) as (assistant, report):
            assert report.added == 2 and assistant.index_dir.is_dir()
            raise RuntimeError("stop")
    assert not list(tmp_path.glob("qa-eval-*"))


# --- python -m qa eval ---------------------------------------------------------------------------


def test_eval_squad_with_index_json(tmp_path, capsys, fake_models):
    squad = write(tmp_path / "dev.json", SQUAD_V2)
    paragraphs = tmp_path / "paragraphs.jsonl"
    paragraphs.write_text("".join(json.dumps(a) + "\n" for a in load_dataset(squad).articles), encoding="utf-8")
    index = str(tmp_path / "idx")
    assert main(["ingest", "--index", index, "--model", "fake-hash", str(paragraphs)]) == 0
    capsys.readouterr()
    assert main(["eval", str(squad), "--index", index, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "squad-v2.0"
    assert (report["questions"], report["answerable"], report["unanswerable"]) == (4, 2, 2)
    assert report["recall@5"] == 1.0 and 0.5 <= report["mrr"] <= 1.0  # two articles: the right one is cited
    for key in ("answer_hit", "exact_match", "f1", "answered_rate", "not_found_rate", "overall_f1"):
        assert 0.0 <= report[key] <= 1.0
    assert set(report["latency_ms"]) == {f"{n}_{p}" for n in ("retrieve", "read", "total") for p in ("p50", "p95")}


def test_eval_squad_without_index_builds_and_removes_a_temporary_one(tmp_path, capsys, monkeypatch, fake_models):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    squad = write(tmp_path / "dev.json", SQUAD_V2)
    assert main(["eval", str(squad), "--model", "fake-hash"]) == 0
    out, err = capsys.readouterr()
    assert "temporary index" in err
    assert "4 questions: 2 answerable, 2 unanswerable (squad-v2.0)" in out and "recall@5" in out and "latency" in out
    assert list(scratch.iterdir()) == []
    assert not (tmp_path / "default-index").exists()


def test_eval_jsonl_against_an_index(tmp_path, news_dir, capsys, fake_models):
    index = str(tmp_path / "idx")
    assert main(["ingest", "--index", index, "--model", "fake-hash", str(news_dir)]) == 0
    questions = write(tmp_path / "q.jsonl", "\n".join(json.dumps(q) for q in [
        {"question": "Who cut the ribbon on the Kestrel bridge?", "answers": ["Linda Okafor"], "article_ids": ["bridge"]},
        {"question": "Who founded Miller & Daughters?", "answers": ["Agnes Miller"], "article_ids": ["wire-1"]},
        {"question": "What is the airspeed of an unladen swallow?", "answers": []},
    ]))
    capsys.readouterr()
    assert main(["eval", str(questions), "--index", index, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "jsonl" and report["with_article_ids"] == 2 and report["recall@5"] == 1.0


def test_eval_malformed_file_is_a_clear_error(tmp_path, capsys, fake_models):
    bad = write(tmp_path / "bad.jsonl", '{"question": "ok"}\n{oops}\n')
    assert main(["eval", str(bad), "--index", str(tmp_path / "idx")]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: ") and f"{bad}:2: malformed JSON line" in err


@pytest.mark.slow
def test_the_offline_reader_meets_its_bar_on_the_bbc_questions(tmp_path, real_embedder):
    # the bar, on the corpus and question set the README reports (about 4 minutes: the ingest)
    corpus = SHARED / "corpora" / "bbc.jsonl"
    if not corpus.exists():
        pytest.skip("../shared/corpora/bbc.jsonl is not beside the project")
    assistant = qa.assistant.Assistant(tmp_path / "index", Config(), real_embedder)
    assistant.ingest([corpus])
    report = evaluate(assistant, ROOT / "bench" / "bbc_questions.jsonl")
    assert report["answer_hit"] >= 0.85 and report["answered_rate"] >= 0.9 and report["not_found_rate"] >= 0.6
