import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


def test_a_count_says_a_number_and_no_mark_after_it_is_part_of_it(tagger):
    tags = _tags(tagger, "Storm Beatrix brought gusts of up to 142 km/h to Saltmarsh Bay, leaving around 40,000 homes without power.")
    assert "up to" not in tags and tags["142 km/h"] == "QUANTITY" and tags["around 40,000"] == "CARDINAL"
    assert _tags(tagger, 'The widget cost $5 & "more".')["$5"] == "MONEY"


def test_a_named_storm_is_an_event_and_a_full_stop_no_part_of_a_figure(tagger):
    tags = _tags(tagger, "Storm Beatrix brought gusts of up to 142 km/h.")
    assert tags["Storm Beatrix"] == "EVENT" and tags["142 km/h"] == "QUANTITY"
    assert _tags(tagger, "Cyclone Tracy destroyed Darwin.")["Cyclone Tracy"] == "EVENT"  # the small model: a person
    assert _tags(tagger, "It opened at 7 a.m.")["7 a.m."] == "TIME"  # an abbreviation keeps its stop


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


def test_a_name_takes_the_capitalised_words_spacy_left_before_it(tagger):
    tags = _tags(tagger, "Analyst Nick Van den Brul of BNP Paribas said the e-mails name the FBI's Internet Fraud Complaint Center.")
    assert tags.get("BNP Paribas") == "ORG"
    assert tags.get("Internet Fraud Complaint Center") == "ORG"


def test_names_do_not_swallow_titles_or_other_entities(tagger):
    tags = _tags(tagger, "On Monday Microsoft said it had met Mr Kilroy-Silk and the UK firm Vodafone.")
    assert "Microsoft" in tags and "Monday" in tags
    assert not any(phrase.startswith("Mr ") and tags[phrase] != "PERSON" for phrase in tags)
    assert "UK firm Vodafone" not in tags


def test_a_count_followed_by_a_unit_is_a_quantity(tagger):
    assert _tags(tagger, "A new weight limit of 18 tonnes applies to lorries.").get("18 tonnes") == "QUANTITY"


def test_a_person_s_name_drops_the_possessive(tagger):
    text = "Shearer's goal moved him within 12 of Jackie Milburn's club scoring record of 200."
    assert "Jackie Milburn" in _tags(tagger, text)


def test_proper_names_the_recogniser_misses_are_names_of_unknown_kind(tagger):
    tags = _tags(tagger, "Last week the number one album Tourist, by Athlete, fell to number three.")
    assert tags["Tourist"] == "NAME" and tags["Athlete"] == "NAME"
    assert tags["Last week"] == "DATE"  # recognised entities are kept as they were


def test_a_lone_capitalised_word_opening_a_sentence_is_no_name(tagger):
    tags = _tags(tagger, 'Shares fell after the news. "Investors expected more," said a trader.  Traders agreed.\nPrices fell.')
    assert not {"Shares", "Investors", "Traders", "Prices"} & set(tags)


def test_unlabelled_names_keep_their_joining_words_and_lose_an_opening_article(tagger):
    text = "The Duchy of Lancaster pays for it, and Westlife's Flying Without Wings topped the chart."
    tags = _tags(tagger, text)
    names = {phrase for phrase, label in tags.items() if label == "NAME"}
    assert "Duchy of Lancaster" in names and "The Duchy of Lancaster" not in names
    assert "Flying Without Wings" in names


def test_frequencies_are_not_dates(tagger):
    tags = _tags(tagger, "The duchy provides his annual income and a weekly allowance since 1337.")
    assert "annual" not in tags and "weekly" not in tags
    assert tags["1337"] == "DATE"


def test_digits_inside_a_word_are_no_count(tagger):
    tags = _tags(tagger, "A study found that MP3 players and PS2 consoles are popular.")
    assert "3" not in tags and "2" not in tags


def test_a_name_ends_before_a_dash_that_opens_a_clause(tagger):
    tags = _tags(tagger, "He was betrayed and sent to Perm 35 - a Soviet hard labour camp in the Arctic.")
    assert not any(" - " in name for name in tags)


def test_a_capitalised_word_with_digits_is_a_name_not_a_date(tagger):
    tags = _tags(tagger, "There is already a HDTV service in Europe called Euro1080.")
    assert tags["Euro1080"] == "NAME"
    assert _tags(tagger, "Sales rose in Q3 2004.")["Q3 2004"] == "DATE"


def test_names_the_recogniser_cuts_in_two_are_joined(tagger):
    assert _tags(tagger, "Passengers will need to own a Nokia 3220 handset which will have a shell.")["Nokia 3220"] == "PRODUCT"
    assert _tags(tagger, "A report in the Sunday Business claimed Mr Brown has been asked to lead.")["Sunday Business"] == "ORG"
    assert _tags(tagger, "A report on Sunday said Brown would stay.").get("Sunday") == "DATE"


def test_a_name_keeps_its_of_phrase_and_a_title_its_contractions(tagger):
    assert _tags(tagger, "The Muslim Council of Britain has complained to broadcasting watchdog Ofcom.")["The Muslim Council of Britain"] == "ORG"
    assert "Flight of the Phoenix" in _tags(tagger, "The only other new entry was re-make, Flight of the Phoenix, at number eight.")
    assert "Fondation pour l'Enfance" in _tags(tagger, "The money will go to the Fondation pour l'Enfance, a charity.")
    assert "Grand Don't Come for Free" in _tags(tagger, "He finished behind The Streets' A Grand Don't Come for Free in the poll.")
    people = _tags(tagger, "Ayesha Karim of Pennington said the plan had failed.")
    assert people.get("Ayesha Karim") == "PERSON" and "Pennington" in people  # a person's "of" is where she is from
    apart = _tags(tagger, "Samsung of South Korea grew, said Ken Kutaragi, Chief Operating Officer of Sony.")
    assert {"Samsung", "South Korea", "Sony"} <= set(apart)  # a firm's country, a post's employer
    assert "Ice Cube" in _tags(tagger, "Ice Cube's You Can Do It was a hit.")  # a "'s" ends the owner's name


def test_a_name_before_based_or_born_is_a_place(tagger):
    tags = _tags(tagger, "The Belfast-born, Glasgow-based band collected the prizes at the ceremony.")
    assert tags["Glasgow"] == "GPE" and tags["Belfast"] == "GPE"
    assert _tags(tagger, "The Linux-based device was launched by Archos.")["Linux"] != "GPE"  # a product
    assert _tags(tagger, "Apple will ship Intel-based Macs.")["Intel"] != "GPE"  # a firm
    assert _tags(tagger, "The Australian-born actress Nicole Kidman starred.")["Australian"] == "NORP"


def test_a_date_range_cut_after_its_and_is_one_date(tagger):
    text = "Pew conducted an online survey of 2,755 musicians via musician membership organisations between March and April 2004."
    assert _tags(tagger, text)["between March and April 2004"] == "DATE"


def test_an_honorific_alone_is_no_name(tagger):
    tags = _tags(tagger, "A report claimed Mr Brown has been asked to take charge.")
    assert "Mr" not in tags


def test_a_score_is_one_count(tagger):
    tags = _tags(tagger, "England were beaten 19-13 in Dublin, and Chelsea drew 1-1 in the 2004-05 season.")
    assert tags["19-13"] == "CARDINAL" and tags["1-1"] == "CARDINAL"
    assert "19" not in tags and "13" not in tags and "2004-05" not in tags  # a season is no score


def test_a_web_address_is_a_name(tagger):
    tags = _tags(tagger, "Fans can now listen on hiphopnow.net every night.")
    assert tags["hiphopnow.net"] == "ORG"
    assert "charity.org.uk" in _tags(tagger, "Donate at charity.org.uk today.")  # the whole address


def test_a_number_inside_a_web_address_is_no_count(tagger):
    tags = _tags(tagger, "Mr Tourist paid A$3m for 192.com and more.")
    assert "192" not in tags


@pytest.mark.parametrize("text", ["-", "- Dash first", '"', "Of And", "A-", "The The The The and \n £5m"])
def test_fragments_tag_without_error(tagger, text):
    entities = tagger.tag([text])[0]
    assert all(0 <= e.start < e.end <= len(text) for e in entities)
    assert all(a.end <= b.start for a, b in zip(entities, entities[1:]))  # a name spaCy ends with "£" leaves the "£5m" whole


# Words, capitals, digits, quotes, hyphens and joining words, the material the name repairs read.
_PIECES = st.sampled_from(["The", "of", "and", "-", '"', "'", ",", ".", "MP3", "£5m", "1337", "annual", "Duchy", "OMAP", "Vox",
                           "Lawyer", "x.com", "192.com", "said", "Mr", "in", "10", "One", "19-13", "3-0-1", "\n", " "])


@settings(max_examples=80, deadline=5000, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_PIECES, max_size=25).map(lambda pieces: " ".join(pieces)) | st.text(max_size=80))
def test_any_text_gets_entities_with_exact_offsets(tagger, text):
    entities = tagger.tag([text])[0]
    assert all(0 <= e.start < e.end <= len(text) for e in entities)
    assert all(a.end <= b.start for a, b in zip(entities, entities[1:]))  # ordered, never overlapping


def test_an_amount_in_billions_keeps_its_currency_word(tagger):
    assert _tags(tagger, "The firm earned 1.16bn euros ($1.5bn; £800m) last year.")["1.16bn euros"] == "MONEY"


def test_a_peer_s_title_is_part_of_the_name(tagger):
    assert _tags(tagger, "The party repaid £500,000 to former Tory Treasurer Lord Ashcroft.")["Lord Ashcroft"] == "PERSON"


def test_a_first_name_tagged_apart_joins_the_person(tagger):
    tags = _tags(tagger, "Maciej Sundra, who designed the user interface, says the goal is access.")
    assert tags["Maciej Sundra"] == "PERSON" and "Maciej" not in tags


def test_an_unlabelled_title_keeps_of_the_inside(tagger):
    assert "Passion of the Christ" in _tags(tagger, "Unlike other film-makers, Passion of the Christ director Mel Gibson will not campaign.")


def test_a_name_the_recogniser_missed_is_a_person_s_when_a_title_opens_it(tagger):
    tags = _tags(tagger, "Lord Faulkner of Worcester, who chaired the inquiry, said the rules were weak.")
    assert tags["Lord Faulkner of Worcester"] == "PERSON"


@pytest.mark.parametrize("text, kept", [
    ("Mayor of London Ken Livingstone opened the line.", "Ken Livingstone"),  # a place before a full name stays apart
    ("US President George W Bush flew in on Monday.", "George W Bush"),
])
def test_a_name_before_a_full_name_is_not_its_first_name(tagger, text, kept):
    tags = _tags(tagger, text)
    assert tags[kept] == "PERSON" and not any(k.endswith(" " + kept) for k in tags)


@pytest.mark.parametrize("text, label", [("The Lord Mayor opened the fair.", "NAME"), ("She won Miss World in 2003.", "NAME")])
def test_a_title_opening_an_office_is_no_person(tagger, text, label):
    name = text.split(" ", 1)[1].split(" opened")[0] if "Mayor" in text else "Miss World"
    assert _tags(tagger, text).get(name) != "PERSON"


def test_an_unlabelled_run_ends_before_the_article_of_a_name_taken_by_the_recogniser(tagger):
    assert not any(k.endswith(" the") for k in _tags(tagger, "He saw the Lord of the Rings trilogy again."))


def test_a_peer_s_place_is_part_of_the_name(tagger):
    tags = _tags(tagger, "But Lord Walker of Gestingthorpe, the one law lord to oppose the appeal, said the laws were fair.")
    assert tags["Lord Walker of Gestingthorpe"] == "PERSON" and "Gestingthorpe" not in tags
    assert "Ken Livingstone" in _tags(tagger, "The Lord Mayor of London Ken Livingstone agreed.")  # an office, not a peer
    assert "Lord Browne of BP" not in _tags(tagger, "Lord Browne of BP said profits rose.")  # a firm is no peer's place


def test_a_number_tagged_as_a_name_after_a_currency_sign_is_an_amount(tagger):
    tags = _tags(tagger, "The demand for $280bn (£155bn) - filed by the Clinton administration in 1999 - was rejected.")
    assert tags["$280bn"] == "MONEY" and tags["£155bn"] == "MONEY"
    assert _tags(tagger, "Qantas will retire its 747 fleet by 2010.").get("747") != "CARDINAL"  # a model, not a count


def test_a_model_number_after_a_hyphen_stays_in_the_name(tagger):
    assert "SGH-i300" in _tags(tagger, "Samsung is showing off its SGH-i300, a handset with a three gigabyte hard drive.")


def test_a_score_after_a_name_is_no_part_of_it(tagger):
    tags = _tags(tagger, "France's Mauresmo routed Vera Zvonareva 6-1 6-0, while Sharapova won in straight sets.")
    assert "Vera Zvonareva" in tags and not any(name.startswith("Vera Zvonareva ") for name in tags)
    assert "Halo 2" in _tags(tagger, "The blockbuster shooter Halo 2 sold well.")  # a number that is part of the name
    tags = _tags(tagger, "Ashby Rovers won the cup, beating Kelton United 4-3 on penalties after the final at Greenfield Stadium.")
    assert "Kelton United" in tags and "Kelton United 4-3" not in tags  # a score the recogniser took into the name
    assert _tags(tagger, "Ashby Rovers beat Kelton United 4-3, with Smith scoring twice.")["4-3"] == "CARDINAL"  # one count
    assert "Section 12-3 of the Act" in _tags(tagger, "Section 12-3 of the Act was repealed.")  # a law's number is no score


def test_a_name_given_an_age_is_a_person_and_a_lone_person_after_in_is_a_place(tagger):
    assert _tags(tagger, "Imani Ward, a 28-year-old physiotherapist, won the race.")["Imani Ward"] == "PERSON"
    assert _tags(tagger, "Robert Jackson, 58, MP for Wantage, said he was disillusioned.")["Robert Jackson"] == "PERSON"
    assert _tags(tagger, "In London, 15 people were hurt.")["London"] == "GPE"  # a count after a place is no age
    assert _tags(tagger, "Lakeside Community Clinic in Greywater opened a new wing.")["Greywater"] == "GPE"
    assert _tags(tagger, "He served in Blair's cabinet for years.")["Blair"] == "PERSON"  # a possessive: a person's
    assert _tags(tagger, "In Leeds, 12-year-old Amy Smith was hurt.")["Leeds"] == "GPE"  # the age is the next name's
    assert _tags(tagger, "Sony, a 60-year-old company, cut jobs.")["Sony"] != "PERSON"
    assert _tags(tagger, "Voters have lost faith in Blair, the poll found.")["Blair"] == "PERSON"  # no place before "in"
    assert _tags(tagger, "Labour hit out at Howard over the claims.")["Howard"] == "PERSON"


def test_a_clock_s_reading_is_a_time(tagger):
    tags = _tags(tagger, "Ward won in 2:27:41 and the men's winner ran 2:11:09, in a field that left at 8:30am.")
    assert tags["2:27:41"] == tags["2:11:09"] == tags["8:30am"] == "TIME"
    assert _tags(tagger, "Apacs said 10.38am was the moment plastic overtook cash.")["10.38am"] == "TIME"
    tags = _tags(tagger, "Shares rose 10.38 points and the board voted 3:1 in favour.")
    assert tags["10.38"] == "CARDINAL" and tags.get("3:1") != "TIME"  # a decimal and a ratio are no times
    assert _tags(tagger, "MPs voted 11:10 against the bill.").get("11:10") != "TIME"  # a vote, or odds, as much as a time


def test_a_number_tagged_as_a_name_before_a_unit_is_a_quantity(tagger):
    tags = _tags(tagger, "The farm covers 210 hectares of former arable land and contains 148,000 solar panels.")
    assert tags["210 hectares"] == "QUANTITY" and tags["148,000"] == "CARDINAL"


def test_a_full_name_after_a_noun_for_a_person_is_a_person(tagger):
    tags = _tags(tagger, "The species has been named Centrolene aurelia, after field assistant Aurelia Costa, who first spotted it.")
    assert tags["Aurelia Costa"] == "PERSON"  # tagged a place and a name of unknown kind
    assert _tags(tagger, "The company was founded by chief executive Ayesha Karim.")["Ayesha Karim"] == "PERSON"
    assert _tags(tagger, "The deputy Labour leader spoke.")["Labour"] != "PERSON"  # one word: a party, a firm
    for text, name in (("He backed candidate Morgan Tsvangirai.", "Morgan Tsvangirai"), ("Fund manager Carys Pembroke said so.", "Carys Pembroke")):
        assert _tags(tagger, text)[name] == "PERSON"  # whatever kind the model gave
    for text, name in (("Orange was bought by owner France Telecom.", "France Telecom"), ("DHL-owner Deutsche Post rose.", "Deutsche Post"),
                       ("The official New York opening is set.", "New York")):
        assert _tags(tagger, text)[name] != "PERSON"  # a noun that qualifies a firm or a place


def test_a_unit_after_a_figure_joins_it_and_no_entities_overlap(tagger):
    assert _tags(tagger, "The lifts travel at about 61km/h, the fastest.") == {"about 61km/h": "QUANTITY"}
    assert "12,600 MW" in _tags(tagger, "The dam will produce 12,600 MW of power.")  # a unit in capitals, tagged a firm
    assert "40 GB" in _tags(tagger, "The new model holds 40 GB of music.")
    tags = _tags(tagger, "The film 21 Grams won.")
    assert "21 Grams" not in tags or tags["21 Grams"] != "QUANTITY"  # a capitalised "unit" is a name's


def test_a_figure_found_by_pattern_ends_before_a_comma_and_a_name_before_a_quote(tagger):
    from qa.entities import _NUMBER

    assert _NUMBER.findall("about 2005, projecting 14,000 jobs") == ["2005", "14,000"]
    assert "Janet Jackson" in _tags(tagger, "The regulator cited Janet Jackson 'wardrobe malfunction' fines.")


def test_a_name_before_a_player_s_position_and_a_player_is_the_side(tagger):
    tags = _tags(tagger, "West Ham's Gavin Williams is out, so uncapped Wrexham defender Stephen Roberts is drafted in.")
    assert tags["Wrexham"] == "ORG" and tags["Stephen Roberts"] == "PERSON"
    assert _tags(tagger, "Blair ally John Prescott backed the plan.")["Blair"] == "PERSON"  # an ally is no position


def test_a_place_named_for_a_person_is_one_name(tagger):
    assert _tags(tagger, "St Fintian's High School says it is clearly identified in the video.")["St Fintian's High School"] == "ORG"
    assert "St Mary's Hospital" in _tags(tagger, "He was taken to St Mary's Hospital in Paddington.")
    assert "Ken Livingstone" in _tags(tagger, "Ken Livingstone's City Hall was the venue.")  # an owner's full name
    assert "Queen Elizabeth's School" in _tags(tagger, "Pupils at Queen Elizabeth's School were sent home.")
    tags = _tags(tagger, "Tony Blair's Labour Party won the vote.")
    assert tags["Tony Blair"] == "PERSON" and "Labour Party" in tags  # a party is no place


def test_a_span_of_time_the_recogniser_misses_is_a_date(tagger):
    assert _tags(tagger, "It is expected the trial could last as long as a year.")["as long as a year"] == "DATE"
    assert _tags(tagger, "The ban lasted for over a fortnight.")["over a fortnight"] == "DATE"
    assert "a year" not in _tags(tagger, "The firm earns £1bn a year.")  # a rate
    assert "a day" not in _tags(tagger, "It costs £10 for a day pass.")  # a kind of ticket


def test_a_person_s_epithet_is_part_of_the_name(tagger):
    assert _tags(tagger, "Mr Hague had published the biography of William Pitt the Younger last year.")["William Pitt the Younger"] == "PERSON"


def test_a_range_of_days_is_one_date(tagger):
    text = ("The Welsh band, whose hits include Design For Life and If You Tolerate This, have already chosen which records"
            " to play between 6 and 12 December.")
    assert _tags(tagger, text)["6 and 12 December"] == "DATE"
    tags = _tags(tagger, "The event is in Lucerne, Switzerland from 3-8 May.")
    assert tags["3-8 May"] == "DATE" and "3-8" not in tags
    tags = _tags(tagger, "Arsenal's 2-1 December defeat hurt.")  # a score before a month is no range of days
    assert tags["2-1"] == "CARDINAL" and "2-1 December" not in tags


def test_a_title_with_a_possessive_inside_is_one_name(tagger):
    assert "See It In A Boy's Eyes" in _tags(tagger, "Next came the song See It In A Boy's Eyes, which was written for her.")
    tags = _tags(tagger, "A Grand Don't Come for Free beat Keane's Hope and Fears in second place.")
    assert "Keane" in tags and "Hope and Fears" in tags  # an owner and its work stay apart
