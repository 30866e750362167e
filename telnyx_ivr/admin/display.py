"""How the app shows a time to an admin."""

from django.utils import formats, timezone


def local_time(value):
    """``value`` in the current time zone and the active locale's date and time format.

    It reads exactly as Django's own admin fields and ``{{ value }}`` in a template render a
    datetime, so the app's panels match the dates Django shows next to them."""
    return formats.localize(timezone.template_localtime(value))
