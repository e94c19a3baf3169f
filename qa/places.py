"""Country names: pycountry's (ISO 3166), with the short names news copy uses for them."""

from __future__ import annotations

from functools import lru_cache

# Names pycountry does not give: the UK's nations, short forms of formal names and former names
_NEWS_NAMES = {
    "us", "usa", "america", "uk", "britain", "great britain", "england", "scotland", "wales", "northern ireland",
    "russia", "czech republic", "holland", "south korea", "north korea", "iran", "syria", "vietnam", "laos", "bolivia",
    "venezuela", "tanzania", "moldova", "macedonia", "taiwan", "palestine", "ivory coast", "burma", "the netherlands",
    "turkey", "cape verde", "swaziland", "brunei", "east timor", "kosovo", "serbia and montenegro", "yugoslavia", "bosnia",
    "republic of ireland", "irish republic", "dr congo", "democratic republic of congo", "u.s.", "uae", "soviet union", "ussr",
}


_CITY_STATES = {"hong kong", "singapore", "monaco", "macao", "gibraltar", "holy see (vatican city state)", "holy see",
                "luxembourg", "kuwait", "panama", "guatemala", "djibouti", "san marino", "andorra"}  # … or a city of the same name


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    import pycountry  # loaded on first use

    names = set(_NEWS_NAMES)
    for country in pycountry.countries:
        for attribute in ("name", "common_name", "official_name"):
            name = getattr(country, attribute, None)
            if name:
                names.add(name.lower())
                names.add(name.split(",")[0].lower())  # "Iran, Islamic Republic of" → "Iran"
    return frozenset(names - _CITY_STATES)


def is_country(name: str) -> bool:
    """Whether a place's name is a country's ("France", "the US", "Britain"), not a town's or a
    region's; a city that is a state too ("Singapore") is a town's."""
    text = name.strip().lower()
    return text.removeprefix("the ") in _countries() or text in _countries()
