"""Offline extractive reader: picks the answer sentence from the retrieved passages and
narrows it to the answer phrase when the question asks for one.

A sentence is scored on question terms it covers (weighted by rarity), the same for its
neighbourhood (previous sentence and headline, for pronouns and context), its embedding
similarity to the question, whether it holds an entity of the type the question asks for,
and the rank of its passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from qa.config import Config
from qa.embed import Embedder
from qa.entities import Entity, EntityTagger
from qa.index import ArticleIndex
from qa.question import AnswerType, expected_answer
from qa.schema import Answer, Passage

_QUESTION_WORDS = {"who", "whom", "whose", "what", "when", "where", "which", "why", "how", "much", "mani", "many", "did", "does", "do"}
WEIGHTS = {"terms": 0.45, "context": 0.15, "dense": 0.35, "rank": 0.05}
TYPE_FLOOR = 0.15  # a typed question's sentence without a fitting entity keeps this share of its score
SHORTLIST = 16  # sentences that get embedded and tagged
PHRASE_MIN_WEIGHT = 0.6
DEBUG = False
TOPIC_DISCOUNT = 0.3  # weight of question terms already in the story's headline or lead
LEAD_CHARS = 400  # an entity must fit the asked type at least this well to be the answer


@dataclass
class _Sentence:
    passage: int  # index into the passages
    start: int  # offsets into the article
    end: int
    terms: float = 0.0
    context: float = 0.0
    dense: float = 0.0
    type_fit: float = 0.0
    rank: float = 0.0
    score: float = 0.0
    entities: tuple[Entity, ...] = ()


class ExtractiveReader:
    def __init__(self, embedder: Embedder, index: ArticleIndex, config: Config, tagger: EntityTagger | None = None):
        self.embedder, self.index, self.config = embedder, index, config
        self.tagger = tagger or EntityTagger()

    def read(self, question: str, query_vector: np.ndarray, passages: list[Passage], query: str | None = None) -> Answer | None:
        """`query` is what was searched (a follow-up with its context); `question` decides the answer type."""
        passages = passages[: self.config.read_passages]
        sentences, seen = [], set()
        for i, passage in enumerate(passages):
            for start, end in passage.chunk.sentences:
                if (passage.article.id, start) not in seen:  # overlapping chunks share sentences
                    seen.add((passage.article.id, start))
                    sentences.append(_Sentence(i, start, end, rank=1.0 / (1 + passage.rank)))
        if not sentences:
            return None
        terms = self._terms(query or question)
        self._score_terms(terms, passages, sentences)
        shortlist = sorted(sentences, key=lambda s: -(s.terms + 0.5 * s.context + 0.2 * s.rank))[:SHORTLIST]
        texts = [passages[s.passage].article.text[s.start : s.end] for s in shortlist]
        for sentence, similarity in zip(shortlist, self.embedder.encode(texts) @ query_vector):
            sentence.dense = float(similarity)
        wanted = expected_answer(question)
        if wanted:
            for sentence, entities in zip(shortlist, self.tagger.tag(texts)):
                sentence.entities = entities
                sentence.type_fit = max((_fit(e, wanted, sentence, passages, terms, self) for e in entities), default=0.0)
        for sentence in shortlist:
            sentence.score = float(sum(weight * getattr(sentence, name) for name, weight in WEIGHTS.items()))
            if wanted:  # the answer must be in the sentence: gate on an entity of the asked type
                sentence.score *= TYPE_FLOOR + (1 - TYPE_FLOOR) * sentence.type_fit
        best = max(shortlist, key=lambda s: s.score)
        if DEBUG:
            for s in sorted(shortlist, key=lambda s: -s.score):
                print(f"{s.score:.3f} t={s.terms:.2f} c={s.context:.2f} d={s.dense:.2f} y={s.type_fit:.1f} r={s.rank:.2f} | {passages[s.passage].article.text[s.start:s.end][:90]}")
        return self._answer(best, passages[best.passage], wanted, terms)

    def _terms(self, question: str) -> dict[str, float]:
        tokens = [t for t in self.index.tokenize([question])[0] if t not in _QUESTION_WORDS]
        return self.index.idf(list(dict.fromkeys(tokens)))

    def _score_terms(self, terms: dict[str, float], passages: list[Passage], sentences: list[_Sentence]) -> None:
        """Covered share of the question's term weight. A term's weight is its rarity in the
        collection times its rarity among these sentences: the story's own subject, named in
        every sentence, tells the sentences apart less than the rest of the question does."""
        texts = [passages[s.passage].article.text[s.start : s.end] for s in sentences]
        titles = {i: set(self.index.tokenize([p.article.title])[0]) for i, p in enumerate(passages)}
        topics = {i: titles[i] | set(self.index.tokenize([_lead(p.article.text)])[0]) for i, p in enumerate(passages)}
        token_sets = [set(t) for t in self.index.tokenize(texts)] if texts else []
        n = len(token_sets)
        local = {t: np.log((n + 1) / (sum(t in s for s in token_sets) + 0.5)) for t in terms}
        terms = {t: w * local[t] for t, w in terms.items()}
        total = sum(terms.values()) or 1.0
        for i, sentence in enumerate(sentences):
            own, topic = token_sets[i], topics[sentence.passage]
            previous = token_sets[i - 1] if i and sentences[i - 1].passage == sentence.passage else set()
            around = own | previous | titles[sentence.passage]
            # Terms of the story's headline and lead name the story; the rest of the question
            # names what is asked about it, which is what tells its sentences apart.
            focus = {t: w * (TOPIC_DISCOUNT if t in topic else 1.0) for t, w in terms.items()}
            sentence.terms = sum(w for t, w in focus.items() if t in own) / (sum(focus.values()) or 1.0)
            sentence.context = sum(w for t, w in terms.items() if t in around) / total

    def _answer(self, best: _Sentence, passage: Passage, wanted: AnswerType | None, terms: dict[str, float]) -> Answer:
        offset = passage.chunk.start
        start, end = best.start - offset, best.end - offset
        sentence_text = passage.chunk.text[start:end]
        phrase = _pick_phrase(sentence_text, best.entities, wanted, terms, self) if wanted else None
        if phrase:
            return Answer(sentence_text[phrase.start : phrase.end], start + phrase.start, start + phrase.end,
                          best.score, passage, start, end)
        return Answer(sentence_text, start, end, best.score, passage, start, end)

    def entity_terms(self, text: str) -> set[str]:
        return set(self.index.tokenize([text])[0])


def _lead(text: str) -> str:
    """The story's first paragraph (capped): with the headline, it says what the story is about."""
    return text[:LEAD_CHARS].split("\n", 1)[0]


def _fit(entity: Entity, wanted: AnswerType, sentence: _Sentence, passages, terms: dict, reader: ExtractiveReader) -> float:
    """How well an entity could answer: its label's weight, zero when the question already names it."""
    weight = wanted.labels.get(entity.label, 0.0)
    if weight == 0.0:
        return 0.0
    text = passages[sentence.passage].article.text[sentence.start : sentence.end][entity.start : entity.end]
    tokens = reader.entity_terms(text)
    return 0.0 if tokens and tokens <= set(terms) else weight


def _pick_phrase(sentence: str, entities, wanted: AnswerType, terms: dict, reader: ExtractiveReader) -> Entity | None:
    """The best-fitting entity of the asked type, nearest to the question terms in the sentence."""
    words = list(re.finditer(r"\w+", sentence))
    stems = reader.index.stem([w.group(0).lower() for w in words])
    anchors = [i for i, stem in enumerate(stems) if stem in terms]
    candidates = []
    for entity in entities:
        weight = wanted.labels.get(entity.label, 0.0)
        tokens = reader.entity_terms(sentence[entity.start : entity.end])
        if weight < PHRASE_MIN_WEIGHT or (tokens and tokens <= set(terms)):
            continue
        span = [i for i, w in enumerate(words) if entity.start <= w.start() < entity.end] or [0]
        distance = min((min(abs(a - span[0]), abs(a - span[-1])) for a in anchors), default=0)
        candidates.append((weight - 0.02 * distance, entity))
    return max(candidates, key=lambda c: c[0])[1] if candidates else None
