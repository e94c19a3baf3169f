"""Hybrid retrieval: dense (FAISS) and BM25 fused by reciprocal rank, grouped by article."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from qa.config import Config
from qa.index import ArticleIndex
from qa.schema import Article, Passage

ArticleFilter = Callable[[Article], bool]


def reciprocal_rank_fusion(rankings: list[list[int]], k: int = 60) -> list[tuple[int, float]]:
    """Fuse ranked id lists: score(id) = Σ 1 / (k + rank), ranks counted from 1."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


class Retriever:
    def __init__(self, index: ArticleIndex, config: Config):
        self.index, self.config = index, config

    def retrieve(
        self,
        query: str,
        query_vector: np.ndarray | None,
        limit: int,
        mode: str | None = None,
        keep: ArticleFilter | None = None,
    ) -> list[Passage]:
        """Up to `limit` passages, best first (the reader reads them all; citations are grouped later)."""
        mode = mode or self.config.retrieval
        depth = self.config.candidates * (4 if keep else 1)  # a filter throws candidates away
        dense = self.index.dense_search(query_vector[None, :], depth)[0] if mode != "bm25" else []
        sparse = self.index.bm25_search([query], depth)[0] if mode != "dense" else []
        rankings = [[i for i, _ in ranked] for ranked in (dense, sparse) if ranked]
        fused = reciprocal_rank_fusion(rankings, self.config.rrf_k)
        dense_scores, bm25_scores = dict(dense), dict(sparse)
        rows = self.index.store.chunks_by_id([i for i, _ in fused[:depth]])
        passages: list[Passage] = []
        for chunk_id, score in fused:
            if chunk_id not in rows:
                continue  # removed since the search structures were built
            chunk, article = rows[chunk_id]
            if keep and not keep(article):
                continue
            passages.append(Passage(chunk, article, score, len(passages), dense_scores.get(chunk_id), bm25_scores.get(chunk_id)))
            if len(passages) >= limit:
                break
        return passages
