from qa.places import is_country


def test_countries_by_their_formal_and_news_names():
    assert all(is_country(n) for n in ("France", "the US", "Britain", "Scotland", "Russia", "South Korea", "Iran", "Turkey", "Republic of Ireland"))


def test_towns_regions_and_cities_named_as_their_state_are_no_countries():
    assert not any(is_country(n) for n in ("Paris", "Leeds", "Buckinghamshire", "Singapore", "Hong Kong", "San Francisco", "Luxembourg"))
