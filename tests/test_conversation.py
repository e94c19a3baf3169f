import pytest

from qa.conversation import figure_or_date, resolve
from qa.schema import Citation, Reply


def _reply(query: str, article_id: str, answer: str | None = "Ann Lee", kind: str | None = None) -> Reply:
    citation = Citation(1, article_id, "t", None, None, None, "p", None, None, 1.0, 0, 1)
    return Reply(query, answer is not None, answer, 0.9, (citation,), {}, query=query, kind=kind)


def test_no_history_searches_the_question():
    follow = resolve("How much did it cost?", None)
    assert follow.query == "How much did it cost?" and follow.context is None


def test_follow_up_carries_the_previous_query_prefers_its_article_and_avoids_the_answer_it_leans_on():
    history = [("Which firm restored the Kestrel bridge?", _reply("Which firm restored the Kestrel bridge?", "bridge", "Halvorsen & Pike"))]
    follow = resolve("How much did it charge?", history)
    assert follow.query == "Which firm restored the Kestrel bridge? How much did it charge?"
    assert follow.context == "Which firm restored the Kestrel bridge?"
    assert follow.prefer == {"bridge"} and follow.avoid == {"Halvorsen & Pike"} and not follow.continues


@pytest.mark.parametrize("answer, figure", [
    ("$38.6 million", True), ("around 40,000", True), ("Monday", True), ("12 March 2026", True), ("Saturday, March 14", True),
    ("Theresa May", False), ("Channel 4", False), ("June Sarpong", False), ("the Sunday Times", False), ("G8", False),
    ("Boeing 747", False), ("Rotterdam", False), ("the chief executive", False), ("US$27 million", True), ("Jan. 5", True),
    ("5 Sept", True), ("10:00 GMT", True),
])
def test_figures_and_dates_are_told_from_names_by_their_words(answer, figure):
    assert figure_or_date(_reply("q", "a", answer)) is figure


@pytest.mark.parametrize("answer, kind, figure", [
    ("two people", "CARDINAL", True), ("a fifth", "CARDINAL", True), ("seven", "CARDINAL", True), ("Theresa May", "PERSON", False),
    ("Boeing 747", "PRODUCT", False),
])
def test_the_reader_s_entity_label_tells_a_figure_from_a_name(answer, kind, figure):
    assert figure_or_date(_reply("q", "a", answer, kind)) is figure


def test_a_pronoun_stands_for_no_figure_or_date_so_those_may_be_given_again():
    for answer in ("Monday", "$38.6 million", "around 40,000", "12 March"):
        history = [("How much did the bridge cost?", _reply("How much did the bridge cost?", "bridge", answer))]
        assert resolve("How much did it cost?", history).avoid == frozenset()  # asked again: the same answer
        assert resolve("What else did it cost?", history).avoid == {answer}
    history = [("Who will lead the campaign?", _reply("Who will lead the campaign?", "a", "Theresa May"))]
    assert resolve("Who did she replace?", history).avoid == {"Theresa May"}  # a name with a month in it is still a name


def test_a_question_that_leans_on_nothing_may_get_an_earlier_answer_again():
    history = [("Who is the project manager?", _reply("Who is the project manager?", "bridge", "Tomas Reiner"))]
    assert resolve("Who said the crew found more corrosion than expected?", history).avoid == frozenset()


def test_chained_follow_ups_keep_the_conversation_bounded():
    reply = _reply("x " * 500, "a")
    follow = resolve("And then?", [("q", reply)])
    assert len(follow.query) <= 400 + len(" And then?")


def test_and_or_what_about_surely_continues_the_conversation():
    history = [("Who runs the clinic?", _reply("Who runs the clinic?", "clinic"))]
    follow = resolve("What about Rovers?", history)
    assert follow.query == "Who runs the clinic? What about Rovers?" and follow.continues


def test_earlier_short_answers_are_avoided_but_not_a_whole_sentence():
    sentence = "The council's plan, approved on Monday after a long debate, cuts spending on parks by a fifth."
    history = [("Who is the mayor?", _reply("Who is the mayor?", "council", "Harold Benning")),
               ("What did the council approve?", _reply("What did the council approve?", "council", sentence))]
    assert resolve("Who else spoke?", history).avoid == {"Harold Benning"}
