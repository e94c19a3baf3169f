"""Shared fixtures: a fast fake embedder (hashed words), tiny news articles, the real model once."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

from qa.config import Config
from qa.embed import Embedder

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SHARED = ROOT.parent / "shared"
_WORD = re.compile(r"\w+|[^\w\s]")


class FakeEmbedder(Embedder):
    """Deterministic bag-of-words vectors: fast, no model files, same interface as Embedder."""

    def __init__(self, dim: int = 64, max_tokens: int = 126):
        super().__init__("fake-hash")
        self._dim, self._max = dim, max_tokens

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def max_tokens(self) -> int:
        return self._max

    def count_tokens(self, texts):
        return [len(_WORD.findall(t)) for t in texts]

    def token_spans(self, text):
        return [m.span() for m in _WORD.finditer(text)]

    def encode(self, texts):
        vectors = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                bucket = int(hashlib.md5(word.encode()).hexdigest(), 16) % self._dim
                vectors[row, bucket] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        self.texts_encoded += len(texts)
        return vectors / norms


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def fake_config() -> Config:
    return Config(model="fake-hash")


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    """The bundled all-MiniLM-L6-v2, loaded once for the whole run."""
    return Embedder()


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory, real_embedder) -> Path:
    """samples/ indexed with the real model, once a run; tests that change it work on a copy."""
    from qa.assistant import Assistant
    from qa.index import ArticleIndex

    folder = tmp_path_factory.getbasetemp() / "samples-index"
    if not ArticleIndex(folder).exists:
        Assistant(folder, embedder=real_embedder).ingest([SAMPLES])
    return folder


def write_articles(folder: Path, articles: dict[str, str]) -> Path:
    """Write {relative name: content} under folder; returns folder."""
    for name, content in articles.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return folder


NEWS = {
    "bridge.txt": "Harbour bridge reopens\nBy Ann Lee - Port Gazette - March 3, 2026\n\n"
    "The Kestrel bridge reopened on Monday after a 14-month repair.\n\n"
    "The project cost $38.6 million, more than the first estimate.\n\n"
    "Mayor Linda Okafor cut the ribbon at 7 a.m.",
    "school.md": "# School posts record results\n\n"
    "Students at Stonebridge Academy achieved the best results in its history.\n\n"
    "Head teacher Rebecca Thornton credited an after-school tutoring programme.",
    "wire.jsonl": '{"id": "wire-1", "title": "Bakery chain sold", "text": "Hearthstone Foods agreed to buy the bakery chain '
    'Miller & Daughters for $45 million.\\nThe chain was founded by Agnes Miller in 1961.", "source": "Wire", '
    '"published": "2026-02-01", "url": "https://example.org/bakery"}\n',
}


@pytest.fixture
def news_dir(tmp_path: Path) -> Path:
    return write_articles(tmp_path / "news", NEWS)


@pytest.fixture
def fake_assistant(tmp_path):
    """An Assistant on a fresh index under tmp_path, with the fake embedder."""
    from qa.assistant import Assistant

    return Assistant(tmp_path / "index", Config(model="fake-hash"), embedder=FakeEmbedder())

