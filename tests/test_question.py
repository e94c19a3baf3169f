import pytest

from qa.question import asks_for_latest, expected_answer


@pytest.mark.parametrize(
    "question, kind",
    [
        ("Who won the race?", "person"),
        ("Whose record did he break?", "person"),
        ("When did the bridge reopen?", "date"),
        ("In what year did Slovakia first win the cup?", "date"),
        ("How much did the bridge cost?", "amount"),
        ("By what percentage did profits rise?", "percentage"),
        ("How many jobs will go?", "number"),
        ("How long is the new frog species?", "number"),
        ("How long did the repairs take?", "duration"),
        ("Where did the band first meet?", "place"),
        ("In which city is the new office?", "place"),
        ("Which firm carried out the work?", "organisation"),
        ("What nationality is the new coach?", "nationality"),
    ],
)
def test_expected_answer_type(question, kind):
    assert expected_answer(question).name == kind


@pytest.mark.parametrize("question", ["What did the minister say about the plan?", "Why was the match postponed?", "Tell me about the storm"])
def test_open_questions_have_no_type(question):
    assert expected_answer(question) is None


def test_type_comes_from_the_first_wh_word():
    # "whose" later in the sentence is a relative pronoun, not what is asked
    assert expected_answer("What was the name of the boat whose crew was rescued?") is None
    assert expected_answer("Which club does the player whose contract ended join?").name == "organisation"


def test_asks_for_latest():
    assert asks_for_latest("What is the current ferry fare?")
    assert asks_for_latest("Who is the latest signing?")
    assert not asks_for_latest("What was the ferry fare in 2004?")
