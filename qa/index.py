"""The index folder: SQLite store + FAISS vectors + BM25 + manifest, written atomically.

Write protocol: articles and vectors are committed to SQLite in transactions (each article
whole); then the FAISS and BM25 files for the new generation are written under new names,
and the manifest that points at them replaces the old one with one atomic rename. A crash
anywhere leaves either the old files in force or a store ahead of its files, which the next
open repairs from the store without re-embedding.

Readers (any number of processes and threads) never block on a writer: each open sees one
committed generation of the store, and a failed write (disk full, I/O error) names the file
and leaves what was committed before it. docs/reliability.md lists the faults tested.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.store import Store, StoreError, rebuild_hint

FORMAT_VERSION = 1
MANIFEST, DATABASE, LOCK = "manifest.json", "meta.sqlite", ".lock"
LOCK_TIMEOUT_ENV = "QA_LOCK_TIMEOUT"  # seconds a writer waits for another one (default 30)
DEFAULT_LOCK_TIMEOUT = 30.0


class IndexOpenError(RuntimeError):
    """The index cannot be used as it is; the message names the file and the fix."""


class IndexBusyError(RuntimeError):
    pass


class IndexWriteError(OSError):
    """A file of the index could not be written (disk full, I/O error); names the file."""

    def __init__(self, path: Path, cause: BaseException):
        reason = getattr(cause, "strerror", None) or str(cause) or type(cause).__name__
        super().__init__(getattr(cause, "errno", None), reason, str(path))
        self.message = (
            f"{path}: could not be written ({reason}); the index keeps its previous search files and "
            "every article committed so far — free some disk space and run the same ingest again to finish"
        )

    def __str__(self) -> str:
        return self.message


def lock_timeout() -> float:
    value = os.environ.get(LOCK_TIMEOUT_ENV, "")
    try:
        return max(0.0, float(value)) if value.strip() else DEFAULT_LOCK_TIMEOUT
    except ValueError:
        raise ValueError(f"{LOCK_TIMEOUT_ENV}={value!r} is not a number of seconds; unset it or give e.g. 30") from None


@dataclass
class Derived:
    """The search structures built from the store for one generation."""

    generation: int
    faiss: object
    bm25: object | None
    bm25_ids: np.ndarray
    counts: dict | None = None  # the store's counts at this generation (for the manifest)


class ArticleIndex:
    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.store: Store | None = None
        self.settings: dict = {}
        self.derived: Derived | None = None
        self._stemmers = threading.local()  # Snowball stemmers keep state: one per thread
        self._lock = threading.Lock()

    # --- opening ---------------------------------------------------------------------
    @property
    def exists(self) -> bool:
        """An index was created here (one whose creation was cut off before its settings were
        committed does not count: the next ingest starts it afresh)."""
        path = self.directory / DATABASE
        return path.exists() and not _unfinished(path)

    @property
    def holds_articles(self) -> bool:
        """The published index has an article, by its manifest (no database opened); one that
        cannot tell (unreadable, to be repaired when opened) is taken to have."""
        manifest = self._read_manifest() if self.exists else None
        if manifest is None:
            return False
        counts = manifest.get("counts")
        return counts is None or bool(counts.get("articles"))

    def open(self, readonly: bool = True) -> "ArticleIndex":
        """Open an existing index for searching; repairs derived files a crash left behind."""
        if not self.exists:
            raise IndexOpenError(f"{self.directory}: no index here yet; build one with: python -m qa ingest --index {self.directory} PATH...")
        self._check_manifest_version()
        database = self.directory / DATABASE
        try:
            self.store = Store(database, readonly=readonly)
            self.settings = self.store.get_info("settings") or {}
            version = self.store.get_info("format_version", FORMAT_VERSION)
            if not isinstance(version, int) or version > FORMAT_VERSION:
                raise IndexOpenError(
                    f"{database}: index format {version} is newer than this program's ({FORMAT_VERSION}); "
                    f"upgrade the program or {rebuild_hint(self.directory)}"
                )
            if not isinstance(self.settings, dict) or not self.settings.get("dim"):
                raise IndexOpenError(f"{database}: the index settings (model, dimension) are missing; {rebuild_hint(self.directory)}")
            self.derived = self._load_derived()
        except StoreError as error:
            raise IndexOpenError(str(error)) from None
        return self

    def check_dimension(self, dim: int, model: str | None = None) -> None:
        """Fail when the model now gives vectors of another size than the index holds (its files changed)."""
        built = self.settings.get("dim")
        if built and dim != built:
            raise IndexOpenError(
                f"{self.directory}: holds {built}-dimensional vectors, but the model {model or self.settings.get('model')!r} "
                f"now gives {dim}-dimensional ones (the model is not the one the index was built with); "
                f"use that model, or {rebuild_hint(self.directory)}"
            )

    def check_settings(self, model: str | None = None, dim: int | None = None) -> None:
        """Fail when an index is used with another model or dimension than it was built with."""
        built_model, built_dim = self.settings.get("model"), self.settings.get("dim")
        if (model and model != built_model) or (dim and dim != built_dim):
            raise IndexOpenError(
                f"{self.directory}: built with model {built_model!r} (dimension {built_dim}), "
                f"asked to use {model or built_model!r} (dimension {dim or built_dim}); "
                f"query it with its own model, or {rebuild_hint(self.directory)}"
            )

    def _check_manifest_version(self) -> None:
        manifest = self._read_manifest()
        if manifest and manifest.get("format_version", 0) > FORMAT_VERSION:
            raise IndexOpenError(
                f"{self.directory / MANIFEST}: index format {manifest['format_version']} is newer than this program's "
                f"({FORMAT_VERSION}); upgrade the program or {rebuild_hint(self.directory)}"
            )

    def _read_manifest(self) -> dict | None:
        try:
            return json.loads((self.directory / MANIFEST).read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}  # unreadable: treated as stale, rebuilt from the store

    def _load_derived(self) -> Derived:
        manifest = self._read_manifest() or {}
        if manifest.get("generation") == self.store.generation:
            try:
                return self._read_derived(manifest)
            except Exception:
                pass  # damaged or missing derived file: rebuilt below
        derived = self._build_derived()
        with contextlib.suppress(IndexBusyError, OSError):
            with self.lock(timeout=0):
                if self.store.generation == derived.generation:  # no writer committed meanwhile
                    self._write_derived(derived)
        return derived

    def _read_derived(self, manifest: dict) -> Derived:
        import faiss

        from qa.bm25 import IncrementalBM25

        path = self.directory / manifest["faiss"]
        faiss_index = faiss.read_index(str(path))
        if faiss_index.ntotal != manifest["counts"]["chunks"] or faiss_index.d != self.settings["dim"]:
            raise IndexOpenError(f"{path}: holds {faiss_index.ntotal} vectors, manifest says {manifest['counts']['chunks']}")
        bm25 = IncrementalBM25(self.tokenize)
        if manifest.get("bm25"):  # an older program's BM25 folder fails to load: rebuilt from the store
            bm25 = IncrementalBM25.load(self.directory / manifest["bm25"], self.tokenize)
        ids = bm25.ids()
        if len(ids) != manifest["counts"]["chunks"]:
            raise IndexOpenError(f"{self.directory / str(manifest.get('bm25'))}: holds {len(ids)} passages, manifest says {manifest['counts']['chunks']}")
        return Derived(manifest["generation"], faiss_index, bm25, ids, manifest["counts"])

    # --- writing -----------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, timeout: float | None = None):
        """Exclusive writer lock; waits up to `timeout` seconds (default: $QA_LOCK_TIMEOUT or 30),
        then fails naming the index and the holder's pid."""
        timeout = lock_timeout() if timeout is None else timeout
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / LOCK, "a+") as handle:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        handle.seek(0)
                        holder = handle.read().strip() or "unknown"
                        waited = f" (waited {timeout:g}s)" if timeout else ""
                        raise IndexBusyError(
                            f"{self.directory}: another ingest is writing to this index (pid {holder}){waited}; "
                            f"wait for it to finish and try again (${LOCK_TIMEOUT_ENV} sets how long to wait)"
                        ) from None
                    time.sleep(0.2)
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def open_for_writing(self, settings: dict, dim) -> None:
        """Open (or create) the store for an ingest; the caller holds lock().
        `dim` is called only when a new index needs the model's dimension."""
        if self.exists:
            self.open(readonly=False)
            self.check_settings(settings["model"], settings.get("dim"))
            if any(self.settings.get(k) != v for k, v in settings.items()):
                raise IndexOpenError(
                    f"{self.directory}: built with {self.settings}, asked for {settings}; {rebuild_hint(self.directory)}"
                )
            return
        settings = {**settings, "dim": int(dim())}
        self.store = Store(self.directory / DATABASE)
        with self.store.transaction():
            self.store.set_info("format_version", FORMAT_VERSION)
            self.store.set_info("settings", settings)
        self.settings = settings
        self.derived = self._build_derived()

    def apply(self, removed: list[int], added_ids: list[int], added_vectors: np.ndarray) -> None:
        """Bring the in-memory FAISS index in line with what was just committed."""
        faiss_index = self.derived.faiss
        if removed:
            faiss_index.remove_ids(np.asarray(removed, dtype=np.int64))
            self.derived.bm25.remove(removed)
        if added_ids:
            faiss_index.add_with_ids(added_vectors, np.asarray(added_ids, dtype=np.int64))
            self.derived.bm25.stage(added_ids)  # tokenized at publish()
        self.derived.generation = self.store.generation

    def publish(self) -> None:
        """Write this generation's FAISS and BM25 files, then point the manifest at them.
        Both were updated in place (qa/bm25.py, qa/ann.py); FAISS is rebuilt from the stored
        vectors only when the passage count calls for another index type or size."""
        from qa import ann

        derived = self.derived
        derived.bm25.sync(self._chunk_texts, self.store.iter_chunk_texts)
        derived.bm25_ids = derived.bm25.ids()
        if ann.needs_rebuild(derived.faiss, derived.faiss.ntotal):
            derived.faiss = ann.build(self.store.iter_vectors, derived.faiss.ntotal, self.settings["dim"])
        self.derived.generation = self.store.generation
        self.derived.counts = self.store.counts()
        self._write_derived(self.derived)

    def _build_derived(self) -> Derived:
        """Search structures from one committed state of the store (a writer may be committing)."""
        with self.store.snapshot():
            derived = self._build_derived_from_store()
            derived.counts = self.store.counts()
        return derived

    def _build_derived_from_store(self) -> Derived:
        from qa import ann

        faiss_index = ann.build(self.store.iter_vectors, self.store.counts()["chunks"], self.settings["dim"])
        bm25, bm25_ids = self._build_bm25()
        return Derived(self.store.generation, faiss_index, bm25, bm25_ids)

    def _build_bm25(self):
        from qa.bm25 import IncrementalBM25

        bm25 = IncrementalBM25.build(self.tokenize, self.store.iter_chunk_texts())
        return bm25, bm25.ids()

    def _chunk_texts(self, chunk_ids: list[int]) -> list[str]:
        """Title + chunk text of each id, in order: what BM25 indexes (as iter_chunk_texts)."""
        rows = self.store.chunks_by_id(chunk_ids)
        return [f"{rows[i][1].title}\n{rows[i][0].text}" for i in chunk_ids]

    def _write_derived(self, derived: Derived) -> None:
        import faiss

        from qa import ann

        gen = derived.generation
        faiss_name, bm25_name = f"vectors-{gen:06d}.faiss", f"bm25-{gen:06d}" if derived.bm25 is not None else None
        _atomic(self.directory / faiss_name, lambda tmp: faiss.write_index(derived.faiss, str(tmp)))
        if derived.bm25 is not None:
            _atomic(self.directory / bm25_name, derived.bm25.save, folder=True)
            derived.bm25.saved_to(self.directory / bm25_name)  # the next save hard-links its main part
        counts = derived.counts or self.store.counts()
        manifest = {
            "format_version": FORMAT_VERSION,
            "generation": gen,
            **self.settings,
            "faiss": faiss_name,
            "faiss_type": ann.kind(derived.faiss),
            "bm25": bm25_name,
            "counts": counts,
            "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        _atomic(self.directory / MANIFEST, lambda tmp: tmp.write_text(json.dumps(manifest, indent=2)))
        self._remove_stale(keep={faiss_name, bm25_name})

    def _remove_stale(self, keep: set) -> None:
        """Delete older generations' files (the manifest no longer names them); best effort."""
        with contextlib.suppress(OSError):
            for path in self.directory.iterdir():
                stale = path.name.startswith(("vectors-", "bm25-", ".tmp-")) and path.name not in keep
                if stale:
                    shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)

    # --- searching ---------------------------------------------------------------------
    @property
    def stemmer(self):
        stemmer = getattr(self._stemmers, "stemmer", None)
        if stemmer is None:
            import Stemmer

            stemmer = self._stemmers.stemmer = Stemmer.Stemmer("english")
        return stemmer

    def tokenize(self, texts: list[str]) -> list[list[str]]:
        """BM25's own tokens: lower case, English stopwords dropped, Snowball stems."""
        import bm25s

        return bm25s.tokenize(texts, stopwords="en", stemmer=self.stemmer, return_ids=False, show_progress=False)

    def stem(self, words: list[str]) -> list[str]:
        return self.stemmer.stemWords(words)

    def article_chunks(self, article_id: str) -> list:
        """(chunk, article) pairs of one article, in text order."""
        return self.store.chunks_of(article_id)

    def dense_search(self, vectors: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        derived = self.derived
        if derived is None or derived.faiss.ntotal == 0:
            return [[] for _ in range(len(vectors))]
        if np.ndim(vectors) != 2 or np.shape(vectors)[1] != derived.faiss.d:
            self.check_dimension(int(np.shape(vectors)[-1]))
        from qa import ann

        scores, ids = ann.search(derived.faiss, vectors, k)
        return [[(int(i), float(s)) for i, s in zip(row_ids, row_scores) if i >= 0] for row_ids, row_scores in zip(ids, scores)]

    def bm25_search(self, queries: list[str], k: int) -> list[list[tuple[int, float]]]:
        derived = self.derived
        if derived is None or derived.bm25 is None:
            return [[] for _ in queries]
        return derived.bm25.search(self.tokenize(queries), k)

    def idf(self, tokens: list[str]) -> dict[str, float]:
        """Inverse document frequency (over chunks) of stemmed tokens; unseen tokens get the maximum."""
        bm25 = self.derived.bm25 if self.derived else None
        if bm25 is None:
            return {t: 1.0 for t in tokens}
        return bm25.idf(tokens)


def _atomic(target: Path, write, folder: bool = False) -> None:
    """Write to a temporary name in the same folder, fsync, then rename over the target.
    On failure the temporary is removed (a full disk gets its space back) and an
    IndexWriteError names the target; the target itself is untouched."""
    tmp = target.with_name(f".tmp-{target.name}-{os.getpid()}")
    try:
        if folder:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
        write(tmp)
        for path in (sorted(p for p in tmp.rglob("*") if p.is_file()) if folder else [tmp]):
            with open(path, "rb") as handle:  # every file of a folder, subfolders too
                os.fsync(handle.fileno())
        if folder and target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except (OSError, RuntimeError) as error:  # faiss reports a failed fwrite as RuntimeError
        shutil.rmtree(tmp, ignore_errors=True) if tmp.is_dir() else tmp.unlink(missing_ok=True)
        raise IndexWriteError(target, error) from error
    with contextlib.suppress(OSError):  # the rename is done; a folder fsync is best effort
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _unfinished(database: Path) -> bool:
    """A database file left by an index creation that was cut off: no tables yet, or tables
    but neither settings nor any article. False for a damaged file (open reports that)."""
    import sqlite3

    try:
        if database.stat().st_size == 0:
            return True
        db = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
        try:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:
                return True
            if not {"info", "articles", "chunks"} <= tables:
                return False
            settings = db.execute("SELECT 1 FROM info WHERE key = 'settings'").fetchone()
            content = db.execute("SELECT 1 FROM articles LIMIT 1").fetchone() or db.execute("SELECT 1 FROM chunks LIMIT 1").fetchone()
            return not settings and not content
        finally:
            db.close()
    except (OSError, sqlite3.Error):
        return False


def verify(index: ArticleIndex) -> list[str]:
    """Integrity problems of an opened index (empty when sound): FAISS ids ↔ chunk rows,
    BM25 and manifest counts, orphans, chunk offsets, and SQLite's own check of the file."""
    with index.store.snapshot():  # one committed state, even while a writer commits
        return _verify(index)


def _verify(index: ArticleIndex) -> list[str]:
    from qa import ann

    problems = [f"{index.store.path}: SQLite integrity check: {row}" for row in index.store.quick_check()]
    manifest = index._read_manifest()
    store, derived = index.store, index.derived
    if not manifest:
        problems.append(f"{index.directory / MANIFEST}: missing or unreadable")
    elif manifest.get("generation") != store.generation:
        problems.append(f"{index.directory / MANIFEST}: generation {manifest.get('generation')} but the store is at {store.generation}")
    elif manifest.get("counts") != store.counts():
        problems.append(f"{index.directory / MANIFEST}: counts {manifest.get('counts')} but the store holds {store.counts()}")
    chunk_ids = store.chunk_ids()
    faiss_ids = ann.ids(derived.faiss)
    if not np.array_equal(faiss_ids, chunk_ids):
        problems.append(f"FAISS holds {len(faiss_ids)} vectors, the store {len(chunk_ids)} chunks, and their ids differ")
    if not np.array_equal(np.sort(derived.bm25_ids), chunk_ids):
        problems.append(f"BM25 holds {len(derived.bm25_ids)} passages, the store {len(chunk_ids)} chunks")
    lost, empty, copies = store.orphans()
    if lost or empty or copies:
        problems.append(f"{lost} chunks without their article, {empty} articles without chunks, {copies} copies with chunks")
    bad = store._one(
        'SELECT count(*) FROM chunks c JOIN articles a ON a.id = c.article_id '
        'WHERE c.start < 0 OR c."end" > length(a.text) OR c.start >= c."end"'
    )[0]
    if bad:
        problems.append(f"{bad} chunks with offsets outside their article")
    return problems
