"""Near-duplicate articles (syndicated or refiled copies): MinHash over word shingles, with
locality-sensitive hashing so that a new article is compared only with likely copies."""

from __future__ import annotations

import re
import zlib

import numpy as np

SHINGLE_WORDS = 5
PERMUTATIONS = 64
BANDS = 16  # 16 bands of 4 rows: pairs above ~0.5 similarity share a band with high probability
NEAR_DUPLICATE = 0.8  # Jaccard similarity of shingle sets from which an article is a copy
_PRIME = (1 << 61) - 1
_RNG = np.random.default_rng(20260101)  # fixed: signatures must agree across runs
_A = _RNG.integers(1, _PRIME, PERMUTATIONS, dtype=np.uint64)
_B = _RNG.integers(0, _PRIME, PERMUTATIONS, dtype=np.uint64)
_WORD = re.compile(r"\w+")


def shingles(text: str) -> set[int]:
    """Hashes of the text's overlapping runs of SHINGLE_WORDS lower-cased words."""
    words = _WORD.findall(text.lower())
    if len(words) < SHINGLE_WORDS:
        return {zlib.crc32(" ".join(words).encode())} if words else set()
    return {zlib.crc32(" ".join(words[i : i + SHINGLE_WORDS]).encode()) for i in range(len(words) - SHINGLE_WORDS + 1)}


def band_keys(text: str) -> list[int]:
    """One LSH key per band of the MinHash signature; two texts sharing a key are candidates."""
    hashed = np.fromiter(shingles(text), dtype=np.uint64)
    if hashed.size == 0:
        return []
    # (a·x + b) mod p per permutation; uint64 arithmetic wraps, which keeps it a fixed hash family
    signature = ((_A[:, None] * hashed[None, :] + _B[:, None]) % np.uint64(_PRIME)).min(axis=1)
    rows = PERMUTATIONS // BANDS
    return [zlib.crc32(signature[b * rows : (b + 1) * rows].tobytes()) for b in range(BANDS)]


def similarity(a: str, b: str) -> float:
    """Exact Jaccard similarity of the two texts' shingle sets."""
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb) if sa and sb else 0.0
