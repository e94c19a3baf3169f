"""Offline extractive reader: picks the answer sentence from the retrieved passages and
narrows it to the answer phrase when the question asks for one.

A sentence is scored on the question terms it covers (weighted by rarity, with the terms
that merely name the story discounted), the same for its neighbourhood (previous sentence
and headline), its embedding similarity to the question and the rank of its passage; for a
question that asks for a person, date, amount, place… the score is gated on the sentence
holding an entity of that type that the question does not already name, and it gains when
the question's terms stand near that entity.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

import numpy as np

from qa.config import Config
from qa.embed import Embedder
from qa.entities import HONORIFICS, PERSON_NOUNS, Entity, EntityTagger
from qa.index import ArticleIndex
from qa.places import is_country
from qa.question import PROPER_NAMES, UNLABELLED, AnswerType, asked_clause, expected_answer, singular
from qa.schema import Answer, Passage

# Words of a question that no answer sentence is told apart by ("When did that happen?")
_QUESTION_WORDS = {"who", "whom", "whose", "what", "when", "where", "which", "why", "how", "much", "mani", "many", "did", "does", "doe", "do",
                   "happen", "occur"}  # stemmed, as the tokenizer gives them: "does" is "doe"
# "How long", "how far": the word after "how" asks for a measure, it names nothing the sentence holds
# (not "old", which "47-year-old" holds)
_HOW_WORD = re.compile(r"\bhow\s+(long|far|big|often|tall|soon|large|high|wide|deep|heavy|fast|quickly|late|early)\b", re.I)
WEIGHTS = {"terms": 0.45, "context": 0.0, "dense": 0.35, "rank": 0.05, "beside": 0.2, "around": 0.3, "led": 0.15}  # tuned: bench/tune_reader.py
AROUND_WORDS = 12  # question words this close to an answer count towards `around`, the nearer the more
BESIDE_WORDS = 3  # an answer this close to the noun the question asks about ("lawyer Louise Christian"); an apposition may be longer
BESIDE_BONUS = 0.3
TOPIC_DISCOUNT = 0.3  # weight of question terms already in the story's headline or lead
CONTEXT_WEIGHT = 0.3  # weight of a follow-up's conversation terms: they find the story, the question the sentence
SHORTLIST = 8  # sentences that get embedded and tagged
RELATIVE_DATE = 0.8  # fit of a date without a month or year, for "when" questions
COUNTRY_AS_TOWN = 0.5  # fit of a country's name for "which city" or "which town"
PRONOUN_ONE = 0.5  # fit of "one" used as a pronoun ("one of the") for a count
POINT_IN_TIME = 0.6  # fit of a date that is no span of time, for "how long" questions (or no year, for "which year")
PHRASE_MIN_WEIGHT = 0.6  # an entity must fit the asked type at least this well to be the answer
LEAD_CHARS = 400
CLOSE_STORIES = 0.04  # another story retrieved this close (share of the best score) is read too
# Confidence that the best sentence answers: logistic over (evidence score, passage similarity,
# whether the question names a number the story lacks), fitted on labelled answerable and
# unanswerable questions by bench/calibrate.py.
CONFIDENCE = (9.45, 6.58, -4.04, -6.33)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORDS = re.compile(r"\w+")
_ACRONYM = re.compile(r"\b[A-Z]{2,6}\b")
_CAPITALISED_RUN = re.compile(r"[A-Z][a-z]\w*(?:\s+(?:(?:of|and|for|&)\s+)?[A-Z][a-z]\w*)+")
_AND = re.compile(r"\s+and\s+")
_LIST_JOIN = re.compile(r"\s*(?:,\s*(?:and\s+)?|and\s+|&\s+)")
_HONORIFIC = re.compile(rf"\b(?:{'|'.join(HONORIFICS)})\b\.?")
_SAME_NOUNS = [set(group.split()) for group in (  # nouns news copy uses for one another
    "film movie picture", "company firm group business corporation", "song track single", "band group act",
    "newspaper paper daily tabloid publication magazine", "programme show series", "book novel", "handset phone mobile",
    "club side team", "website site", "airline carrier", "ground stadium venue arena",
)]
_WHERE_FROM = {"GPE", "LOC", "NORP"}  # a place before a noun says where it is from: "the London firm"
_COMPANY_SUFFIX = re.compile(r"\b(?:Group|plc|PLC|Inc|Ltd|Corp|Corporation|Holdings|Co)\b\.?")
_PHRASE_BREAK = re.compile(r"[,;:()\"“”]")
# "the airline, SpiceJet", "Metrovias, the private firm", "Mick Jones, the former Clash guitarist",
# "Allied Irish Banks, Ireland's biggest company", "Glenmorangie, one of Scotland's premier whisky firms",
# "Perm 35 - a Soviet hard labour camp"
_APPOSITION = re.compile(r"(?:,|\s[-–—])\s*|(?:,|\s[-–—])\s+(?:one of\s+)?(?:the|a|an|its|his|her|their|[A-Z][\w.-]*['’]s)\s+(?:[\w'’.-]+\s+){0,3}")
# What an amount is compared with, or a ratio's other side ("one in 10"), is not the amount asked for.
_BASELINE = re.compile(r"\b(?:compared (?:with|to)|versus|down from|up from|(?:\d+|one) in)\s+(?:an? |the )?$", re.I)
_COUNT_WORD = r"\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten"
_RATIO = re.compile(rf"\s+in\s+(?:{_COUNT_WORD})\b(?!\s+(?:years?|months?|weeks?|days?|hours?|minutes?|games?|matches?))", re.I)
_YEAR = re.compile(r"(?:(?:in|the|early|late|mid-?)\s+)*\d{3,4}s?", re.I)  # a date that is a year: "1337", "in the 1990s"
_AGE = re.compile(r"-year-old\b|\baged\b|\bage of\b", re.I)
_AGE_IN_COMMAS = re.compile(r", \d{1,3},")  # "Glenn Hoddle, 47, …"
_POSSESSIVE = re.compile(r"['’]s?$")
_AGED_BEFORE = re.compile(r"\baged\s+$", re.I)
_AGED_ONE = re.compile(rf"\s+(?:[A-Z]|(?:{PERSON_NOUNS})\b)")  # "62-year-old Sir Paul", "a 28-year-old man": a person's age
_DEMONYM_ENDINGS = {"n", "an", "ian", "ean", "es", "ese", "ish"}  # stemmed: "japanes"
_PLACES = {"GPE", "LOC"}
_TOWNS = {"city", "town", "village", "capital", "suburb", "port", "resort", "borough"}  # a country is none
_AMOUNTS = {"MONEY", "PERCENT", "CARDINAL", "QUANTITY"}
_STOPWORD_ACRONYM = re.compile(r"(?<![\w&])IT(?![\w&])")  # "IT", a stopword to the tokenizer in lower case
_TIME_SPAN = re.compile(r"\b(?:years?|months?|weeks?|days?|hours?|minutes?|seconds?|decades?|century|centuries|nights?|seasons?)\b", re.I)
# "last year", "late last year", "the following day": a time, no span
_THIS_TIME = re.compile(r"(?:(?:earlier|later|early|late)\s+)?(?:this|last|next|that|the same|the previous|the following)\s+\w+(?:['’]s)?", re.I)
_AGO = re.compile(r"\sago$", re.I)  # "two years ago": a time too, and what "how long ago" asks for
_CONVERSION = re.compile(r"\s\((?:[^()]*;\s)?")  # between an amount and its conversion: "1.16bn euros ($1.5bn; £800m)"
_COUNTED = re.compile(r"\s(?!(?:this|was|is|has|his|its|as|plus|unless|less|thus|does|goes|us|yes|always|perhaps)\b)[a-z]+s\b")
_PRONOUN_AFTER = re.compile(r"\s+(?:of|for|who|which|that)\b")
_CALLED = re.compile(  # "a tool called Picasa", "renamed it The Chateau"
    r"\b(?:called|named|dubbed|nicknamed|codenamed|titled|entitled|known as|(?:re)?(?:call(?:s|ed)?|names?|named|dub(?:s|bed)?) (?:it|them|him|her))\s+[\"'“‘]?$", re.I
)
_DIMENSIONS_JOIN = re.compile(r"\s*(?:by|x|×)\s*")
_AT_SITE = re.compile(r"\bat\s+$", re.I)
_NOT_SITES = {"PERSON", "NORP", "DATE", "TIME", "CARDINAL", "ORDINAL", "MONEY", "PERCENT", "QUANTITY"}
# Words a reason follows ("because of the strike"); "due to" before a verb is a timetable ("due to
# arrive"), so only before what names a cause
_REASON_AHEAD = (
    r"because|owing to|thanks to|as a result of|blamed on|in search of|in order to|so that|so as to|in a bid to"
    r"|due to (?=(?:the|a|an|its|his|her|their|this|that|these|those|some|high|higher|low|lower|poor|bad|heavy|strong|stronger|weak|weaker|widespread|short|tough|slack|injury|illness|lack)\b|(?-i:[A-Z\d])|[a-z]+(?:ing|ed|al|ary|ic|ous|ity|ion|ness|ment|s)\b)"
)
_NEGATED = r"(?<!\bnot )(?<!n't )(?<!\bnever )"  # "was not due to vandals" gives no reason
_REASON_WORD = re.compile(rf"\b{_NEGATED}(?:{_REASON_AHEAD})", re.I)
# … and words a reason comes before ("A knee injury forced him out"): a sentence with either gives one
_REASON_CUE = re.compile(
    rf"\b{_NEGATED}(?:{_REASON_AHEAD}|blam(?:e|ed|es|ing) for|caus(?:e|ed|es|ing)|reasons?|led to|leads? to|forc(?:ed|ing)|prompt(?:ed|s)|aim(?:s|ed)? to)\b", re.I
)
_CLAUSE_END = re.compile(  # a reason's clause ends here; a quote inside it does not end it
    r"[;:]\s|\s[-–—]\s|,\s(?:and|but|which|while|whereas|according)\b|,\s(?:[\w'’.-]+\s){0,4}(?:said|says|say|told|added|claim|claims|claimed)\b|\.\s"
)
REASON_WORDS = 20  # a longer reason is shown in its sentence
_SPECIFIC = re.compile(
    r"\b(?:1[6-9]\d\d|20\d\d|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)|[$£€¥]\d|\d(?:[.,]\d+)?\s?(?:%|m|bn|k)\b"
)


@dataclass
class Candidate:
    """One sentence of a retrieved passage, with the evidence for it."""

    passage: Passage
    start: int  # offsets into the article
    end: int
    text: str
    terms: float = 0.0
    context: float = 0.0
    dense: float = 0.0
    rank: float = 0.0
    type_fit: float = 0.0
    score: float = 0.0
    entities: tuple[Entity, ...] = ()
    around: float = 0.0  # question terms near a fitting entity
    near_head: frozenset[Entity] = frozenset()  # fitting entities beside the noun asked about
    after_head: frozenset[Entity] = frozenset()  # … and right after it
    previous: Candidate | None = None  # the sentence right before, when it was read too
    after_preposition: frozenset[Entity] = frozenset()  # answers after the question's preposition ("by what year": "by 2010")

    @property
    def beside(self) -> float:
        return float(bool(self.near_head))

    @property
    def led(self) -> float:
        return float(bool(self.after_preposition))

    @property
    def in_context(self) -> str:
        """The sentence after the one before it: "It was set up in 1337" says little alone."""
        return f"{self.previous.text} {self.text}" if self.previous else self.text


@dataclass
class Ranking:
    candidates: list[Candidate]  # best first
    wanted: AnswerType | None
    terms: dict[str, float] = field(default_factory=dict)
    avoid: frozenset[str] = frozenset()
    abbreviations: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())  # the question's acronyms, its names' initials
    numbers: frozenset[str] = frozenset()  # the numbers the question names ("2010", "1.5")
    figures: frozenset[frozenset[str]] = frozenset()  # the figures of the amounts the question states ("8.1%": {"8.1"})
    asked: frozenset[str] = frozenset()  # the question's own terms, not its conversation's
    surnames: frozenset[str] = frozenset()  # names the question gives alone ("Who did Okafor meet?"), in lower case


def evidence(candidate: Candidate, ranking: Ranking) -> tuple[float, float, float]:
    """The confidence features: the sentence's score, its passage's similarity to the question,
    and whether the question names a number its story lacks (in its title, text or date): a
    question about the 2010 contest is not answered by a story of the 2005 one, however alike
    their words."""
    passage_similarity = candidate.passage.dense_score
    article = candidate.passage.article
    lacks = bool(ranking.numbers - _numbers(f"{article.title}\n{article.text}\n{article.published or ''}"))
    # a type no entity gives (a reason) only orders the sentences: sure as an open question's
    score = candidate.score if not ranking.wanted or ranking.wanted.labels else combine(candidate, None)
    return score, candidate.dense if passage_similarity is None else passage_similarity, float(lacks)


def confidence(candidate: Candidate, ranking: Ranking) -> float:
    *weights, intercept = CONFIDENCE
    return float(1 / (1 + np.exp(-(np.dot(weights, evidence(candidate, ranking)) + intercept))))


def _numbers(text: str) -> frozenset[str]:
    """The numbers written in digits in a text, in one form: "14,000" → "14000", "03" → "3",
    "1.50" → "1.5" (a date "2005-03-03" holds 3)."""
    found = [n for n in _NUMBER.findall(text.replace(",", "")) if n.count(".") <= 1]  # not "1.2.3"
    return frozenset(str(float(n)).removesuffix(".0") if "." in n else str(int(n)) for n in found)


def combine(candidate: Candidate, wanted: AnswerType | None, weights: dict = WEIGHTS, floor: float | None = None) -> float:
    score = sum(weight * getattr(candidate, name) for name, weight in weights.items())
    if wanted:  # the answer must be in the sentence: gate on an entity of the asked type
        floor = wanted.gate if floor is None else floor
        score *= floor + (1 - floor) * candidate.type_fit
    return float(score)


class ExtractiveReader:
    def __init__(self, embedder: Embedder, index: ArticleIndex, config: Config, tagger: EntityTagger | None = None):
        self.embedder, self.index, self.config = embedder, index, config
        self.tagger = tagger or EntityTagger()

    def read(
        self, question: str, query_vector: np.ndarray, passages: list[Passage], context: str | None = None, avoid: frozenset[str] = frozenset()
    ) -> Answer | None:
        """`context` is the conversation a follow-up leans on (searched with it); `question` decides
        the answer type; `avoid` holds answers already given, which a follow-up does not ask for again."""
        ranking = self.rank(question, query_vector, passages, context, avoid)
        if not ranking.candidates:
            return None
        return self._answer(ranking.candidates[0], ranking)

    def rank(
        self, question: str, query_vector: np.ndarray, passages: list[Passage], context: str | None = None, avoid: frozenset[str] = frozenset()
    ) -> Ranking:
        """The sentences of the best-retrieved story, best first; of stories retrieved almost
        alike, those of the story whose best sentence scores highest. The passages come in the
        order their scores (boosts included) give them."""
        question, context = _unshouted(question), context and _unshouted(context)
        query = f"{context} {question}" if context else question
        asked = self._asked(question, query, context, avoid)
        # The asking clause, or a follow-up's own words, say best what the answer sentence is about;
        # encoded on their own, as the question is: batched with the sentences, padding shifts a vector
        own = asked_clause(question) or (question if context else None)
        own_vector = self.embedder.encode([own])[0] if own and passages else None
        top = max((p.score for p in passages), default=0.0) or 1.0
        rankings = [
            self._rank_story(asked, query, query_vector, own_vector, self._reading(ordered), top)
            for ordered in _contenders(passages)
        ]
        return max(rankings, key=lambda ranking: ranking.candidates[0].score if ranking.candidates else -np.inf)

    def _asked(self, question: str, query: str, context: str | None, avoid: frozenset[str]) -> Ranking:
        """What the question asks, as a ranking of no sentences yet; `query`: the question with its conversation."""
        terms = self._terms(question)
        terms.update(_stopword_acronyms(question, terms))
        asked = frozenset(terms)
        if context:
            terms.update({t: w * CONTEXT_WEIGHT for t, w in self._terms(context).items() if t not in terms})
        stated = frozenset(_numbers(question[e.start : e.end]) for e in self.tagger.tag([question])[0] if e.label in _AMOUNTS)
        wanted = expected_answer(question, self.tagger.words(question))
        return Ranking([], wanted, terms, avoid, _abbreviations(query), _numbers(question), figures=stated, asked=asked, surnames=_lone_names(question))

    def _rank_story(
        self, asked: Ranking, query: str, query_vector: np.ndarray, own_vector: np.ndarray | None, passages: list[Passage], top: float
    ) -> Ranking:
        """What the question asks, with the sentences of one story's passages scored; `top`: the
        best passage score of all stories."""
        candidates = self._candidates(passages, top)
        if not candidates:
            return dataclasses.replace(asked, candidates=[])
        wanted = asked.wanted
        ranking = dataclasses.replace(asked, terms={**asked.terms, **self._acronyms_used(query, candidates, asked.terms)})
        self._score_terms(ranking.terms, candidates)
        shortlist = _shortlist(candidates)
        texts = [c.text for c in shortlist]
        vectors = self.embedder.encode([c.in_context for c in shortlist])
        similarity = vectors @ query_vector
        if own_vector is not None:
            similarity = (similarity + vectors @ own_vector) / 2
        for candidate, value in zip(shortlist, similarity):
            candidate.dense = float(value)
        if wanted and wanted.name == "reason":
            for candidate in shortlist:
                candidate.type_fit = float(bool(_REASON_CUE.search(candidate.text)))
        elif wanted:
            for candidate, entities in zip(shortlist, self.tagger.tag(texts)):
                entities = self._without_head(candidate.text, entities, wanted.head)
                fitting = [e for e in entities if self._could_answer(candidate.text, e, ranking)]
                candidate.entities = entities
                candidate.near_head, candidate.after_head = self._beside_head(candidate.text, fitting, wanted)
                weights = {e: _weight(e, wanted, candidate) for e in fitting}
                candidate.type_fit = max(weights.values(), default=0.0)
                answers = [e for e, w in weights.items() if w >= PHRASE_MIN_WEIGHT]
                candidate.around = self._around(candidate, answers, ranking)
                candidate.after_preposition = frozenset(e for e in answers if wanted.preposition and _led_by(candidate.text, e, wanted.preposition))
        for candidate in shortlist:
            candidate.score = combine(candidate, wanted)
        ranking.candidates = sorted(shortlist, key=lambda c: -c.score)
        return ranking

    def _reading(self, passages: list[Passage]) -> list[Passage]:
        """The first passage's article: its retrieved passages, then the rest of it. Measured on
        labelled questions, the retrieval's best article is right more often than a choice
        between sentences of several articles, so the reader picks the sentence, not the story
        (but among stories retrieved almost alike: see `_contenders`); the answer is not always
        in a passage that was retrieved."""
        if not passages:
            return []
        best = passages[0].article.id
        retrieved = [p for p in passages[: self.config.read_passages * 2] if p.article.id == best]
        seen = {p.chunk.id for p in retrieved}
        rest = [Passage(chunk, article, 0.0, len(passages)) for chunk, article in self.index.article_chunks(best) if chunk.id not in seen]
        return retrieved + rest

    def _candidates(self, passages: list[Passage], top: float) -> list[Candidate]:
        """Sentences of the passages (once each); `rank` is the passage's retrieval score relative
        to `top`, the best of all stories' (so that one story read first keeps its distance)."""
        candidates, seen = [], set()
        for passage in passages:
            for start, end in passage.chunk.sentences:
                if (passage.article.id, start) not in seen:  # overlapping chunks share sentences
                    seen.add((passage.article.id, start))
                    text = passage.article.text[start:end]
                    candidates.append(Candidate(passage, start, end, text, rank=passage.score / top))
        ordered = sorted(candidates, key=lambda c: (c.passage.article.id, c.start))
        for before, after in zip(ordered, ordered[1:]):  # link each sentence to the one before it
            text = after.passage.article.text
            if before.passage.article.id == after.passage.article.id and not text[before.end : after.start].strip():
                after.previous = before
        return candidates

    def _terms(self, question: str) -> dict[str, float]:
        return question_terms(self.index, question)

    def _acronyms_used(self, question: str, candidates: list[Candidate], terms: dict[str, float]) -> dict[str, float]:
        """The initials of the question's capitalised names that the story uses as words: news copy
        spells out "Community Support Officers" once, then writes "CSOs"."""
        runs = [run.group(0).split()[run.start() == 0 :] for run in _CAPITALISED_RUN.finditer(question)]  # not "Which" opening it
        initials = {"".join(w[0] for w in words if w[0].isupper()) for words in runs}
        texts = " ".join(c.text for c in candidates)
        used = [i for i in initials if len(i) >= 3 and re.search(rf"\b{i}s?\b", texts)]  # written as capitals: "CSOs", not "fact"
        tokens = [t for t in self.index.tokenize([" ".join(f"{i} {i}s" for i in used)])[0] if t not in terms]
        return self.index.idf(sorted(set(tokens))) if tokens else {}

    def _score_terms(self, terms: dict[str, float], candidates: list[Candidate]) -> None:
        """Covered share of the question's term weight. A term's weight is its rarity in the
        collection times its rarity among these sentences; terms of the story's headline and
        lead name the story, the rest of the question names what is asked about it, which is
        what tells the story's sentences apart."""
        token_sets = [set(t) | set(_STOPWORD_ACRONYM.findall(c.text)) for t, c in zip(self.index.tokenize([c.text for c in candidates]), candidates)]
        stories = {c.passage.article.id: c.passage.article for c in candidates}
        titles = {i: set(t) for i, t in zip(stories, self.index.tokenize([a.title for a in stories.values()]))}
        leads = {i: set(t) for i, t in zip(stories, self.index.tokenize([_lead(a.text) for a in stories.values()]))}
        n = len(token_sets)
        terms = {t: w * np.log((n + 1) / (sum(t in s for s in token_sets) + 0.5)) for t, w in terms.items()}
        total = sum(terms.values()) or 1.0
        tokens_of = {id(c): t for c, t in zip(candidates, token_sets)}
        for i, candidate in enumerate(candidates):
            story = candidate.passage.article.id
            own, topic = token_sets[i], titles[story] | leads[story]
            around = own | titles[story] | (tokens_of[id(candidate.previous)] if candidate.previous else set())
            focus = {t: w * (TOPIC_DISCOUNT if t in topic else 1.0) for t, w in terms.items()}
            candidate.terms = sum(w for t, w in focus.items() if t in own) / (sum(focus.values()) or 1.0)
            candidate.context = sum(w for t, w in terms.items() if t in around) / total

    def _around(self, candidate: Candidate, answers: list[Entity], ranking: Ranking) -> float:
        """How much of the question's term weight stands near a phrase that could be the answer,
        each term counting less the further it is: an answer sits among the words the question
        shares with its sentence ("tourist revenues were up by 30%"), not in another clause."""
        words, stems = self._words(candidate.text)
        return max((_terms_near(words, stems, e, ranking.terms) for e in answers), default=0.0)

    def _could_answer(self, sentence: str, entity: Entity, ranking: Ranking) -> bool:
        """An entity of a label the asked type takes, that the question does not already name
        (in its words, as initials: "BA" for British Airways, or as a figure) and that was not the answer given before."""
        phrase = sentence[entity.start : entity.end]
        named = self._named_in_question(phrase, ranking.terms, entity.label in _PLACES) or _abbreviates(phrase, ranking.abbreviations)
        named = named or entity.label == "PERSON" and " " in phrase and _POSSESSIVE.sub("", phrase.split()[-1]).lower() in ranking.surnames
        figures = _numbers(phrase) if entity.label in _AMOUNTS else frozenset()
        named = named or bool(figures) and figures in ranking.figures  # "the year the economy expanded 8.1%": not the answer
        return entity.label in ranking.wanted.labels and not _already_given(phrase, ranking.avoid) and not named

    def _beside_head(self, sentence: str, entities: list[Entity], wanted: AnswerType) -> tuple[frozenset[Entity], frozenset[Entity]]:
        """The entities within a few words of the noun the question asks about, in the same phrase
        (no punctuation between): "lawyer Louise Christian", "Capgemini's principal consultant", "187 goals";
        and of those, the ones the noun names: right after it ("Dutch firm Tulip Computers") or opening
        the name ("Operation Buccaneer", "Contractor Halvorsen & Pike Engineering" opening a sentence), in
        apposition to it ("De Telegraaf, a daily Amsterdam newspaper", "Perm 35 - a labour camp") or,
        unless it is a person's, a name follows or the name is a place's, right before it ("the Power
        inquiry", "Lusaka's Independence stadium"; not "Chelsea striker", "Westlife track Flying
        Without Wings", "the London firm"). A date
        beside "year" is no answer for it ("£1bn a year by 2008"), nor a name before a plural ("13 US cities")."""
        if not wanted.head or not entities or wanted.name == "date":
            return frozenset(), frozenset()
        words, stems = self._words(sentence)
        at = self._head_at(stems, wanted)
        one = singular(wanted.head) == wanted.head
        near, after = set(), set()
        spans = {entity: _word_span(words, entity) for entity in entities}
        followed = {h for h in at for first, _ in spans.values() if first == h + 1}  # "Westlife track Flying Without Wings"
        for entity, (first, last) in spans.items():
            for h in at:
                if h == first and first < last and entity.label in PROPER_NAMES:  # the name opens with it: "Contractor Halvorsen & Pike"
                    near.add(entity)
                    after.add(entity)
                    continue
                gap = first - h if h < first else h - last  # 1: the noun is right beside the name
                noun = words[h].group(0).lower()
                if gap < 1 or h == last + 1 and one and singular(noun) != noun:
                    continue
                between = sentence[min(entity.end, words[h].end()) : max(entity.start, words[h].start())]
                apposition = bool(_APPOSITION.fullmatch(between))
                if gap <= BESIDE_WORDS and not _PHRASE_BREAK.search(between) or apposition:
                    near.add(entity)
                    before = h == last + 1 and wanted.name != "person" and entity.label not in _WHERE_FROM and h not in followed
                    if h == first - 1 or before or apposition:
                        after.add(entity)
        return frozenset(near), frozenset(after)

    def _head_at(self, stems: list[str], wanted: AnswerType) -> list[int]:
        """Where the noun asked about stands in a sentence; where it stands more than once, the
        places that share most of the words before it in the question ("assistant referee Paul
        Norman", not "referee Alan Wiley"; "fly-half", not "scrum-half")."""
        targets = self._head_stems(wanted.head)
        at = [i for i, stem in enumerate(stems) if stem in targets]
        before = self.index.stem([*wanted.modifiers, *wanted.head.split("-")[:-1]])[::-1]  # nearest first

        def shared(h: int) -> int:  # how many of those words stand right before this place, in order
            k = 0
            while k < len(before) and k < h and stems[h - 1 - k] == before[k]:
                k += 1
            return k

        most = max(map(shared, at), default=0)
        return [h for h in at if shared(h) == most]

    def _without_head(self, sentence: str, entities: tuple[Entity, ...], head: str | None) -> tuple[Entity, ...]:
        """A person's name that opens with the noun asked about loses it ("Lawyer Louise Christian"
        → "Louise Christian"), which then stands right before it; in other names the noun is part
        of the name ("Operation Buccaneer")."""
        if not head:
            return entities
        targets = self._head_stems(head)
        out = []
        for entity in entities:
            first = re.match(r"(\w+)\s+", sentence[entity.start : entity.end])
            if entity.label == "PERSON" and first and self.index.stem([first.group(1).lower()])[0] in targets:
                entity = Entity(entity.start + first.end(), entity.end, entity.label)
            out.append(entity)
        return tuple(out)

    def _head_stems(self, head: str) -> set[str]:
        return set(self.index.stem(sorted(_head_nouns(head))))

    def _words(self, text: str) -> tuple[list[re.Match], list[str]]:
        """The words of a text and their stems as question terms have them ("IT" kept as written)."""
        words = list(re.finditer(r"\w+", text))
        stems = self.index.stem([w.group(0).lower() for w in words])
        return words, [w.group(0) if _STOPWORD_ACRONYM.fullmatch(w.group(0)) else stem for w, stem in zip(words, stems)]

    def _named_in_question(self, phrase: str, terms: dict, place: bool = False) -> bool:
        """Every word of the phrase is in the question ("Mr Brown" when it names Gordon Brown,
        "Lenovo Group" when it names Lenovo), or, for a place, its people's word is ("South
        Australia" when it asks about a South Australian mine, "Europe" for a European country)."""
        tokens = set(self.index.tokenize([_COMPANY_SUFFIX.sub("", _HONORIFIC.sub("", phrase))])[0])
        return bool(tokens) and all(t in terms or place and any(_demonym_of(term, t) for term in terms) for t in tokens)

    def _answer(self, best: Candidate, ranking: Ranking) -> Answer:
        passage = best.passage
        start, end = best.start - passage.chunk.start, best.end - passage.chunk.start
        wanted = ranking.wanted
        phrase = (_reason(best.text) if wanted.name == "reason" else self._phrase(best, ranking)) if wanted else None
        if phrase and phrase in best.after_head:
            phrase = self._with_head_noun(best, phrase, wanted)  # "the Power inquiry"
        if phrase and wanted.head and singular(wanted.head) != wanted.head:
            phrase = _with_listed(best, phrase)  # "Which councillors …": all of them
        elif phrase and wanted.name == "person" and not wanted.head and phrase.label == "PERSON":
            listed = _with_listed(best, phrase, _AND)  # "Who voted against?": "Maria Lopez and Kevin Doyle"
            others = [best.text[e.start : e.end] for e in best.entities if listed.start <= e.start < e.end <= listed.end]
            named = any(self._named_in_question(o, ranking.terms) or _already_given(o, ranking.avoid) for o in others)
            phrase = phrase if named else listed  # not with one the question names ("Who did Mauresmo beat?") or given before ("Who else …?")
        if phrase and wanted.name in ("measure", "size"):
            phrase = _with_listed(best, phrase, _DIMENSIONS_JOIN)  # "12cm by 7.4cm"
        if phrase and wanted.name in ("place", "venue") and not wanted.head:
            phrase = self._within_place(best, phrase, ranking)
        if phrase:
            phrase = _with_unit(best.text, phrase, wanted)
            return Answer(best.text[phrase.start : phrase.end], start + phrase.start, start + phrase.end, confidence(best, ranking), passage, start, end, phrase.label)
        return Answer(best.text, start, end, confidence(best, ranking), passage, start, end)

    def _with_head_noun(self, candidate: Candidate, entity: Entity, wanted: AnswerType) -> Entity:
        """A lone word the tagger gave no kind, which the noun asked about follows, is named with it:
        "Power" of "the Power inquiry" is no inquiry's name alone, nor "Independence" of
        "Independence stadium" (but "Chelsea" of "the Chelsea team" is)."""
        noun = re.match(r"\s+([a-z][\w-]*)", candidate.text[entity.end :])
        lone = entity.label == UNLABELLED and " " not in candidate.text[entity.start : entity.end]
        if lone and noun and noun.group(1) in _head_nouns(wanted.head):
            return Entity(entity.start, entity.end + noun.end(), entity.label)
        return entity

    def _within_place(self, candidate: Candidate, entity: Entity, ranking: Ranking) -> Entity:
        """A place with the site "at" leads before it: "at Gleneagles in Scotland", "at the
        Millennium Dome in Greenwich" ("where" favours the place after "in"); not a site the
        question names ("Where is Jack's Snooker Hall?"), nor a competition after "in"."""
        if entity.label not in _PLACES:
            return entity
        for site in candidate.entities:
            at = candidate.text[site.end : entity.start] == " in " and _AT_SITE.search(candidate.text, 0, site.start)
            if at and site.label not in _NOT_SITES and not self._named_in_question(candidate.text[site.start : site.end], ranking.terms):
                return Entity(site.start, entity.end, entity.label)
        return entity

    def _phrase(self, best: Candidate, ranking: Ranking) -> Entity | None:
        """The best-fitting entity of the asked type, nearest to the question's own words in the sentence."""
        words, stems = self._words(best.text)
        anchors = [i for i, stem in enumerate(stems) if stem in (ranking.asked or ranking.terms)]
        scored = []
        for entity in best.entities:
            weight = _weight(entity, ranking.wanted, best)
            if weight < PHRASE_MIN_WEIGHT or not self._could_answer(best.text, entity, ranking):
                continue
            phrase = best.text[entity.start : entity.end]
            specific = bool(_SPECIFIC.search(phrase))  # "1 February 1995" over "10 years ago"
            first, last = _word_span(words, entity)
            distance = min((min(abs(a - first), abs(a - last)) for a in anchors), default=0)
            beside = entity in best.near_head  # "a weight limit of 18 tonnes"
            led = entity in best.after_preposition  # "By what year": "by 2010"
            ratio = re.fullmatch(_COUNT_WORD, phrase, re.I) and _RATIO.match(best.text, entity.end)  # "One in 10"
            baseline = bool(_BASELINE.search(best.text, 0, entity.start) or ratio)
            converted = entity.label == "MONEY" and any(  # "$2bn (£1.1bn)": the first is the amount
                other.label == "MONEY" and _CONVERSION.fullmatch(best.text, other.end, entity.start) for other in best.entities
            )
            scored.append((weight - 0.02 * distance + 0.1 * (specific + led) + 0.2 * beside - 0.2 * (baseline or converted), entity))
        return _fullest(best, max(scored, key=lambda pair: pair[0])[1]) if scored else None


def _contenders(passages: list[Passage]) -> list[list[Passage]]:
    """The passages as retrieved, and for each other story whose best passage scores within
    CLOSE_STORIES of the first, the same passages with that story's first: stories on one topic
    are retrieved almost alike, and which holds the answer the sentences tell better than the
    retrieval scores."""
    if not passages or passages[0].score <= 0:
        return [passages]
    floor = (1 - CLOSE_STORIES) * passages[0].score
    stories = list(dict.fromkeys(p.article.id for p in passages if p.score >= floor))[1:]
    return [passages] + [[p for p in passages if p.article.id == story] + [p for p in passages if p.article.id != story] for story in stories]


def question_terms(index: ArticleIndex, question: str) -> dict[str, float]:
    """The question's words that tell passages apart (stemmed, as BM25 has them), with their rarity."""
    asking = set(index.tokenize([" ".join(_HOW_WORD.findall(question))])[0]) if _HOW_WORD.search(question) else set()
    tokens = [t for t in index.tokenize([question])[0] if t not in _QUESTION_WORDS and t not in asking]
    return index.idf(list(dict.fromkeys(tokens)))


def _head_nouns(head: str) -> set[str]:
    """The noun asked about and the words news copy uses for it ("film": "movie")."""
    noun = head.split("-")[-1]  # "think-tank" → "tank"
    return {noun}.union(*(group for group in _SAME_NOUNS if noun in group or singular(noun) in group))


def _unshouted(text: str) -> str:
    """A text typed in capitals, as the tagger reads it best: its capitals tell no names, nor
    acronyms ("WHO IS THE MAYOR?")."""
    return text.lower() if text.isupper() else text


def _shortlist(candidates: list[Candidate]) -> list[Candidate]:
    """The sentences worth embedding and tagging: those that cover most of the question's terms,
    and the story's first sentence, which often holds the key facts but whose words, all naming
    the story, count little."""
    shortlist = sorted(candidates, key=lambda c: -(c.terms + 0.5 * c.context + 0.2 * c.rank))[:SHORTLIST]
    first = min(candidates, key=lambda c: c.start)
    return shortlist + [first] if first.start == 0 and first not in shortlist else shortlist


def _weight(entity: Entity, wanted: AnswerType, candidate: Candidate) -> float:
    """How well an entity's label fits the asked type. A name beside the noun asked about fits
    better ("consultancy group Capgemini" names a group, whatever kind the tagger gave it); a
    relative date ("a week ago", "Wednesday") less than one a reader can place ("28 January")."""
    weight = wanted.labels.get(entity.label, 0.0)
    text = candidate.text[entity.start : entity.end]
    if wanted.name == "date" and entity.label == "DATE" and not (_SPECIFIC.search(text) or _YEAR.fullmatch(text)):
        weight *= RELATIVE_DATE
    if wanted.name == "elapsed" and entity.label == "DATE" and not _AGO.search(text):
        weight *= POINT_IN_TIME  # "How long ago …": "two years ago", not "1990"
    if wanted.head in ("year", "years") and entity.label == "DATE" and not _YEAR.search(text):
        weight *= POINT_IN_TIME  # "Since which year?": not "November"
    if wanted.name in ("duration", "length") and entity.label == "DATE" and (not _TIME_SPAN.search(text) or _THIS_TIME.fullmatch(text) or _AGO.search(text)):
        weight *= POINT_IN_TIME  # "How long …": "two to three weeks", not "Tuesday" (a thing's age is one: "the 15-year-old ban")
    if wanted.name in ("duration", "length") and _AGE.search(text) and _AGED_ONE.match(candidate.text, entity.end):
        weight *= POINT_IN_TIME  # "How long …": not "62-year-old Sir Paul" (a thing's age is a span: "the 15-year-old ban")
    if wanted.name == "age" and (_AGE.search(text) or _AGE_IN_COMMAS.fullmatch(candidate.text, max(0, entity.start - 2), entity.end + 1)
                                 or _AGED_BEFORE.search(candidate.text, 0, entity.start)):
        weight = 1.0  # "How old …": "a 28-year-old", "Glenn Hoddle, 47,", "aged 31"
    elif wanted.name == "age" and entity.label == "DATE" and not re.fullmatch(r"\d{1,3}", text):
        weight *= POINT_IN_TIME  # not "a four-year contract" (a bare "34" tagged a date is an age)
    if wanted.head and singular(wanted.head) in _TOWNS and entity.label == "GPE" and is_country(text):
        weight *= COUNTRY_AS_TOWN  # "In which city …": not "the US"
    if entity.label == "CARDINAL" and text.lower() == "one" and _PRONOUN_AFTER.match(candidate.text, entity.end):
        weight *= PRONOUN_ONE  # "one of the", "one for the website": a pronoun, not a count
    called = bool(_CALLED.search(candidate.text, 0, entity.start))  # "a tool called Picasa": the words say it is a name
    if weight and entity.label in PROPER_NAMES and (entity in candidate.after_head or called and wanted.name in ("name", "work")):
        return 1.0  # "think-tank Demos": the noun says what the name is
    if weight and entity.label in PROPER_NAMES and (entity in candidate.near_head or called):
        return min(1.0, weight + BESIDE_BONUS)
    return weight


def _reason(sentence: str) -> Entity | None:
    """The clause a reason word opens, to the clause's end ("because of its historical
    significance"); None when the reason stands before its word ("A knee injury forced him out")."""
    cue = _REASON_WORD.search(sentence)
    if not cue:
        return None
    found = _CLAUSE_END.search(sentence, cue.end())
    end = found.start() if found else len(sentence)
    if not sentence[: cue.start()].strip(" \"'“‘"):  # "Because the chip is new, it …": the clause ends at its comma
        comma = sentence.find(", ", cue.end())
        end = min(end, comma) if comma >= 0 else end
    phrase = sentence[cue.start() : end].rstrip(" .,;:!?")
    balanced = phrase.count("(") == phrase.count(")") and phrase.count('"') % 2 == 0 and phrase.count("“") == phrase.count("”")
    return Entity(cue.start(), cue.start() + len(phrase), "REASON") if 3 <= len(phrase.split()) <= REASON_WORDS and balanced else None


def _fullest(candidate: Candidate, entity: Entity) -> Entity:
    """The fullest mention of the same name in the sentence: "Gerhard Florin" for a later "Florin"."""
    name = candidate.text[entity.start : entity.end]
    fuller = [e for e in candidate.entities if e.end - e.start > len(name) and candidate.text[e.start : e.end].endswith(" " + name)]
    return fuller[0] if fuller else entity


def _with_unit(text: str, entity: Entity, wanted: AnswerType) -> Entity:
    """For a length or span of time, a count with what it counts ("nearly 30 pages")."""
    if entity.label == "CARDINAL" and wanted.name in ("length", "duration", "measure", "size") and (noun := _COUNTED.match(text, entity.end)):
        return Entity(entity.start, noun.end(), "QUANTITY")
    return entity


def _terms_near(words: list[re.Match], stems: list[str], entity: Entity, terms: dict[str, float]) -> float:
    """The share of the question's term weight near an entity, each term by its nearest place,
    counting less the further it stands (nothing from AROUND_WORDS + 1 words on)."""
    first, last = _word_span(words, entity)
    gaps: dict[str, int] = {}
    for i, stem in enumerate(stems):
        if stem in terms and not first <= i <= last:
            gaps[stem] = min(gaps.get(stem, len(stems)), first - i if i < first else i - last)
    near = sum(terms[t] * max(0.0, 1 - (gap - 1) / AROUND_WORDS) for t, gap in gaps.items())
    return near / (sum(terms.values()) or 1.0)


def _demonym_of(term: str, stem: str) -> bool:
    """A people's word made from a place's stem: "australian", "european", "indian"."""
    return len(stem) >= 4 and term.startswith(stem) and term[len(stem) :] in _DEMONYM_ENDINGS


def _already_given(phrase: str, given: frozenset[str]) -> bool:
    """The phrase is, holds or is part of an answer given before: "Bondi" and "Enrico Bondi",
    "the Vestey Group" and "Vestey Group"."""
    words = _content_words(phrase)
    return bool(words) and any((other := _content_words(answer)) and (words <= other or other <= words) for answer in given)


def _content_words(text: str) -> set[str]:
    return set(_WORDS.findall(text.lower())) - {"the", "a", "an"}


def _led_by(text: str, entity: Entity, preposition: str) -> bool:
    """Whether the preposition (and perhaps "the") stands right before the entity."""
    return bool(re.search(rf"\b(?:{preposition})\s+(?:the\s+)?$", text[: entity.start], re.I))


def _word_span(words: list[re.Match], entity: Entity) -> tuple[int, int]:
    """The first and last word of an entity, as word positions in its sentence."""
    inside = [i for i, w in enumerate(words) if entity.start <= w.start() < entity.end] or [0]
    return inside[0], inside[-1]


def _with_listed(candidate: Candidate, entity: Entity, join: re.Pattern = _LIST_JOIN) -> Entity:
    """The entity with the ones of its kind listed before and after it ("Maria Lopez and Kevin
    Doyle", "Sweden and Ireland"); any names count as one kind, as the tagger often labels the
    items of one list apart ("Splash and Apollo 13")."""
    def listed(other: Entity, between: str) -> bool:  # names of other labels only with "and": "Paris, Microsoft said" is no list
        names = {other.label, entity.label} <= set(PROPER_NAMES) and "," not in between
        return bool(join.fullmatch(between)) and (other.label == entity.label or names)

    start, end = entity.start, entity.end
    for other in reversed(candidate.entities):
        if other.end <= start and listed(other, candidate.text[other.end : start]):
            start = other.start
    for other in candidate.entities:
        if other.start >= end and listed(other, candidate.text[end : other.start]):
            end = other.end
    return Entity(start, end, entity.label)


def _stopword_acronyms(question: str, terms: dict[str, float]) -> dict[str, float]:
    """Acronyms the tokenizer drops as stopwords ("IT" of "job cuts in IT"), kept as written, with
    a term's average weight: they may be what tells the answer sentence apart."""
    found = set(_STOPWORD_ACRONYM.findall(question))
    return dict.fromkeys(found, sum(terms.values()) / len(terms)) if found and terms else {}


def _lone_names(question: str) -> frozenset[str]:
    """The capitalised words of a question that stand alone, but for a title ("Okafor", "Mr
    Reiner"): a person it names by surname, whose full name ("Linda Okafor") is no answer. Not
    "Williams" of "Venus Williams", whose sister may be, nor "Miller" of "Miller & Daughters"."""
    words = re.findall(r"[A-Za-z][\w'’-]*|&", question)
    return frozenset(
        _POSSESSIVE.sub("", word).lower() for before, word, after in zip(words, words[1:], words[2:] + [""])
        if word[0].isupper() and not (before[0].isupper() and before.rstrip(".") not in HONORIFICS)
        and not (after[:1].isupper() or after == "&")
    )


def _abbreviations(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """The acronyms of a text ("DMB") and the initials of its runs of capitalised words
    ("British Airways" → "BA"), to know a name the question gives in the other form."""
    initials = set()
    for run in _CAPITALISED_RUN.finditer(text):
        letters = "".join(w[0] for w in run.group(0).split() if w[0].isupper())
        initials.update(letters[i:j] for i in range(len(letters)) for j in range(i + 2, len(letters) + 1))
    return frozenset(_ACRONYM.findall(text)), frozenset(initials)


def _abbreviates(phrase: str, question: tuple[frozenset[str], frozenset[str]]) -> bool:
    """Whether a phrase is the question's name as initials ("BA" for British Airways) or spells
    out one of its acronyms ("Digital Multimedia Broadcasting" for DMB)."""
    acronyms, initials = question
    if _ACRONYM.fullmatch(phrase):
        return phrase in initials
    return "".join(w[0] for w in phrase.split() if w[0].isupper()) in acronyms


def _lead(text: str) -> str:
    """The story's first paragraph (capped): with the headline, it says what the story is about."""
    return text[:LEAD_CHARS].split("\n", 1)[0]
