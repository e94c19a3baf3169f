"""Shared by the reliability tests (crash, concurrency, damaged index, limits): a tiny real
embedding model, generated news corpora, the CLI in a subprocess, and article-state snapshots.

A tiny, real sentence-transformers model folder for tests that run the CLI in a subprocess.

`python -m qa ingest --model PATH` loads whatever folder it is given through the product's own
loading code (qa.embed.Embedder: ONNX export + ONNX Runtime where onnxruntime is installed, else
SentenceTransformer). This module builds such a folder from a BertConfig with random weights
(seeded) and a small WordPiece vocabulary: one layer, 32 dimensions, a few hundred kilobytes. Its
vectors mean nothing; the tests that use it check crash safety, concurrency and error handling,
not answer quality.

The folder (and its ONNX export, under QA_CACHE) is built once and reused by later test runs:
building needs torch and transformers (about 10 s to import here), loading it afterwards does not.
"""

from __future__ import annotations

import pytest

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

BUILD_VERSION = 3  # bump when the folder's recipe changes
MAX_SEQ_LENGTH = 128
WORDS = (
    "the a an of to in and on for at by with from that this was were is are be has have had said after "
    "before over under into out up down new old first last year years month week day monday tuesday "
    "city town council bridge school mayor police fire river road rail station park market bank firm "
    "company government minister report plan project cost million billion pounds dollars people residents "
    "workers students teachers officials shares price prices rose fell opened closed built repair storm "
    "flood election vote votes team match game season win won lost record news story article"
).split()


def cache_root() -> Path:
    """Where built models and their ONNX exports live between test runs."""
    return Path(tempfile.gettempdir()) / f"qa-test-models-{os.getuid()}"


def onnx_cache() -> Path:
    """QA_CACHE for processes that load tiny models, so tests leave the user's cache alone."""
    return cache_root() / "qa-cache"


def tiny_model(dim: int = 32, seed: int = 0) -> Path:
    """Path of a sentence-transformers folder with `dim`-dimensional vectors, built on first use."""
    folder = cache_root() / f"tiny-st-v{BUILD_VERSION}-d{dim}-s{seed}"
    if (folder / "modules.json").is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=".building-", dir=folder.parent))
    try:
        _build(building, dim, seed)
        try:
            os.replace(building, folder)
        except OSError:  # another test process finished the same build first
            pass
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return folder


def _build(out: Path, dim: int, seed: int) -> None:
    import json

    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizerFast
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = [chr(c) for c in range(97, 123)] + [str(d) for d in range(10)] + list(".,;:!?'\"()$%&-/£€")
    vocab = list(dict.fromkeys(specials + chars + ["##" + c for c in chars] + WORDS))
    raw = out / "raw"
    raw.mkdir()
    tokenizer = BertTokenizerFast(vocab={token: i for i, token in enumerate(vocab)}, do_lower_case=True, model_max_length=MAX_SEQ_LENGTH)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=dim, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=2 * dim, max_position_embeddings=MAX_SEQ_LENGTH + 2,
    )
    BertModel(config).save_pretrained(raw / "hf")
    tokenizer.save_pretrained(raw / "hf")
    transformer = Transformer(str(raw / "hf"), max_seq_length=MAX_SEQ_LENGTH)
    pooling = Pooling(dim, "mean")
    model_dir = out / "model"
    SentenceTransformer(modules=[transformer, pooling], device="cpu").save(str(model_dir))
    # the classic key, read by loaders that do not know sentence-transformers 6's own config
    config_file = model_dir / "sentence_bert_config.json"
    settings = json.loads(config_file.read_text()) if config_file.is_file() else {}
    config_file.write_text(json.dumps({**settings, "max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": True}, indent=2))
    for item in model_dir.iterdir():
        shutil.move(str(item), out / item.name)
    model_dir.rmdir()
    shutil.rmtree(raw)


def tiny_env(**extra: str) -> dict[str, str]:
    """Environment for a `python -m qa` subprocess that uses tiny models."""
    env = {**os.environ, "QA_CACHE": str(onnx_cache()), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    env.pop("QA_INDEX", None)
    env.update(extra)
    return env


# --- generated news --------------------------------------------------------------------------

_PLACES = ["Ashford", "Brockley", "Calder", "Dunmore", "Elston", "Fenwick", "Glenrae", "Holloway", "Inverlee", "Jarrow"]
_TOPICS = [
    ("bridge", "The {place} bridge reopened on {day} after a {n}-month repair that cost {m} million pounds."),
    ("school", "Students at {place} Academy posted record results, with {n} percent gaining top grades."),
    ("flood", "River levels in {place} rose by {n} centimetres overnight and {m} homes were evacuated."),
    ("election", "Voters in {place} elected a new mayor on {day}; turnout was {n} percent."),
    ("rail", "The {place} rail station will close for {n} weeks while engineers replace {m} kilometres of track."),
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
_FILLER = [
    "Officials said the plan had been agreed by the council in {year}.",
    "Residents told the Courier that the work had been long overdue.",
    "A spokesperson for the company said a report would follow in {month}.",
    "The minister for transport visited the site on {day} and met workers.",
    "Police closed two roads in {place} for most of the afternoon.",
    "Local traders said the market had lost {n} customers a day during the works.",
]
_MONTHS = ["January", "March", "May", "July", "September", "November"]


def news_text(i: int, version: int = 1) -> tuple[str, str]:
    """(title, body) of generated story `i`; another `version` changes its body and title."""
    rng = random.Random(i * 7919 + version)
    place = _PLACES[i % len(_PLACES)] + ("" if i < len(_PLACES) else f" {i}")
    topic, lead = _TOPICS[i % len(_TOPICS)]
    fill = {"place": place, "day": rng.choice(_DAYS), "n": rng.randint(2, 90), "m": rng.randint(2, 900),
            "year": rng.randint(2001, 2025), "month": rng.choice(_MONTHS)}
    paragraphs = [lead.format(**fill)]
    for _ in range(rng.randint(3, 6)):
        fill["n"] = rng.randint(2, 90)
        paragraphs.append(" ".join(rng.choice(_FILLER).format(**fill) for _ in range(rng.randint(1, 3))))
    title = f"{place} {topic} news" + (f", update {version}" if version > 1 else "")
    return title, "\n\n".join(paragraphs)


def write_news(folder: Path, count: int, version=lambda i: 1, copies: tuple[int, ...] = (), wire: int = 0) -> Path:
    """`count` generated stories as .txt/.md files (ids story-000…), `copies` of some bodies under
    other ids (exact duplicates), and `wire` records in one .jsonl file (ids wire-0…)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        title, body = news_text(i, version(i))
        suffix = ".md" if i % 10 == 9 else ".txt"
        heading = f"# {title}" if suffix == ".md" else title
        (folder / f"story-{i:03d}{suffix}").write_text(f"{heading}\n\n{body}\n", encoding="utf-8")
    for i in copies:
        title, body = news_text(i, version(i))
        (folder / f"copy-{i:03d}.txt").write_text(f"Copy: {title}\n\n{body}\n", encoding="utf-8")
    if wire:
        records = []
        for k in range(wire):
            title, body = news_text(1000 + k, version(1000 + k))
            records.append(json.dumps({"id": f"wire-{k}", "title": title, "text": body, "source": "Wire", "published": "2026-03-0%d" % (k % 9 + 1)}))
        (folder / "wire.jsonl").write_text("\n".join(records) + "\n", encoding="utf-8")
    return folder


# --- the CLI in a subprocess -------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


def qa_command(*args) -> list[str]:
    return [sys.executable, "-m", "qa", *map(str, args)]


def run_qa(*args, timeout: float = 180, env: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m qa ARGS` to completion, output captured."""
    return subprocess.run(qa_command(*args), cwd=ROOT, env=env or tiny_env(), capture_output=True, text=True, timeout=timeout)


def start_qa(*args, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(qa_command(*args), cwd=ROOT, env=env or tiny_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# --- the store as it is on disk ----------------------------------------------------------------


def read_only(directory: Path) -> sqlite3.Connection | None:
    path = directory / "meta.sqlite"
    if not path.exists():
        return None
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)


def generation(directory: Path) -> int | None:
    """The store's committed generation (None: no store, or one whose creation was cut off)."""
    db = read_only(directory)
    if db is None:
        return None
    try:
        row = db.execute("SELECT value FROM info WHERE key = 'generation'").fetchone()
        return int(json.loads(row[0])) if row else 0
    except sqlite3.Error:
        return None
    finally:
        db.close()


def article_states(directory: Path) -> dict[str, tuple]:
    """article id → (title, text, duplicate_of, chunk spans) from one read of the store."""
    db = read_only(directory)
    if db is None:
        return {}
    try:
        db.execute("BEGIN")
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "articles" not in tables:
            return {}
        spans: dict[str, list] = {}
        for article_id, start, end in db.execute('SELECT article_id, start, "end" FROM chunks ORDER BY article_id, start, "end"'):
            spans.setdefault(article_id, []).append((start, end))
        return {
            article_id: (title, text, copy_of, tuple(spans.get(article_id, ())))
            for article_id, title, text, copy_of in db.execute("SELECT id, title, text, duplicate_of FROM articles")
        }
    finally:
        db.close()


def manifest_generation(directory: Path) -> int | None:
    try:
        return json.loads((directory / "manifest.json").read_text()).get("generation")
    except (OSError, ValueError):
        return None


@pytest.fixture(autouse=True)
def tiny_model_cache(monkeypatch):
    """Autouse in the modules that import it: the tiny models' ONNX cache, no default index."""
    monkeypatch.setenv("QA_CACHE", str(onnx_cache()))
    monkeypatch.delenv("QA_INDEX", raising=False)


def cli(capsys, *args) -> tuple[int, str, str]:
    """qa.cli.main in this process: (exit status, stdout, stderr); never a traceback."""
    import qa.cli

    capsys.readouterr()
    code = qa.cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err
