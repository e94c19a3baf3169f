"""What kind of answer a question asks for, read from its wording."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from qa.entities import NAME as UNLABELLED
from qa.entities import PERSON_NOUNS as _PERSON_NOUNS
from qa.entities import Word

_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.I | re.S)
_TAG = re.compile(  # an HTML tag as pasted: a known name, with attributes only as name="value" ("<a penny" is no tag)
    r"</?(?:a|b|i|u|s|em|strong|p|br|hr|span|div|code|pre|h[1-6]|ul|ol|li|font|small|big|sub|sup|mark|del|ins|img|q|blockquote|table|tr|td|th)"
    r"(?:\s+[\w-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s<>]+))*\s*/?>",
    re.I,
)
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")  # Markdown: [text](address)
_PAIRED = re.compile(r"(\*{1,3}|`+|_{1,3})(?=\S)(.+?)(?<=\S)\1(?!\w)")  # Markdown emphasis or code around words


def without_markup(text: str) -> str:
    """A question as words: HTML tags and Markdown marks pasted with it are no terms to search for
    ("**Who** runs the <b>cafe</b>?"); what they hold stays, a script's or style's code does not,
    and a lone mark or bracket is left as it is ("M*A*S*H", "x<y")."""
    return " ".join(_PAIRED.sub(r"\2", _LINK.sub(r"\1", _TAG.sub("", _SCRIPT.sub(" ", text)))).split())


# Expected entity labels, each with a weight (a "who" question is first a person, then an organisation).
PROPER_NAMES = ("PERSON", "ORG", "GPE", "LOC", "FAC", "WORK_OF_ART", "PRODUCT", "EVENT", "LAW", "NORP", "LANGUAGE", UNLABELLED)


def _names(labels: dict[str, float]) -> dict[str, float]:
    """Labels of a question that asks for a name. spaCy's small model often gives a name the
    wrong kind (a firm tagged as a place, a game as a person), so any proper name keeps a share."""
    return {**dict.fromkeys(PROPER_NAMES, 0.25), **labels}


PERSON = _names({"PERSON": 1.0, "ORG": 0.6})
ORG = _names({"ORG": 1.0, UNLABELLED: 0.6})  # the small model misses many firms' and groups' names
TEAM = _names({"ORG": 1.0, "GPE": 0.8, UNLABELLED: 0.6})  # a side is often named for its town ("Newcastle", "Roma")
PLACE = _names({"GPE": 1.0, "LOC": 1.0, "FAC": 0.9})
INSTITUTION = _names({"ORG": 1.0, "FAC": 1.0, "GPE": 0.8, "LOC": 0.8})
DATE = {"DATE": 1.0, "TIME": 0.8}
MONEY = {"MONEY": 1.0, "CARDINAL": 0.4, "PERCENT": 0.3, "QUANTITY": 0.3}
PERCENT = {"PERCENT": 1.0, "MONEY": 0.5, "CARDINAL": 0.4, "QUANTITY": 0.3}
MONEY_OR_QUANTITY = {"MONEY": 1.0, "QUANTITY": 1.0, "CARDINAL": 0.6, "PERCENT": 0.3}
RANK = {"ORDINAL": 1.0, "CARDINAL": 0.7}  # "91st", over "five million" viewers
CHANGE = {"PERCENT": 1.0, "MONEY": 0.9, "QUANTITY": 0.6, "CARDINAL": 0.5}  # "by how much did it rise": 6%, or £2m
LEVEL = {"CARDINAL": 1.0, "MONEY": 1.0, "QUANTITY": 0.9, "PERCENT": 0.9}
COUNT = {"CARDINAL": 1.0, "QUANTITY": 0.9, "MONEY": 0.5, "PERCENT": 0.5, "DATE": 0.2}
SIZE = {"QUANTITY": 1.0, "CARDINAL": 0.8, "MONEY": 0.4, "PERCENT": 0.4}
DURATION = {"DATE": 1.0, "TIME": 1.0, "QUANTITY": 0.6, "CARDINAL": 0.4}
AGE = {"DATE": 1.0, "CARDINAL": 0.4}  # a bare count is seldom an age ("four" of them)
AGE_NOUN = {"DATE": 1.0, "CARDINAL": 0.8}  # … but the noun asks for one ("At what age …": "at 12"; "the pension age": 68)
LENGTH = {"QUANTITY": 1.0, "DATE": 1.0, "TIME": 0.8, "CARDINAL": 0.6}  # "How long is …": metres, or weeks
# a title the recogniser missed is a likely answer for a question asking for a title or name
WORK = _names({"WORK_OF_ART": 1.0, "PRODUCT": 0.6, UNLABELLED: 0.6})
NATIONALITY = {"NORP": 1.0, "GPE": 0.6}
NAME = _names({"PERSON": 0.8, "ORG": 0.8, "WORK_OF_ART": 0.8, "PRODUCT": 0.8, "GPE": 0.6, "LOC": 0.6, "FAC": 0.6, "EVENT": 0.6, "LAW": 0.6, UNLABELLED: 0.6})  # a name of any kind

_ORG_NOUNS = (
    r"company|firm|organisation|organization|group|club|team|side|party|band|bank|airline|network|agency|channel|"
    r"newspaper|paper|studio|label|retailer|brand|department|university|body|broadcaster|maker|carrier|"
    r"operator|insurer|regulator|charity|union|council|court|ministry|committee|school|website|supplier|tank"
)
_PLACE_NOUNS = r"city|country|town|village|region|state|county|place|venue|stadium|continent|nation|capital|island|area|street|district|province|constituency|borough"
_MONEY_WORDS = r"ransom|compensation|reward|payout|loan|aid|funding|rent|tax|collect\w*|donat\w*|gift|grant|award|prize|cost|deficit|surplus|debt|turnover|bonus|wage|fortune|damages|pay|payment|paid|price|worth|spend|spent|raise|raised|earn|earned|fund|budget|value|valued|charge|fine|fined|sell|sold|buy|bought|invest|profit|loss|revenue|sales|salary|deal|bid|money|cash|£|\$|€"
_MONEY_WORD = rf"(?:{_MONEY_WORDS})(?:s|es|d|ed|ing)?(?!\w)"  # "costs", not "Costa Rica" or "taxi"
_CHANGE_VERBS = (
    r"rise|rose|risen|fall|fell|fallen|grow|grew|grown|increase|increased|drop|dropped|climb|climbed|jump|jumped"
    r"|slip|slipped|decline|declined|gain|gained|slump|slumped|shrink|shrank|reduce|reduced"
    r"|rising|falling|growing|increasing|dropping|climbing|jumping|slipping|declining|gaining|slumping|shrinking"
)
_WH = r"(?:what|which)"

# Each pattern is matched at the question's first wh-word (its wh-phrase), so that a relative
# "whose" or "where" later in the sentence does not decide the type.
_RULES: list[tuple[str, str, dict[str, float]]] = [
    ("organisation", rf"{_WH}\s+(?:\w+\s+)?(?:{_ORG_NOUNS})\b", ORG),
    ("rank", r"where\b(?=[^,;]*\b(?:rank|ranks|ranked)\b)", RANK),  # "Where were Scotland ranked?"
    # "Where was she studying?": a school or employer as much as a town
    ("place", r"where\b(?=.*\b(?:stud(?:y|ies|ied|ying)|educated|enrolled|trained|work|worked|working|employed|school|college|university)\b)", INSTITUTION),
    ("place", rf"{_WH}\s+(?:\w+\s+)?(?:{_PLACE_NOUNS})\b|where\b|in what (?:part|location)\b", PLACE),
    ("date", rf"{_WH}\s+(?:year|date|day|month|decade|season|week|weekend|century)\b|when\b|how soon\b", DATE),
    ("elapsed", r"how long ago\b", DATE),  # "two years ago", rather than a date a reader must count from
    ("length", r"how long (?:is|are|was|were)\b", LENGTH),  # "How long is the tunnel?", "How long was he out?"
    # "How big is the farm?": 210 hectares, or a count ("How big was the crowd?"); not "How big was the deficit?"
    ("size", rf"how (?:tall|wide|big|large|heavy|deep) (?:is|are|was|were|will)\b(?![^,;]*\b{_MONEY_WORD})", SIZE),
    ("age", r"how old\b|(?:at\s+)?what age\b", AGE),  # "47", "a 28-year-old"; not "a four-year contract"
    ("duration", r"how long\b|(?:for\s+)?how many (?:years|months|weeks|days|nights|hours|minutes|decades)\b", DURATION),
    ("percentage", r"(?:what|which)\s+(?:percentage|percent|proportion|share|rate)\b|how much\b.*%", PERCENT),
    ("change", rf"by how much\b|how fast (?:\w+\s+){{1,6}}?(?:{_CHANGE_VERBS})\b|how much (?:\w+\s+){{1,6}}?(?:{_CHANGE_VERBS})\b|how much (?:more|less|higher|lower|cheaper|dearer)\b", CHANGE),
    ("size", r"how much\b(?=.*\bweigh(?:s|ed|ing)?\b)", SIZE),  # "How much did the cubs weigh?": 140 grams, not an amount
    ("amount", r"how much\b.*[£$€¥]", MONEY),  # "How much of his £35bn …"
    ("amount", r"what (?:did|does|do|will|would|could|might) (?:[\w'’-]+\s+){1,5}?(?:cost|costs|fetch|fetched)\b", MONEY),  # "What did it cost?"
    # "How much did the film take?": no noun after "how much", so an amount of money
    ("amount", rf"how (?:much|big|large)\b(?=.*\b{_MONEY_WORD})|how much (?:did|does|do|is|was|were|are|will|would|could|has|have|had|can)\b|{_WH}\s+(?:\w+\s+)?(?:price|sum|fee|amount|fine|salary|bill|value|cost|figure)\b", MONEY),
    ("number", r"how (?:many|much|far|big|large|high|tall|fast|heavy)\b|(?:what|which) (?:number|total|size|score|margin)\b", COUNT),
    ("person", rf"who(?:m|se)?\b|(?:what|which) (?:\w+ )?(?:{_PERSON_NOUNS})\b", PERSON),
    ("work", r"(?:what|which) (?:film|movie|book|show|album|song|game|programme|program|series|play|novel|title)\b", WORK),
    ("nationality", r"what nationality\b", NATIONALITY),
    # "What was the firm called before …?", "What did the band call the warehouse?": a name
    ("name", r"what (?:is|was|are|were|will be)\b(?=.*\b(?:called|named|known as|dubbed)(?:\s+(?:before|until|originally|previously|formerly|at first)\b.*)?\W*$)"
             # … not "What did Howard call Brown's Budget?" nor "the Budget": a thing with a name is described
             r"|what (?:did|do|does|will|would) (?:[\w'’&-]+\s+){1,6}?(?:call|(?:re)?name|dub)\s+(?:it|them|(?:the|its|their|his|her)\s+(?-i:[a-z]))", NAME),
]
_COMPILED = [(name, re.compile(pattern, re.I), labels) for name, pattern, labels in _RULES]
# "why" asks only before its verb ("Why did …"), not in a statement ("GM did not say why it settled")
_WH_WORD = re.compile(r"\b(?:who|whom|whose|what|when|where|which|how|why(?=\s*,|\s+(?:did|does|do|is|are|was|were|has|have|had|will|would|could|can|should|might|must|may)\b))\b", re.I)

# "Which <noun>" questions: the noun asked about decides the type; a noun of no listed kind
# asks for a proper name of any kind ("Which pundit …").
MEASURE = {"QUANTITY": 1.0, "CARDINAL": 0.6, "PERCENT": 0.3}
VENUE = _names({"FAC": 1.0, "ORG": 0.8, "GPE": 0.7, "LOC": 0.8})
_HEADS: list[tuple[str, str, dict[str, float]]] = [
    ("person", _PERSON_NOUNS, PERSON),
    ("organisation", "club|team|side|opponent|rival", TEAM),
    ("organisation", _ORG_NOUNS + "|think-tank|institute|exchange|magazine|publisher|giant|developer|manufacturer|government|army", ORG),
    ("venue", "ground|venue|stadium|hotel|arena|theatre|hospital|prison|camp|building|airport|station|church|museum|gallery", VENUE),
    ("place", _PLACE_NOUNS, PLACE),
    ("date", "year|date|day|month|decade|season|week|weekend|century|night|evening|morning|afternoon", DATE),
    ("duration", "time|duration", DURATION),  # "What was her time?": a race time, or a time of day
    ("percentage", "percentage|percent|proportion|share|rate|stake|holding", PERCENT),
    ("amount", "price|sum|fee|amount|fine|salary|bill|value|cost|budget|wage|pay|bonus|fortune|compensation|damages|profit|revenue|loss|debt|deficit|surplus|turnover|gift|donation|loan|grant", MONEY),
    ("age", "age", AGE_NOUN),  # "What was the driver's age?", "What is the voting age?": 16
    ("number", "number|total|size|score|margin|attendance|population|majority|tally|crowd", COUNT),
    ("level", "target|quota|limit|ceiling|threshold", LEVEL),  # a count, or an amount: "the threshold for inheritance tax"
    ("rank", "ranking|rank|position|minute|round|lap", RANK),  # "In which minute did he score?": the 84th
    ("measure", "dimension|speed|temperature|height|weight|distance|length|capacity|pressure|depth|width|area|volume", MEASURE),
    ("work", "film|movie|book|show|album|song|game|programme|program|series|play|novel|title|single|track|documentary|drama|sitcom|opera|musical|painting", WORK),
    ("nationality", "nationality", NATIONALITY),
]
_HEAD_TYPES = {noun: (name, labels) for name, nouns, labels in reversed(_HEADS) for noun in nouns.split("|")}
_NOUN_RUN = {"ADJ", "NOUN", "PROPN", "NUM"}
_NAMING = {"name", "title"}  # "the name of X": X says what is asked
_MEASURING = {"size", "kind", "type", "sort"}  # "the size of X": X says what is asked when it is of a listed kind
_POSSESSIVES = {"his", "her", "its", "their", "our", "my", "your"}  # determiners too: "What was her time?"
_DO_HAVE = {"do", "does", "did", "has", "have", "had"}
_FOR_REASON = re.compile(r"(?:what|which) (?:is |was |were |are )?(?:the )?(?:main |real |official )?(?:reasons?|causes?)\b|what (?:caused|prompted|led to)\b", re.I)
_CLAUSE_BREAK = re.compile(r"[,;:]\s|\s(?:--?|[–—])\s")
_HOW_MUCH = re.compile(r"how\s+much\b", re.I)
_LEADING_PREPOSITION = re.compile(r"\b(by|in|for|at|from|to|since|until|on|with)\s+$", re.I)
_STRANDED_PREPOSITION = re.compile(r"\s(from|for|at|to|with|in|on|by|after|against)\s*\?*\s*$", re.I)  # "Which school did they come from?"
CLOCK = {"TIME": 1.0, "DATE": 0.5}
# "What time did the race start?" asks for a time of day ("8:30 a.m."), not a time run ("2:27:41")
_CLOCK_QUESTION = re.compile(
    r"what time (?:did|does|do|will|would|is|was|are|were|should|can|could)\b[^?]*?"
    r"\b(?:start|starts|begin|begins|began|open|opens|close|closes|end|ends|kick off|kicks off|arrive|arrives|leave|leaves|depart|departs|land|lands)\b",
    re.I,
)
_ASKS_NAME = re.compile(r"what(?:'s|\s+(?:is|was|are|were))\s+the\s+(?:\w+\s+)?(?:name|title)s?\s+of\b", re.I)  # "the (model) name of"


@dataclass(frozen=True)
class AnswerType:
    name: str
    labels: dict  # entity label → weight
    head: str | None = None  # the noun asked about ("lawyer"): answers often stand beside it
    gate: float = 0.15  # share of a sentence's score kept when it holds no fitting entity
    modifiers: tuple[str, ...] = ()  # the words before the head in the question ("assistant" referee)
    preposition: str | None = None  # the one leading the wh-word ("by what year") or ending the question, as a pattern ("at|in" for "where"): the answer often follows it too


# "Why …": a reason, which no entity is; a sentence that gives one says so ("because", "due to")
REASON = AnswerType("reason", {}, gate=0.7)
_LEAVING = re.compile(r"\b(?<!-)(?:leaves?|left|leaving|quits?|quitting|depart(?:s|ed|ing)?)\b(?!-)", re.I)
_SUBCLAUSE = re.compile(r"\b(?:after|before|since|when|until|who|that)\b", re.I)  # "join after leaving Leeds": another verb's
NAME_GATE = 0.5  # a name of any kind is often one the tagger missed ("dubbed Napster to Go"): its sentence keeps half


def expected_answer(question: str, words: Sequence[Word] = ()) -> AnswerType | None:
    """The entity labels a question asks for (none for a reason); None for open questions (what happened).
    `words`: the question's part-of-speech tags, which find the noun a "which …" asks about."""
    wh = _asked_wh(question)
    if not wh:
        return None
    wanted = _answer_type(question, words, wh)
    lead = _LEADING_PREPOSITION.search(question, 0, wh.start()) or _STRANDED_PREPOSITION.search(question, wh.end())
    if wanted and lead:
        return replace(wanted, preposition=lead.group(1).lower())
    if wanted and wh.group(0).lower() == "where":
        return replace(wanted, preposition="at|in")  # "where" asks "at or in which place"
    leaving = wanted and wanted.name in ("organisation", "place", "venue") and _LEAVING.search(question, wh.end())
    if leaving and not _SUBCLAUSE.search(question, wh.end(), leaving.start()):
        return replace(wanted, preposition="from")  # "Which club did he leave?": "joined from Northampton"
    return wanted


def _answer_type(question: str, words: Sequence[Word], wh: re.Match) -> AnswerType | None:
    if _asks_who_one_is(words, wh.start()):
        return None  # "Who is Wendy Day?": what she is (Kidman's publicist), said by a sentence, not another name
    head, modifiers = _head(words, wh.start()) if words else (None, ())
    if wh.group(0).lower() in ("who", "whom") and _kind(head)[0] != "person":
        head, modifiers = None, ()  # "Who is the frog named after?" asks about the frog, not for one
    if _CLOCK_QUESTION.match(question, wh.start()):
        return AnswerType("time", CLOCK)
    asks = "which" if _ASKS_NAME.match(question, wh.start()) else wh.group(0).lower()  # "What is the name of …" asks for one
    if asks == "why" or _FOR_REASON.match(question, wh.start()):
        return REASON
    by_head = _by_head(asks, head)
    if by_head:
        return replace(by_head, modifiers=modifiers)
    if asks == "how" and head and _HOW_MUCH.match(question, wh.start()):
        return replace(_measured(head), modifiers=modifiers)
    phrases = _wh_phrases(question, wh)
    for name, pattern, labels in _COMPILED:
        if any(pattern.match(phrase) for phrase in phrases):
            return AnswerType(name, labels, head, gate=NAME_GATE if name == "name" else AnswerType.gate, modifiers=modifiers)
    return None


def _asks_who_one_is(words: Sequence[Word], wh_start: int) -> bool:
    """ "Who is/was <a name>?", with nothing after the name."""
    at = next((i for i, w in enumerate(words) if w.start == wh_start), None)
    if at is None or words[at].text.lower() != "who":
        return False
    rest = [w for w in words[at + 1 :] if w.pos != "PUNCT"]
    named = len(rest) >= 2 and rest[0].pos == "AUX" and all(w.pos == "PROPN" for w in rest[1:])
    return named and _kind(rest[-1].text.lower())[0] != "person"  # "Who is Chancellor?" asks for one


def _wh_phrases(question: str, wh: re.Match) -> tuple[str, ...]:
    """The question from its wh-word on, and from the preposition that leads the wh-word, if
    one does: "by how much" asks for a change, "how much" alone for an amount."""
    lead = _LEADING_PREPOSITION.search(question, 0, wh.start())
    return (question[lead.start() :], question[wh.start() :]) if lead else (question[wh.start() :],)


def _measured(noun: str) -> AnswerType:
    """What "how much <noun>" asks for: money for a noun of money ("How much compensation"),
    otherwise money or a quantity ("How much support": €450m; "How much gold": 3,217 tonnes)."""
    name, labels = _kind(noun)
    if name:
        return AnswerType(name, labels, noun)
    if re.fullmatch(_MONEY_WORDS, noun):
        return AnswerType("amount", MONEY, noun)
    if noun == "time":
        return AnswerType("duration", DURATION, noun)
    return AnswerType("amount", MONEY_OR_QUANTITY, noun)


def asked_clause(question: str) -> str | None:
    """The clause that asks, when the question has others that set the scene ("U2 sold 150,000
    tickets - in which city does the tour begin?" → "in which city does the tour begin")."""
    wh = _asked_wh(question)
    if not wh:
        return None
    cuts = [0, *(m.end() for m in _CLAUSE_BREAK.finditer(question)), len(question)]
    start = max(c for c in cuts if c <= wh.start())
    end = min(c for c in cuts if c > wh.start())
    clause = question[start:end].strip(" ,;:-–—?")
    return clause if len(clause.split()) >= 3 and len(clause) < len(question.strip(" ?")) else None


def _asked_wh(question: str) -> re.Match | None:
    """The wh-word that asks: the first, when it opens the question ("In which city …"); when
    the question opens with a statement, the one ending it ("Robert Jackson, the minister who
    defected, is MP for which constituency?"), as the first is then often a relative pronoun."""
    found = list(_WH_WORD.finditer(question))
    if not found:
        return None
    first, last = found[0], found[-1]
    opens = len(question[: first.start()].split()) <= 2
    ends = len(question[last.end() :].split()) <= 3
    return first if opens or not ends else last


def _by_head(wh: str, head: str | None) -> AnswerType | None:
    if wh not in ("which", "what") or not head:
        return None
    name, labels = _kind(head)
    if name:
        return AnswerType(name, labels, head)
    return AnswerType("name", NAME, head, gate=NAME_GATE) if wh == "which" or head in _NAMING else None  # "Under what name …"


def _kind(head: str | None) -> tuple[str | None, dict]:
    """The answer type a noun names ("lawyer" → person), if it is one of the listed nouns."""
    if head and head.startswith("number-"):
        return "person", PERSON
    for noun in (head, head.split("-")[-1], singular(head)) if head else ():
        if noun in _HEAD_TYPES:
            return _HEAD_TYPES[noun]
    return None, {}


def _head(words: Sequence[Word], wh_start: int) -> tuple[str | None, tuple[str, ...]]:
    """The noun of the wh-phrase: "lawyer" in "Which lawyer represents …", "album" in "What is
    the name of her third album", "goals" in "How many goals …" (None when there is none), and
    the words before it in its phrase ("assistant" of "Which assistant referee …")."""
    at = next((i for i, w in enumerate(words) if w.start == wh_start), None)
    if at is None:
        return None, ()
    wh, i = words[at].text.lower(), at + 1
    if wh == "how":  # "How many goals …"
        if i >= len(words) or words[i].text.lower() not in ("many", "much"):
            return None, ()
        i += 1
    elif wh in ("who", "whom") and i < len(words) and words[i].pos == "AUX" or wh in ("which", "what"):
        while i < len(words) and (words[i].pos in ("AUX", "DET") or words[i].text.lower() in _POSSESSIVES):
            if words[i].text.lower() in _DO_HAVE:
                return None, ()  # "What did the minister say": the noun is who acts, not what is asked
            i += 1  # "What is the …", "Who was the …", "What was his …"
    else:
        return None, ()
    head, i, modifiers = _noun_run(words, i, after_wh=i == at + 1)
    if head in _NAMING | _MEASURING and i < len(words) and words[i].text.lower() == "of":
        i += 1 + (i + 1 < len(words) and words[i + 1].pos in ("DET", "PRON"))  # "of the", "of her"
        inner, _, inner_modifiers = _noun_run(words, i)
        if inner and (head in _NAMING or _kind(inner)[0]):  # "What size of stake …" asks for a share
            head, modifiers = inner, inner_modifiers
    return head, modifiers


def _noun_run(words: Sequence[Word], i: int, after_wh: bool = False) -> tuple[str | None, int, tuple[str, ...]]:
    """The last common noun of the noun phrase that starts at i (a hyphenated compound joined),
    where the phrase ends, and the words before the noun. A "verb" between "which" and an
    auxiliary is a noun the tagger got wrong ("Between which dates will …", "What world ranking had …")."""
    head, start, head_at = None, i, i
    while i < len(words):
        word = words[i]
        mistagged = after_wh and word.pos == "VERB" and i + 1 < len(words) and words[i + 1].pos == "AUX"
        if word.pos == "ADJ" and head and words[i - 1].pos == "NOUN" and not after_wh:
            break  # "the maximum stake foreign investors may hold": a new noun phrase, the noun's clause
        if word.pos == "NOUN" or mistagged:
            joined = i > 1 and words[i - 1].text == "-" and words[i - 1].start == words[i - 2].end
            head = f"{words[i - 2].text}-{word.text}".lower() if joined else word.text.lower()
            head_at = i - 2 if joined else i
        elif word.pos == "NUM" and head == "number" and words[i - 1].text.lower() == "number":
            head = f"number-{word.text.lower()}"  # "Argentina's number eight": a player's position
            head_at = i - 1
        elif not (word.pos in _NOUN_RUN or word.text in ("-", "'s", "'") or _inside_name(words, i) or _hyphenated(words, i)):
            break
        i += 1
    return head, i, tuple(w.text.lower() for w in words[start:head_at] if w.text[0].isalnum())


def _inside_name(words: Sequence[Word], i: int) -> bool:
    """A joining word between proper nouns: "Bank of America" in "Which Bank of America spokeswoman"."""
    return words[i].text in ("of", "and", "&") and 0 < i < len(words) - 1 and words[i - 1].pos == words[i + 1].pos == "PROPN"


def _hyphenated(words: Sequence[Word], i: int) -> bool:
    """A conjunction inside a hyphenated compound: "and" in "husband-and-wife economists" (not
    "in" of "mother-in-law", whose noun is "mother")."""
    if not 0 < i < len(words) - 1 or words[i].text.lower() not in ("and", "or", "&"):
        return False
    before, word, after = words[i - 1], words[i], words[i + 1]
    return before.text == after.text == "-" and before.end == word.start and word.end == after.start


def singular(noun: str) -> str:
    if noun.endswith("ies") and len(noun) > 4:
        return noun[:-3] + "y"  # "countries", "companies"
    return noun[:-1] if noun.endswith("s") and not noun.endswith("ss") else noun


_LATEST = re.compile(r"\b(latest|most recent|newest|current(?:ly)?|now|still|recent(?:ly)?|today|nowadays|so far|as of)\b", re.I)


def asks_for_latest(question: str) -> bool:
    """Questions about the present state of things, where newer articles should win ties."""
    return bool(_LATEST.search(question))
