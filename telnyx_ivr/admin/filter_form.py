"""The filter bar of the dashboard pages: its fields, their values and the error next to each.

The rules live in telnyx_ivr.analytics.filters (``parse_filters``); this only shows the
parameters back with what that said about them."""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_date

from ..analytics.filters import TRUE
from ..models import Menu, MenuVersion

MAX_VERSIONS = 50  # per menu, newest first: older ones can still be typed into the URL


@dataclass
class Option:
    value: str
    label: str
    group: str = ""  # the menu a version belongs to (its slug)
    group_label: str = ""  # and its name


@dataclass
class FilterField:
    name: str
    label: str
    kind: str  # date, text, select, checkbox
    value: str = ""
    error: str = ""
    options: list = field(default_factory=list)
    help: str = ""

    @property
    def groups(self):
        """Select options by menu: ``[(slug, name, [Option])]`` (one unnamed group without)."""
        grouped, names = {}, {}
        for option in self.options:
            grouped.setdefault(option.group, []).append(option)
            names[option.group] = option.group_label
        return [(slug, names[slug], options) for slug, options in grouped.items()]


def filter_fields(params, filters=None, errors=None, *, menu=None):
    """The fields of the filter bar for the query ``params``. ``filters``: what they gave
    (None when they had errors); ``errors``: FilterError.errors; ``menu``: the per-menu page's
    menu (the bar then has no menu choice, and its versions only)."""
    errors = errors or {}

    def given(name):
        value = params.get(name)
        return value.strip() if isinstance(value, str) else ""

    since, until = given("since"), given("until")
    if filters is not None:
        since, until = period_params(filters, params)
    fields = [
        FilterField("since", "Since", _date_kind(since), since, help="from this day on"),
        FilterField("until", "Until", _date_kind(until), until, help="up to this day, included"),
    ]
    if menu is None:
        fields.append(
            FilterField(
                "menu",
                "Menu",
                "select",
                given("menu"),
                options=[Option("", "All menus")]
                + [Option(slug, name) for slug, name in Menu.objects.values_list("slug", "name")],
            )
        )
    fields += [
        FilterField(
            "version",
            "Version",
            "select",
            given("version"),
            options=_version_options(menu),
            help="" if menu else "of the menu chosen",
        ),
        FilterField("from_number", "Caller number", "text", given("from_number")),
        FilterField("to_number", "Dialled number", "text", given("to_number")),
        FilterField(
            "bucket",
            "Bars per",
            "select",
            given("bucket"),
            options=[
                Option("", "fitting the period"),
                Option("hour", "hour"),
                Option("day", "day"),
            ],
        ),
        FilterField(
            "include_test",
            "Include test calls",
            "checkbox",
            "1" if given("include_test").lower() in TRUE else "",
            help="calls placed with the call simulator",
        ),
    ]
    for item in fields:
        message = errors.get(item.name, "")
        item.error = message[:1].upper() + message[1:]
    return fields


def shown_period(filters, given):
    """The period as the page words it: without an ``until`` in ``given`` (the request's
    parameters) the filters end now, which the page shows as "up to today, included"."""
    until = filters.until
    if not _given(given, "until"):
        today = (until - timedelta(microseconds=1)).astimezone(filters.tz).date()
        until = timezone.make_aware(datetime.combine(today + timedelta(days=1), time()), filters.tz)
    return filters.since, until


def period_params(filters, given):
    """``since`` and ``until`` as a person gives them: whole days as dates (``until`` the
    last day included), other edges as local times ("2026-12-01T09:30")."""
    since, until = shown_period(filters, given)
    since, until = since.astimezone(filters.tz), until.astimezone(filters.tz)

    def midnight(moment):
        return (moment.hour, moment.minute) == (0, 0)

    return (
        since.date().isoformat() if midnight(since) else since.strftime("%Y-%m-%dT%H:%M"),
        (until - timedelta(days=1)).date().isoformat()
        if midnight(until)
        else until.strftime("%Y-%m-%dT%H:%M"),
    )


def _given(params, name):
    value = params.get(name)
    return bool(value.strip()) if isinstance(value, str) else False


def page_params(filters, given, **changes):
    """Query parameters for a link to a dashboard page with ``filters`` and ``changes``: the
    period as ``period_params`` words it, and the bucket only when ``given`` (the request's
    parameters) chose one, so the next page fits its bars to the period again."""
    params = filters.params(**changes)
    params["since"], params["until"] = period_params(filters, given)
    if not (given.get("bucket") or "bucket" in changes):
        params.pop("bucket", None)
    return {name: value for name, value in params.items() if value}


def _date_kind(value):
    # A date picker shows only a plain date: a time of day stays editable as text.
    return "date" if not value or parse_date(value) else "text"


def _version_options(menu):
    versions = MenuVersion.objects.order_by("menu__name", "menu_id", "-number")
    if menu is not None:
        versions = versions.filter(menu=menu)
        live = menu.live_version.number if menu.live_version_id else None
        first = Option("", f"the live one (version {live})" if live else "the live one")
    else:
        first = Option("", "All versions")
    options, per_menu = [first], {}
    rows = versions.values_list(
        "pk", "number", "menu_id", "menu__slug", "menu__name", "menu__live_version"
    )
    for pk, number, menu_id, slug, name, live_pk in rows:
        seen = per_menu.setdefault(menu_id, 0)
        if seen >= MAX_VERSIONS:
            continue
        per_menu[menu_id] = seen + 1
        live = " (live)" if live_pk == pk else ""
        options.append(Option(str(number), f"version {number}{live}", slug, name))
    return options
