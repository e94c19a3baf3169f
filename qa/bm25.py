"""BM25 that grows by small steps: a main bm25s index, a delta of recent additions, tombstones.

Adding an article no longer rebuilds BM25 over every chunk. New chunks go to a small delta
segment, scored here with the statistics of main and delta together; removed chunks that live in
main are tombstoned (skipped when searching). When delta and tombstones outgrow a fraction of
main, everything is compacted into a new main index (one rebuild from the store's texts), so the
cost of growth stays proportional to what was added, amortised.

On disk, one folder per index generation (named in the manifest):
    main.*            the bm25s files of the main segment; hard-linked from the previous generation
                      while main is unchanged, so a publish writes only the small files below
    chunk_ids.npy     chunk id of each main document, in main's order (ascending)
    delta.json        {"ids": [...], "tokens": [[...], ...]}: the delta segment
    tombstones.npy    main chunk ids removed since main was built
    meta.json         {"format": 1, "main_tokens": total token count of main (for avgdl)}
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

FORMAT = 1
K1, B = 1.5, 0.75  # bm25s defaults ("lucene" method); the delta is scored with the same formula
COMPACT_FRACTION = 0.1  # compact when delta + tombstones exceed this share of main…
COMPACT_MIN = 2_000  # …and at least this many documents (small indexes just keep a delta)
MAIN_PREFIX = "main."
_MAIN_NAMES = {
    "data_name": "main.data.csc.npy", "indices_name": "main.indices.csc.npy", "indptr_name": "main.indptr.csc.npy",
    "vocab_name": "main.vocab.json", "params_name": "main.params.json", "nnoc_name": "main.nonoccurrence.npy",
}

Tokenize = Callable[[list[str]], list[list[str]]]
TextSource = Callable[[], Iterable[tuple[list[int], list[str]]]]  # batches of (chunk ids, texts)


class BM25Error(RuntimeError):
    pass


class IncrementalBM25:
    def __init__(self, tokenize: Tokenize):
        self.tokenize = tokenize
        self.main = None  # bm25s.BM25 over main; None when main is empty or has no tokens
        self.main_ids = np.zeros(0, dtype=np.int64)
        self.main_tokens = 0
        self.delta_ids: list[int] = []
        self.delta_tokens: list[list[str]] = []
        self.tombstones: set[int] = set()
        self._pending: list[int] = []  # added ids whose texts are fetched at sync()
        self._postings: dict[str, list[tuple[int, int]]] | None = None  # delta: token → [(row, tf)]
        self._delta_lengths = np.zeros(0)
        self._dead_rows: np.ndarray | None = None  # main rows of the tombstones
        self._main_dir: Path | None = None  # where main's files are, while main is unchanged

    # --- building ----------------------------------------------------------------------------
    @classmethod
    def build(cls, tokenize: Tokenize, source: Iterable[tuple[list[int], list[str]]]) -> "IncrementalBM25":
        bm25 = cls(tokenize)
        bm25._build_main(source)
        return bm25

    def _build_main(self, source: Iterable[tuple[list[int], list[str]]]) -> None:
        ids, tokens = [], []
        for batch_ids, texts in source:
            ids.extend(batch_ids)
            tokens.extend(self.tokenize(texts))
        self._set_main(np.asarray(ids, dtype=np.int64), tokens)

    def _set_main(self, ids: np.ndarray, tokens: list[list[str]]) -> None:
        order = np.argsort(ids, kind="stable")
        if len(ids) and np.any(order != np.arange(len(ids))):
            ids, tokens = ids[order], [tokens[i] for i in order]
        self.main_ids, self.main_tokens = ids, sum(len(t) for t in tokens)
        self.main = None
        if self.main_tokens:
            import bm25s

            self.main = bm25s.BM25(k1=K1, b=B)
            self.main.index(tokens, show_progress=False)
        self.delta_ids, self.delta_tokens, self.tombstones, self._postings = [], [], set(), None
        self._main_dir, self._dead_rows = None, None

    def compact(self, source: TextSource) -> None:
        """Rebuild main from every live text (the store is the source of truth)."""
        self._pending = []
        self._build_main(source())

    # --- changes -----------------------------------------------------------------------------
    def remove(self, ids: Iterable[int]) -> None:
        gone = {int(i) for i in ids}
        if not gone:
            return
        self._pending = [i for i in self._pending if i not in gone]
        if any(i in gone for i in self.delta_ids):
            kept = [(i, t) for i, t in zip(self.delta_ids, self.delta_tokens) if i not in gone]
            self.delta_ids, self.delta_tokens = [i for i, _ in kept], [t for _, t in kept]
            self._postings = None
        in_main = [i for i in gone if self._in_main(i)]
        self.tombstones.update(in_main)
        self._dead_rows = None

    def stage(self, ids: Iterable[int]) -> None:
        """Note added chunk ids; their texts are read and tokenized at sync()."""
        self._pending.extend(int(i) for i in ids)

    def add(self, ids: list[int], texts: list[str]) -> None:
        self.delta_ids.extend(int(i) for i in ids)
        self.delta_tokens.extend(self.tokenize(texts) if texts else [])
        self._postings = None

    def sync(self, texts_of: Callable[[list[int]], list[str]], source: TextSource) -> str:
        """Apply staged additions: into the delta, or by compacting when the delta grows too big.
        Returns what was done: "none", "delta" or "compact"."""
        pending, self._pending = self._pending, []
        churn = len(self.delta_ids) + len(pending) + len(self.tombstones)
        if churn > max(COMPACT_MIN, COMPACT_FRACTION * len(self.main_ids)):
            self.compact(source)
            return "compact"
        if pending:
            self.add(pending, texts_of(pending))
            return "delta"
        return "none"

    def _in_main(self, chunk_id: int) -> bool:
        i = int(np.searchsorted(self.main_ids, chunk_id))
        return i < len(self.main_ids) and int(self.main_ids[i]) == chunk_id

    # --- reading -----------------------------------------------------------------------------
    def ids(self) -> np.ndarray:
        """Every live chunk id (main less tombstones, plus delta and staged), ascending."""
        main = self.main_ids
        if self.tombstones:
            main = main[~np.isin(main, np.fromiter(self.tombstones, dtype=np.int64))]
        return np.sort(np.concatenate([main, np.asarray(self.delta_ids + self._pending, dtype=np.int64)]))

    def __len__(self) -> int:
        return len(self.main_ids) - len(self.tombstones) + len(self.delta_ids)

    def search(self, queries: list[list[str]], k: int) -> list[list[tuple[int, float]]]:
        """Top-k (chunk id, score) per tokenized query, best first; only positive scores."""
        return [self._search_one(tokens, k) if tokens else [] for tokens in queries]

    def _search_one(self, tokens: list[str], k: int) -> list[tuple[int, float]]:
        hits: list[tuple[int, float]] = []
        scores = self._main_scores(tokens)
        if scores is not None:
            if self.tombstones:
                if self._dead_rows is None:
                    self._dead_rows = np.searchsorted(self.main_ids, np.fromiter(self.tombstones, dtype=np.int64))
                scores[self._dead_rows] = 0.0
            top = _top(scores, k)
            hits.extend((int(self.main_ids[i]), float(scores[i])) for i in top if scores[i] > 0)
        if self.delta_ids:
            scores = self._delta_scores(tokens)
            top = _top(scores, k)
            hits.extend((self.delta_ids[i], float(scores[i])) for i in top if scores[i] > 0)
        hits.sort(key=lambda hit: (-hit[1], hit[0]))
        return hits[:k]

    def _main_scores(self, tokens: list[str]) -> np.ndarray | None:
        if self.main is None:
            return None
        vocab = self.main.vocab_dict
        token_ids = [vocab[t] for t in tokens if t in vocab]
        if not token_ids:
            return None
        data, indices, indptr = (self.main.scores[name] for name in ("data", "indices", "indptr"))
        pieces = [(indptr[t], indptr[t + 1]) for t in token_ids]
        rows = np.concatenate([indices[s:e] for s, e in pieces])
        weights = np.concatenate([data[s:e] for s, e in pieces]).astype(np.float64)
        return np.bincount(rows, weights=weights, minlength=len(self.main_ids))

    def _delta_scores(self, tokens: list[str]) -> np.ndarray:
        """The delta scored with main + delta statistics (document count, frequency, length)."""
        postings = self._delta_postings()
        n = max(len(self), 1)
        lengths = self._delta_lengths
        avgdl = max((self.main_tokens + lengths.sum()) / max(len(self.main_ids) + len(lengths), 1), 1e-9)
        norm = K1 * (1 - B + B * lengths / avgdl)
        scores = np.zeros(len(self.delta_ids))
        for token in tokens:
            rows = postings.get(token)
            if not rows:
                continue
            idf = _idf(self._main_df(token) + len(rows), n)
            for row, tf in rows:
                scores[row] += idf * tf / (tf + norm[row])
        return scores

    def _delta_postings(self) -> dict[str, list[tuple[int, int]]]:
        if self._postings is None:
            postings: dict[str, list[tuple[int, int]]] = {}
            for row, tokens in enumerate(self.delta_tokens):
                for token, tf in Counter(tokens).items():
                    postings.setdefault(token, []).append((row, tf))
            # lengths first: a concurrent search that sees the new postings must see their lengths
            self._delta_lengths = np.array([len(t) for t in self.delta_tokens], dtype=np.float64)
            self._postings = postings
        return self._postings

    def _main_df(self, token: str) -> int:
        if self.main is None:
            return 0
        i = self.main.vocab_dict.get(token)
        if i is None:
            return 0
        indptr = self.main.scores["indptr"]
        return int(indptr[i + 1] - indptr[i])

    def idf(self, tokens: list[str]) -> dict[str, float]:
        """Inverse document frequency over live chunks; unseen tokens get the maximum."""
        postings = self._delta_postings() if self.delta_ids else {}
        n = len(self)
        return {t: _idf(self._main_df(t) + len(postings.get(t, ())), n) for t in tokens}

    # --- files -------------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """Write into `folder` (empty). Main's files are hard-linked from the folder it was loaded
        from or last saved to, when they are still there; else written anew."""
        folder = Path(folder)
        if self._pending:
            raise BM25Error("save() before sync(): staged additions have no texts yet")
        if self.main is not None and not (self._main_dir and _link_main(self._main_dir, folder)):
            self.main.save(str(folder), show_progress=False, **_MAIN_NAMES)
        np.save(folder / "chunk_ids.npy", self.main_ids)
        np.save(folder / "tombstones.npy", np.asarray(sorted(self.tombstones), dtype=np.int64))
        (folder / "delta.json").write_text(json.dumps({"ids": self.delta_ids, "tokens": self.delta_tokens}))
        (folder / "meta.json").write_text(json.dumps({"format": FORMAT, "main_tokens": self.main_tokens, "has_main": self.main is not None}))

    def saved_to(self, folder: Path) -> None:
        """Tell where save()'s files now live (after the caller renamed them into place)."""
        if self.main is not None and (Path(folder) / _MAIN_NAMES["params_name"]).is_file():
            self._main_dir = Path(folder)

    @classmethod
    def load(cls, folder: Path, tokenize: Tokenize, mmap: bool = False) -> "IncrementalBM25":
        folder = Path(folder)
        meta_file = folder / "meta.json"
        if not meta_file.is_file():
            raise BM25Error(f"{folder}: not an incremental BM25 folder (no meta.json); it is rebuilt from the store")
        meta = json.loads(meta_file.read_text())
        if meta.get("format", 0) > FORMAT:
            raise BM25Error(f"{folder}: BM25 format {meta.get('format')} is newer than this program's ({FORMAT})")
        bm25 = cls(tokenize)
        bm25.main_ids = np.load(folder / "chunk_ids.npy")
        bm25.main_tokens = int(meta["main_tokens"])
        if meta.get("has_main"):
            import bm25s

            bm25.main = bm25s.BM25.load(str(folder), mmap=mmap, show_progress=False, verbosity=0, **_MAIN_NAMES)
            bm25._main_dir = folder
        bm25.tombstones = set(np.load(folder / "tombstones.npy").tolist())
        delta = json.loads((folder / "delta.json").read_text())
        bm25.delta_ids, bm25.delta_tokens = [int(i) for i in delta["ids"]], delta["tokens"]
        return bm25


def _idf(df: int, n: int) -> float:
    return float(np.log(1 + (n - df + 0.5) / (df + 0.5)))


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    if len(scores) <= k:
        return np.argsort(-scores, kind="stable")
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top], kind="stable")]


def _link_main(source: Path, target: Path) -> bool:
    """Hard-link main's files from `source` into `target`; False (and none left) if any fails."""
    linked = []
    try:
        for name in _MAIN_NAMES.values():
            if (source / name).exists():
                os.link(source / name, target / name)
                linked.append(target / name)
        return bool(linked)
    except OSError:
        for path in linked:
            path.unlink(missing_ok=True)
        return False
