"""qa/clean.py: normalisation, boilerplate lines, byline/dateline headers, dates."""

from __future__ import annotations

import pytest

from qa.clean import Header, drop_boilerplate, is_boilerplate, normalize_text, parse_date, parse_header

STORY_WITH_CLICK = (
    "The council said residents who click through the new online planning portal can now see every "
    "application filed since 2019, and officials expect the copyright question over the archived maps "
    "to be settled by the end of the month, according to a statement released on Friday."
)


# --- normalize_text ---------------------------------------------------------------------------


def test_normalize_removes_bom_and_zero_width_characters():
    assert normalize_text("\ufeffHarbour\u200b bri\u200ddge\u2060 reopens\u00ad") == "Harbour bridge reopens"


def test_normalize_removes_control_characters_but_keeps_newlines():
    assert normalize_text("one\x00 two\x07\x1b\nthree\x7f") == "one two\nthree"


def test_normalize_turns_crlf_and_cr_into_newlines():
    assert normalize_text("first\r\nsecond\rthird") == "first\nsecond\nthird"


def test_normalize_decodes_character_references_left_in_copied_text():
    assert normalize_text("his fianc&#233;e paid &pound;5 &amp; &#x20AC;3 at AT&T; R&D &D; &#0;") == "his fiancée paid £5 & €3 at AT&T; R&D &D; &#0;"


def test_normalize_collapses_runs_of_blank_lines_and_spaces():
    assert normalize_text("  a\t b   c  \r\n\r\n\r\n\r\nd  ") == "a b c\n\nd"


def test_normalize_composes_unicode_nfc():
    assert normalize_text("cafe\u0301") == "caf\u00e9"


# --- boilerplate ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Copyright © 2024 The Daily Post, LLC. All rights reserved.",
        "(c) 2023 Riverside Courier",
        "Click here to subscribe",
        "Please read our comment policy before commenting.",
        "Share this article",
        "Jane Doe can be reached at jdoe@example.com.",
        "https://www.example.com/news/2024/05/story-slug",
        "www.example.org/page",
        "Click to Read More and View Comments",
        "Sign up for our newsletter",
        "Advertisement",
    ],
)
def test_generic_boilerplate_lines_are_recognised(line):
    assert is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    [
        "The Kestrel bridge reopened on Monday after a 14-month repair.",
        "Share prices fell 3% after the announcement.",
        STORY_WITH_CLICK,
        "",
    ],
)
def test_story_lines_are_not_boilerplate(line):
    assert not is_boilerplate(line)


def test_long_paragraph_mentioning_click_and_copyright_is_kept():
    assert "copyright question" in STORY_WITH_CLICK and "click" in STORY_WITH_CLICK
    assert drop_boilerplate(STORY_WITH_CLICK) == STORY_WITH_CLICK


def test_drop_boilerplate_keeps_story_and_paragraph_breaks():
    text = (
        "The bridge reopened on Monday.\n\n"
        "Share this article\n\n"
        "It cost $38.6 million.\n\n"
        "Ann Lee can be reached at alee@gazette.example.\n\n"
        "Copyright 2026 Port Gazette\n\n"
        "https://gazette.example/bridge"
    )
    assert drop_boilerplate(text) == "The bridge reopened on Monday.\n\nIt cost $38.6 million."


@pytest.mark.parametrize(
    "line",
    [
        "The publisher filed a copyright lawsuit against the software company on Tuesday.",
        "Print runs of the newspaper fell by half last year.",
        "The mayor described the plan in a newsletter sent to residents on Monday.",
    ],
)
def test_short_story_paragraph_with_trigger_word_is_kept(line):
    assert drop_boilerplate(f"The bridge reopened on Monday.\n\n{line}") == f"The bridge reopened on Monday.\n\n{line}"


# --- parse_header -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, expected",
    [
        ("- The Washington Times - Tuesday, February 1, 2022", Header("The Washington Times", None, "2022-02-01")),
        ("By Jane Doe | Riverside Courier | March 3, 2026", Header("Riverside Courier", "Jane Doe", "2026-03-03")),
        ("12 May 2025 - By Sam Roe", Header(None, "Sam Roe", "2025-05-12")),
        ("By Ann Lee - Port Gazette - March 3, 2026", Header("Port Gazette", "Ann Lee", "2026-03-03")),
        ("By Sam Roe", Header(None, "Sam Roe", None)),
        ("Port Gazette | 2026-01-28", Header("Port Gazette", None, "2026-01-28")),
    ],
)
def test_parse_header_layouts(line, expected):
    assert parse_header(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "The Kestrel bridge reopened on Monday after a 14-month repair.",
        "On March 3, 2026, the council voted to approve the budget.",
        "Harbour bridge reopens",
        "",
    ],
)
def test_parse_header_is_none_for_ordinary_text(line):
    assert parse_header(line) is None


def test_parse_header_none_for_headline_starting_with_by():
    assert parse_header("By land and sea, rescuers reach flooded town") is None


def test_parse_header_none_for_headline_containing_a_date():
    assert parse_header("Storm hits coast on 12 May 2025") is None


# --- parse_date -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, iso",
    [
        ("Tuesday, February 1, 2022", "2022-02-01"),
        ("Feb. 1, 2022", "2022-02-01"),
        ("1 February 2022", "2022-02-01"),
        ("2022-02-01", "2022-02-01"),
        ("2026-01-28T06:30:00+00:00", "2026-01-28"),
        ("Published on March 3rd, 2026 at noon by the desk", "2026-03-03"),
        ("March 2005", "2005-03"),  # no day: as much as it gives, not today's day filled in
        ("2005", "2005"),
    ],
)
def test_parse_date_to_iso(text, iso):
    assert parse_date(text) == iso


@pytest.mark.parametrize("text", [None, "", "   ", "not a date at all", "1850-01-01", "3000-01-01", "2004-2005", "Monday", "Monday 3 March"])
def test_parse_date_none_when_no_plausible_date(text):
    assert parse_date(text) is None
