from qa.dedupe import BANDS, band_keys, shingles, similarity

STORY = (
    "Quarterly profits at US media giant TimeWarner jumped 76% to $1.13bn for the three months to December, "
    "from $639m year-earlier. The firm, which is now one of the biggest investors in Google, benefited from "
    "sales of high-speed internet connections and higher advert sales. TimeWarner said fourth quarter sales "
    "rose 2% to $11.1bn from $10.9bn. Its profits were buoyed by one-off gains which offset a profit dip at "
    "Warner Bros, and less users for AOL."
)


def test_refiled_copy_is_near_and_shares_a_band():
    refiled = STORY.replace("less users", "fewer users") + " Shares rose 1% in early trading."
    assert similarity(STORY, refiled) >= 0.8
    assert set(band_keys(STORY)) & set(band_keys(refiled))


def test_different_story_is_far_and_shares_no_band():
    other = "The Kestrel Harbour Bridge reopened on Monday after a 14-month restoration that cost $38.6 million."
    assert similarity(STORY, other) < 0.1
    assert not set(band_keys(STORY)) & set(band_keys(other))


def test_keys_are_stable_and_case_insensitive():
    assert band_keys(STORY) == band_keys(STORY.upper())
    assert len(band_keys(STORY)) == BANDS


def test_short_and_empty_texts():
    assert shingles("") == set() and band_keys("") == []
    assert similarity("Two words", "two words") == 1.0
