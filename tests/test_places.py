from qa.places import is_country


def test_countries_by_their_formal_and_news_names():
    assert all(is_country(n) for n in ("France", "the US", "Britain", "Scotland", "Russia", "South Korea", "Iran"))


def test_towns_regions_and_city_states_are_no_countries():
    assert not any(is_country(n) for n in ("Paris", "Leeds", "Buckinghamshire", "Singapore", "Hong Kong", "San Francisco"))
