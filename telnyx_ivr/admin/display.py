"""How the app shows a time, a duration or a number of milliseconds to an admin."""

import math

from django.utils import formats, timezone


def local_time(value):
    """``value`` in the current time zone and the active locale's date and time format.

    It reads exactly as Django's own admin fields and ``{{ value }}`` in a template render a
    datetime, so the app's panels match the dates Django shows next to them."""
    return formats.localize(timezone.template_localtime(value))


def local_time_seconds(value):
    """``value`` as ``local_time`` shows it, to the second: "Dec. 1, 2026, 8:16:50 p.m."
    ("" for no time). For the call log, where a minute holds many events."""
    if value is None:
        return ""
    local = timezone.template_localtime(value)
    clock = formats.get_format("TIME_FORMAT")
    # Keep the locale's 12- or 24-hour clock; only add the seconds.
    seconds = "H:i:s" if any(hour in clock for hour in "GH") else "g:i:s a"
    return f"{formats.date_format(local, 'DATE_FORMAT')}, {formats.date_format(local, seconds)}"


def duration(seconds):
    """Seconds for people, to the second: "45 s", "1 min 05 s", "1 h 02 min" ("" for none)."""
    if seconds is None:
        return ""
    whole = _whole(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def milliseconds(value):
    """A time in milliseconds, whole: "98 ms", "1,235 ms" ("" for none)."""
    if value is None:
        return ""
    return f"{_whole(value):,} ms"


def _whole(value):
    return math.floor(value + 0.5)  # half up: 0.5 s is 1 s, never the even neighbour
