"""Concurrency: two ingests at once (real processes), questions asked while an ingest runs, and
one Assistant shared by 8 threads.

Writers take turns on the index's lock (`.lock`, fcntl): a second ingest waits up to
$QA_LOCK_TIMEOUT seconds (default 30), then fails naming the index and the holder's pid. Readers
never wait: each sees one committed generation of the store.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

from qa.assistant import Assistant
from qa.config import Config
from qa.embed import Embedder
from qa.index import ArticleIndex, verify
from reliability_kit import (
    article_states,
    generation,
    news_text,
    onnx_cache,
    run_qa,
    start_qa,
    tiny_env,
    tiny_model,
    write_news,
)


@pytest.fixture(autouse=True)
def _tiny_model_cache(monkeypatch):
    monkeypatch.setenv("QA_CACHE", str(onnx_cache()))
    monkeypatch.delenv("QA_INDEX", raising=False)


@pytest.fixture(scope="module")
def model() -> Path:
    return tiny_model()


def wait_for(condition, timeout: float = 120, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def finish(process, timeout: float = 120) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


# --- two writers ----------------------------------------------------------------------------


def test_two_ingests_at_once_take_turns_and_never_interleave(model, tmp_path):
    stories = write_news(tmp_path / "stories", 80)  # several commits each
    wire = write_news(tmp_path / "wire", 0, wire=60)
    directory = tmp_path / "idx"
    first = start_qa("ingest", "--index", directory, "--model", model, stories)
    second = start_qa("ingest", "--index", directory, "--model", model, wire)
    partial_at_once = []
    while first.poll() is None or second.poll() is None:
        states = article_states(directory)
        a = sum(1 for i in states if i.startswith("story-"))
        b = sum(1 for i in states if i.startswith("wire-"))
        if 0 < a < 80 and 0 < b < 60:
            partial_at_once.append((a, b))
        time.sleep(0.002)
    for process in (first, second):
        code, out, err = finish(process)
        assert code == 0 and "Traceback" not in err, err
    assert partial_at_once == [], "the two ingests' commits interleaved"
    assert len(article_states(directory)) == 140
    assert run_qa("stats", "--check", "--index", directory).returncode == 0


@pytest.fixture
def frozen_writer(model, tmp_path):
    """An ingest process stopped (SIGSTOP) right after its first commit: it holds the lock, its
    store is ahead of its manifest. Yields (process, index folder); resumed and reaped after."""
    base = write_news(tmp_path / "base", 20)
    more = write_news(tmp_path / "more", 60, version=lambda i: 2 if i % 4 == 0 else 1)
    directory = tmp_path / "idx"
    assert run_qa("ingest", "--index", directory, "--model", model, base).returncode == 0
    before = generation(directory)
    writer = start_qa("ingest", "--index", directory, "--model", model, more)
    wait_for(lambda: (generation(directory) or 0) > before or writer.poll() is not None, what="the first commit")
    writer.send_signal(signal.SIGSTOP)
    assert writer.poll() is None, "the ingest finished before it could be frozen"
    try:
        yield writer, directory
    finally:
        writer.send_signal(signal.SIGCONT)
        finish(writer)


def test_second_ingest_gives_up_after_the_timeout_naming_the_holder(frozen_writer, model, tmp_path):
    writer, directory = frozen_writer
    extra = write_news(tmp_path / "extra", 0, wire=3)
    started = time.monotonic()
    result = run_qa("ingest", "--index", directory, "--model", model, extra, env=tiny_env(QA_LOCK_TIMEOUT="1"))
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert str(directory) in result.stderr and f"pid {writer.pid}" in result.stderr, result.stderr
    assert "another ingest is writing to this index" in result.stderr and "waited 1s" in result.stderr
    assert time.monotonic() - started < 60
    assert not any(i.startswith("wire-") for i in article_states(directory))


def test_second_ingest_waits_for_the_first_then_runs(frozen_writer, model, tmp_path):
    writer, directory = frozen_writer
    extra = write_news(tmp_path / "extra", 0, wire=3)
    waiting = start_qa("ingest", "--index", directory, "--model", model, extra)
    time.sleep(2.0)
    assert waiting.poll() is None, "the second ingest did not wait for the lock"
    assert not any(i.startswith("wire-") for i in article_states(directory))
    writer.send_signal(signal.SIGCONT)
    assert finish(writer)[0] == 0
    code, out, err = finish(waiting)
    assert code == 0, err
    states = article_states(directory)
    assert len(states) == 63 and all(f"wire-{k}" in states for k in range(3))
    assert verify(ArticleIndex(directory).open()) == []


# --- readers during a write -------------------------------------------------------------------


def versions_of(count: int, version) -> dict[str, set[str]]:
    """Every text an article id may have, old or new."""
    texts: dict[str, set[str]] = {}
    for i in range(count):
        for v in {1, version(i)}:
            texts.setdefault(f"story-{i:03d}", set()).add(news_text(i, v)[1])
    return texts


def check_reply(reply, texts: dict[str, set[str]], directory: Path) -> None:
    """Every citation names an article that exists, and its passage is that article's text at
    the cited offsets, in one of the article's versions."""
    assert reply.citations, reply
    existing = article_states(directory)
    for c in reply.citations:
        assert c.article_id in existing, c.article_id
        assert any(text[c.passage_start : c.passage_end] == c.passage for text in texts[c.article_id]), c
        if c.answer_start is not None:
            assert c.passage[c.answer_start : c.answer_end] == reply.answer


def test_questions_during_an_ingest_see_a_consistent_index(model, tmp_path):
    base = write_news(tmp_path / "base", 40)
    version = lambda i: 2 if i % 3 == 0 else 1  # noqa: E731
    more = write_news(tmp_path / "more", 120, version=version)
    texts = versions_of(120, version)
    directory = tmp_path / "idx"
    assert run_qa("ingest", "--index", directory, "--model", model, base).returncode == 0
    questions = [news_text(i, version(i))[1].split(".")[0] + "?" for i in range(0, 120, 7)]
    embedder = Embedder(str(model))
    errors: list[BaseException] = []
    asked = {"reloading": 0, "steady": 0}
    done = threading.Event()
    warm = threading.Barrier(len(asked) + 1, timeout=120)

    def ask_repeatedly(name: str, reload: bool) -> None:
        rng = random.Random(name)
        try:
            assistant = Assistant(directory, Config(model=str(model)), embedder=embedder)
            assistant.ask(questions[0])  # models loaded before the writer starts, so the asking overlaps it
            warm.wait()
            while not done.is_set():
                if reload:
                    assistant.reload()  # opens whatever generation is committed now
                check_reply(assistant.ask(rng.choice(questions)), texts, directory)
                asked[name] += 1
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
            warm.abort()  # the main thread stops waiting and reports it

    readers = [threading.Thread(target=ask_repeatedly, args=(n, n == "reloading")) for n in asked]
    for reader in readers:
        reader.start()
    try:
        warm.wait()
    except threading.BrokenBarrierError:
        pytest.fail(f"a reader failed before the ingest: {errors}")
    writer = start_qa("ingest", "--index", directory, "--model", model, more)
    code, out, err = finish(writer)
    done.set()
    for reader in readers:
        reader.join(60)
    assert code == 0, err
    assert errors == []
    assert asked["reloading"] >= 3 and asked["steady"] >= 3, asked
    final = Assistant(directory, Config(model=str(model)), embedder=embedder)
    for question in questions:
        check_reply(final.ask(question), texts, directory)


def test_questions_while_the_writer_is_frozen_mid_ingest(frozen_writer, model):
    """Store ahead of its manifest, lock held: a new reader rebuilds its search structures from the
    store in memory (it cannot write them) and answers from one consistent generation."""
    writer, directory = frozen_writer
    assert json.loads((directory / "manifest.json").read_text())["generation"] < generation(directory)
    texts = versions_of(60, lambda i: 2 if i % 4 == 0 else 1)
    assistant = Assistant(directory, Config(model=str(model)), embedder=Embedder(str(model)))
    for i in (1, 5, 8, 30):
        check_reply(assistant.ask(news_text(i)[1].split(".")[0] + "?"), texts, directory)
    assert verify(assistant.index) != []  # the manifest is behind, and says so …
    assert assistant.index.derived.generation == generation(directory)  # … but the reader is not


# --- one Assistant, many threads ----------------------------------------------------------------


def question_set(count: int) -> list[str]:
    """Questions of several kinds (when, how much, who, where, open) over generated stories."""
    forms = [
        "When did the {place} bridge reopen?", "How much did the {place} bridge repair cost?",
        "What share of students at {place} Academy gained top grades?", "How many homes were evacuated in {place}?",
        "What was the turnout in {place}?", "How long will the {place} rail station close?",
        "Who visited the site in {place}?", "Where did police close two roads?", "What did residents tell the Courier?",
        "What happened to the river in {place}?",
    ]
    places = ["Ashford", "Brockley", "Calder", "Dunmore", "Elston", "Fenwick", "Glenrae", "Holloway", "Inverlee", "Jarrow"]
    return [forms[i % len(forms)].format(place=places[(i * 3) % len(places)]) for i in range(count)]


def summary(reply) -> tuple:
    return reply.found, reply.answer, tuple(c.article_id for c in reply.citations)


def shared_assistant_matches_serial(directory: Path, config: Config, make_embedder, threads: int = 8, per_thread: int = 50) -> None:
    questions = question_set(per_thread)
    serial = Assistant(directory, config, embedder=make_embedder())
    expected = {q: summary(serial.ask(q)) for q in questions}
    shared = Assistant(directory, config, embedder=make_embedder())  # cold: lazy loading races too
    results: dict[int, list] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def work(n: int) -> None:
        order = questions[:]
        random.Random(n).shuffle(order)
        try:
            barrier.wait(30)
            results[n] = [(q, summary(shared.ask(q))) for q in order]
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(600)
    assert errors == [], errors[:3]
    assert len(results) == threads
    for n, replies in results.items():
        for question, got in replies:
            assert got == expected[question], f"thread {n}: {question!r}: {got} != serial {expected[question]}"


@pytest.fixture(scope="module")
def tiny_index(model, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("threads")
    directory = root / "idx"
    assert run_qa("ingest", "--index", directory, "--model", model, write_news(root / "news", 30)).returncode == 0
    return directory


def test_one_assistant_shared_by_8_threads_answers_as_a_serial_run(model, tiny_index):
    shared_assistant_matches_serial(tiny_index, Config(model=str(model)), lambda: Embedder(str(model)))


@pytest.mark.slow
def test_one_assistant_shared_by_8_threads_with_the_pytorch_backend(model, tiny_index):
    """The same with sentence-transformers/PyTorch and the transformers tokenizer."""
    shared_assistant_matches_serial(tiny_index, Config(model=str(model)), lambda: Embedder(str(model), backend="torch"))


@pytest.mark.slow
def test_one_assistant_shared_by_8_threads_with_the_bundled_model(tmp_path, monkeypatch):
    monkeypatch.delenv("QA_CACHE")  # the user's cache: the bundled model's export is reused
    directory = tmp_path / "idx"
    embedder = Embedder()
    from qa.ingest import Ingestor

    Ingestor(ArticleIndex(directory), embedder, Config()).ingest([write_news(tmp_path / "news", 30)])
    shared_assistant_matches_serial(directory, Config(), Embedder)
