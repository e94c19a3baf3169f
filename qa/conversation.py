"""Follow-up questions: resolved with the chat history before retrieval."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qa.read import question_terms
from qa.schema import Reply

if TYPE_CHECKING:
    from qa.index import ArticleIndex

Turn = tuple[str, Reply | None]  # (question, its reply) in a conversation
MAX_CONTEXT_CHARS = 400  # how much earlier conversation a follow-up carries into the search
MAX_AVOIDED_WORDS = 8  # an earlier answer this short is a phrase not to give again (a longer one is a whole sentence)
NEW_SUBJECT_SHARE = 0.5  # of a follow-up's term weight the conversation's article lacks: it may be a new question
RARE = 0.5  # a word this rare, as a share of the rarest's weight (a name, mostly), that the article lacks may start a new subject despite a pronoun
UNSEEN = "\x00"  # a token no passage has

_CONTINUES = re.compile(r"^(and|but|also|so|what about|how about|and what|what else)\b", re.I)  # surely a follow-up
_PRONOUN = re.compile(r"\b(he|him|his|she|her|hers|it|its|they|them|their|theirs)\b", re.I)
_ANOTHER = re.compile(r"\b(else|other|another|besides)\b", re.I)
_CALENDAR = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "January", "February", "March",
             "April", "May", "June", "July", "August", "September", "October", "November", "December",
             "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec", "GMT", "BST", "UTC"}
_CURRENCY = re.compile(r"[A-Z]{1,3}\$")  # "US$27 million", "C$5bn"
FIGURES = {"MONEY", "CARDINAL", "QUANTITY", "PERCENT", "DATE", "TIME", "ORDINAL"}  # entity labels of figures and dates


def figure_or_date(reply: Reply) -> bool:
    """Whether an answer is a figure or a date, which no pronoun stands for ("$38.6 million",
    "two people", "12 March"): by its entity label, else (a reader that gives none) by its words:
    no capitalised word but a month's, a day's or a currency's ("US$"), and a digit or one of those.
    Not a name with a number or a month in it ("Channel 4", "Theresa May")."""
    if reply.kind:
        return reply.kind in FIGURES
    capitalised = [w for w in re.findall(r"\b[A-Z][\w'’.-]*\$?", reply.answer or "") if not _CURRENCY.fullmatch(w)]
    return all(word.rstrip(".") in _CALENDAR for word in capitalised) and bool(capitalised or re.search(r"\d", reply.answer or ""))


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
    given = [r for _, r in history if r is not None and r.found and r.answer and len(r.answer.split()) <= MAX_AVOIDED_WORDS]
    if _ANOTHER.search(question):  # "Who else …?": not whom it named already
        avoid = frozenset(r.answer for r in given)
    else:  # "Who appointed him?": not the name "him" stands for; "How much did it cost?" again: the same amount
        avoid = frozenset(r.answer for r in given if pronoun and not figure_or_date(r))
    return FollowUp(f"{context} {question}", context, prefer, avoid, bool(_CONTINUES.search(question)), pronoun)


def subject_change(question: str, followup: FollowUp, index: ArticleIndex) -> str:
    """Whether a question in a conversation keeps its subject ("kept"), may start a new one and is
    worth reading by itself too ("maybe"), or surely starts one, so that the conversation's story is
    not read for it ("new").

    "maybe": most of its term weight is missing from the conversation's article ("how much was
    raised by marlow robotics?" after a bridge's story), whatever its capitals, while a follow-up
    mostly uses the story's words ("Which contractor did the work?"). With a pronoun or an opening
    "and" or "what about", only a rare word missing counts ("How much did it cost?" stays with the
    conversation; "What about the Norbury Water attack?" may not).

    "new": besides, no pronoun, no opening "and" and no "else", and a rare name among the missing
    words ("What is the capital of France?" after a bridge's story, which has a "capital reserve");
    not a rare common word ("the name of the director") nor an acronym the story may spell out
    ("Which MEP …")."""
    rare = _subject(question, followup, index)
    tied = followup.pronoun or followup.continues
    if rare is None or not rare and tied:
        return "kept"
    if tied or _ANOTHER.search(question) or not followup.prefer:
        return "maybe"
    words = re.findall(r"[\w'’-]+", question)[1:]  # not the opening word, capitalised anyway
    names = set(index.tokenize([" ".join(w for w in words if w[0].isupper() and not w.isupper())])[0])
    return "new" if names & rare.keys() else "maybe"


def _subject(question: str, followup: FollowUp, index: ArticleIndex) -> dict[str, float] | None:
    """None when the question keeps the conversation's subject (most of its term weight is in the
    conversation's story); else its rare words the story lacks (empty: only common ones)."""
    if not followup.context:
        return None
    terms, ceiling = question_terms(index, question), index.idf([UNSEEN])[UNSEEN]  # a word no passage has: the rarest
    stories = [a for a in (index.store.article(i) for i in followup.prefer) if a is not None]
    if not stories:
        return dict(terms)
    known = set().union(*(index.tokenize([f"{a.title}\n{a.text}"])[0] for a in stories))
    unknown = {t: w for t, w in terms.items() if t not in known}
    if not sum(unknown.values()) >= NEW_SUBJECT_SHARE * sum(terms.values()) > 0:
        return None
    return {t: w for t, w in unknown.items() if w >= RARE * ceiling}


def too_vague(question: str, followup: FollowUp, index: ArticleIndex) -> bool:
    """A first question whose subject is a pronoun and that says nothing else of what it is about
    ("How much did it cost?"): no story can be told to be the one meant."""
    return followup.context is None and followup.pronoun and len(question_terms(index, question)) <= 1
