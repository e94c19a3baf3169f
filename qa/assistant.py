"""The one object behind the CLI and the UI: ingest articles, answer questions with citations."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from qa.clean import normalize_text
from qa.config import Config, default_index_dir
from qa.conversation import FollowUp, Turn, resolve, subject_change, too_vague
from qa.embed import Embedder
from qa.entities import EntityTagger
from qa.index import ArticleIndex
from qa.ingest import IngestReport, Ingestor
from qa.question import asks_for_latest, without_markup
from qa.read import ExtractiveReader, question_terms
from qa.retrieve import Retriever
from qa.schema import Answer, Citation, Passage, Reply

RELATED_SHARE = 0.5  # a passage cited beside an answer holds at least this share of the search's term weight the answer's holds


@dataclass(frozen=True)
class Reading:
    """One way of reading a question: what was searched, what came back, what was read from it."""

    query: str
    passages: list[Passage]
    answer: Answer | None
    retrieve_ms: float
    read_ms: float


def surer(follow: Reading, alone: Reading) -> Reading:
    """The follow-up reading, unless the question read by itself answers with more confidence."""
    if alone.answer is None:
        return follow
    if follow.answer is None or alone.answer.score > follow.answer.score:
        return alone
    return follow


class Assistant:
    """Cheap to construct; the index opens and the models load on first use."""

    def __init__(self, index_dir: str | Path | None = None, config: Config | None = None, embedder: Embedder | None = None):
        self.index_dir = Path(index_dir) if index_dir else default_index_dir()
        self.config = config or Config()
        self._embedder = embedder
        self._index: ArticleIndex | None = None
        self._reader = None
        self._tagger = EntityTagger()  # kept across reloads: its model and cache do not depend on the index
        self._lock = threading.Lock()

    # --- components, opened lazily ------------------------------------------------------
    @property
    def index(self) -> ArticleIndex:
        if self._index is None:
            with self._lock:
                if self._index is None:
                    index = ArticleIndex(self.index_dir).open()
                    self.config = self.config.with_index_settings(index.settings)
                    index.check_settings(self.embedder.model_name if self._embedder else None)
                    self._index = index
        return self._index

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    self._embedder = Embedder(self.config.model, self.config.batch_size)
        return self._embedder

    @property
    def reader(self):
        if self._reader is None:
            index, embedder = self.index, self.embedder  # outside the lock: they take it themselves
            with self._lock:
                if self._reader is None:
                    if self.config.qa_model:
                        from qa.span_reader import SpanReader

                        self._reader = SpanReader(self.config)
                    else:
                        self._reader = ExtractiveReader(embedder, index, self.config, self._tagger)
        return self._reader

    def reload(self) -> None:
        """Pick up what another process (or this one) wrote to the index."""
        with self._lock:
            self._index, self._reader = None, None

    # --- articles ------------------------------------------------------------------------
    def ingest(self, paths: Iterable[str | Path], progress: Callable[[str], None] | None = None) -> IngestReport:
        index = ArticleIndex(self.index_dir)
        if index.exists:  # an existing index keeps the model and chunking it was built with
            self.config = self.config.with_index_settings(self.index.settings)
        report = Ingestor(index, self.embedder, self.config).ingest(paths, progress)
        self.reload()
        return report

    def remove(self, article_ids: list[str]) -> list[str]:
        missing = Ingestor(ArticleIndex(self.index_dir), self.embedder, self.config).remove(article_ids)
        self.reload()
        return missing

    def articles(self):
        return self.index.store.articles()

    def stats(self) -> dict:
        index = self.index
        return {"index": str(self.index_dir), **index.settings, **index.store.counts(), "generation": index.store.generation}

    # --- questions -----------------------------------------------------------------------
    def ask(
        self,
        question: str,
        history: Sequence[Turn] | None = None,
        top_k: int | None = None,
        retrieval: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> Reply:
        """Answer from the indexed articles. `history`: earlier (question, reply) turns, for
        follow-ups; `since`/`until`: ISO dates (yyyy-mm-dd) bounding articles' publication."""
        question = self._check_question(question)
        keep = date_filter(since, until)
        started = time.perf_counter()
        self.index  # opens the index first: it decides which model embeds the question
        opened = time.perf_counter()
        followup = resolve(question, history)
        change = subject_change(question, followup, self.index)
        if change == "new":
            followup = resolve(question, None)  # the conversation's story cannot answer it
        options = {"limit": max(top_k or self.config.top_k, self.config.read_passages) * self.config.max_per_article,
                   "mode": retrieval, "keep": keep, "recent": asks_for_latest(question)}
        reading = self._read(question, followup, **options)
        readings = [reading]
        if change == "maybe":
            readings.append(self._read(question, FollowUp(question), **options))
            reading = surer(reading, readings[1])
        answer, passages = reading.answer, reading.passages
        found = answer is not None and answer.score >= self.config.answer_threshold and not too_vague(question, followup, self.index)
        citations = self._cite(passages, answer if found else None, top_k or self.config.top_k, reading.query)
        timings = {"retrieve": (opened - started) * 1e3 + sum(r.retrieve_ms for r in readings),  # both readings, when there are two
                   "read": sum(r.read_ms for r in readings), "total": (time.perf_counter() - started) * 1e3}
        return Reply(
            question=question,
            found=found,
            answer=answer.text if found else None,
            score=float(answer.score) if answer else 0.0,
            citations=citations,
            timings_ms=timings,
            sentence=answer.passage.chunk.text[answer.sentence_start : answer.sentence_end] if found else None,
            query=reading.query,
            kind=answer.kind if found else None,
        )

    def _read(self, question: str, followup: FollowUp, limit: int, mode: str | None, keep, recent: bool) -> Reading:
        """Retrieve for the question as the follow-up searches it, and read the passages."""
        started = time.perf_counter()
        vector = self.embedder.encode([followup.query])[0]
        passages = self.retrieve(followup.query, vector, limit, mode, keep=keep, prefer=followup.prefer, recent=recent)
        retrieved = time.perf_counter()
        options = {"avoid": followup.avoid} if followup.avoid else {}
        answer = self.reader.read(question, vector, passages, followup.context, **options) if passages else None
        read_ms = (time.perf_counter() - retrieved) * 1e3
        return Reading(followup.query, passages, answer, (retrieved - started) * 1e3, read_ms)

    def retrieve(self, query: str, vector, limit: int, mode: str | None = None, **options) -> list[Passage]:
        return Retriever(self.index, self.config).retrieve(query, vector, limit, mode, **options)

    def _check_question(self, question: str) -> str:
        if isinstance(question, str) and len(question) > self.config.max_question_chars:
            raise ValueError(f"question is {len(question):,} characters; the limit is {self.config.max_question_chars:,}")
        words = without_markup(normalize_text(question)) if isinstance(question, str) else ""  # no zero-width spaces
        if not words:
            raise ValueError("question is empty: ask something about the loaded articles")
        if not any(c.isalnum() for c in words):
            raise ValueError(f"question {words!r} has no words to search for: ask about the loaded articles in words")
        return words

    def _terms_held(self, passage: Passage, terms: dict[str, float]) -> float:
        """The weight of the search's terms that a passage (with its headline) holds."""
        held = set(self.index.tokenize([f"{passage.article.title}\n{passage.chunk.text}"])[0])
        return sum(weight for term, weight in terms.items() if term in held)

    def _cite(self, passages: list[Passage], answer: Answer | None, top_k: int, query: str) -> tuple[Citation, ...]:
        if answer is not None:  # beside an answer, only passages about as much about the question: not a story sharing a common word
            terms = question_terms(self.index, query)
            floor = RELATED_SHARE * self._terms_held(answer.passage, terms)
            passages = [p for p in passages if p is answer.passage or self._terms_held(p, terms) >= floor]
        ordered = group_by_article(passages, answer.passage if answer else None, top_k, self.config.max_per_article)
        copies = self.index.store.copies_of(p.article.id for p in ordered)
        citations = []
        for n, passage in enumerate(ordered, start=1):
            here = answer is not None and passage is answer.passage
            article = passage.article
            citations.append(Citation(
                n=n, article_id=article.id, title=article.title, source=article.source, url=article.url,
                published=article.published, passage=passage.chunk.text,
                answer_start=answer.start if here else None, answer_end=answer.end if here else None,
                score=passage.score, passage_start=passage.chunk.start, passage_end=passage.chunk.end,
                also_in=copies.get(article.id, ()),
            ))
        return tuple(citations)


def group_by_article(passages: list[Passage], first: Passage | None, top_k: int, per_article: int) -> list[Passage]:
    """The answer's passage first, then the others in rank order, so that no article fills the list."""
    ordered = ([first] if first else []) + [p for p in passages if p is not first]
    taken: dict[str, int] = {}
    out = []
    for passage in ordered:
        if taken.get(passage.article.id, 0) < per_article:
            taken[passage.article.id] = taken.get(passage.article.id, 0) + 1
            out.append(passage)
    return out[:top_k]


def date_filter(since: str | None, until: str | None):
    """Keep articles published within [since, until]; one dated by month or years only ("2004-2005")
    is kept when that period meets the range; articles without a date are left out."""
    if not since and not until:
        return None
    bounds = [_iso_date(name, value) for name, value in (("since", since), ("until", until))]
    low, high = bounds[0] or "0000-00-00", bounds[1] or "9999-99-99"
    if low > high:
        raise ValueError(f"since={since} is after until={until}: no article can match")
    return lambda article: (period := article.period) is not None and period[0] <= high and low <= period[1]


def _iso_date(name: str, value: str | None) -> str | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a date; give it as yyyy-mm-dd, e.g. 2026-01-31") from None
