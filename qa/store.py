"""SQLite store: articles, chunks (offsets, sentence spans) and chunk vectors.

It is the index's source of truth: every write is one transaction, and the FAISS and BM25
files are derived from it, so they can always be rebuilt without re-embedding.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from qa.dedupe import NEAR_DUPLICATE, band_keys, similarity
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
CREATE TABLE IF NOT EXISTS near_keys (band INTEGER NOT NULL, key INTEGER NOT NULL, article_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS near_keys_lookup ON near_keys (band, key);
CREATE INDEX IF NOT EXISTS near_keys_article ON near_keys (article_id);
"""
_ARTICLE_COLUMNS = "id, title, text, source, url, published, author, meta"


class StoreError(RuntimeError):
    """The database cannot be read or written; the message names the file, the cause and the fix."""


def rebuild_hint(directory: Path) -> str:
    return f"rebuild it with: python -m qa ingest --rebuild --index {directory} PATH..."


# SQLite primary result codes (the low byte of an extended code)
_CORRUPT, _NOTADB, _FULL, _IOERR, _CANTOPEN, _READONLY, _PERM, _BUSY, _LOCKED = 11, 26, 13, 10, 14, 8, 3, 5, 6


def store_error(path: Path, error: BaseException) -> StoreError:
    """A StoreError naming the file, what went wrong and what to do, for an sqlite3 or OS error."""
    if isinstance(error, StoreError):
        return error
    if isinstance(error, OSError):
        code = {28: _FULL, 122: _FULL}.get(error.errno, _IOERR)  # ENOSPC, EDQUOT
        reason = error.strerror or str(error)
    else:
        code = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF
        reason = str(error)
    if code in (_CORRUPT, _NOTADB):
        return StoreError(f"{path}: not a readable index database, it is damaged ({reason}); {rebuild_hint(path.parent)}")
    if code == _FULL:
        return StoreError(
            f"{path}: could not write, the disk is full ({reason}); the index keeps every article committed "
            "before this point — free some disk space and run the same ingest again to finish"
        )
    if code in (_IOERR, _CANTOPEN, _READONLY, _PERM):
        return StoreError(f"{path}: cannot read or write the index database ({reason}); check the disk and the folder's permissions")
    if code in (_BUSY, _LOCKED):
        return StoreError(f"{path}: the index database is busy ({reason}); another program holds it — try again")
    return StoreError(f"{path}: index database error ({reason})")


class Store:
    def __init__(self, path: Path, readonly: bool = False):
        self.path = Path(path)
        uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
        try:
            self.db = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL" if not readonly else "PRAGMA query_only=1")
            if not readonly:  # all tables or none: a crash here must not leave half a schema
                self.db.executescript(f"BEGIN IMMEDIATE;{SCHEMA}COMMIT;")
            self.db.execute("SELECT count(*) FROM articles").fetchone()
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{path}: not a readable index database ({error}); {rebuild_hint(self.path.parent)}") from None
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

    @contextlib.contextmanager
    def snapshot(self):
        """Several reads that must see one committed state (a writer in another process may commit
        between them): one read transaction. Inside a write transaction it adds nothing."""
        with self._lock:
            if self.db.in_transaction:
                yield self
                return
            self._guard(self.db.execute, "BEGIN")
            try:
                yield self
            finally:
                if self.db.in_transaction:
                    self._guard(self.db.execute, "COMMIT")

    def put_article(self, article: Article, duplicate_of: str | None = None) -> None:
        self._exec(
            "INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (article.id, article.title, article.text, article.source, article.url, article.published,
             article.author, json.dumps(article.meta, ensure_ascii=False), article.content_hash,
             article.text_hash, duplicate_of),
        )
        self._exec("DELETE FROM near_keys WHERE article_id = ?", (article.id,))
        if duplicate_of is None:  # only originals are candidates for near-duplicate matching
            self._put_near_keys(article.id, article.text)

    def _put_near_keys(self, article_id: str, text: str) -> None:
        for band, key in enumerate(band_keys(text)):
            self._exec("INSERT INTO near_keys VALUES (?, ?, ?)", (band, key, article_id))

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
        """Remove an article; a copy of it, if any, becomes the original. An identical copy (text
        and headline) takes over the chunks; any other (other offsets, or another headline, which
        its chunks are searched and embedded with) is left without chunks, for the ingest to
        index (unindexed_originals)."""
        heir = self._one("SELECT id, text, title FROM articles WHERE duplicate_of = ? ORDER BY id LIMIT 1", (article_id,))
        removed: list[int] = []
        if heir:  # chunks are searched with their headline: a copy under another one gets its own
            same = self._one("SELECT text = ? AND title = ? FROM articles WHERE id = ?", (heir[1], heir[2], article_id))[0]
            self._exec("UPDATE articles SET duplicate_of = NULL WHERE id = ?", (heir[0],))
            self._exec("UPDATE articles SET duplicate_of = ? WHERE duplicate_of = ?", (heir[0], article_id))
            self._put_near_keys(heir[0], heir[1])
            if same:
                self._exec("UPDATE chunks SET article_id = ? WHERE article_id = ?", (heir[0], article_id))
            else:
                removed = self.delete_chunks(article_id)
        else:
            removed = self.delete_chunks(article_id)
        self._exec("DELETE FROM near_keys WHERE article_id = ?", (article_id,))
        self._exec("DELETE FROM articles WHERE id = ?", (article_id,))
        return removed

    def demote(self, article_id: str, original: str) -> list[int]:
        """Make an original a copy of another article (an edited near copy of it, whose newer text
        is the one to cite): its chunks and near-duplicate keys go, its copies follow it."""
        self._exec("UPDATE articles SET duplicate_of = ? WHERE duplicate_of = ? OR id = ?", (original, article_id, article_id))
        self._exec("DELETE FROM near_keys WHERE article_id = ?", (article_id,))
        return self.delete_chunks(article_id)

    def find_near_copy(self, text: str, exclude: str) -> str | None:
        """Id of a stored original whose text is a near-duplicate of this one (shared LSH band,
        then exact shingle similarity)."""
        keys = band_keys(text)
        if not keys:
            return None
        where = " OR ".join("(band = ? AND key = ?)" for _ in keys)
        args = [v for band, key in enumerate(keys) for v in (band, key)]
        for (candidate,) in self._all(f"SELECT DISTINCT article_id FROM near_keys WHERE {where} LIMIT 50", args):
            if candidate == exclude:
                continue
            row = self._one("SELECT text FROM articles WHERE id = ? AND duplicate_of IS NULL", (candidate,))
            if row and similarity(text, row[0]) >= NEAR_DUPLICATE:
                return candidate
        return None

    def unindexed_originals(self) -> list[str]:
        """Originals without chunks: a near-duplicate promoted when its original went."""
        return [r[0] for r in self._all(
            "SELECT id FROM articles WHERE duplicate_of IS NULL AND id NOT IN (SELECT DISTINCT article_id FROM chunks) ORDER BY id"
        )]

    # --- reads -------------------------------------------------------------------------
    def text_hash(self, article_id: str) -> str | None:
        row = self._one("SELECT text_hash FROM articles WHERE id = ?", (article_id,))
        return row[0] if row else None

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
        with self.snapshot():  # a chunk's offsets and its article's text from the same commit
            return self._chunks_by_id(chunk_ids)

    def _chunks_by_id(self, chunk_ids: list[int]) -> dict[int, tuple[Chunk, Article]]:
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

    def chunks_of(self, article_id: str) -> list[tuple[Chunk, Article]]:
        """Every chunk of one article, in text order."""
        with self.snapshot():
            ids = [r[0] for r in self._all('SELECT id FROM chunks WHERE article_id = ? ORDER BY start', (article_id,))]
            found = self._chunks_by_id(ids)
        return [found[i] for i in ids if i in found]

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
        with self.snapshot():
            articles, copies = self._one("SELECT count(*), count(duplicate_of) FROM articles")
            chunks = self._one("SELECT count(*) FROM chunks")[0]
        return {"articles": articles - copies, "duplicates": copies, "chunks": chunks}

    def chunk_ids(self) -> np.ndarray:
        return np.array([r[0] for r in self._all("SELECT id FROM chunks ORDER BY id")], dtype=np.int64)

    def orphans(self) -> tuple[int, int, int]:
        """(chunks whose article is gone, originals whose chunks are gone, copies that hold chunks)."""
        lost = self._one("SELECT count(*) FROM chunks WHERE article_id NOT IN (SELECT id FROM articles)")[0]
        empty = self._one(
            "SELECT count(*) FROM articles WHERE duplicate_of IS NULL AND id NOT IN (SELECT article_id FROM chunks)"
        )[0]
        copies = self._one("SELECT count(DISTINCT c.article_id) FROM chunks c JOIN articles a ON a.id = c.article_id WHERE a.duplicate_of IS NOT NULL")[0]
        return lost, empty, copies

    def quick_check(self) -> list[str]:
        """SQLite's own consistency check of the file (empty when sound)."""
        rows = [r[0] for r in self._all("PRAGMA quick_check(20)")]
        return [] if rows == ["ok"] else rows

    # --- plumbing ----------------------------------------------------------------------
    def _guard(self, call, *args):
        """Run an sqlite3 call; its errors become a StoreError that names this file and the fix."""
        try:
            return call(*args)
        except sqlite3.DatabaseError as error:
            if _is_bug(error):
                raise
            raise store_error(self.path, error) from None

    def _exec(self, sql: str, args: tuple = ()):
        with self._lock:
            return self._guard(self.db.execute, sql, args)

    def _one(self, sql: str, args: tuple | list = ()):
        with self._lock:
            return self._guard(lambda: self.db.execute(sql, args).fetchone())

    def _all(self, sql: str, args: tuple | list = ()):
        with self._lock:
            return self._guard(lambda: self.db.execute(sql, args).fetchall())


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, bumping the store's generation; ROLLBACK on any error.

    A database or disk error (disk full, I/O error, damaged file) inside the transaction or at
    COMMIT rolls it back and is raised as a StoreError naming the database file."""

    def __init__(self, store: Store):
        self.store = store

    def __enter__(self) -> Store:
        self.store._lock.acquire()
        try:
            self.store._guard(self.store.db.execute, "BEGIN IMMEDIATE")
        except BaseException:
            self.store._lock.release()
            raise
        return self.store

    def __exit__(self, kind, value, tb) -> None:
        store = self.store
        try:
            if kind is None:
                try:
                    store.set_info("generation", store.generation + 1)
                    store._guard(store.db.execute, "COMMIT")
                    return
                except BaseException as error:
                    value = error
            _rollback(store.db)
            if (isinstance(value, sqlite3.DatabaseError) and not _is_bug(value)) or (isinstance(value, OSError) and value.filename is None):
                raise store_error(store.path, value) from value
            if kind is None:
                raise value
        finally:
            store._lock.release()


def _is_bug(error: sqlite3.Error) -> bool:
    """Errors of the program's own making (bad SQL, constraints), not of the file or the disk."""
    return isinstance(error, (sqlite3.ProgrammingError, sqlite3.IntegrityError, sqlite3.NotSupportedError))


def _rollback(db: sqlite3.Connection) -> None:
    """Roll back what is left of a transaction (SQLite may have rolled it back already)."""
    if db.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")


def _article(row: tuple) -> Article:
    id_, title, text, source, url, published, author, meta = row
    return Article(id_, title, text, source, url, published, author, json.loads(meta))


def _batches(items: list, size: int = 500) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
