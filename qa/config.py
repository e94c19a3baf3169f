"""One typed configuration; the index-bound part is saved in the index manifest."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

DEFAULT_MODEL = "all-MiniLM-L6-v2"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
RETRIEVAL_MODES = ("hybrid", "dense", "bm25")

# Settings an index is built with; a query must use the same ones.
INDEX_FIELDS = ("model", "chunk_tokens", "overlap_sentences")


@dataclass(frozen=True)
class Config:
    # Index-bound
    model: str = DEFAULT_MODEL  # sentence-transformers name or local path
    chunk_tokens: int = 128  # chunk budget in the model's own tokens (capped by its max length)
    overlap_sentences: int = 1
    # Query time
    top_k: int = 5  # passages cited
    candidates: int = 50  # per retriever, before fusion
    fusion: str = "score"  # "score": weighted sum of normalised scores; "rrf": reciprocal rank
    bm25_weight: float = 0.5  # share of BM25 in score fusion (bench: README "Quality")
    rrf_k: int = 60
    retrieval: str = "hybrid"
    max_per_article: int = 2  # passages one article may hold in the cited list
    read_passages: int = 8  # passages the reader looks into
    answer_threshold: float = 0.6  # confidence below it: "not found" (bench/calibrate.py; README)
    qa_model: str | None = None  # a transformers question-answering model enables the span reader
    qa_weight: float = 0.7  # span reader: weight of its own score against retrieval
    # Limits on input
    max_file_bytes: int = 20_000_000
    max_article_chars: int = 1_000_000
    max_question_chars: int = 1_000
    batch_size: int = 32

    def __post_init__(self) -> None:
        if self.fusion not in ("score", "rrf"):
            raise ValueError(f"fusion={self.fusion!r} is not one of ('score', 'rrf')")
        if not 0.0 <= self.bm25_weight <= 1.0:
            raise ValueError(f"bm25_weight must be between 0 and 1, got {self.bm25_weight}")
        if self.retrieval not in RETRIEVAL_MODES:
            raise ValueError(f"retrieval={self.retrieval!r} is not one of {RETRIEVAL_MODES}")
        for name in ("chunk_tokens", "top_k", "candidates", "rrf_k", "read_passages", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.overlap_sentences < 0 or self.max_per_article < 1:
            raise ValueError("overlap_sentences must be >= 0 and max_per_article >= 1")

    def index_settings(self) -> dict:
        return {name: getattr(self, name) for name in INDEX_FIELDS}

    def with_index_settings(self, settings: dict) -> "Config":
        return replace(self, **{k: v for k, v in settings.items() if k in INDEX_FIELDS})

    def override(self, **changes) -> "Config":
        known = {f.name for f in fields(self)}
        return replace(self, **{k: v for k, v in changes.items() if k in known and v is not None})

    def to_dict(self) -> dict:
        return asdict(self)


def default_index_dir() -> Path:
    """`QA_INDEX` overrides the project's own `index/` folder."""
    return Path(os.environ.get("QA_INDEX") or PROJECT_ROOT / "index")


UPLOADS_DIR = "uploads"  # files added through the UI, kept inside the index folder
