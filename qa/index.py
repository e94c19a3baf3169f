"""The index folder: SQLite store + FAISS vectors + BM25 + manifest, written atomically.

Write protocol: articles and vectors are committed to SQLite in transactions (each article
whole); then the FAISS and BM25 files for the new generation are written under new names,
and the manifest that points at them replaces the old one with one atomic rename. A crash
anywhere leaves either the old files in force or a store ahead of its files, which the next
open repairs from the store without re-embedding.
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

from qa.store import Store, StoreError

FORMAT_VERSION = 1
MANIFEST, DATABASE, LOCK = "manifest.json", "meta.sqlite", ".lock"


class IndexOpenError(RuntimeError):
    """The index cannot be used as it is; the message names the file and the fix."""


class IndexBusyError(RuntimeError):
    pass


def rebuild_hint(directory: Path) -> str:
    return f"rebuild it with: python -m qa ingest --rebuild --index {directory} PATH..."


@dataclass
class Derived:
    """The search structures built from the store for one generation."""

    generation: int
    faiss: object
    bm25: object | None
    bm25_ids: np.ndarray


class ArticleIndex:
    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.store: Store | None = None
        self.settings: dict = {}
        self.derived: Derived | None = None
        self._stemmer = None
        self._lock = threading.Lock()

    # --- opening ---------------------------------------------------------------------
    @property
    def exists(self) -> bool:
        return (self.directory / DATABASE).exists()

    def open(self, readonly: bool = True) -> "ArticleIndex":
        """Open an existing index for searching; repairs derived files a crash left behind."""
        if not self.exists:
            raise IndexOpenError(f"{self.directory}: no index here yet; build one with: python -m qa ingest --index {self.directory} PATH...")
        self._check_manifest_version()
        try:
            self.store = Store(self.directory / DATABASE, readonly=readonly)
            self.settings = self.store.get_info("settings") or {}
        except StoreError as error:
            raise IndexOpenError(f"{error}; {rebuild_hint(self.directory)}") from None
        if self.store.get_info("format_version", FORMAT_VERSION) > FORMAT_VERSION or not self.settings:
            raise IndexOpenError(f"{self.directory / DATABASE}: written by another version of this program; {rebuild_hint(self.directory)}")
        self.derived = self._load_derived()
        return self

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
                pass  # damaged derived file: rebuild below
        derived = self._build_derived()
        with contextlib.suppress(IndexBusyError, OSError):
            with self.lock(timeout=0):
                self._write_derived(derived)
        return derived

    def _read_derived(self, manifest: dict) -> Derived:
        import bm25s
        import faiss

        path = self.directory / manifest["faiss"]
        faiss_index = faiss.read_index(str(path))
        if faiss_index.ntotal != manifest["counts"]["chunks"]:
            raise IndexOpenError(f"{path}: holds {faiss_index.ntotal} vectors, manifest says {manifest['counts']['chunks']}")
        bm25, ids = None, np.zeros(0, dtype=np.int64)
        if manifest.get("bm25"):
            folder = self.directory / manifest["bm25"]
            bm25 = bm25s.BM25.load(str(folder), mmap=False, show_progress=False, verbosity=0)
            ids = np.load(folder / "chunk_ids.npy")
        return Derived(manifest["generation"], faiss_index, bm25, ids)

    # --- writing -----------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, timeout: float = 30.0):
        """Exclusive writer lock; waits up to `timeout` seconds, then fails naming the holder."""
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
                        raise IndexBusyError(
                            f"{self.directory}: another ingest is writing to this index (pid {holder}); "
                            "wait for it to finish and try again"
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
            self.check_settings(settings["model"])
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
        if added_ids:
            faiss_index.add_with_ids(added_vectors, np.asarray(added_ids, dtype=np.int64))
        self.derived.generation = self.store.generation

    def publish(self) -> None:
        """Write this generation's FAISS and BM25 files, then point the manifest at them."""
        self.derived.bm25, self.derived.bm25_ids = self._build_bm25()
        self.derived.generation = self.store.generation
        self._write_derived(self.derived)

    def _build_derived(self) -> Derived:
        import faiss

        faiss_index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.settings["dim"]))
        for ids, vectors in self.store.iter_vectors():
            faiss_index.add_with_ids(vectors, ids)
        bm25, bm25_ids = self._build_bm25()
        return Derived(self.store.generation, faiss_index, bm25, bm25_ids)

    def _build_bm25(self):
        import bm25s

        ids, texts = [], []
        for batch_ids, batch_texts in self.store.iter_chunk_texts():
            ids.extend(batch_ids)
            texts.extend(batch_texts)
        if not texts:
            return None, np.zeros(0, dtype=np.int64)
        bm25 = bm25s.BM25()
        bm25.index(self.tokenize(texts), show_progress=False)
        return bm25, np.asarray(ids, dtype=np.int64)

    def _write_derived(self, derived: Derived) -> None:
        import faiss

        gen = derived.generation
        faiss_name, bm25_name = f"vectors-{gen:06d}.faiss", f"bm25-{gen:06d}" if derived.bm25 else None
        _atomic(self.directory / faiss_name, lambda tmp: faiss.write_index(derived.faiss, str(tmp)))
        if derived.bm25 is not None:
            def save_bm25(tmp: Path) -> None:
                derived.bm25.save(str(tmp), show_progress=False)
                np.save(tmp / "chunk_ids.npy", derived.bm25_ids)
            _atomic(self.directory / bm25_name, save_bm25, folder=True)
        counts = self.store.counts()
        manifest = {
            "format_version": FORMAT_VERSION,
            "generation": gen,
            **self.settings,
            "faiss": faiss_name,
            "faiss_type": "flat",
            "bm25": bm25_name,
            "counts": counts,
            "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        _atomic(self.directory / MANIFEST, lambda tmp: tmp.write_text(json.dumps(manifest, indent=2)))
        self._remove_stale(keep={faiss_name, bm25_name})

    def _remove_stale(self, keep: set) -> None:
        for path in self.directory.iterdir():
            stale = path.name.startswith(("vectors-", "bm25-", ".tmp-")) and path.name not in keep
            if stale:
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)

    # --- searching ---------------------------------------------------------------------
    @property
    def stemmer(self):
        if self._stemmer is None:
            import Stemmer

            self._stemmer = Stemmer.Stemmer("english")
        return self._stemmer

    def tokenize(self, texts: list[str]) -> list[list[str]]:
        """BM25's own tokens: lower case, English stopwords dropped, Snowball stems."""
        import bm25s

        return bm25s.tokenize(texts, stopwords="en", stemmer=self.stemmer, return_ids=False, show_progress=False)

    def stem(self, words: list[str]) -> list[str]:
        return self.stemmer.stemWords(words)

    def dense_search(self, vectors: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        derived = self.derived
        if derived is None or derived.faiss.ntotal == 0:
            return [[] for _ in range(len(vectors))]
        scores, ids = derived.faiss.search(np.ascontiguousarray(vectors, dtype=np.float32), min(k, derived.faiss.ntotal))
        return [[(int(i), float(s)) for i, s in zip(row_ids, row_scores) if i >= 0] for row_ids, row_scores in zip(ids, scores)]

    def bm25_search(self, queries: list[str], k: int) -> list[list[tuple[int, float]]]:
        derived = self.derived
        if derived is None or derived.bm25 is None:
            return [[] for _ in queries]
        tokens = self.tokenize(queries)
        k = min(k, len(derived.bm25_ids))
        out = []
        for query_tokens in tokens:
            if not query_tokens:
                out.append([])
                continue
            docs, scores = derived.bm25.retrieve([query_tokens], k=k, show_progress=False, n_threads=1)
            out.append([(int(derived.bm25_ids[d]), float(s)) for d, s in zip(docs[0], scores[0]) if s > 0])
        return out

    def idf(self, tokens: list[str]) -> dict[str, float]:
        """Inverse document frequency (over chunks) of stemmed tokens; unseen tokens get the maximum."""
        bm25 = self.derived.bm25 if self.derived else None
        if bm25 is None:
            return {t: 1.0 for t in tokens}
        n = len(self.derived.bm25_ids)
        indptr = bm25.scores["indptr"]
        out = {}
        for token in tokens:
            i = bm25.vocab_dict.get(token)
            df = int(indptr[i + 1] - indptr[i]) if i is not None else 0
            out[token] = float(np.log(1 + (n - df + 0.5) / (df + 0.5)))
        return out


def _atomic(target: Path, write, folder: bool = False) -> None:
    """Write to a temporary name in the same folder, fsync, then rename over the target."""
    tmp = target.with_name(f".tmp-{target.name}-{os.getpid()}")
    if folder:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
    write(tmp)
    for path in (tmp.iterdir() if folder else [tmp]):
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
    if folder and target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def verify(index: ArticleIndex) -> list[str]:
    """Integrity problems of an opened index (empty when sound): FAISS ids ↔ chunk rows,
    BM25 and manifest counts, orphans, chunk offsets."""
    import faiss

    problems = []
    manifest = index._read_manifest()
    store, derived = index.store, index.derived
    if not manifest:
        problems.append(f"{index.directory / MANIFEST}: missing or unreadable")
    elif manifest.get("generation") != store.generation:
        problems.append(f"{index.directory / MANIFEST}: generation {manifest.get('generation')} but the store is at {store.generation}")
    elif manifest.get("counts") != store.counts():
        problems.append(f"{index.directory / MANIFEST}: counts {manifest.get('counts')} but the store holds {store.counts()}")
    chunk_ids = store.chunk_ids()
    faiss_ids = np.sort(faiss.vector_to_array(derived.faiss.id_map)) if derived.faiss.ntotal else np.zeros(0, np.int64)
    if not np.array_equal(faiss_ids, chunk_ids):
        problems.append(f"FAISS holds {len(faiss_ids)} vectors, the store {len(chunk_ids)} chunks, and their ids differ")
    if not np.array_equal(np.sort(derived.bm25_ids), chunk_ids):
        problems.append(f"BM25 holds {len(derived.bm25_ids)} passages, the store {len(chunk_ids)} chunks")
    lost, empty = store.orphans()
    if lost or empty:
        problems.append(f"{lost} chunks without their article, {empty} articles without chunks")
    bad = store._one(
        'SELECT count(*) FROM chunks c JOIN articles a ON a.id = c.article_id '
        'WHERE c.start < 0 OR c."end" > length(a.text) OR c.start >= c."end"'
    )[0]
    if bad:
        problems.append(f"{bad} chunks with offsets outside their article")
    return problems
