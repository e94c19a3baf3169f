"""Crash safety: `python -m qa ingest` killed with SIGKILL at random moments, and write errors
(disk full) injected into every file the index writes.

After each kill the index must open, `python -m qa stats --check` must pass, every article must be
in its old state or its new one (title, text, duplicate link and exactly the chunks of that text),
never half, and the next ingest must finish the job with the same result as a clean ingest.

The subprocess embeds with a tiny real sentence-transformers model (tests/reliability_kit.py), so
the product's own model-loading code runs and an ingest takes about a second.
"""

from __future__ import annotations

import errno
import os
import random
import shutil
import signal
import time
from pathlib import Path

import pytest

import qa.cli
import qa.index
from qa.assistant import Assistant
from qa.config import Config
from qa.embed import Embedder
from qa.index import ArticleIndex, verify
from qa.store import Store
from reliability_kit import (
    article_states,
    cli,
    generation,
    manifest_generation,
    onnx_cache,
    run_qa,
    start_qa,
    news_text,
    tiny_model,
    tiny_model_cache,
    write_news,
)

SEED = 20260301
QUICK_TRIALS = 3
SLOW_TRIALS = 20


def watch(directory: Path, process, base_generation: int | None, timeout: float = 120) -> float | None:
    """Wait until the ingest writes for the first time (a store appears, or the store's generation
    moves past `base_generation`); the time it happened, or None when the process ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if base_generation is None:
            if (directory / "meta.sqlite").exists():
                return time.monotonic()
        elif (generation(directory) or 0) > base_generation:
            return time.monotonic()
        if process.poll() is not None:
            return None
        time.sleep(0.003)
    raise AssertionError(f"ingest into {directory} did not start writing within {timeout}s")


def watch_publish(directory: Path, process) -> tuple[float, float]:
    """When the ingest starts writing its search files, and when its new manifest is in place."""
    before = manifest_generation(directory)
    start = end = None
    while process.poll() is None and end is None:
        names = os.listdir(directory)
        if start is None and any(n.startswith(".tmp-") for n in names):
            start = time.monotonic()
        if manifest_generation(directory) not in (None, before):
            end = time.monotonic()
        time.sleep(0.001)
    end = end or time.monotonic()
    return (start or end) - 0.01, end


class World:
    """Inputs, the index before the ingest, and the clean results to compare with."""

    def __init__(self, root: Path):
        self.root, self.model = root, tiny_model()
        self.v1 = write_news(root / "v1", 45, wire=5)
        # v2: every third story changed, 35 new ones, two exact copies, more wire records
        self.v2 = write_news(root / "v2", 80, version=lambda i: 2 if i % 3 == 0 else 1, copies=(4, 6), wire=8)
        self.base = root / "base"
        self._ingest(self.base, self.v1)
        self.base_generation = generation(self.base)
        self.old = {"update": article_states(self.base), "fresh": {}}
        self.new, self.counts, self.window, self.lead, self.publish = {}, {}, {}, {}, {}
        for kind in ("update", "fresh"):
            reference = root / f"reference-{kind}"
            self.prepare(kind, reference)
            launched = time.monotonic()
            process = start_qa("ingest", "--index", reference, "--model", self.model, self.v2)
            started = watch(reference, process, self.base_generation if kind == "update" else None)
            publishing = watch_publish(reference, process)
            assert process.wait(120) == 0, process.stderr.read()
            self.lead[kind] = started - launched  # start-up: imports, model, loading files
            self.window[kind] = time.monotonic() - started  # first write → exit, an upper bound
            self.publish[kind] = (publishing[0] - started, publishing[1] - started)
            self.new[kind] = article_states(reference)
            self.counts[kind] = ArticleIndex(reference).open().store.counts()

    def _ingest(self, directory: Path, folder: Path) -> None:
        result = run_qa("ingest", "--index", directory, "--model", self.model, folder)
        assert result.returncode == 0, result.stderr

    def prepare(self, kind: str, directory: Path) -> None:
        if kind == "update":
            shutil.copytree(self.base, directory)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    return World(tmp_path_factory.mktemp("crash"))


def kill_and_check(world: World, trial: int, capsys) -> str:
    """One trial: start an ingest, SIGKILL it after a seeded random delay, check, finish, check."""
    rng = random.Random(SEED + trial)
    kind = "update" if trial % 2 == 0 else "fresh"
    directory = world.root / f"trial-{trial:02d}"
    early = rng.random() < 0.2  # now and then during start-up, before (or just as) anything is written
    fraction = rng.random()
    low, high = world.publish[kind] if rng.random() < 0.35 else (0.0, world.window[kind] * 0.9)
    for attempt in range(4):  # an ingest that finished before its kill is tried again, killed sooner
        shutil.rmtree(directory, ignore_errors=True)
        world.prepare(kind, directory)
        process = start_qa("ingest", "--index", directory, "--model", world.model, world.v2)
        if early:
            time.sleep(world.lead[kind] * (0.5 + 0.55 * fraction) / 2**attempt)
        else:  # mostly while it writes: a delay after its first write, a third of them while it publishes
            started = watch(directory, process, world.base_generation if kind == "update" else None)
            if started is not None:
                time.sleep(max(0.0, started + (low + (high - low) * fraction) / 2**attempt - time.monotonic()))
        finished = process.poll() is not None
        if not finished:
            process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
        if not finished:
            break
    phase = _phase(directory, world, kind, finished)

    # the index opens and checks out, repaired from its store where the kill left it behind
    checked = run_qa("stats", "--check", "--index", directory)
    assert "Traceback" not in checked.stderr, checked.stderr
    if generation(directory) is None:  # killed before the first ingest created its store
        assert kind == "fresh" and checked.returncode == 1 and "no index here yet" in checked.stderr, checked.stderr
    else:
        assert checked.returncode == 0 and "check: ok" in checked.stdout, (phase, checked.stdout, checked.stderr)

    # every article whole: its old state or its new one, nothing lost
    states = article_states(directory)
    old, new = world.old[kind], world.new[kind]
    assert set(old) <= set(states) <= set(new)
    for article_id, state in states.items():
        assert state in (old.get(article_id), new[article_id]), f"{phase}: article {article_id} is half-written"

    # the next ingest completes it: same articles, chunks and counts as a clean ingest
    code, out, err = cli(capsys, "ingest", "--index", directory, "--model", world.model, world.v2)
    assert code == 0, err
    assert cli(capsys, "stats", "--check", "--index", directory)[0] == 0
    assert article_states(directory) == new
    assert ArticleIndex(directory).open().store.counts() == world.counts[kind]
    shutil.rmtree(directory)
    return phase


def _phase(directory: Path, world: World, kind: str, finished: bool) -> str:
    """Where the kill landed, for the report."""
    if finished:
        return "after the ingest finished"
    store, manifest = generation(directory), manifest_generation(directory)
    if store is None:
        return "before the store was created"
    if kind == "update" and store == world.base_generation:
        return "before the first commit"
    if manifest != store:
        publishing = any(p.name.startswith((".tmp-", f"vectors-{store:06d}", f"bm25-{store:06d}")) for p in directory.iterdir())
        return "while writing FAISS/BM25/manifest" if publishing else "between commits (store ahead of manifest)"
    return "after the manifest was replaced"


@pytest.mark.parametrize("trial", range(QUICK_TRIALS))
def test_ingest_killed_at_random_moment(world, trial, capsys):
    kill_and_check(world, trial, capsys)


@pytest.mark.slow
def test_ingest_killed_at_random_moments_20_trials(world, capsys):
    phases: dict[str, int] = {}
    for trial in range(QUICK_TRIALS, QUICK_TRIALS + SLOW_TRIALS):
        phase = kill_and_check(world, trial, capsys)
        phases[phase] = phases.get(phase, 0) + 1
    with capsys.disabled():
        print(f"\n{SLOW_TRIALS} kills landed: {phases}")
    assert sum(phases.values()) == SLOW_TRIALS


# --- disk full / write errors ----------------------------------------------------------------


@pytest.fixture
def small_world(tmp_path) -> dict:
    """An index of 12 stories, and a folder that changes 4 of them and adds 10."""
    model = tiny_model()
    old = write_news(tmp_path / "old", 12)
    new = write_news(tmp_path / "new", 22, version=NEW_VERSION)
    directory = tmp_path / "idx"
    assert qa.cli.main(["ingest", "--index", str(directory), "--model", str(model), str(old)]) == 0
    return {"model": model, "old": old, "new": new, "index": directory, "before": article_states(directory)}


def NEW_VERSION(i: int) -> int:
    return 2 if i % 3 == 0 else 1


def assert_old_index_answers(world: dict) -> None:
    """verify() passes, every article is old or new (never half), and the old stories still answer."""
    index = ArticleIndex(world["index"]).open()
    assert verify(index) == []
    states = article_states(world["index"])
    assert set(world["before"]) <= set(states)
    for article_id, (title, text, _, _) in states.items():
        old = world["before"].get(article_id)
        assert (old and (title, text) == old[:2]) or (title, text) == news_text(int(article_id[-3:]), NEW_VERSION(int(article_id[-3:])))
    assistant = Assistant(world["index"], Config(model=str(world["model"])), embedder=Embedder(str(world["model"])))
    for article_id in ("story-001", "story-002"):
        title, text, _, _ = world["before"][article_id]
        reply = assistant.ask(text.split(".")[0] + "?")
        assert article_id in [c.article_id for c in reply.citations]


def enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def fail_writing(monkeypatch, what: str) -> None:
    """Make one of the index's writes fail the way a full disk does."""
    if what == "faiss":
        import faiss

        monkeypatch.setattr(faiss, "write_index", enospc)
    elif what == "faiss-runtime":  # what faiss itself raises when fwrite comes up short
        import faiss

        def short_write(*args):
            raise RuntimeError("Error in faiss::FileIOWriter::operator() ret == (n): write error (No space left on device)")

        monkeypatch.setattr(faiss, "write_index", short_write)
    elif what in ("bm25", "manifest"):  # the disk fills up after part of the files were written
        prefix = "bm25-" if what == "bm25" else "manifest.json"
        original = qa.index._atomic

        def atomic(target, write, folder=False):
            if not target.name.startswith(prefix):
                return original(target, write, folder)

            def write_then_fail(tmp):
                write(tmp)
                enospc()

            return original(target, write_then_fail, folder)

        monkeypatch.setattr(qa.index, "_atomic", atomic)
    elif what == "sqlite-put":
        monkeypatch.setattr(Store, "put_chunks", enospc)
    elif what == "sqlite-full":  # SQLite's own SQLITE_FULL: the database may grow by 2 pages only
        original = Store.__init__

        def capped(self, path, readonly=False):
            original(self, path, readonly)
            if not readonly:
                pages = self.db.execute("PRAGMA page_count").fetchone()[0]
                self.db.execute(f"PRAGMA max_page_count = {pages + 2}")

        monkeypatch.setattr(Store, "__init__", capped)
    else:
        raise ValueError(what)


@pytest.mark.parametrize(
    "what, names",
    [
        ("faiss", "vectors-"),
        ("faiss-runtime", "vectors-"),
        ("bm25", "bm25-"),
        ("manifest", "manifest.json"),
        ("sqlite-put", "meta.sqlite"),
        ("sqlite-full", "meta.sqlite"),
    ],
)
def test_disk_full_mid_ingest_is_a_clear_error_and_keeps_the_index(small_world, monkeypatch, capsys, what, names):
    with pytest.MonkeyPatch.context() as patch:
        fail_writing(patch, what)
        code, out, err = cli(capsys, "ingest", "--index", small_world["index"], "--model", small_world["model"], small_world["new"])
    assert code == 1
    assert err.startswith("error: ") and "Traceback" not in err
    assert str(small_world["index"]) in err and names in err, err
    assert "disk" in err and "ingest again" in err, err
    assert not [p.name for p in small_world["index"].iterdir() if p.name.startswith(".tmp-")]  # no half files left
    assert_old_index_answers(small_world)
    # with space again, the same ingest finishes the job
    code, out, err = cli(capsys, "ingest", "--index", small_world["index"], "--model", small_world["model"], small_world["new"])
    assert code == 0, err
    assert verify(ArticleIndex(small_world["index"]).open()) == []
    assert len(article_states(small_world["index"])) == 22
