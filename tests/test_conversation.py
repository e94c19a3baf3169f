from qa.conversation import resolve
from qa.schema import Citation, Reply


def _reply(query: str, article_id: str, answer: str | None = "Ann Lee") -> Reply:
    citation = Citation(1, article_id, "t", None, None, None, "p", None, None, 1.0, 0, 1)
    return Reply(query, answer is not None, answer, 0.9, (citation,), {}, query=query)


def test_no_history_searches_the_question():
    assert resolve("How much did it cost?", None).query == "How much did it cost?"


def test_leaning_follow_up_carries_the_previous_query_and_prefers_its_article():
    history = [("When did the Kestrel bridge reopen?", _reply("When did the Kestrel bridge reopen?", "bridge"))]
    follow = resolve("How much did it cost?", history)
    assert follow.query == "When did the Kestrel bridge reopen? How much did it cost?"
    assert follow.prefer == {"bridge"} and not follow.avoid


def test_chained_follow_ups_keep_the_conversation_bounded():
    reply = _reply("x " * 500, "a")
    follow = resolve("And then?", [("q", reply)])
    assert len(follow.query) <= 400 + len(" And then?")


def test_self_contained_question_is_not_rewritten():
    history = [("Who runs the clinic?", _reply("Who runs the clinic?", "clinic"))]
    question = "How many panels make up the Ridgeway solar installation?"
    assert resolve(question, history).query == question


def test_asking_for_another_avoids_earlier_answers():
    history = [("Who is the mayor?", _reply("Who is the mayor?", "council", "Harold Benning"))]
    follow = resolve("Who else spoke?", history)
    assert follow.avoid == {"Harold Benning"}


def test_question_naming_its_own_subject_is_not_a_follow_up_despite_pronouns():
    history = [("Who runs the clinic?", _reply("Who runs the clinic?", "clinic"))]
    question = "How many passengers did the Gullhaven ferry carry on its first day?"
    assert resolve(question, history).query == question
    assert resolve("What about Rovers?", history).query.endswith("What about Rovers?")
    assert resolve("What about Rovers?", history).query != "What about Rovers?"
