"""What kind of answer a question asks for, read from its wording."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Expected entity labels, each with a weight (a "who" question is first a person, then an organisation).
PERSON = {"PERSON": 1.0, "ORG": 0.6, "NORP": 0.3}
ORG = {"ORG": 1.0, "PERSON": 0.3, "PRODUCT": 0.3}
PLACE = {"GPE": 1.0, "LOC": 1.0, "FAC": 0.9, "ORG": 0.3}
DATE = {"DATE": 1.0, "TIME": 0.8}
MONEY = {"MONEY": 1.0, "CARDINAL": 0.4, "PERCENT": 0.3, "QUANTITY": 0.3}
PERCENT = {"PERCENT": 1.0, "MONEY": 0.5, "CARDINAL": 0.4, "QUANTITY": 0.3}
COUNT = {"CARDINAL": 1.0, "QUANTITY": 0.9, "MONEY": 0.5, "PERCENT": 0.5, "DATE": 0.2}
DURATION = {"DATE": 1.0, "TIME": 1.0, "QUANTITY": 0.6, "CARDINAL": 0.4}
WORK = {"WORK_OF_ART": 1.0, "PRODUCT": 0.6, "EVENT": 0.4, "ORG": 0.3}
NATIONALITY = {"NORP": 1.0, "GPE": 0.6}

_ORG_NOUNS = (
    r"company|firm|organi[sz]ation|group|club|team|side|party|band|bank|airline|network|agency|channel|"
    r"newspaper|paper|studio|label|retailer|brand|department|university|body|broadcaster|maker|carrier|"
    r"operator|insurer|regulator|charity|union|council|court|ministry|committee|school|website|supplier"
)
_PLACE_NOUNS = r"city|country|town|village|region|state|county|place|venue|stadium|continent|nation|capital|island|area|street|district|province"
_MONEY_WORDS = r"collect\w*|donat\w*|gift|grant|award|prize|cost|pay|paid|price|worth|spend|spent|raise|raised|earn|earned|fund|budget|value|valued|charge|fine|fined|sell|sold|buy|bought|invest|profit|loss|revenue|sales|salary|deal|bid|money|cash|£|\$|€"
_WH = r"(?:what|which)"

# Each pattern is matched at the question's first wh-word (its wh-phrase), so that a relative
# "whose" or "where" later in the sentence does not decide the type.
_RULES: list[tuple[str, str, dict[str, float]]] = [
    ("organisation", rf"{_WH}\s+(?:\w+\s+)?(?:{_ORG_NOUNS})\b", ORG),
    ("place", rf"{_WH}\s+(?:\w+\s+)?(?:{_PLACE_NOUNS})\b|where\b|in what (?:part|location)\b", PLACE),
    ("date", rf"{_WH}\s+(?:year|date|day|month|decade|season|week|century)\b|when\b|how soon\b", DATE),
    ("number", r"how (?:long|tall|wide|big|large|heavy) (?:is|are|was|were)\b", COUNT),
    ("duration", r"how long\b|how old\b|what age\b|for how many (?:years|months|weeks|days)\b", DURATION),
    ("percentage", r"(?:what|which)\s+(?:percentage|percent|proportion|share|rate)\b|by how much\b|how much\b.*%", PERCENT),
    ("amount", rf"how much\b(?=.*\b(?:{_MONEY_WORDS}))|{_WH}\s+(?:\w+\s+)?(?:price|sum|fee|amount|fine|salary|bill|value|cost|figure)\b", MONEY),
    ("number", r"how (?:many|much|far|big|large|high|tall|fast|heavy)\b|(?:what|which) (?:number|total|size|score|margin)\b", COUNT),
    ("person", r"who(?:m|se)?\b|(?:what|which) (?:\w+ )?(?:person|man|woman|player|minister|chief|boss|executive|official|spokes\w+|star|singer|actor|actress|director|leader|president|manager|coach|chairman|founder|author|writer|winner)\b", PERSON),
    ("work", r"(?:what|which) (?:film|movie|book|show|album|song|game|programme|program|series|play|novel|title)\b", WORK),
    ("nationality", r"what nationality\b", NATIONALITY),
]
_COMPILED = [(name, re.compile(pattern, re.I), labels) for name, pattern, labels in _RULES]
_WH_WORD = re.compile(r"\b(?:who|whom|whose|what|when|where|which|how)\b", re.I)


@dataclass(frozen=True)
class AnswerType:
    name: str
    labels: dict  # entity label → weight


def expected_answer(question: str) -> AnswerType | None:
    """The entity labels a question asks for; None for open questions (what happened, why)."""
    wh = _WH_WORD.search(question)
    if not wh:
        return None
    phrase = question[wh.start() :]
    for name, pattern, labels in _COMPILED:
        if pattern.match(phrase):
            return AnswerType(name, labels)
    return None


_LATEST = re.compile(r"\b(latest|most recent|newest|current(?:ly)?|now|still|recent(?:ly)?|today|nowadays|so far|as of)\b", re.I)


def asks_for_latest(question: str) -> bool:
    """Questions about the present state of things, where newer articles should win ties."""
    return bool(_LATEST.search(question))
