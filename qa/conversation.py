"""Follow-up questions: resolved with the chat history before retrieval."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from qa.schema import Reply

Turn = tuple[str, Reply | None]  # (question, its reply) in a conversation
MAX_CONTEXT_CHARS = 400  # how much earlier conversation a follow-up carries into the search
MAX_AVOIDED_WORDS = 8  # an earlier answer this short is a phrase not to give again (a longer one is a whole sentence)

_CONTINUES = re.compile(r"^(and|but|also|so|what about|how about|and what|what else)\b", re.I)  # surely a follow-up
_PRONOUN = re.compile(r"\b(he|him|his|she|her|hers|it|its|they|them|their|theirs)\b", re.I)
_ANOTHER = re.compile(r"\b(else|other|another|besides)\b", re.I)


@dataclass(frozen=True)
class FollowUp:
    query: str  # what to search for
    context: str | None = None  # the conversation it leans on (the start of `query`)
    prefer: frozenset[str] = frozenset()  # articles the conversation is about
    avoid: frozenset[str] = frozenset()  # answers already given, which it does not ask for again
    continues: bool = False  # it goes on with "and…" or "what about…": surely a follow-up
    pronoun: bool = False  # it has a pronoun, which may stand for what the conversation is about


def resolve(question: str, history: Sequence[Turn] | None) -> FollowUp:
    """In a conversation a question is searched together with the previous question as that was
    searched (so a chain keeps its subject), preferring the article that answered it; one that
    leans on an earlier answer ("Who appointed him?", "Who else …?") does not get it again."""
    if not history:
        return FollowUp(question, pronoun=bool(_PRONOUN.search(question)))
    previous_question, previous_reply = history[-1]
    asked = previous_reply.query if previous_reply and previous_reply.query else previous_question
    context = asked[-MAX_CONTEXT_CHARS:]
    prefer = frozenset(c.article_id for c in (previous_reply.citations[:1] if previous_reply else ()))
    pronoun = bool(_PRONOUN.search(question))
    avoid = frozenset()
    if pronoun or _ANOTHER.search(question):  # it leans on someone or something named before, not asked for again
        given = (r.answer for _, r in history if r is not None and r.found and r.answer)
        avoid = frozenset(a for a in given if len(a.split()) <= MAX_AVOIDED_WORDS)
    return FollowUp(f"{context} {question}", context, prefer, avoid, bool(_CONTINUES.search(question)), pronoun)
