"""The filters every figure takes, read from query parameters (the dashboard's form, the API,
the CSV export) with an error that names the parameter for each bad value."""

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from ..models import Menu, MenuVersion
from .rollups import BUCKET

PARAMS = ("since", "until", "menu", "version", "from_number", "to_number", "include_test", "bucket")
BUCKETS = ("hour", "day")
DEFAULT_DAYS = 7
MAX_HOURLY_DAYS = 31
TRUE, FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


class FilterError(ValueError):
    """Bad filter values: ``errors`` maps each parameter to what is wrong with it."""

    def __init__(self, errors):
        super().__init__("; ".join(f"{name}: {text}" for name, text in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Filters:
    """A period (``since`` inclusive, ``until`` exclusive, on 15-minute edges) and what to
    keep in it. ``tz`` is the time zone days and hours are counted in."""

    since: datetime
    until: datetime
    tz: object
    bucket: str = "day"
    menu: Menu | None = None
    version: MenuVersion | None = None
    from_number: str = ""
    to_number: str = ""
    include_test: bool = False

    def params(self, **changes):
        """The query parameters that give these filters (for links), with ``changes``."""
        values = {
            "since": self.since.astimezone(self.tz).isoformat(timespec="minutes"),
            "until": self.until.astimezone(self.tz).isoformat(timespec="minutes"),
            "menu": self.menu.slug if self.menu else "",
            "version": str(self.version.number) if self.version else "",
            "from_number": self.from_number,
            "to_number": self.to_number,
            "include_test": "1" if self.include_test else "",
            "bucket": self.bucket,
        }
        values.update({name: str(value) for name, value in changes.items()})
        return {name: value for name, value in values.items() if value}

    def with_changes(self, **changes):
        return replace(self, **changes)


def parse_filters(params, *, now=None, tz=None, default_version=False):
    """``Filters`` from a mapping of query parameters; raises FilterError naming each bad one.

    Dates are read in ``tz`` (the current time zone): ``since=2026-12-01`` starts at its
    midnight, ``until=2026-12-07`` ends at the midnight after it. Times are ISO 8601; without
    an offset they are local. The period is widened to whole 15 minutes. Without a period:
    the last 7 days, today included. ``default_version``: with a menu but no version, take
    the menu's live version (the per-menu page) instead of every version.
    """
    tz = tz or timezone.get_current_timezone()
    now = now or timezone.now()
    errors = {}
    since = _moment(params, "since", tz, errors)
    until = _moment(params, "until", tz, errors, end_of_day=True)
    if until is None and "until" not in errors:
        until = now
    if since is None and "since" not in errors:
        today = (until or now).astimezone(tz).date()
        since = _local_midnight(today - timedelta(days=DEFAULT_DAYS - 1), tz)
    if since and until and since >= until:
        errors["until"] = "must be later than since"
    menu = version = None
    slug = _text(params, "menu")
    if slug:
        menu = Menu.objects.filter(slug=slug).first()
        if menu is None:
            errors["menu"] = f"no menu with the slug {slug!r}"
    number = _text(params, "version")
    if number:
        if not number.isdigit():
            errors["version"] = f"{number!r} is not a version number"
        elif not slug:
            errors["version"] = "needs menu: a version number belongs to one menu"
        elif menu is not None:
            version = menu.versions.filter(number=int(number)).first()
            if version is None:
                errors["version"] = f"menu {slug!r} has no version {number}"
    elif menu is not None and default_version and menu.live_version_id:
        version = menu.live_version
    include = _text(params, "include_test").lower()
    if include not in TRUE | FALSE:
        errors["include_test"] = f"{include!r} is not yes or no (1 or 0)"
    bucket = _text(params, "bucket")
    if bucket and bucket not in BUCKETS:
        errors["bucket"] = f"{bucket!r} is not one of: hour, day"
    if not errors:
        since, until = _floor(since), _ceil(until)
        bucket = bucket or ("hour" if until - since <= timedelta(days=2) else "day")
        if bucket == "hour" and until - since > timedelta(days=MAX_HOURLY_DAYS):
            errors["bucket"] = f"hour buckets cover at most {MAX_HOURLY_DAYS} days; use day"
    for name in ("from_number", "to_number"):
        if len(_text(params, name)) > 255:
            errors[name] = "is longer than 255 characters"
    if errors:
        raise FilterError(errors)
    return Filters(
        since=since,
        until=until,
        tz=tz,
        bucket=bucket,
        menu=menu,
        version=version,
        from_number=_text(params, "from_number"),
        to_number=_text(params, "to_number"),
        include_test=include in TRUE,
    )


def _text(params, name):
    value = params.get(name)
    return value.strip() if isinstance(value, str) else ""


def _moment(params, name, tz, errors, *, end_of_day=False):
    text = _text(params, name)
    if not text:
        return None
    try:
        day = parse_date(text)
        moment = None if day else parse_datetime(text.replace(" ", "T", 1))
    except ValueError:  # the right shape, an impossible value (2026-02-30)
        day = moment = None
    if day is not None:
        return _local_midnight(day + timedelta(days=1) if end_of_day else day, tz)
    if moment is None:
        errors[name] = (
            f"{text!r} is not a date or a date and time (e.g. 2026-12-01 or 2026-12-01T09:30)"
        )
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, tz)
    return moment


def _local_midnight(day: date, tz):
    return timezone.make_aware(datetime.combine(day, time()), tz)


def _floor(moment):
    utc = moment.astimezone(UTC)
    return utc - (utc - datetime(2000, 1, 1, tzinfo=UTC)) % BUCKET


def _ceil(moment):
    floor = _floor(moment)
    return floor if floor == moment else floor + BUCKET
