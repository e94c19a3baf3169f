import pytest

from qa.entities import EntityTagger


@pytest.fixture(scope="module")
def tagger():
    return EntityTagger()


def _tags(tagger, text):
    return {text[e.start : e.end]: e.label for e in tagger.tag([text])[0]}


def test_amounts_keep_currency_and_units(tagger):
    tags = _tags(tagger, "Profits jumped 76% to $1.13bn (£600m), and the club still owes £5m.")
    assert tags["76%"] == "PERCENT"
    assert tags["$1.13bn"] == "MONEY" and tags["£600m"] == "MONEY" and tags["£5m"] == "MONEY"


def test_amounts_spacy_misses_are_found_by_pattern(tagger):
    tags = _tags(tagger, "The government will hand the industry 70m euros in aid.")
    assert tags["70m euros"] == "MONEY"


def test_offsets_are_exact_and_cached(tagger):
    text = "Mayor Linda Okafor opened the bridge on Monday, March 3, 2026."
    first = tagger.tag([text])[0]
    assert all(text[e.start : e.end].strip() == text[e.start : e.end] for e in first)
    assert tagger.tag([text])[0] == first  # cached
    assert "PERSON" in {e.label for e in first} and "DATE" in {e.label for e in first}


def test_per_units_stay_with_the_quantity(tagger):
    text = "Gusts of 142 km/h hit the coast, while inland winds reached 90 km/h by noon."
    assert any(phrase.endswith("km/h") for phrase in _tags(tagger, text))


def test_words_carry_parts_of_speech_and_offsets(tagger):
    text = "Which lawyer represents them?"
    words = tagger.words(text)
    assert [(text[w.start : w.end], w.pos) for w in words][:2] == [("Which", "DET"), ("lawyer", "NOUN")]
