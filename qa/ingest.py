"""Ingest: load files, chunk and embed new or changed articles, commit them to the index.

Each batch of articles is committed whole (one transaction) before the in-memory search
structures follow it, so a failure at any point leaves the index at its last commit."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from qa.chunk import TITLE_TOKENS, Chunker, embedding_text
from qa.config import Config
from qa.dedupe import NEAR_DUPLICATE, band_keys, similarity
from qa.embed import Embedder
from qa.index import ArticleIndex
from qa.load import LoadError, discover, load_file
from qa.schema import Article, Chunk

BATCH_CHUNKS = 256  # chunks embedded and committed together (one transaction)


@dataclass(frozen=True)
class FileResult:
    path: str
    status: str  # added | updated | unchanged | duplicate | rejected | partial
    article_ids: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    chunks: int = 0
    seconds: float = 0.0
    errors: list[LoadError] = field(default_factory=list)
    files: list[FileResult] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.errors)

    def summary(self) -> str:
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.duplicates} duplicate copies, {self.rejected} rejected; "
            f"{self.chunks} passages embedded in {self.seconds:.1f}s"
        )


class Ingestor:
    def __init__(self, index: ArticleIndex, embedder: Embedder, config: Config):
        self.index, self.embedder, self.config = index, embedder, config
        self._chunker: Chunker | None = None
        self._pending: list[tuple[Article, list[Chunk]]] = []
        self._edited: set[str] = set()  # queued ids whose text a user changed: they take over from a near copy
        self._dim_checked = False

    @property
    def chunker(self) -> Chunker:
        if self._chunker is None:
            budget = min(self.config.chunk_tokens, self.embedder.max_tokens - TITLE_TOKENS - 1)
            self._chunker = Chunker(self.embedder.count_tokens, self.embedder.token_spans, budget, self.config.overlap_sentences)
        return self._chunker

    def ingest(self, paths: Iterable[str | Path], progress: Callable[[str], None] | None = None) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        files = list(discover(paths))
        settings = self.config.index_settings()
        with self.index.lock():
            self.index.open_for_writing(settings, lambda: self.embedder.dim)
            self._requeue_unindexed()
            seen: dict[str, str] = {}
            for path, root in files:
                loaded = load_file(path, root, self.config.max_file_bytes, self.config.max_article_chars)
                statuses = [self._stage(article, seen, report, path) for article in loaded.articles]
                report.errors.extend(loaded.errors)
                report.files.append(_file_result(path, loaded.articles, loaded.errors, statuses))
                if progress:
                    progress(str(path))
            self._flush(report)
            self._requeue_unindexed()  # a copy whose original changed in this run, left without chunks
            self._flush(report)
            self.index.publish()
        report.seconds = time.perf_counter() - started
        return report

    def _stage(self, article: Article, seen: dict[str, str], report: IngestReport, path: Path) -> str:
        """Decide what an article needs; queue it for embedding when it is new or changed."""
        store = self.index.store
        if article.id in seen:  # the error is the earlier file's, whose version is dropped
            reason = f"article id {article.id!r} comes again from {path}; the later one is kept"
            report.errors.append(LoadError(Path(seen[article.id]), reason))
            _drop_from_results(report, seen[article.id], article.id, reason)
            self._unqueue(article.id, report)
        seen[article.id] = str(path)
        stored = store.hashes(article.id)
        if stored and stored[0] == article.content_hash:
            report.unchanged += 1
            return "unchanged"
        edited = bool(stored) and store.text_hash(article.id) != article.text_hash  # its text, not just its headline
        original = self._original(article, edited)
        if original:  # the original must be stored, as this run leaves it, before its copy points at it
            self._flush(report)
            original = self._original(article, edited)
        if original:
            with store.transaction():
                removed = store.delete_article(article.id) if stored else []
                store.put_article(article, duplicate_of=original)
            self.index.apply(removed, [], np.zeros((0, 0), np.float32))
            report.duplicates += 1
            return "duplicate"
        self._pending.append((article, self.chunker.chunk(article)))
        if edited:
            self._edited.add(article.id)
        if stored:
            report.updated += 1
        else:
            report.added += 1
        if sum(len(c) for _, c in self._pending) >= BATCH_CHUNKS:
            self._flush(report)
        return "updated" if stored else "added"

    def _original(self, article: Article, edited: bool) -> str | None:
        """The stored or queued article this one is a copy of: the same text, or nearly, unless its
        own text was edited (then it takes over from its near copy: _flush)."""
        store = self.index.store
        found = store.find_copy(article.text_hash, exclude=article.id) or self._pending_copy(article)
        return found or (None if edited else store.find_near_copy(article.text, exclude=article.id))

    def _unqueue(self, article_id: str, report: IngestReport) -> None:
        """Drop a queued, not yet embedded version of an article that a later one replaces."""
        for i, (queued, _) in enumerate(self._pending):
            if queued.id == article_id:
                del self._pending[i]
                if self.index.store.hashes(article_id):
                    report.updated -= 1
                else:
                    report.added -= 1
                return

    def _pending_copy(self, article: Article) -> str | None:
        """A queued article with the same or nearly the same text (shared LSH band, then similarity)."""
        keys = set(band_keys(article.text))
        for queued, _ in self._pending:
            if queued.id == article.id:
                continue
            if queued.text_hash == article.text_hash or (
                keys & set(band_keys(queued.text)) and similarity(queued.text, article.text) >= NEAR_DUPLICATE
            ):
                return queued.id
        return None

    def _requeue_unindexed(self) -> None:
        """Index originals left without chunks (a near-duplicate whose original was removed,
        perhaps by a run that was cut off)."""
        for article_id in self.index.store.unindexed_originals():
            article = self.index.store.article(article_id)
            self._pending.append((article, self.chunker.chunk(article)))

    def remove(self, article_ids: list[str]) -> list[str]:
        """Delete articles by id (a copy takes over); returns the ids that were not in the index."""
        with self.index.lock():
            self.index.open(readonly=False)
            missing = _delete(self.index, article_ids)
            self._requeue_unindexed()
            self._flush(IngestReport())
            self.index.publish()
        return missing

    def _flush(self, report: IngestReport) -> None:
        """Embed the queued articles and commit them in one transaction."""
        if not self._pending:
            return
        if not self._dim_checked:  # the model at this name/path may not be the one the index was built with
            self.index.check_dimension(self.embedder.dim, self.embedder.model_name)
            self._dim_checked = True
        texts, chunks = [], []
        for article, article_chunks in self._pending:
            title_spans = self.embedder.token_spans(article.title)
            texts.extend(embedding_text(article.title, c.text, title_spans) for c in article_chunks)
            chunks.extend(article_chunks)
        vectors = self.embedder.encode(texts)
        store = self.index.store
        with store.transaction():
            removed = []
            for article, _ in self._pending:
                stored = store.hashes(article.id)
                if stored and (stored[0] == article.content_hash or article.id not in self._edited and stored[1] is None):
                    removed.extend(store.delete_chunks(article.id))  # the same text (a copy whose original went, a new headline): its copies stay its own
                elif stored:
                    removed.extend(store.delete_article(article.id))
                store.put_article(article)
                if article.id in self._edited and (older := store.find_near_copy(article.text, exclude=article.id)):
                    removed.extend(store.demote(older, article.id))  # the edited text is the one to cite
            ids = store.put_chunks(chunks, vectors)
        self.index.apply(removed, ids, vectors)  # only what was committed
        report.chunks += len(chunks)
        self._pending, self._edited = [], set()


def remove_articles(index: ArticleIndex, article_ids: list[str]) -> list[str]:
    """Delete articles by id without a model at hand; returns the ids that were not in the index.
    (Ingestor.remove also indexes a near-duplicate that takes over from a removed original.)"""
    with index.lock():
        index.open(readonly=False)
        missing = _delete(index, article_ids)
        index.publish()
    return missing


def _delete(index: ArticleIndex, article_ids: list[str]) -> list[str]:
    store = index.store
    missing, removed = [], []
    with store.transaction():
        for article_id in article_ids:
            if store.hashes(article_id) is None:
                missing.append(article_id)
                continue
            removed.extend(store.delete_article(article_id))
    index.apply(removed, [], np.zeros((0, 0), np.float32))
    return missing


def _drop_from_results(report: IngestReport, path: str, article_id: str, reason: str) -> None:
    """An earlier file of this ingest no longer gives the article: its result says so."""
    for i, result in enumerate(report.files):
        if result.path == path and article_id in result.article_ids:
            ids = tuple(a for a in result.article_ids if a != article_id)
            report.files[i] = replace(result, status="partial" if ids else "rejected", article_ids=ids, errors=(*result.errors, reason))


def _file_result(path: Path, articles, errors, statuses: list[str]) -> FileResult:
    if not articles:
        status = "rejected"
    elif errors:
        status = "partial"
    else:
        status = next((s for s in ("added", "updated", "duplicate") if s in statuses), "unchanged")
    return FileResult(str(path), status, tuple(a.id for a in articles), tuple(f"line {e.line}: {e.reason}" if e.line else e.reason for e in errors))
