"""Typed records passed between pipeline stages."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}(?!\d)")
_ISO_MONTH = re.compile(r"\d{4}-(?:0[1-9]|1[0-2])")
_YEARS = re.compile(r"(\d{4})(?:\s*[-–/]\s*(\d{4}))?")


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    text: str
    source: str | None = None
    url: str | None = None
    published: str | None = None  # ISO date (yyyy-mm-dd; yyyy-mm or yyyy when it gives no day) when it could be parsed
    author: str | None = None
    meta: dict = field(default_factory=dict, compare=False)

    @property
    def day(self) -> str | None:
        """The publication date as yyyy-mm-dd, when `published` holds one (a feed may give "2004-2005")."""
        return self.published[:10] if self.published and _ISO_DAY.match(self.published) else None

    @property
    def period(self) -> tuple[str, str] | None:
        """The first and last day the publication date allows: its day, or the month or years it
        gives ("2005-03", "2004", "2004-2005"); None when it gives none."""
        if self.day:
            return self.day, self.day
        month = _ISO_MONTH.fullmatch((self.published or "").strip())
        if month:
            return f"{month.group(0)}-01", f"{month.group(0)}-31"  # as text, no month has a later day
        years = _YEARS.fullmatch((self.published or "").strip())
        return (f"{years.group(1)}-01-01", f"{years.group(2) or years.group(1)}-12-31") if years else None

    @property
    def content_hash(self) -> str:
        """Hash of what gets indexed: a changed title or text means re-embedding."""
        return hashlib.sha256(f"{self.title}\x00{self.text}".encode()).hexdigest()

    @property
    def text_hash(self) -> str:
        """Hash of the body alone: two ids with the same body are exact duplicates."""
        return hashlib.sha256(" ".join(self.text.split()).encode()).hexdigest()


@dataclass(frozen=True)
class Chunk:
    article_id: str
    text: str
    start: int  # chunk.text == article.text[start:end]
    end: int
    sentences: tuple[tuple[int, int], ...] = ()  # sentence spans, offsets into the article
    id: int | None = None  # row id in the index, once stored


@dataclass(frozen=True)
class Passage:
    chunk: Chunk
    article: Article
    score: float  # fused retrieval score, with a follow-up's and a "latest" question's boosts
    rank: int = 0  # 0-based position in the retrieved list (by score, boosts included)
    dense_score: float | None = None  # cosine of the question and the passage, when dense ran
    bm25_score: float | None = None


@dataclass(frozen=True)
class Answer:
    text: str
    start: int  # offsets into passage.chunk.text
    end: int
    score: float
    passage: Passage
    sentence_start: int = 0  # the sentence the answer came from, offsets into the passage
    sentence_end: int = 0
    kind: str | None = None  # what the answer phrase is, as an entity label (MONEY, PERSON, DATE…); None: not known


@dataclass(frozen=True)
class Citation:
    n: int
    article_id: str
    title: str
    source: str | None
    url: str | None
    published: str | None
    passage: str
    answer_start: int | None
    answer_end: int | None
    score: float
    passage_start: int  # offsets of the passage inside the full article text
    passage_end: int
    also_in: tuple[str, ...] = ()  # ids of duplicate copies of the same article

    def to_dict(self) -> dict:
        data = asdict(self)
        data["also_in"] = list(self.also_in)
        return data


@dataclass(frozen=True)
class Reply:
    question: str
    found: bool
    answer: str | None
    score: float
    citations: tuple[Citation, ...]
    timings_ms: dict[str, float]
    sentence: str | None = None  # the whole sentence the answer phrase sits in
    query: str | None = None  # the question as searched, after resolving follow-ups
    kind: str | None = None  # the answer's entity label (MONEY, PERSON, DATE…), when the reader knows it

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "found": self.found,
            "answer": self.answer,
            "score": round(self.score, 4),
            "sentence": self.sentence,
            "query": self.query,
            "kind": self.kind,
            "citations": [c.to_dict() for c in self.citations],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }
