"""SQLite store: articles, chunks (offsets, sentence spans) and chunk vectors.

It is the index's source of truth: every write is one transaction, and the FAISS and BM25
files are derived from it, so they can always be rebuilt without re-embedding.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from qa.schema import Article, Chunk

SCHEMA = """
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL, source TEXT, url TEXT,
    published TEXT, author TEXT, meta TEXT NOT NULL, content_hash TEXT NOT NULL,
    text_hash TEXT NOT NULL, duplicate_of TEXT);
CREATE INDEX IF NOT EXISTS articles_text_hash ON articles (text_hash);
CREATE INDEX IF NOT EXISTS articles_duplicate_of ON articles (duplicate_of);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, article_id TEXT NOT NULL, start INTEGER NOT NULL,
    "end" INTEGER NOT NULL, sentences TEXT NOT NULL, vector BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks (article_id);
"""
_ARTICLE_COLUMNS = "id, title, text, source, url, published, author, meta"


class StoreError(RuntimeError):
    pass


class Store:
    def __init__(self, path: Path, readonly: bool = False):
        self.path = path
        uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
        try:
            self.db = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL" if not readonly else "PRAGMA query_only=1")
            if not readonly:
                self.db.executescript(SCHEMA)
            self.db.execute("SELECT count(*) FROM articles").fetchone()
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{path}: not a readable index database ({error})") from None
        self._lock = threading.RLock()  # one connection shared by threads

    def close(self) -> None:
        self.db.close()

    # --- info -------------------------------------------------------------------------
    def get_info(self, key: str, default=None):
        row = self._one("SELECT value FROM info WHERE key = ?", (key,))
        return json.loads(row[0]) if row else default

    def set_info(self, key: str, value) -> None:
        self._exec("INSERT OR REPLACE INTO info (key, value) VALUES (?, ?)", (key, json.dumps(value)))

    @property
    def generation(self) -> int:
        return int(self.get_info("generation", 0))

    # --- writes (call inside transaction()) --------------------------------------------
    def transaction(self):
        return _Transaction(self)

    def put_article(self, article: Article, duplicate_of: str | None = None) -> None:
        self._exec(
            "INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (article.id, article.title, article.text, article.source, article.url, article.published,
             article.author, json.dumps(article.meta, ensure_ascii=False), article.content_hash,
             article.text_hash, duplicate_of),
        )

    def put_chunks(self, chunks: list[Chunk], vectors: np.ndarray) -> list[int]:
        ids = []
        for chunk, vector in zip(chunks, vectors):
            cursor = self._exec(
                'INSERT INTO chunks (article_id, start, "end", sentences, vector) VALUES (?, ?, ?, ?, ?)',
                (chunk.article_id, chunk.start, chunk.end, json.dumps(chunk.sentences), vector.astype(np.float32).tobytes()),
            )
            ids.append(cursor.lastrowid)
        return ids

    def delete_chunks(self, article_id: str) -> list[int]:
        ids = [r[0] for r in self._all("SELECT id FROM chunks WHERE article_id = ?", (article_id,))]
        self._exec("DELETE FROM chunks WHERE article_id = ?", (article_id,))
        return ids

    def delete_article(self, article_id: str) -> list[int]:
        """Remove an article; a duplicate copy of it, if any, takes over its chunks."""
        heir = self._one("SELECT id FROM articles WHERE duplicate_of = ? ORDER BY id LIMIT 1", (article_id,))
        removed: list[int] = []
        if heir:
            self._exec("UPDATE articles SET duplicate_of = NULL WHERE id = ?", (heir[0],))
            self._exec("UPDATE articles SET duplicate_of = ? WHERE duplicate_of = ?", (heir[0], article_id))
            self._exec("UPDATE chunks SET article_id = ? WHERE article_id = ?", (heir[0], article_id))
        else:
            removed = self.delete_chunks(article_id)
        self._exec("DELETE FROM articles WHERE id = ?", (article_id,))
        return removed

    # --- reads -------------------------------------------------------------------------
    def hashes(self, article_id: str) -> tuple[str, str | None] | None:
        """(content_hash, duplicate_of) of a stored article."""
        return self._one("SELECT content_hash, duplicate_of FROM articles WHERE id = ?", (article_id,))

    def find_copy(self, text_hash: str, exclude: str) -> str | None:
        """Id of a stored original (not itself a copy) with this exact body."""
        row = self._one(
            "SELECT id FROM articles WHERE text_hash = ? AND duplicate_of IS NULL AND id != ? LIMIT 1",
            (text_hash, exclude),
        )
        return row[0] if row else None

    def copies_of(self, article_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
        ids = list(article_ids)
        out: dict[str, list[str]] = {i: [] for i in ids}
        for batch in _batches(ids):
            marks = ",".join("?" * len(batch))
            for copy, original in self._all(f"SELECT id, duplicate_of FROM articles WHERE duplicate_of IN ({marks}) ORDER BY id", batch):
                out[original].append(copy)
        return {k: tuple(v) for k, v in out.items()}

    def article(self, article_id: str) -> Article | None:
        row = self._one(f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id = ?", (article_id,))
        return _article(row) if row else None

    def articles(self) -> list[tuple[str, str, str | None, str | None, int, str | None]]:
        """(id, title, source, published, chunk count, duplicate_of) for every article."""
        return self._all(
            "SELECT a.id, a.title, a.source, a.published, count(c.id), a.duplicate_of FROM articles a "
            "LEFT JOIN chunks c ON c.article_id = a.id GROUP BY a.id ORDER BY a.id"
        )

    def chunks_by_id(self, chunk_ids: list[int]) -> dict[int, tuple[Chunk, Article]]:
        out: dict[int, tuple[Chunk, Article]] = {}
        articles: dict[str, Article] = {}
        for batch in _batches(chunk_ids):
            marks = ",".join("?" * len(batch))
            rows = self._all(f'SELECT id, article_id, start, "end", sentences FROM chunks WHERE id IN ({marks})', batch)
            for chunk_id, article_id, start, end, sentences in rows:
                if article_id not in articles:
                    articles[article_id] = self.article(article_id)
                article = articles[article_id]
                spans = tuple(tuple(s) for s in json.loads(sentences))
                out[chunk_id] = (Chunk(article_id, article.text[start:end], start, end, spans, chunk_id), article)
        return out

    def iter_vectors(self, batch: int = 10_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(ids, vectors) in batches, in id order."""
        last = -1
        while True:
            rows = self._all("SELECT id, vector FROM chunks WHERE id > ? ORDER BY id LIMIT ?", (last, batch))
            if not rows:
                return
            ids = np.array([r[0] for r in rows], dtype=np.int64)
            yield ids, np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
            last = int(ids[-1])

    def iter_chunk_texts(self, batch: int = 10_000) -> Iterator[tuple[list[int], list[str]]]:
        """(ids, title + chunk text) in batches, in id order: the text BM25 indexes."""
        last = -1
        while True:
            rows = self._all(
                'SELECT c.id, a.title, substr(a.text, c.start + 1, c."end" - c.start) FROM chunks c '
                "JOIN articles a ON a.id = c.article_id WHERE c.id > ? ORDER BY c.id LIMIT ?",
                (last, batch),
            )
            if not rows:
                return
            yield [r[0] for r in rows], [f"{r[1]}\n{r[2]}" for r in rows]
            last = rows[-1][0]

    def counts(self) -> dict[str, int]:
        articles, copies = self._one("SELECT count(*), count(duplicate_of) FROM articles")
        chunks = self._one("SELECT count(*) FROM chunks")[0]
        return {"articles": articles - copies, "duplicates": copies, "chunks": chunks}

    def chunk_ids(self) -> np.ndarray:
        return np.array([r[0] for r in self._all("SELECT id FROM chunks ORDER BY id")], dtype=np.int64)

    def orphans(self) -> tuple[int, int]:
        """(chunks whose article is gone, originals whose chunks are gone)."""
        lost = self._one("SELECT count(*) FROM chunks WHERE article_id NOT IN (SELECT id FROM articles)")[0]
        empty = self._one(
            "SELECT count(*) FROM articles WHERE duplicate_of IS NULL AND id NOT IN (SELECT article_id FROM chunks)"
        )[0]
        return lost, empty

    # --- plumbing ----------------------------------------------------------------------
    def _exec(self, sql: str, args: tuple = ()):
        with self._lock:
            return self.db.execute(sql, args)

    def _one(self, sql: str, args: tuple | list = ()):
        with self._lock:
            return self.db.execute(sql, args).fetchone()

    def _all(self, sql: str, args: tuple | list = ()):
        with self._lock:
            return self.db.execute(sql, args).fetchall()


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, bumping the store's generation; ROLLBACK on any error."""

    def __init__(self, store: Store):
        self.store = store

    def __enter__(self) -> Store:
        self.store._lock.acquire()
        self.store.db.execute("BEGIN IMMEDIATE")
        return self.store

    def __exit__(self, kind, value, tb) -> None:
        try:
            if kind is None:
                self.store.set_info("generation", self.store.generation + 1)
                self.store.db.execute("COMMIT")
            else:
                self.store.db.execute("ROLLBACK")
        finally:
            self.store._lock.release()


def _article(row: tuple) -> Article:
    id_, title, text, source, url, published, author, meta = row
    return Article(id_, title, text, source, url, published, author, json.loads(meta))


def _batches(items: list, size: int = 500) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
