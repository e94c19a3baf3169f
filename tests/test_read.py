"""The offline reader on hand-built passages (fake embedder, real spaCy tagger)."""

import dataclasses

import numpy as np
import pytest

from qa.config import Config
from qa.read import RELATIVE_DATE, Candidate, ExtractiveReader, _reason, _weight, combine, confidence, evidence
from qa.schema import Article, Chunk, Passage


class FakeIndex:
    """The two things the reader asks of the index: BM25 tokens and their rarity."""

    def __init__(self):
        import Stemmer

        self.stemmer = Stemmer.Stemmer("english")

    def tokenize(self, texts):
        import bm25s

        return bm25s.tokenize(texts, stopwords="en", stemmer=self.stemmer, return_ids=False, show_progress=False)

    def stem(self, words):
        return self.stemmer.stemWords(words)

    def idf(self, tokens):
        return {t: 1.0 for t in tokens}

    def article_chunks(self, article_id):
        return [(p.chunk, p.article) for p in UNRETRIEVED.get(article_id, ())]


def _passage(article_id, title, sentences, rank=0):
    text = "\n".join(sentences)  # one paragraph a sentence, as in wire copy
    spans, start = [], 0
    for sentence in sentences:
        spans.append((start, start + len(sentence)))
        start += len(sentence) + 1
    article = Article(article_id, title, text, published="2026-03-03")
    return Passage(Chunk(article_id, text, 0, len(text), tuple(spans), 1), article, 1.0 / (60 + rank), rank, 0.5)


UNRETRIEVED = {}  # article id → passages the fake index holds beside the retrieved ones


@pytest.fixture(scope="module")
def reader(request):
    from conftest import FakeEmbedder

    return ExtractiveReader(FakeEmbedder(), FakeIndex(), Config(model="fake-hash"))


BRIDGE = _passage("bridge", "Harbour bridge reopens", [
    "The Kestrel Harbour Bridge in Port Avalon reopened on Monday after a 14-month restoration.",
    "The project cost $38.6 million, more than the first estimate of $34.2 million.",
    "Head engineer Tomas Reiner said the crew found more corrosion than expected.",
])


def _ask(reader, question, passages=(BRIDGE,)):
    vector = reader.embedder.encode([question])[0]
    return reader.read(question, vector, list(passages))


def test_amount_question_gets_the_amount_phrase_with_exact_offsets(reader):
    answer = _ask(reader, "How much did the restoration of the bridge cost?")
    assert answer.text == "$38.6 million"
    assert BRIDGE.chunk.text[answer.start : answer.end] == answer.text
    sentence = BRIDGE.chunk.text[answer.sentence_start : answer.sentence_end]
    assert sentence.startswith("The project cost") and answer.text in sentence


def test_person_question_skips_sentences_without_a_person(reader):
    answer = _ask(reader, "Who is the head engineer?")
    assert answer.text == "Tomas Reiner"


def test_date_question(reader):
    assert _ask(reader, "When did the Kestrel bridge reopen?").text == "Monday"


def test_open_question_returns_the_sentence(reader):
    answer = _ask(reader, "What did the crew find during the restoration?")
    assert answer.text.startswith("Head engineer Tomas Reiner said")


def test_avoid_gives_another_answer(reader):
    question = "Who is the head engineer?"
    vector = reader.embedder.encode([question])[0]
    other = reader.read(question, vector, [BRIDGE], avoid=frozenset({"Tomas Reiner"}))
    assert other is None or other.text != "Tomas Reiner"


def test_part_of_an_answer_given_before_is_avoided_too(reader):
    question = "Who is the head engineer?"
    vector = reader.embedder.encode([question])[0]
    for given in ("Reiner", "Head engineer Tomas Reiner"):
        other = reader.read(question, vector, [BRIDGE], avoid=frozenset({given}))
        assert other is None or other.text not in ("Tomas Reiner", "Reiner"), given


def test_a_follow_up_s_own_words_outweigh_its_conversation(reader):
    question, context = "How much did it cost?", "When did the Kestrel Harbour Bridge in Port Avalon reopen?"
    vector = reader.embedder.encode([f"{context} {question}"])[0]
    ranking = reader.rank(question, vector, [BRIDGE], context)
    assert ranking.terms["cost"] > ranking.terms["kestrel"] > 0  # the conversation still counts, for less
    assert reader.read(question, vector, [BRIDGE], context).text == "$38.6 million"


def test_no_passages_no_answer(reader):
    assert reader.read("Who?", np.zeros(64, dtype=np.float32), []) is None


def test_confidence_is_a_probability_that_grows_with_evidence(reader):
    ranking = reader.rank("How much did the restoration of the bridge cost?", reader.embedder.encode(["x"])[0], [BRIDGE])
    best = ranking.candidates[0]
    value = confidence(best, ranking)
    assert 0.0 < value < 1.0
    best.score += 0.2
    assert confidence(best, ranking) > value


@pytest.mark.parametrize("question, lacks", [
    ("How much did the restoration of the bridge cost in 2019?", True),  # the story has no 2019
    ("What did the 14-month restoration of the bridge cost?", False),  # "14-month" is in the story
    ("How much did the bridge cost in 2026?", False),  # the year of the story's date
    ("How much had the bridge cost by 3 March?", False),  # the day of its date, written "03"
    ("Did the bridge cost 38.6 million dollars or 34,2 million?", True),  # "34,2" is no thousands separator
])
def test_a_number_the_story_lacks_lowers_the_confidence(reader, question, lacks):
    vector = reader.embedder.encode([question])[0]
    ranking = reader.rank(question, vector, [BRIDGE])
    best = ranking.candidates[0]
    assert evidence(best, ranking)[2] == float(lacks)
    unnumbered = dataclasses.replace(ranking, numbers=frozenset())
    assert (confidence(best, ranking) < confidence(best, unnumbered)) == lacks


SURVEY = _passage("survey", "Shoppers fear tags", [
    "Retailers in Germany and France say shoppers are wary of the tags, according to a new study.",
    "The survey of 2,000 consumers was carried out by consultancy group Quentara for the industry.",
    "Councillors Maria Lopez and Kevin Doyle voted against the plan to fund the study.",
])


def test_the_name_beside_the_noun_asked_about_wins(reader):
    # "Quentara" may be tagged as any kind of name; standing beside "group" its sentence answers
    # "which group" (narrowed to the name only when the tagger calls it an organisation)
    answer = _ask(reader, "Which consultancy group carried out the survey of shoppers?", (SURVEY,))
    assert "Quentara" in answer.text and "Germany" not in answer.text


def test_a_plural_question_gets_every_listed_name(reader):
    assert _ask(reader, "Which councillors voted against the plan?", (SURVEY,)).text == "Maria Lopez and Kevin Doyle"


def test_a_name_that_opens_with_the_noun_asked_about_is_one_of_that_kind(reader):
    works = _passage("works", "Bridge works", [
        "The Kestrel Harbour Bridge reopened to traffic on Monday after a long restoration.",
        "Contractor Halvorsen & Pike Engineering replaced 1,840 steel rivets and repainted the span.",
    ])
    assert "Halvorsen & Pike Engineering" in _ask(reader, "Which contractor restored the Kestrel bridge?", (works,)).text
    bank = _passage("bank", "Rates", ["Bank of England governor Mervyn King warned of inflation on Monday."])
    assert _ask(reader, "Which bank warned of inflation?", (bank,)).text == "Bank of England"  # the noun is part of the name


def test_an_age_answers_how_old_and_a_length_of_time_does_not(reader):
    hoddle = _passage("hoddle", "Hoddle joins Wolves", [
        "Glenn Hoddle has signed a four-year contract with Wolves.",
        "The 47-year-old led his side through a 12-month spell at the top of the league.",
    ])
    assert _ask(reader, "How old is Glenn Hoddle?", (hoddle,)).text == "47-year-old"
    told = _passage("told", "Hoddle joins Wolves", ["Glenn Hoddle has signed a four-year contract.", "Hoddle, 47, starts on Monday."])
    assert _ask(reader, "How old is Glenn Hoddle?", (told,)).text == "47"


def test_who_gets_the_people_listed_but_not_one_given_before(reader):
    question = "Who voted against the plan?"
    assert _ask(reader, question, (SURVEY,)).text == "Maria Lopez and Kevin Doyle"
    vector = reader.embedder.encode([question])[0]
    other = reader.read("Who else voted against the plan?", vector, [SURVEY], avoid=frozenset({"Maria Lopez"}))
    assert other.text == "Kevin Doyle"


def test_dense_similarity_reads_the_sentence_after_the_one_before(reader):
    ranking = reader.rank("Who is the head engineer?", reader.embedder.encode(["x"])[0], [BRIDGE])
    by_start = {c.start: c for c in ranking.candidates}
    second = by_start[BRIDGE.chunk.sentences[1][0]]
    assert second.previous is by_start[BRIDGE.chunk.sentences[0][0]]
    assert second.in_context == f"{second.previous.text} {second.text}"


def test_a_name_the_question_gives_as_initials_or_spelled_out_is_not_the_answer():
    from qa.read import _abbreviates, _abbreviations

    question = _abbreviations("Which standard is Nokia backing against the DMB standard, says British Airways?")
    assert _abbreviates("BA", question) and _abbreviates("Digital Multimedia Broadcasting", question)
    assert not _abbreviates("Barclays", question) and not _abbreviates("Bill Alder", question)


AIRLINE = _passage("airline", "Airline results", [
    "Aviation analyst Nick Van den Brul of BNP Paribas described BA's quarterly results as modest.",
    "Chief executive Franklin Raines, a former official in the Clinton administration, and chief financial officer Tim Howard have left the firm.",
    "The console (12cm by 7.4cm) will play games, movies and music.",
    "The bridge has a 3-metre cycle lane, and a new weight limit of 18 tonnes applies to lorries.",
    "Organisers said that next year's race will take place on October 11, 2026.",
    "Commodore International filed for bankruptcy in 1994 and was sold to Dutch firm Tulip Computers.",
    "Conservative Michael Fallon asked Mr Brown whether the Treasury had leaned on the statisticians.",
    'Gerhard Florin runs the European arm of the publisher. "Console games will cost 10 euros more," said Mr Florin.',
])


@pytest.mark.parametrize("question, expected", [
    ("Analysts at which bank called British Airways' results modest?", "BNP Paribas"),  # not "BA"
    ("Which finance chief left alongside chief executive Franklin Raines?", "Tim Howard"),  # "Clinton administration, and chief"
    ("What are the dimensions of the console?", "12cm by 7.4cm"),
    ("What is the maximum weight allowed for lorries on the bridge?", "18 tonnes"),  # beside "weight", not "3-metre"
    ("When will the next race be held?", "October 11, 2026"),  # a date a reader can place
    ("Which Dutch firm bought Commodore after it went bust?", "Tulip Computers"),  # the name right after "firm"
    ("Which Conservative MP questioned Gordon Brown about the Treasury?", "Michael Fallon"),  # "Mr Brown" is named
    ("Who said that console games will cost more?", "Gerhard Florin"),  # the fullest mention of the name
])
def test_the_answer_phrase(reader, question, expected):
    assert _ask(reader, question, (AIRLINE,)).text == expected


DETAINEES = _passage("detainees", "Detainees to return", [
    "Abel Marsh, Hugo Penn and Dara Quist have been held by the council for two years.",
    "Lawyer Ana Whitcombe, who represents Mr Marsh and Mr Penn, said the ruling came too late.",
])


LENDING = _passage("lending", "Lending figures", [
    "Gross lending stood at £17.9bn, compared with £21.8bn in January last year.",
    "One in 10 adults - equivalent to 22 million people - now owns a music player.",
])


@pytest.mark.parametrize("question, expected", [
    ("What was the value of gross lending in January?", "£17.9bn"),  # not what it is compared with
    ("How many adults own a music player?", "22 million"),  # not the ratio's "10"
])
def test_an_amount_compared_with_or_a_ratio_is_not_the_answer(reader, question, expected):
    assert _ask(reader, question, (LENDING,)).text == expected


@pytest.mark.parametrize("sentence, name", [
    ("The airline, SkyKestrel, will fly the route from March.", "SkyKestrel"),
    ("Kestrel Air, the new airline owned by the council, will fly the route.", "Kestrel Air"),
    ("Kestrel Air, Britain's newest airline, will fly the route.", "Kestrel Air"),
    ("SkyKestrel, one of Britain's newest airlines, will fly the route.", "SkyKestrel"),
])
def test_a_name_in_apposition_to_the_noun_asked_about_stands_beside_it(reader, sentence, name):
    question = "Which airline will fly the route?"
    ranking = reader.rank(question, reader.embedder.encode([question])[0], [_passage("air", "Routes", [sentence])])
    assert name in [sentence[e.start : e.end] for e in ranking.candidates[0].near_head]
    assert _ask(reader, question, (_passage("air", "Routes", [sentence]),)).text == name


def test_an_apposition_reaches_past_capitalised_words(reader):
    sentence = "The band was introduced by Mick Jones, the former Clash guitarist, to a full house."
    question = "Which guitarist introduced the band?"
    ranking = reader.rank(question, reader.embedder.encode([question])[0], [_passage("gig", "Gig", [sentence])])
    assert "Mick Jones" in [sentence[e.start : e.end] for e in ranking.candidates[0].near_head]
    assert _ask(reader, question, (_passage("gig", "Gig", [sentence]),)).text == "Mick Jones"


@pytest.mark.parametrize("question, sentence, expected", [
    # "called", "known as": the words say it is a name
    ("What is the name of the new software?", "Microsoft announced a partnership with TiVo, called TiVoToGo, at the show.", "TiVoToGo"),
    ("What is the name of the new software?", "The tool, known as Picasa, was released by Google on Tuesday.", "Picasa"),
    ("What did the band call the old warehouse?", "Kevin Doyle said the band took over an old warehouse in Leeds and renamed it The Loft.", "The Loft"),
    # the noun asked about, in the words news copy uses for it
    ("Which film stayed top of the box office?", "Top of the box office for a second week was action movie National Treasure.", "National Treasure"),
    ("Which song was the only other new entry?", "The only other new entry came from Robbie Williams track Misunderstood.", "Misunderstood"),
    # … and with the words before it in the question
    ("Which assistant referee did he argue with?", "He pushed referee Alan Wiley and argued with assistant referee Paul Norman.", "Paul Norman"),
    ("Which fly-half had an off day?", "Scrum-half Alessandro Troncon impressed but fly-half Luciano Orquera had an off day.", "Luciano Orquera"),
    # a name right before the noun names it, when the question asks for a name of no listed kind; the noun
    # written after it in lower case is part of a lone word's name ("Power" alone names no inquiry)
    ("What is the name of the inquiry Mr Cook gave evidence to?", "Mr Cook, giving evidence to the Power inquiry into turnout, told BBC Radio 4 it was not fair.", "Power inquiry"),
    ("Which firm rejected the bid?", "The bid was rejected by the Microsoft company on Monday.", "Microsoft"),  # a name alone
    # the question names Lenovo: "Lenovo Group" is no answer
    ("Which Russian PC maker was named alongside Lenovo?", "Local PC makers like Lenovo Group in China and Aquarius in Russia will win the battle.", "Aquarius"),
    ("Christmas sales were the worst since which year?", "Sales fell in December after a rise in November, the worst Christmas since 1981.", "1981"),
    ("Which club did the team beat in the cup?", "After the 3-0 win at Roma on Tuesday, the coach praised the players in Madrid.", "Roma"),  # a place
    ("How long will the striker be out?", "The striker was hurt on Saturday and will be out for two to three weeks.", "two to three weeks"),
    # plural questions take the whole list, before and after the best item, whatever labels its names got
    ("Which two countries were ranked ahead of the UK for business use of ICT?", "The study placed the UK third behind Sweden and Ireland for business use.", "Sweden and Ireland"),
    ("On which earlier films did they work together?", "They previously worked together, with producer Brian Grazer, on Splash and Apollo 13.", "Splash and Apollo 13"),
    ("Where does the show rank among prime-time programmes?", "The show has averaged five million viewers and is 91st in the rankings.", "91st"),
    # an apposition names the noun, after a comma or a dash, whatever kind the tagger gave the name
    ("To which labour camp was he sent?", "He was betrayed and sent to Perm 35 - a Soviet hard labour camp in the Arctic.", "Perm 35"),
    ("Which Amsterdam newspaper published the picture?", "A day later De Telegraaf, a daily Amsterdam newspaper, published a picture.", "De Telegraaf"),
    # a name right before the noun names it, unless the noun is a person's ("Chelsea striker")
    ("At which Lusaka ground will the final be played?", "Zambia lost at Lusaka's Independence stadium, where the final is being played.", "Independence stadium"),
    # a country is no city
    ("In which city did she file her lawsuit?", "Jones filed her lawsuit in the US, at a court in San Francisco.", "San Francisco"),
    # a figure the question states is no answer to it
    ("By how much did the manufacturing sector grow in 2004, the year the economy expanded 8.1%?",
     "The economy grew by 8.1% in 2004, led by growth of 13.1% in the key manufacturing sector.", "13.1%"),
    ("How much was the Formula 1 deal worth?", "The Formula 1 deal was worth $1bn over five years.", "$1bn"),  # a name's digit
    ("How long could the trial last?", "It is expected the trial could last as long as a year.", "as long as a year"),
    # a name before a player's position and the player's name is the side, whatever kind the tagger gave it
    ("Which club does uncapped defender Stephen Roberts play for?", "West Ham's Gavin Williams is out, so uncapped Wrexham defender Stephen Roberts is drafted in.", "Wrexham"),
    # a comma alone joins no names of different labels; a place before the noun says where it is from
    ("Which players scored the goals?", "At Old Trafford, Rooney and Ronaldo scored the goals.", "Rooney and Ronaldo"),
    ("Which firm did he join?", "He left the London firm to join Google in March.", "Google"),
    ("How much gold does the fund hold?", "The fund holds 3,217 tonnes of gold, valued at $40 an ounce.", "3,217 tonnes"),
    # an amount, not its conversion in brackets
    ("How much did the recut version take?", "The recut version took $239,850 (£125,000), despite opening in 957 cinemas.", "$239,850"),
    ("How much did the firm earn?", "The firm earned 1.16bn euros ($1.5bn; £800m) last year.", "1.16bn euros"),
    # a length or span of time counted in things: the count with the things
    ("Roughly how long is the form a sponsor must file?", "A sponsor must file a petition, a form amounting to nearly 30 pages.", "nearly 30 pages"),
    ("What is the capacity of the new stadium?", "The new stadium will have a capacity of 52,000 this season.", "52,000"),  # "this" counts nothing
    # an amount after a year in brackets is no conversion
    ("How much did the firm earn?", "Profits for 2004 (£1.2bn) beat those of the year before.", "£1.2bn"),
    # a peer's title is part of the name; a first name the tagger took for a place joins the person
    ("To which former treasurer was the money repaid?", "The party had repaid £500,000 to former Tory Treasurer Lord Ashcroft last year.", "Lord Ashcroft"),
    ("Who designed the user interface?", "Maciej Sundra, who designed the user interface for the E-slates, says the goal is access.", "Maciej Sundra"),
    # a title with "of the" inside; a name the tagger gave no kind, right after the question's verb
    ("Which Mel Gibson film won best drama?", "Mel Gibson's The Passion of the Christ won best drama at the awards.", "The Passion of the Christ"),
    ("Which character did she play in Mike Leigh's film Vera Drake?", "She played Nellie in Mike Leigh's film Vera Drake, which won a prize at the Venice Film Festival.", "Nellie"),
    # the place a people's word of the question names is no answer
    ("What is the name of the South Australian mine the firm owns?", "It owns the Olympic Dam mine in South Australia, the largest of its kind.", "Olympic Dam"),
    ("Which European country saw the biggest jump?", "Broadband users in Europe rose, with Italy seeing the biggest jump.", "Italy"),
    ("What share of shoppers bought presents online?", "The survey found only 4% of shoppers bought presents online.", "only 4%"),  # no place
    # a person's age is no length of time; a thing's is
    ("How long was the singer's set?", "Organisers booked 62-year-old Sir Paul, who played a 12-minute set at half-time.", "12-minute"),
    ("How long was the ban?", "The 15-year-old ban on imports was lifted by the government on Monday.", "15-year-old"),
    ("How long did the strike last?", "The strike, which began last year, went on for 12 days.", "12 days"),  # "last year" is a time, no span
    ("How long did the strike last?", "The strike, which began late last year, went on for 12 days.", "12 days"),
    ("How long did the strike last?", "The strike, called two years ago, went on for 12 days.", "12 days"),
    ("How long did the strike last?", "Talks resumed the following day, after a strike that went on for 12 days.", "12 days"),
    ("How long ago did the firm go bust?", "The firm, founded in 1990, went bust two years ago.", "two years ago"),
    ("How long ago did the firm go bust?", "The firm went bust a decade ago on a Monday in March.", "a decade ago"),
    # a person the question names by surname alone is no answer, but one sharing it with another first name may be
    ("Who did Okafor cut the ribbon with?", "Mayor Linda Okafor cut the ribbon with engineer Tomas Reiner on Monday.", "Tomas Reiner"),
    ("Who did Venus Williams beat in the final?", "Venus Williams beat Serena Williams in the final on Saturday.", "Serena Williams"),
    ("Who started the Miller & Daughters bakery?", "Agnes Miller started Miller & Daughters in a rented kitchen in 1952.", "Agnes Miller"),  # a firm's word
    ("Who is Karim's co-founder?", "Ayesha Karim founded the firm with Daniel Fenwick in 2019, in Leeds.", "Daniel Fenwick"),  # an owner
    ("Who accused Blair of lying?", "Michael Howard accused Tony Blair of lying over the war.", "Michael Howard"),
    # the noun "age" asks for the number, not a year
    ("What is the state pension age?", "The state pension age will rise to 68 by 2046, the report said.", "68"),
    ("What is the average age of the workforce?", "The firm has 85 staff in three offices, and the average age of its workforce is 34.", "34"),
    ("At what age did she start running?", "Ward, who has three children, started running at the age of 19 in Leeds.", "the age of 19"),
    ("At what age did he leave school?", "He left school at 15 and spent the next 10 years at sea.", "15"),  # not a span of time
    # an age given as "aged 31", asked for as "how old" or as the noun "age"
    ("How old was the driver?", "The driver, aged 31, was taken to hospital after the crash on Road 2.", "31"),
    ("What was the driver's age?", "The driver, aged 31, was taken to hospital after the crash on Road 2.", "31"),
    # a name's "of" phrase is part of it
    ("Which organisation complained to Ofcom?", "The Muslim Council of Britain has complained to broadcasting watchdog Ofcom.", "The Muslim Council of Britain"),
])
def test_the_answer_phrase_of_one_sentence(reader, question, sentence, expected):
    assert _ask(reader, question, (_passage("story", "Story", [sentence]),)).text == expected


def test_the_question_s_own_wording_is_no_term_to_match(reader):
    from qa.read import question_terms

    assert set(question_terms(reader.index, "How long does the flight take?")) == {"flight", "take"}
    assert "old" in question_terms(reader.index, "How old is he?")  # "47-year-old" holds it


def test_an_acronym_the_tokenizer_drops_as_a_stopword_still_tells_sentences_apart(reader):
    cuts = _passage("cuts", "Bank cuts", ["The bank will cut 2,850 jobs, mostly in Europe, over two years.",
                                          "Of the jobs, 1,200 are in IT, the bank added on Monday."])
    question = "How many of the jobs are in IT?"
    ranking = reader.rank(question, reader.embedder.encode([question])[0], [cuts])
    assert "IT" in ranking.terms
    assert {c.text[:6]: c.terms for c in ranking.candidates}["Of the"] > {c.text[:6]: c.terms for c in ranking.candidates}["The ba"]
    assert _ask(reader, question, (cuts,)).text == "1,200"


def test_a_name_before_a_plural_of_the_noun_does_not_stand_beside_it(reader):
    sentence = "The tour will cover 13 US cities, the band said."
    question = "Which city will the tour visit first?"
    ranking = reader.rank(question, reader.embedder.encode([question])[0], [_passage("tour", "Tour", [sentence])])
    assert not ranking.candidates[0].near_head  # "US cities" says where the cities are, it names none


def test_the_noun_asked_about_opening_a_person_s_name_is_a_title(reader):
    assert _ask(reader, "Which lawyer represents Abel Marsh and Hugo Penn?", (DETAINEES,)).text == "Ana Whitcombe"


def test_the_noun_asked_about_opening_another_name_is_part_of_it(reader):
    raids = _passage("raids", "Piracy raids", ["Months later customs officers raided homes across the globe as part of Operation Buccaneer."])
    assert _ask(reader, "What was the name of the customs operation that raided the piracy network?", (raids,)).text == "Operation Buccaneer"


@pytest.mark.parametrize("date, fit", [
    ("in 1337", 1.0), ("in the 1990s", 1.0), ("on 4 March", 1.0), ("last year", RELATIVE_DATE), ("over the past 100 years", RELATIVE_DATE),
])
def test_a_year_is_a_date_a_reader_can_place(date, fit):
    from qa.entities import Entity
    from qa.question import DATE, AnswerType

    text = f"The guild was founded {date}."
    start = text.index(date.split(" ", 1)[1] if date.startswith(("in", "on")) else date)
    candidate = Candidate(BRIDGE, 0, len(text), text, entities=(Entity(start, len(text) - 1, "DATE"),))
    assert _weight(candidate.entities[0], AnswerType("date", DATE), candidate) == pytest.approx(fit)


def test_the_story_s_first_sentence_is_read_even_when_not_retrieved(reader):
    # every word of a lead names the story, so it covers little of the question's rarer terms;
    # it still competes, from the rest of the article when retrieval missed its passage
    lead = "Campaigners want the Borders rail link, which was closed in 1969, to be reopened."
    rest = ["A rally will mark the anniversary of the line closure."] + [
        f"Speaker {n} said the Borders rail line was shut down too soon and must come back." for n in range(1, 10)
    ]
    text = "\n".join([lead] + rest)
    article = Article("rail", "Rail link rally", text)
    spans, start = [], 0
    for sentence in [lead] + rest:
        spans.append((start, start + len(sentence)))
        start += len(sentence) + 1
    spans = tuple(spans)
    first = Passage(Chunk("rail", lead, 0, len(lead), spans[:1], 1), article, 0.0)
    second = Passage(Chunk("rail", text[spans[1][0] :], spans[1][0], len(text), spans[1:], 2), article, 1.0)  # more than a shortlist
    UNRETRIEVED["rail"] = [first, second]
    answer = _ask(reader, "In what year was the Borders rail line shut down?", (second,))
    assert answer.text == "1969" and answer.passage.chunk is first.chunk  # cited from its own passage
    assert answer.passage.chunk.text[answer.start : answer.end] == "1969"


CEREMONY = _passage("ceremony", "Crowds at bridge ceremony", [
    "Mayor Linda Okafor cut the ribbon at the reopened Kestrel Harbour Bridge on Monday.",
    "Hundreds of residents walked across the bridge after the ceremony.",
])


TOLLS = _passage("tolls", "Bridge tolls to rise", ["Tolls on the Kestrel Harbour Bridge will rise in June, the port authority said."])


@pytest.mark.parametrize("ceremony_score, story", [(0.97, "ceremony"), (0.9, "bridge")])
def test_a_story_retrieved_almost_alike_is_read_too(reader, ceremony_score, story):
    # stories on one topic score alike; the one whose sentences answer best is read, third or not
    first, second = dataclasses.replace(BRIDGE, score=1.0), dataclasses.replace(TOLLS, score=0.98, rank=1)
    third = dataclasses.replace(CEREMONY, score=ceremony_score, rank=2)
    answer = _ask(reader, "Who cut the ribbon when the bridge reopened?", (first, second, third))
    assert answer.passage.article.id == story
    assert (answer.text == "Linda Okafor") == (story == "ceremony")


def test_a_scene_setting_question_is_also_compared_by_its_asking_clause(reader):
    question = "The band sold all the tickets in an hour - in which city does the tour begin?"
    tour = _passage("tour", "Tour", ["The tour begins in San Diego on 28 March.", "The tickets sold out in an hour."])
    vector = reader.embedder.encode([question])[0]
    ranking = reader.rank(question, vector, [tour])
    clause = reader.embedder.encode(["in which city does the tour begin"])[0]
    for candidate in ranking.candidates:
        own = reader.embedder.encode([candidate.in_context])[0]
        assert candidate.dense == pytest.approx((own @ vector + own @ clause) / 2, abs=1e-5)


def test_question_terms_near_a_fitting_entity_count_more_the_nearer_they_are(reader):
    question = "By what percentage did tourism revenues increase?"
    near = "Tourism revenues increased by 30% in the year."
    far = "Tourism revenues were in a report, while exports increased by 14%."
    one = "Exports were the subject of a long report the ministry published on Monday, and increased by 14%."
    none = "Tourism revenues were the subject of a long report that the ministry published, after exports went 14% up."
    vector = reader.embedder.encode([question])[0]
    ranking = reader.rank(question, vector, [_passage("tourism", "Report", [near, far, one, none])])
    around = {c.text: c.around for c in ranking.candidates}
    assert around[near] > around[far] > around[one] > around[none] == 0
    assert around[one] == pytest.approx((1 - 1 / 12) / 4)  # "increased", two words before "14%": one of four terms


HD = _passage("hd", "Broadcaster goes high definition", [
    "The Harbour Broadcasting Company began making programmes in high definition in 2006 and will make all of them in high definition by 2010.",
])


HD_PLANS = _passage("hd-plans", "Broadcaster goes high definition", [
    "Its news programmes went into high definition in 2006, the company said.",
    "Its sports programmes will go into high definition by 2010, the company said.",
])


@pytest.mark.parametrize("story, question, year", [
    (HD, "By what year will the Harbour Broadcasting Company make all its programmes in high definition?", "2010"),
    (HD, "In what year did the Harbour Broadcasting Company begin making programmes in high definition?", "2006"),
    # two sentences of equal evidence: the one with the year after the preposition wins
    (HD_PLANS, "By what year will the company's programmes go into high definition?", "2010"),
    (HD_PLANS, "In what year did the company's programmes go into high definition?", "2006"),
])
def test_the_answer_follows_the_preposition_that_leads_the_question(reader, story, question, year):
    assert _ask(reader, question, (story,)).text == year


CUP_FINAL = _passage("cup-final", "Rovers win county cup", [
    "Ashby Rovers won the Westmoor County Cup on Saturday, beating Kelton United on penalties after the final at Greenfield Stadium ended 2-2.",
])


def test_where_asks_for_the_place_after_at_or_in(reader):
    assert _ask(reader, "Where was the Westmoor County Cup final played?", (CUP_FINAL,)).text == "Greenfield Stadium"


COACHES = _passage("coaches", "Protesters take police to court", [
    "Fairford Coach Action, representing more than 80 passengers, say they are prepared to take their case to the European Court.",
    "Their action is supported by Amnesty International and Liberty.",
])


def test_a_group_s_name_the_tagger_missed_can_answer_which_group(reader):
    answer = _ask(reader, "Which group of passengers is prepared to go to the European Court?", (COACHES,))
    assert answer.text == "Fairford Coach Action"


CSOS = _passage("csos", "Support officers get new powers", [
    "Community Support Officers will be able to detain suspects for up to 30 minutes.",
    "There are about 3,500 CSOs in England and Wales.",
])


def test_the_initials_of_a_name_the_story_abbreviates_count_as_a_question_term(reader):
    question = "How many Community Support Officers are there?"
    vector = reader.embedder.encode([question])[0]
    assert "csos" in reader.rank(question, vector, [CSOS]).terms
    assert not any(t.startswith("cso") for t in reader.rank(question, vector, [BRIDGE]).terms)  # a story without them
    assert _ask(reader, question, (CSOS,)).text == "about 3,500"


AWARDS = _passage("awards", "Broadcaster leads award nominations", [
    "The broadcaster leads the nominations for the interactive awards, including one for its radio website.",
    "It has 16 in all, while its nearest rival has three.",
])


def test_a_bare_one_is_a_weaker_count_than_a_number(reader):
    assert _ask(reader, "How many nominations did the broadcaster get for the interactive awards?", (AWARDS,)).text == "16"


@pytest.mark.parametrize("noun, other", [("film", "movie"), ("ground", "stadium")])
def test_news_copy_s_words_for_the_noun_asked_about_count_as_it(reader, noun, other):
    assert reader.index.stem([other])[0] in reader._head_stems(noun)


def test_one_counting_something_is_still_a_count(reader):
    crash = _passage("crash", "Crash on the M6", ["One person died in the crash on the M6 near Carlisle."])
    assert _ask(reader, "How many people died in the crash on the M6?", (crash,)).text == "One"


def test_a_word_spelled_like_a_question_name_s_initials_is_no_question_term(reader):
    question = "What did the Federation Against Copyright Theft say about the bridge?"
    story = _passage("fact", "Bridge reopens", ["In fact, the bridge cost more than planned."])
    assert "fact" not in reader.rank(question, reader.embedder.encode([question])[0], [story]).terms


FERRY = _passage("ferry", "Ferry sailings cancelled", [
    "The ferry sailings from Port Avalon were cancelled on Tuesday.",
    "The ferry sailings were cancelled because of high winds in the harbour, the operator said.",
    "A storm surge forced the closure of the coast road.",
])


def test_why_picks_the_sentence_that_gives_a_reason_and_shows_its_clause(reader):
    answer = _ask(reader, "Why were the ferry sailings cancelled on Tuesday?", (FERRY,))
    assert answer.text == "because of high winds in the harbour"
    assert FERRY.chunk.text[answer.start : answer.end] == answer.text
    assert FERRY.chunk.text[answer.sentence_start : answer.sentence_end].startswith("The ferry sailings were cancelled because")


def test_a_reason_before_its_cause_word_shows_the_whole_sentence(reader):
    answer = _ask(reader, "Why was the coast road closed?", (FERRY,))
    assert answer.text == "A storm surge forced the closure of the coast road."


@pytest.mark.parametrize("sentence, reason", [
    ("Profits fell due to the strike at the plant.", "due to the strike at the plant"),
    ("The economy grew thanks to a \"record harvest\", the bank said.", 'thanks to a "record harvest"'),  # a closing quote kept
    ("The envoy is due to arrive on Wednesday to revive the talks.", None),  # "due to" before a verb: a timetable
    ("The minister was blamed for the fall in exports.", None),  # what follows "blamed for" is the effect
    ("The fire was not due to vandals, the police said.", None),  # a reason denied
    ("The fall was blamed on a weaker dollar and dearer oil.", "blamed on a weaker dollar and dearer oil"),
    ("Because the chip is so new, it needs new tools.", "Because the chip is so new"),  # a reason opening the sentence
    ("Sales fell because of \"monumental\" delays at the port, say analysts.", 'because of "monumental" delays at the port'),
])
def test_the_reason_clause(sentence, reason):
    found = _reason(sentence)
    assert (sentence[found.start : found.end] if found else None) == reason


def test_a_why_question_is_as_sure_as_an_open_one(reader):
    question = "Why were the ferry sailings cancelled on Tuesday?"
    vector = reader.embedder.encode([question])[0]
    ranking = reader.rank(question, vector, [FERRY])
    for candidate in ranking.candidates:  # the reason words order the sentences, they lower no confidence
        assert evidence(candidate, ranking)[0] == pytest.approx(combine(candidate, None))


def test_where_gives_the_site_at_which_with_its_place(reader):
    story = _passage("summit", "Summit", ["The leaders will meet at Gleneagles in Scotland in July."])
    assert _ask(reader, "Where will the leaders meet?", (story,)).text == "Gleneagles in Scotland"


@pytest.mark.parametrize("question, sentence, expected", [
    ("Where is the Harbour Snooker Hall?", "The club meets at the Harbour Snooker Hall in Port Avalon.", "Port Avalon"),  # a site it names
    ("Where did the team play?", "The team played at Greenfield Stadium in the Harbour Cup.", "Greenfield Stadium"),  # a competition
])
def test_where_gives_no_site_the_question_names_nor_a_competition(reader, question, sentence, expected):
    assert _ask(reader, question, (_passage("story", "Story", [sentence]),)).text == expected
