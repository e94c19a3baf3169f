"""Hybrid retrieval: dense (FAISS) and BM25, fused by a weighted sum of their scores scaled to
each list's best (default) or by reciprocal rank."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from qa.config import Config
from qa.index import ArticleIndex
from qa.schema import Article, Passage

ArticleFilter = Callable[[Article], bool]
PREFER_BOOST = 0.25  # follow-ups: the articles the conversation is about
RECENCY_BOOST = 0.1  # "latest" questions: newest of the candidates, at equal evidence


def reciprocal_rank_fusion(rankings: list[list[int]], k: int = 60) -> list[tuple[int, float]]:
    """Fuse ranked id lists: score(id) = Σ 1 / (k + rank), ranks counted from 1."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


def score_fusion(results: list[list[tuple[int, float]]], weights: list[float]) -> list[tuple[int, float]]:
    """Fuse (id, score) lists: Σ weight · score / best score of that list. Keeps how far apart
    candidates are (rank fusion throws that away) without stretching near-ties apart as
    min-max scaling does when few candidates come back."""
    fused: dict[int, float] = {}
    for ranked, weight in zip(results, weights):
        best = max((s for _, s in ranked), default=0.0)
        for item, score in ranked:
            fused[item] = fused.get(item, 0.0) + weight * max(score, 0.0) / (best or 1.0)
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))


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
        prefer: frozenset[str] = frozenset(),
        recent: bool = False,
    ) -> list[Passage]:
        """Up to `limit` passages, best first (the reader reads them all; citations are grouped later).
        `keep` filters articles (dates); `prefer` boosts articles (a follow-up's conversation);
        `recent` lifts newer articles a little, so that among equal evidence the newest comes first."""
        mode = mode or self.config.retrieval
        depth = self.config.candidates * (4 if keep else 1)  # a filter throws candidates away
        dense = self.index.dense_search(query_vector[None, :], depth)[0] if mode != "bm25" else []
        sparse = self.index.bm25_search([query], depth)[0] if mode != "dense" else []
        if self.config.fusion == "rrf":
            fused = reciprocal_rank_fusion([[i for i, _ in ranked] for ranked in (dense, sparse) if ranked], self.config.rrf_k)
        else:
            fused = score_fusion([sparse, dense], [self.config.bm25_weight, 1.0 - self.config.bm25_weight])
        dense_scores, bm25_scores = dict(dense), dict(sparse)
        rows = self.index.store.chunks_by_id([i for i, _ in fused[:depth]])
        found = [(rows[i], score) for i, score in fused if i in rows]  # rows gone: removed since the search
        found = [((chunk, article), score) for (chunk, article), score in found if not keep or keep(article)]
        if prefer or recent:  # the boosted score is the passage's score: the reader compares stories by it
            dates = sorted({a.day for (_, a), _ in found if a.day}) if recent else []
            newness = {d: (i + 1) / len(dates) for i, d in enumerate(dates)}
            found = sorted(((pair, score * _boost(pair[1], prefer, newness)) for pair, score in found), key=lambda item: -item[1])
        passages: list[Passage] = []
        for (chunk, article), score in found[:limit]:
            passages.append(Passage(chunk, article, score, len(passages), dense_scores.get(chunk.id), bm25_scores.get(chunk.id)))
        return passages


def _boost(article: Article, prefer: frozenset[str], newness: dict[str, float]) -> float:
    """Multiplier of a passage's fused score: conversation articles, then newer dates."""
    return 1.0 + PREFER_BOOST * (article.id in prefer) + RECENCY_BOOST * newness.get(article.day, 0.0)
