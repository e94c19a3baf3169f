"""The FAISS index for the passage vectors, its type chosen from the number of passages.

- up to FLAT_MAX vectors: exact inner-product search (IndexIDMap2 over IndexFlatIP), fp32;
- beyond: IVF with 8-bit scalar-quantized codes (index_factory "IVF{nlist},SQ8", inner product),
  nlist ≈ 2·√n, k-means trained on a sample, nprobe tuned at build time (tune_nprobe) for
  recall@10 ≥ 0.95 against exact search. 4× less memory than flat (~400 B a passage), and a
  search scans only nprobe/nlist of the vectors.

Vectors are L2-normalised, so inner product is cosine. Ids are the store's chunk ids in both types.
The index is rebuilt from the store (no re-embedding) when its size leaves the range its type
was chosen for (needs_rebuild); between rebuilds vectors are added and removed in place.
Measured on 2 cores in docs/performance.md (bench/bench_scale.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

FLAT_MAX = 50_000  # exact search up to here: a few ms a query on 2 cores
TARGET_RECALL = 0.97  # nprobe tuning target, recall@10 against scanning every list
TRAIN_PER_LIST = 40  # k-means training points per list (FAISS warns below 39)
MAX_TRAIN = 65_536
VectorSource = Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]]  # batches of (ids, vectors)


@dataclass(frozen=True)
class Plan:
    kind: str  # "flat" | "ivf-sq8"
    nlist: int = 0

    @property
    def name(self) -> str:
        return "flat" if self.kind == "flat" else f"ivf{self.nlist}-sq8"


def plan(n: int) -> Plan:
    """The index type for n vectors."""
    if n <= FLAT_MAX:
        return Plan("flat")
    return Plan("ivf-sq8", int(2 ** round(math.log2(2 * math.sqrt(n)))))


def kind(index) -> str:
    """The manifest's "faiss_type": "flat" or "ivf<nlist>-sq8"."""
    import faiss

    ivf = _ivf(index)
    if ivf is None:
        return "flat"
    return f"ivf{ivf.nlist}-sq8" if isinstance(faiss.downcast_index(ivf), faiss.IndexIVFScalarQuantizer) else f"ivf{ivf.nlist}"


def empty(dim: int):
    import faiss

    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def build(source: VectorSource, n: int, dim: int, seed: int = 0):
    """An index of the planned type over every (ids, vectors) batch of `source`.
    `source` is called once for flat, three times for IVF (train sample, add, tune)."""
    chosen = plan(n)
    if chosen.kind == "flat":
        index = empty(dim)
        for ids, vectors in source():
            index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        return index
    import faiss

    index = faiss.index_factory(dim, f"IVF{chosen.nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
    index.train(_sample(source, n, min(MAX_TRAIN, TRAIN_PER_LIST * chosen.nlist), seed))
    for ids, vectors in source():
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
    tune_nprobe(index, _sample(source, n, 200, seed + 1))
    return index


def _sample(source: VectorSource, n: int, size: int, seed: int) -> np.ndarray:
    """`size` vectors drawn evenly at random from the batches of `source` (one pass)."""
    rng = np.random.default_rng(seed)
    keep = np.zeros(n, dtype=bool)
    keep[rng.choice(n, size=min(size, n), replace=False)] = True
    parts, seen = [], 0
    for _, vectors in source():
        mask = keep[seen : seen + len(vectors)]
        if len(mask) < len(vectors):  # more rows than counted: the extra ones are not sampled
            mask = np.pad(mask, (0, len(vectors) - len(mask)))
        parts.append(vectors[mask])
        seen += len(vectors)
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)


def tune_nprobe(index, queries: np.ndarray, k: int = 10) -> int:
    """Smallest power-of-two nprobe whose recall@k, against scanning every list, reaches
    TARGET_RECALL on `queries` (stored vectors moved about 55° in a random direction: a question
    lies about that far from its passage, cosine 0.5–0.6); then doubled, and at least 1/16 of the
    lists. Measured on real questions (bench_scale.py): 200k passages, IVF1024, recall@10 0.88 at
    nprobe 8, 0.97 at 32, 0.972 at 64, 0.986 scanning every list (the SQ8 codes' own limit); a
    search at nprobe 64 costs under 1 ms, so the margin is cheap."""
    ivf = _ivf(index)
    rng = np.random.default_rng(7)
    noisy = queries + rng.normal(scale=1.5 / math.sqrt(queries.shape[1]), size=queries.shape).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    ivf.nprobe = ivf.nlist
    _, exact = index.search(noisy, k)
    nprobe = 1
    while nprobe < ivf.nlist:
        ivf.nprobe = nprobe
        _, found = index.search(noisy, k)
        if recall(found, exact) >= TARGET_RECALL:
            break
        nprobe *= 2
    ivf.nprobe = min(ivf.nlist, max(8, ivf.nlist // 16, nprobe * 2))
    return ivf.nprobe


def recall(found: np.ndarray, exact: np.ndarray) -> float:
    """Mean share of each row of `exact` (ids; -1 = none) found in the same row of `found`."""
    hits = total = 0
    for f, e in zip(found, exact):
        truth = set(int(i) for i in e if i >= 0)
        hits += len(truth & set(int(i) for i in f))
        total += len(truth)
    return hits / total if total else 1.0


def needs_rebuild(index, n: int) -> bool:
    """True when n vectors call for another type or size of index than `index` is."""
    wanted = plan(n)
    ivf = _ivf(index)
    if ivf is None:
        return wanted.kind != "flat"
    if n <= FLAT_MAX // 2:
        return True  # shrank well below the flat limit: exact search again
    return wanted.kind != "flat" and not (wanted.nlist // 2 <= ivf.nlist <= wanted.nlist * 2)


def ids(index) -> np.ndarray:
    """Every id stored in the index, ascending."""
    import faiss

    ivf = _ivf(index)
    if ivf is None:
        return np.sort(faiss.vector_to_array(index.id_map)) if index.ntotal else np.zeros(0, np.int64)
    lists = ivf.invlists
    parts = [
        faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
        for i in range(ivf.nlist)
        if lists.list_size(i)
    ]
    return np.sort(np.concatenate(parts)) if parts else np.zeros(0, np.int64)


def search(index, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """One question at a time runs on one thread: on 2 shared cores, OpenMP's hand-off costs more
    than it wins for a single query (measured: flat 20k, 1.3 ms on one thread, 17 ms on two)."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(vectors) > 4:
        return index.search(vectors, min(k, index.ntotal))
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        return index.search(vectors, min(k, index.ntotal))
    finally:
        faiss.omp_set_num_threads(threads)


def _ivf(index):
    import faiss

    try:
        return faiss.extract_index_ivf(index)
    except RuntimeError:
        return None
