"""How the dashboards word their figures for office admins: "42 %", "1,234", periods as
"1 and 7 December", durations as telnyx_ivr.admin.display writes them, and never ``None``."""

import math
from datetime import timedelta

from django.utils import dateformat

from ..analytics import outcomes
from ..menus.kinds import KIND_NAMES
from . import display

NONE = "—"  # a figure with nothing to measure: no calls, no gathers, no commands
NO_CALLS = "no calls"  # a rate with no ended call (docs/dashboards.md)


def count(value):
    return f"{value:,}" if value is not None else NONE


def plural(n, word):
    """ "1 visit", "2 visits", "1,234 visits"."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def percent(rate, *, empty=NO_CALLS):
    """A share (0..1) as "42 %"; small non-zero shares keep a decimal ("0.4 %")."""
    if rate is None:
        return empty
    value = rate * 100
    if 0 < value < 1 or 99 < value < 100:
        return f"{value:.1f} %"
    return f"{math.floor(value + 0.5)} %"  # half up, as people round: 12.5 % is "13 %"


def seconds(value):
    """A duration for people ("1 min 05 s"), or the dash when there is none to measure."""
    return display.duration(value) if value is not None else NONE


def milliseconds(value):
    """ "98 ms", or the dash when there is none to measure."""
    return display.milliseconds(value) if value is not None else NONE


def command_error(key):
    """A command error as the figures group them ("422 90018", "503", "no answer"), in
    words: "HTTP 422, Telnyx error 90018"."""
    status, _, code = key.partition(" ")
    if not status.isdigit():
        return key
    return f"HTTP {status}" + (f", Telnyx error {code}" if code else "")


def outcome_label(outcome):
    return outcomes.LABELS.get(outcome, outcome)


# An AI gather's answers are not keys.
AI_EXIT_WORDS = {outcomes.EXIT_VALID: "valid answer", outcomes.EXIT_INVALID: "invalid answer"}


def exit_label(exit, kind=""):
    """How a visit left its node, for people ("pressed 1", "invalid key", "hung up")."""
    if kind == "ai_gather" and exit in AI_EXIT_WORDS:
        return AI_EXIT_WORDS[exit]
    return outcomes.exit_label(exit)


def kind_label(kind):
    return KIND_NAMES.get(kind, kind or "node")


def moment(value, tz):
    """A bucket's start or a period's edge: "Mon 1 Dec 14:00" in ``tz``."""
    return dateformat.format(value.astimezone(tz), "D j M H:i")


def bucket_label(start, bucket, tz):
    """A bar of the calls-over-time chart: "Mon 1 Dec" for a day, "Mon 1 Dec 14:00" for an
    hour."""
    local = start.astimezone(tz)
    return dateformat.format(local, "D j M" if bucket == "day" else "D j M H:i")


def period(since, until, tz):
    """``since`` (included) to ``until`` (excluded) in words: "1 and 7 December" for whole
    days, with times otherwise ("1 December 09:00 and 1 December 17:30")."""
    start, end = since.astimezone(tz), until.astimezone(tz)
    whole_days = (start.hour, start.minute, end.hour, end.minute) == (0, 0, 0, 0)
    if not whole_days:
        last = end
        fmt = "j F Y H:i" if start.year != last.year else "j F H:i"
        return f"{dateformat.format(start, fmt)} and {dateformat.format(last, fmt)}"
    last = (end - timedelta(days=1)).replace(hour=0)  # the last day included
    if start.date() == last.date():
        return dateformat.format(start, "j F")
    if start.year != last.year:
        return f"{dateformat.format(start, 'j F Y')} and {dateformat.format(last, 'j F Y')}"
    if start.month != last.month:
        return f"{dateformat.format(start, 'j F')} and {dateformat.format(last, 'j F')}"
    return f"{dateformat.format(start, 'j')} and {dateformat.format(last, 'j F')}"


def no_calls_sentence(since, until, tz):
    """ "No calls between 1 and 7 December." (or "No calls on 1 December.")."""
    words = period(since, until, tz)
    if " and " in words:
        return f"No calls between {words}."
    return f"No calls on {words}."
