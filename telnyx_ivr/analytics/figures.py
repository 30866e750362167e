"""The figures of the dashboard, the per-menu page, the API's ``stats`` and the CSV export:
all of them are computed here, from the roll-ups plus the rows not rolled up yet.

``dashboard(filters)`` and ``menu_figures(filters)`` return plain dicts of numbers (JSON-ready:
the API serves them as they are). Definitions: telnyx_ivr.analytics.outcomes and
docs/dashboards.md.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce, Trunc
from django.utils import timezone

from ..models import (
    Call,
    CallRollup,
    CallStep,
    Command,
    MenuVersion,
    NodeRollup,
    PipelineRollup,
    WebhookEvent,
)
from . import histograms, outcomes
from .json_sums import summed_maps, without_jit
from .rollups import (
    CallSum,
    NodeSum,
    PipelineSum,
    bucket_of,
    call_sums,
    pipeline_sums,
    version_definitions,
)

# The rows not rolled up yet are summed here, on every page view: a roll-up that keeps up
# leaves a few minutes' worth. More than this many of a kind means it is behind, or Celery beat
# is not running: the figures leave the rest out, and say how many, rather than load millions
# of rows into the page's process.
LIVE_LIMIT = 20_000

# --- loading the sums -----------------------------------------------------------------------


def _capped(queryset, what, behind):
    """At most LIVE_LIMIT rows of ``queryset``; how many more there are goes in ``behind``."""
    queryset = queryset.order_by()  # any rows will do; an order would sort them all first
    rows = list(queryset[: LIVE_LIMIT + 1])
    if len(rows) > LIVE_LIMIT:
        behind[what] = queryset.count() - LIVE_LIMIT
        del rows[LIVE_LIMIT:]
    return rows


def kept_calls(filters):
    """The counted calls the filters keep (any state, rolled up or not)."""
    calls = Call.objects.counted().filter(
        started_at__gte=filters.since, started_at__lt=filters.until
    )
    if not filters.include_test:
        calls = calls.filter(is_test=False)
    if filters.menu:
        calls = calls.filter(menu=filters.menu)
    if filters.version:
        calls = calls.filter(menu_version=filters.version)
    if filters.to_number:
        calls = calls.filter(to_number=filters.to_number)
    if filters.from_number:
        calls = calls.filter(from_number=filters.from_number)
    return calls


def _rollups(model, filters, *, menu_field="menu_version__menu"):
    rows = model.objects.filter(bucket__gte=filters.since, bucket__lt=filters.until)
    if not filters.include_test:
        rows = rows.filter(is_test=False)
    if filters.menu:
        rows = rows.filter(**{menu_field: filters.menu})
    if filters.version:
        rows = rows.filter(menu_version=filters.version)
    if filters.to_number:
        rows = rows.filter(to_number=filters.to_number)
    return rows


def _live(filters, behind):
    """Sums of the calls the roll-ups do not hold: in progress, just ended, or (with a caller
    number, which the roll-ups are not kept by) every call kept. At most LIVE_LIMIT calls."""
    calls = kept_calls(filters)
    if not filters.from_number:
        calls = calls.filter(rolled_up=False)
    calls = _capped(calls, "calls", behind)
    steps = CallStep.objects.filter(call__in=[call.pk for call in calls]).only(
        "call_id", "node_key", "node_kind", "outcome", "digits", "exit", "tries",
        "started_at", "ended_at", "result",
    )  # fmt: skip
    return call_sums(calls, steps, version_definitions(calls))


@dataclass
class Sums:
    """What the figures are made of: calls by outcome per period (hour or day of the filters'
    time zone), all calls together, and the visits per (menu version, node)."""

    periods: dict = field(default_factory=dict)  # local start -> {outcome: calls}
    calls: CallSum = field(default_factory=CallSum)
    nodes: dict = field(default_factory=lambda: defaultdict(NodeSum))  # (version, node) ->
    behind: dict = field(default_factory=dict)  # "calls" -> how many the sums leave out


def sums(filters, *, all_nodes):
    """The ``Sums`` of the filters: roll-ups (added up by the database) plus the live part.
    ``all_nodes``: every node's visits; otherwise only AI gathers'."""
    found = Sums()
    live_calls, live_nodes = _live(filters, found.behind)
    for (bucket, *_), total in live_calls.items():
        found.calls.add(total)
        row = found.periods.setdefault(_local_start(bucket, filters), _no_calls())
        for outcome, count in total.by_outcome.items():
            row[outcome] += count
    for (_, version, _, _, node), total in live_nodes.items():
        if all_nodes or total.node_kind == "ai_gather":
            found.nodes[(version, node)].add(total)
    if filters.from_number:  # the roll-ups are not kept by caller: the live part is all
        return found

    calls = _rollups(CallRollup, filters, menu_field="menu")
    periods = (
        calls.annotate(start=Trunc("bucket", filters.bucket, tzinfo=filters.tz))
        .values("start")
        .annotate(**{outcome: Sum(outcome) for outcome in outcomes.ENDED_OUTCOMES})
    )
    for row in periods:
        counts = found.periods.setdefault(row.pop("start"), _no_calls())
        for outcome, count in row.items():
            counts[outcome] += count
            found.calls.by_outcome[outcome] += count
    maps = summed_maps(calls, ["destinations", "menu_seconds"])
    found.calls.add(
        CallSum(
            destinations=maps["destinations"].get((), {}),
            menu_seconds=histograms.load(maps["menu_seconds"].get(())),
        )
    )

    visits = _rollups(NodeRollup, filters)
    if not all_nodes:
        visits = visits.filter(node_kind="ai_gather")
    keys = ("menu_version_id", "node_key")
    counted = visits.values(*keys, "node_kind").annotate(
        visits_=Sum("visits"), calls_=Sum("calls"), tries_=Sum("tries")
    )
    maps = summed_maps(visits, ["exits", "seconds", "filled", "valid_routes"], group_by=keys)
    for row in counted:
        key = (row["menu_version_id"], row["node_key"])
        found.nodes[key].add(
            NodeSum(
                node_kind=row["node_kind"],
                visits=row["visits_"],
                calls=row["calls_"],
                tries=row["tries_"],
                exits=maps["exits"].get(key, {}),
                seconds=histograms.load(maps["seconds"].get(key)),
                filled=maps["filled"].get(key, {}),
                valid_routes=maps["valid_routes"].get(key, {}),
            )
        )
    return found


def _no_calls():
    return dict.fromkeys(outcomes.OUTCOMES, 0)


def pipeline_sum(filters, behind=None):
    """The pipeline's ``PipelineSum`` for the period (site-wide: menus and numbers aside).
    Events and commands left out of it (beyond LIVE_LIMIT each) are counted in ``behind``."""
    behind = {} if behind is None else behind
    rows = PipelineRollup.objects.filter(bucket__gte=filters.since, bucket__lt=filters.until)
    if not filters.include_test:
        rows = rows.filter(is_test=False)
    counts = rows.aggregate(
        **{
            name: Coalesce(Sum(name), 0)
            for name in ("processed", "failed", "commands", "command_failures", "retries")
        }
    )
    maps = summed_maps(rows, ["queue_wait_ms", "latency_ms", "errors"])
    total = PipelineSum(
        **counts,
        queue_wait_ms=histograms.load(maps["queue_wait_ms"].get(())),
        latency_ms=histograms.load(maps["latency_ms"].get(())),
        errors=maps["errors"].get((), {}),
    )
    period = {"received_at__gte": filters.since, "received_at__lt": filters.until}
    events = _capped(
        WebhookEvent.objects.filter(rolled_up=False, **period).only(
            "received_at", "status", "queue_wait_ms", "call_control_id"
        ),
        "events",
        behind,
    )
    arrived = Q(event__received_at__gte=filters.since, event__received_at__lt=filters.until)
    made = Q(event__isnull=True, created_at__gte=filters.since, created_at__lt=filters.until)
    commands = _capped(
        Command.objects.filter(arrived | made, rolled_up=False).select_related("event", "call"),
        "commands",
        behind,
    )
    ids = {event.call_control_id for event in events} | {c.call.call_control_id for c in commands}
    tests = set(
        Call.objects.filter(call_control_id__in=ids, is_test=True).values_list(
            "call_control_id", flat=True
        )
    )
    for (_, is_test), live in pipeline_sums(events, commands, tests).items():
        if filters.include_test or not is_test:
            total.add(live)
    return total


# --- the figures ----------------------------------------------------------------------------


def dashboard(filters):
    """Everything the dashboard shows, as plain numbers."""
    with without_jit():
        found = sums(filters, all_nodes=bool(filters.menu))
        pipeline = pipeline_sum(filters, found.behind)
    by_outcome = {outcome: found.calls.by_outcome.get(outcome, 0) for outcome in outcomes.OUTCOMES}
    destinations = found.calls.destinations
    figures = {
        "period": {
            "since": filters.since.isoformat(),
            "until": filters.until.isoformat(),
            "time_zone": str(filters.tz),
            "bucket": filters.bucket,
        },
        "calls": {"total": sum(by_outcome.values()), "by_outcome": by_outcome},
        "rates": outcomes.rates(by_outcome),
        "series": series(found.periods, filters),
        "transfers": [
            {"to": number, "calls": count}
            for number, count in sorted(destinations.items(), key=lambda i: (-i[1], i[0]))
        ],
        "time_in_menu_seconds": histograms.percentiles(found.calls.menu_seconds, (50, 90, 95)),
        "ai_gathers": ai_gathers(found.nodes),
        "nodes": nodes(found.nodes) if filters.menu else [],
        "latency_ms": histograms.percentiles(pipeline.latency_ms),
        "pipeline": pipeline_figures(pipeline),
    }
    figures["test_calls_hidden"] = hidden_test_calls(filters, figures["calls"]["total"])
    figures["not_summed"] = not_summed(found.behind)
    return figures


def not_summed(behind):
    """``{"calls", "events", "commands"}``: rows the figures leave out, the roll-up behind."""
    return {what: behind.get(what, 0) for what in ("calls", "events", "commands")}


def hidden_test_calls(filters, total):
    """How many test calls the filters leave out, for a period with no other call to count
    (0 otherwise): the page then says so and offers to include them."""
    if filters.include_test or total:
        return 0
    return kept_calls(filters.with_changes(include_test=True)).filter(is_test=True).count()


def menu_figures(filters):
    """The per-menu page: the funnel of every node of ``filters.version``."""
    with without_jit():
        found = sums(filters, all_nodes=True)
    by_outcome = {outcome: found.calls.by_outcome.get(outcome, 0) for outcome in outcomes.OUTCOMES}
    total = sum(by_outcome.values())
    return {
        "calls": {"total": total, "by_outcome": by_outcome},
        "rates": outcomes.rates(by_outcome),
        "nodes": nodes(found.nodes),
        "test_calls_hidden": hidden_test_calls(filters, total),
        "not_summed": not_summed(found.behind),
    }


def series(periods, filters):
    """Calls per hour or day of the period (in its time zone), by outcome; empty ones too."""
    counts = {start: _no_calls() for start in _bucket_starts(filters)}
    for start, row in periods.items():
        counts.setdefault(start, _no_calls())
        for outcome, count in row.items():
            counts[start][outcome] += count
    return [
        {"start": start.astimezone(filters.tz).isoformat(), "total": sum(row.values()), **row}
        for start, row in sorted(counts.items())
    ]


def _local_start(bucket, filters):
    local = bucket.astimezone(filters.tz)
    if filters.bucket == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    return timezone.make_aware(datetime.combine(local.date(), time()), filters.tz)


def _bucket_starts(filters):
    starts, moment = [], bucket_of(filters.since)
    seen = set()
    while moment < filters.until:
        start = _local_start(moment, filters)
        if start not in seen:
            seen.add(start)
            starts.append(start)
        moment += timedelta(minutes=15)
    return starts


def nodes(node_sums):
    """Per node (of one menu, its versions added up): visits, calls, exits, drop-off."""
    merged = defaultdict(NodeSum)
    for (_, node), total in node_sums.items():
        merged[node].add(total)
    rows = []
    for key, total in sorted(merged.items(), key=lambda item: (-item[1].visits, item[0])):
        hung_up = total.exits.get(outcomes.EXIT_HANGUP, 0)
        rows.append(
            {
                "key": key,
                "kind": total.node_kind,
                "visits": total.visits,
                "calls": total.calls,
                "exits": dict(sorted(total.exits.items(), key=lambda item: -item[1])),
                "mean_tries": round(total.tries / total.visits, 2) if total.visits else None,
                "drop_off": round(hung_up / total.visits, 4) if total.visits else None,
                "valid_routes": total.valid_routes,
            }
        )
    return rows


def ai_gathers(node_sums):
    """Per AI gather node (by menu): valid rate, median length, how often each field was filled."""
    versions = {version for version, _ in node_sums}
    menus = dict(MenuVersion.objects.filter(pk__in=versions).values_list("pk", "menu__slug"))
    merged = defaultdict(NodeSum)
    for (version, node), total in node_sums.items():
        if total.node_kind == "ai_gather":
            merged[(menus.get(version, ""), node)].add(total)
    rows = []
    for (menu, node), total in sorted(merged.items()):
        valid = total.exits.get(outcomes.EXIT_VALID, 0)
        invalid = total.exits.get(outcomes.EXIT_INVALID, 0)
        rows.append(
            {
                "menu": menu,
                "node": node,
                "gathers": total.visits,
                "valid": valid,
                "invalid": invalid,
                "valid_rate": round(valid / (valid + invalid), 4) if valid + invalid else None,
                "median_seconds": histograms.percentile(total.seconds, 50),
                "fields_filled": dict(sorted(total.filled.items())),
            }
        )
    return rows


def pipeline_figures(total):
    pending = total.pending  # never rolled up: only the live part has them
    return {
        "events": {
            "received": total.processed + total.failed + pending,
            "processed": total.processed,
            "failed": total.failed,
            "pending": pending,
        },
        "queue_wait_ms": histograms.percentiles(total.queue_wait_ms, (50, 95)),
        "latency_ms": histograms.percentiles(total.latency_ms),
        "commands": total.commands,
        "command_failures": total.command_failures,
        "command_errors": [
            {"error": key, "commands": count}
            for key, count in sorted(total.errors.items(), key=lambda item: (-item[1], item[0]))
        ],
        "retries": total.retries,
    }
