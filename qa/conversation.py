"""Follow-up questions: resolved with the chat history before retrieval."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from qa.schema import Reply

Turn = tuple[str, Reply | None]  # (question, its reply) in a conversation
MAX_CONTEXT_CHARS = 400  # how much earlier conversation a follow-up carries into the search

# Words that lean on something said before ("How much did it cost?", "Who else was there?").
_LEANING = re.compile(
    r"\b(it|its|they|them|their|theirs|he|him|his|she|her|hers|that|this|those|these|there|then|"
    r"the (?:firm|company|club|team|group|government|minister|deal|bill|plan|event|project|film|show|match|race|attack))\b",
    re.I,
)
_CONTINUES = re.compile(r"^(and|but|also|so|what about|how about|and what|what else)\b", re.I)
_ANOTHER = re.compile(r"\b(else|other|another|besides|apart from)\b", re.I)
_WORD = re.compile(r"\w+")
_PROPER_NOUN = re.compile(r"(?<=\w )[A-Z][\w'’-]+")  # a capitalised word that does not open the question


@dataclass(frozen=True)
class FollowUp:
    query: str  # what to search for
    prefer: frozenset[str] = frozenset()  # articles the conversation is about
    avoid: frozenset[str] = frozenset()  # answers already given, when another one is asked for


def resolve(question: str, history: Sequence[Turn] | None) -> FollowUp:
    """A follow-up that leans on the conversation is searched together with the question it
    follows (and prefers the articles that answered it); a self-contained question is searched
    as it is."""
    if not history:
        return FollowUp(question)
    previous_question, previous_reply = history[-1]
    names_its_subject = _PROPER_NOUN.search(question) is not None  # "…the Gullhaven ferry carry on its first day?"
    leans = _CONTINUES.search(question) or (
        not names_its_subject and (_LEANING.search(question) or len(_WORD.findall(question)) <= 4)
    )
    if not leans:
        return FollowUp(question)
    context = (previous_reply.query if previous_reply and previous_reply.query else previous_question)[-MAX_CONTEXT_CHARS:]
    prefer = frozenset(c.article_id for c in (previous_reply.citations[:1] if previous_reply else ()))
    avoid = frozenset()
    if _ANOTHER.search(question):
        avoid = frozenset(r.answer for _, r in history if r is not None and r.found and r.answer)
    return FollowUp(f"{context} {question}", prefer, avoid)
