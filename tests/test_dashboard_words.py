"""How the dashboards word their figures: rates, counts, periods, and no None."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from telnyx_ivr.admin import figure_text as text

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("rate", "words"),
    [
        (None, "no calls"),
        (0, "0 %"),
        (0.004, "0.4 %"),
        (0.125, "13 %"),  # half up, as people round (Python's round() gives 12)
        (0.625, "63 %"),
        (0.995, "99.5 %"),
        (1, "100 %"),
    ],
)
def test_rates(rate, words):
    assert text.percent(rate) == words


def test_counts_durations_and_nothing_to_measure():
    assert text.count(1234) == "1,234"
    assert text.plural(1, "visit") == "1 visit"
    assert text.plural(1200, "visit") == "1,200 visits"
    assert text.seconds(65) == "1 min 05 s"
    assert text.milliseconds(97.71609306335449) == "98 ms"
    assert text.seconds(None) == text.milliseconds(None) == text.count(None) == "—"


@pytest.mark.parametrize(
    ("since", "until", "sentence"),
    [
        ((2026, 12, 1), (2026, 12, 8), "No calls between 1 and 7 December."),
        ((2026, 12, 1), (2026, 12, 2), "No calls on 1 December."),
        ((2026, 11, 28), (2026, 12, 5), "No calls between 28 November and 4 December."),
        ((2026, 12, 28), (2027, 1, 4), "No calls between 28 December 2026 and 3 January 2027."),
        (
            (2026, 12, 1, 9, 30),
            (2026, 12, 1, 17),
            "No calls between 1 December 09:30 and 1 December 17:00.",
        ),
        # The night the clocks go back is a day like the others.
        ((2026, 10, 25), (2026, 10, 26), "No calls on 25 October."),
    ],
)
def test_periods_in_words(since, until, sentence):
    start = datetime(*since, tzinfo=BERLIN)
    end = datetime(*until, tzinfo=BERLIN)
    assert text.no_calls_sentence(start, end, BERLIN) == sentence


def test_command_errors_in_words():
    assert text.command_error("422 90018") == "HTTP 422, Telnyx error 90018"
    assert text.command_error("503") == "HTTP 503"
    assert text.command_error("no answer") == "no answer"


def test_an_ai_questions_answers_are_not_keys():
    assert text.exit_label("invalid", "ai_gather") == "invalid answer"
    assert text.exit_label("valid", "ai_gather") == "valid answer"
    assert text.exit_label("invalid", "speak_menu") == "invalid key"
    assert text.exit_label("1", "speak_menu") == "pressed 1"
