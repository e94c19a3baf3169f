from qa.conversation import resolve
from qa.schema import Citation, Reply


def _reply(query: str, article_id: str, answer: str | None = "Ann Lee") -> Reply:
    citation = Citation(1, article_id, "t", None, None, None, "p", None, None, 1.0, 0, 1)
    return Reply(query, answer is not None, answer, 0.9, (citation,), {}, query=query)


def test_no_history_searches_the_question():
    follow = resolve("How much did it cost?", None)
    assert follow.query == "How much did it cost?" and follow.context is None and not follow.may_stand_alone


def test_follow_up_carries_the_previous_query_prefers_its_article_and_avoids_its_answer():
    history = [("When did the Kestrel bridge reopen?", _reply("When did the Kestrel bridge reopen?", "bridge", "Monday"))]
    follow = resolve("How much did it cost?", history)
    assert follow.query == "When did the Kestrel bridge reopen? How much did it cost?"
    assert follow.context == "When did the Kestrel bridge reopen?"
    assert follow.prefer == {"bridge"} and follow.avoid == {"Monday"}
    assert not follow.may_stand_alone


def test_chained_follow_ups_keep_the_conversation_bounded():
    reply = _reply("x " * 500, "a")
    follow = resolve("And then?", [("q", reply)])
    assert len(follow.query) <= 400 + len(" And then?")


def test_a_question_naming_something_new_may_start_a_new_subject():
    history = [("Who runs the clinic?", _reply("Who runs the clinic?", "clinic"))]
    follow = resolve("How many panels make up the Ridgeway solar installation?", history)
    assert follow.may_stand_alone


def test_names_the_conversation_has_said_or_answered_are_not_new():
    history = [("What was the score in Ireland's win over England?", _reply("What was the score in Ireland's win over England?", "rugby", "19-13"))]
    assert not resolve("Who scored Ireland's only try?", history).may_stand_alone
    assert not resolve("Who did England play on Saturday?", history).may_stand_alone  # a weekday names no subject
    history.append(("Who kicked their points?", _reply("Who kicked their points?", "rugby", "Ronan O'Gara")))
    assert not resolve("How old is O'Gara?", history).may_stand_alone  # the answer given named him


def test_and_or_what_about_surely_continues_the_conversation():
    history = [("Who runs the clinic?", _reply("Who runs the clinic?", "clinic"))]
    follow = resolve("What about Rovers?", history)
    assert follow.query == "Who runs the clinic? What about Rovers?"
    assert not follow.may_stand_alone


def test_earlier_short_answers_are_avoided_but_not_a_whole_sentence():
    sentence = "The council's plan, approved on Monday after a long debate, cuts spending on parks by a fifth."
    history = [("Who is the mayor?", _reply("Who is the mayor?", "council", "Harold Benning")),
               ("What did the council approve?", _reply("What did the council approve?", "council", sentence))]
    assert resolve("Who else spoke?", history).avoid == {"Harold Benning"}


def test_a_name_from_an_earlier_subject_is_new_again():
    history = [("How much did the Kestrel bridge cost?", _reply("How much did the Kestrel bridge cost?", "bridge", "$38.6 million")),
               ("Where was the painter José Núñez born?", _reply("Where was the painter José Núñez born?", "painter", "Seville"))]
    follow = resolve("How much did the Kestrel bridge cost?", history)
    assert follow.may_stand_alone  # the chat is about the painter now: the bridge is a new subject again
