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
_WORD = re.compile(r"\w+")
_PROPER_NOUN = re.compile(r"(?<=\w )[A-Z][\w'’-]+")  # a capitalised word that does not open the question
_CALENDAR = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march",
             "april", "may", "june", "july", "august", "september", "october", "november", "december"}


@dataclass(frozen=True)
class FollowUp:
    query: str  # what to search for
    context: str | None = None  # the conversation it leans on (the start of `query`)
    prefer: frozenset[str] = frozenset()  # articles the conversation is about
    avoid: frozenset[str] = frozenset()  # answers already given: a follow-up asks something new
    may_stand_alone: bool = False  # it names something the conversation has not: it may be a new question


def resolve(question: str, history: Sequence[Turn] | None) -> FollowUp:
    """In a conversation a question is searched together with the previous question as that was
    searched (so a chain keeps its subject), preferring the article that answered it and not giving
    an earlier answer again. One that names something the conversation has not may also be a new
    question, unless it goes on with "and…" or "what about…"; one that names nothing new is about
    what the conversation is about ("How old is he?", "Which contractor did the work?")."""
    if not history:
        return FollowUp(question)
    previous_question, previous_reply = history[-1]
    given = [r.answer for _, r in history if r is not None and r.found and r.answer]
    asked = previous_reply.query if previous_reply and previous_reply.query else previous_question
    context = asked[-MAX_CONTEXT_CHARS:]
    # what the conversation is about now: its chain of questions and the last answer, not what an earlier subject named
    said = {w.lower() for w in _WORD.findall(" ".join([context, *(given[-1:] if previous_reply and previous_reply.found else [])]))}
    names_new = any(n.lower() not in _CALENDAR and not _said(n, said) for n in _PROPER_NOUN.findall(question))
    prefer = frozenset(c.article_id for c in (previous_reply.citations[:1] if previous_reply else ()))
    avoid = frozenset(a for a in given if len(a.split()) <= MAX_AVOIDED_WORDS)
    may_stand_alone = names_new and not _CONTINUES.search(question)
    return FollowUp(f"{context} {question}", context, prefer, avoid, may_stand_alone)


def _said(name: str, words: set[str]) -> bool:
    """Whether the conversation has said the name: "Ireland's" as "Ireland", "O'Gara" as "O'Gara"."""
    return all(w in words for w in _WORD.findall(re.sub(r"['’]s$", "", name).lower()))
