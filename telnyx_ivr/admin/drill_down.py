"""The call list as the calls behind a figure: the query parameters a figure's link carries
(telnyx_ivr.admin.links), read with the figures' own parser, applied to the list and said in
plain words at its top.

The figures' filters (telnyx_ivr.analytics.filters) mean what they mean on the dashboard, with
two differences a log needs: without ``since``/``until`` the list covers all time (not the
last 7 days), and without ``include_test`` it shows test calls too (marked), since a log
hides nothing unasked; figure links always say ``include_test``.
"""

import re
from dataclasses import dataclass, field
from datetime import time, timedelta

from django.db.models import Q
from django.utils import formats

from ..analytics import outcomes
from ..analytics.filters import FALSE, PARAMS, TRUE, FilterError, Filters, parse_filters
from ..models import CallStep, MenuVersion
from .links import CALL_LIST_PARAMS

# Everything a drill-down link may carry; ``outcome`` and ``include_test`` are also list
# filters of their own in the sidebar.
DRILL_DOWN_PARAMS = (*PARAMS, *CALL_LIST_PARAMS)
EXIT_PATTERN = re.compile(r"[0-9*#]{1,128}")  # a key-press string; the other exits are named
ENDED = ~Q(call__outcome__in=("", outcomes.IN_PROGRESS))
DASH = "\u2013"  # an en dash, for ranges
SPACED_DASH = f" {DASH} "
# What the list shows besides the calls (the default): ``?show=``.
SHOW = {
    "legs": "Transfer legs",
    "unclaimed": "Calls no menu answered",
    "all": "Everything recorded",
}


@dataclass(frozen=True)
class DrillDown:
    """What a call list URL asks for. ``given``: the parameters it carries (non-blank);
    ``errors``: ``{parameter: what is wrong}``, and then ``filters`` is None."""

    given: frozenset
    filters: Filters | None = None
    show: str = ""
    outcome: str = ""
    transferred_to: str = ""
    node: str = ""
    exit: str = ""
    include_test: bool | None = None  # None: not said, the log shows test calls too
    errors: dict = field(default_factory=dict)


def read(params, *, tz=None):
    """The ``DrillDown`` of query parameters ``params`` (a QueryDict or a dict of strings)."""
    values = {name: _text(params, name) for name in (*DRILL_DOWN_PARAMS, "show")}
    given = frozenset(name for name, value in values.items() if value)
    errors, filters = {}, None
    show = values["show"]
    if show and show not in SHOW:
        errors["show"] = f"{show!r} is not one of: {', '.join(SHOW)}"
    try:
        filters = parse_filters({name: values[name] for name in PARAMS}, tz=tz)
    except FilterError as error:
        errors.update(error.errors)
    outcome = values["outcome"]
    if outcome and outcome not in outcomes.OUTCOMES:
        errors["outcome"] = (
            f"{outcome!r} is not an outcome (one of: {', '.join(outcomes.OUTCOMES)})"
        )
    if len(values["transferred_to"]) > 255:
        errors["transferred_to"] = "is longer than 255 characters"
    node, exit = values["node"], values["exit"]
    if node and not _node_exists(node, filters):
        where = f"menu {filters.menu.slug!r}" if filters and filters.menu else "any menu"
        errors["node"] = f"{where} has no node {node!r}"
    if exit and exit not in outcomes.EXIT_LABELS and not EXIT_PATTERN.fullmatch(exit):
        errors["exit"] = (
            f"{exit!r} is not a way to leave a node: the keys pressed (e.g. 1) or one of "
            + ", ".join(outcomes.EXIT_LABELS)
        )
    include = values["include_test"].lower()
    return DrillDown(
        given=given,
        filters=None if errors else filters,
        show=show,
        outcome=outcome,
        transferred_to=values["transferred_to"],
        node=node,
        exit=exit,
        include_test=(include in TRUE)
        if "include_test" in given and include in TRUE | FALSE
        else None,
        errors=errors,
    )


def _text(params, name):
    value = params.get(name)
    return value.strip() if isinstance(value, str) else ""


def _node_exists(node, filters):
    versions = MenuVersion.objects.all()
    if filters is not None and filters.version is not None:
        versions = versions.filter(pk=filters.version.pk)
    elif filters is not None and filters.menu is not None:
        versions = versions.filter(menu=filters.menu)
    return versions.filter(definition__nodes__has_key=node).exists()


def apply(calls, drill):
    """``calls`` narrowed to what ``drill`` asks for, by each row's own columns (a transfer
    leg has no menu or outcome). ``show``, ``outcome``, ``include_test`` and ``menu`` are left
    to the sidebar's filters (telnyx_ivr.admin.call_filters), which take the same parameters.
    Bad parameters keep nothing: the list never passes off other calls as these."""
    if drill.errors:
        return calls.none()
    filters = drill.filters
    if "since" in drill.given:
        calls = calls.filter(started_at__gte=filters.since)
    if "until" in drill.given:
        calls = calls.filter(started_at__lt=filters.until)
    if filters.version is not None:
        calls = calls.filter(menu_version=filters.version)
    if filters.from_number:
        calls = calls.filter(from_number=filters.from_number)
    if filters.to_number:
        calls = calls.filter(to_number=filters.to_number)
    if drill.transferred_to:
        # As "transfers by destination" counts them: calls that ended transferred there.
        calls = calls.filter(outcome=outcomes.TRANSFERRED, transferred_to=drill.transferred_to)
    if drill.node or drill.exit:
        calls = calls.filter(pk__in=visits(drill.node, drill.exit).values("call_id"))
    return calls


def visits(node, exit):
    """The visits a node's figures count (telnyx_ivr.analytics.rollups.call_sums): a visit
    still open is counted once its call has ended, as an error."""
    steps = CallStep.objects.all()
    if node:
        steps = steps.filter(node_key=node)
    if exit == outcomes.EXIT_ERROR:
        return steps.filter(Q(exit=exit) | Q(exit="") & ENDED)
    if exit:
        return steps.filter(exit=exit)
    return steps.filter(~Q(exit="") | ENDED)


def shown(calls, show):
    """The rows ``?show=`` asks for: the calls the figures count (telnyx_ivr.models.calls
    ``counted``) by default, or their transfer legs, the calls no menu answered, or all."""
    if show == "legs":
        return calls.filter(parent__isnull=False)
    if show == "unclaimed":
        return calls.filter(parent__isnull=True).exclude(pk__in=calls.model.objects.counted())
    if show == "all":
        return calls
    return calls.counted()


def keeps_test_calls(value):
    """Whether the list keeps test calls for an ``include_test`` value (None: not given)."""
    return (value or "").strip().lower() not in FALSE - {""}


# --- in words ---------------------------------------------------------------------------


def describe(drill):
    """The drill-down in words: "Abandoned calls that left node 'support': hung up, on menu
    Classic tree, 1-7 Dec 2026" (with an en dash). Empty without a drill-down or with errors."""
    if drill.errors or not drill.given:
        return ""
    filters = drill.filters
    if drill.show:
        words = [SHOW[drill.show]]
        if drill.outcome:
            words.append(f"with the outcome {outcomes.LABELS[drill.outcome]}")
        if drill.transferred_to:
            words.append(f"transferred to {drill.transferred_to}")
    elif drill.transferred_to and drill.outcome in ("", outcomes.TRANSFERRED):
        words = [f"Calls transferred to {drill.transferred_to}"]
    else:
        words = [_subject(drill.outcome)]
        if drill.transferred_to:
            words.append(f"transferred to {drill.transferred_to}")
    if drill.node and drill.exit:
        words.append(f"that left node '{drill.node}': {outcomes.exit_label(drill.exit)}")
    elif drill.node:
        words.append(f"that went through node '{drill.node}'")
    elif drill.exit:
        words.append(f"that left a node: {outcomes.exit_label(drill.exit)}")
    if filters.menu is not None:
        menu = f"on menu {filters.menu.name}"
        if filters.version is not None:
            menu += f" (version {filters.version.number})"
        words.append(menu)
    if filters.from_number:
        words.append(f"from {filters.from_number}")
    if filters.to_number:
        words.append(f"to {filters.to_number}")
    text = " ".join(words)
    period = describe_period(filters, since="since" in drill.given, until="until" in drill.given)
    if period:
        text += f", {period}"
    if drill.include_test is False:
        text += ", test calls left out"
    elif drill.include_test:
        text += ", test calls included"
    return text


def _subject(outcome):
    if not outcome:
        return "Calls"
    if outcome == outcomes.IN_PROGRESS:
        return "Calls in progress"
    return f"{outcomes.LABELS[outcome]} calls"


def describe_period(filters, *, since=True, until=True):
    """The period in the filters' time zone: "1-7 Dec 2026", "1 Dec 2026, 09:30-10:00",
    "since 1 Dec 2026" (ranges with an en dash). ``until`` is exclusive, so a period ending
    at a midnight ends on the day before it."""
    start = filters.since.astimezone(filters.tz)
    end = filters.until.astimezone(filters.tz)
    whole_days = start.time() == time() and end.time() == time()
    if since and until:
        if whole_days:
            return _day_range(start.date(), (end - timedelta(days=1)).date())
        if start.date() == end.date():
            return f"{_day(start.date())}, {_clock(start)}{DASH}{_clock(end)}"
        return f"{_day(start.date())} {_clock(start)}{SPACED_DASH}{_day(end.date())} {_clock(end)}"
    if since:
        return f"since {_day(start.date())}" + ("" if whole_days else f" {_clock(start)}")
    if until:
        if end.time() == time():
            return f"until {_day((end - timedelta(days=1)).date())}"
        return f"before {_day(end.date())} {_clock(end)}"
    return ""


def _day_range(first, last):
    if first == last:
        return _day(first)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}{DASH}{_day(last)}"
    if first.year == last.year:
        return f"{formats.date_format(first, 'j M')}{SPACED_DASH}{_day(last)}"
    return f"{_day(first)}{SPACED_DASH}{_day(last)}"


def _day(day):
    return formats.date_format(day, "j M Y")


def _clock(moment):
    return formats.date_format(moment, "H:i")


def error_lines(drill):
    """Each bad parameter and what is wrong with it, for the page."""
    return [f"{name}: {message}" for name, message in drill.errors.items()]
