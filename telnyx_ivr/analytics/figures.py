"""The figures of the dashboard, the per-menu page, the API's ``stats`` and the CSV export:
all of them are computed here, from the roll-ups plus the rows not rolled up yet.

``dashboard(filters)`` and ``menu_figures(filters)`` return plain dicts of numbers (JSON-ready:
the API serves them as they are). Definitions: telnyx_ivr.analytics.outcomes and
docs/dashboards.md.
"""

from collections import defaultdict
from datetime import datetime, time, timedelta

from django.db.models import Q
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
from .rollups import CallSum, NodeSum, PipelineSum, bucket_of, call_sums, pipeline_sums

# --- loading the sums -----------------------------------------------------------------------


def _calls(filters):
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


def _live(filters):
    """Sums of the calls the roll-ups do not hold: in progress, just ended, or (with a caller
    number, which the roll-ups are not kept by) every call kept."""
    calls = _calls(filters)
    if not filters.from_number:
        calls = calls.filter(rolled_up=False)
    calls = list(calls)
    steps = CallStep.objects.filter(call__in=[call.pk for call in calls]).only(
        "call_id", "node_key", "node_kind", "outcome", "digits", "exit", "tries",
        "started_at", "ended_at", "result",
    )  # fmt: skip
    return call_sums(calls, steps)


def call_and_node_sums(filters, *, nodes=True):
    """``({key: CallSum}, {key + (node,): NodeSum})`` for the filters: roll-ups plus live."""
    call_totals, node_totals = _live(filters)
    call_totals, node_totals = dict(call_totals), dict(node_totals)
    if filters.from_number:
        return call_totals, node_totals
    for row in _rollups(CallRollup, filters, menu_field="menu"):
        key = (row.bucket, row.menu_version_id, row.to_number, row.is_test)
        total = CallSum(
            menu_id=row.menu_id,
            by_outcome={outcome: getattr(row, outcome, 0) for outcome in outcomes.OUTCOMES},
            menu_seconds=histograms.load(row.menu_seconds),
            destinations=dict(row.destinations),
        )
        total.by_outcome[outcomes.IN_PROGRESS] = 0
        call_totals[key] = call_totals[key].add(total) if key in call_totals else total
    if nodes:
        for row in _rollups(NodeRollup, filters):
            key = (row.bucket, row.menu_version_id, row.to_number, row.is_test, row.node_key)
            total = NodeSum(
                node_kind=row.node_kind,
                visits=row.visits,
                calls=row.calls,
                tries=row.tries,
                exits=dict(row.exits),
                seconds=histograms.load(row.seconds),
                filled=dict(row.filled),
            )
            node_totals[key] = node_totals[key].add(total) if key in node_totals else total
    return call_totals, node_totals


def pipeline_sum(filters):
    """The pipeline's ``PipelineSum`` for the period (site-wide: menus and numbers aside)."""
    total = PipelineSum()
    rows = PipelineRollup.objects.filter(bucket__gte=filters.since, bucket__lt=filters.until)
    if not filters.include_test:
        rows = rows.filter(is_test=False)
    for row in rows:
        total.add(
            PipelineSum(
                processed=row.processed,
                failed=row.failed,
                queue_wait_ms=histograms.load(row.queue_wait_ms),
                commands=row.commands,
                command_failures=row.command_failures,
                retries=row.retries,
                latency_ms=histograms.load(row.latency_ms),
                errors=dict(row.errors),
            )
        )
    period = {"received_at__gte": filters.since, "received_at__lt": filters.until}
    events = list(
        WebhookEvent.objects.filter(rolled_up=False, **period).only(
            "received_at", "status", "queue_wait_ms", "call_control_id"
        )
    )
    arrived = Q(event__received_at__gte=filters.since, event__received_at__lt=filters.until)
    made = Q(event__isnull=True, created_at__gte=filters.since, created_at__lt=filters.until)
    commands = list(
        Command.objects.filter(arrived | made, rolled_up=False).select_related("event", "call")
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
    call_totals, node_totals = call_and_node_sums(filters)
    overall = CallSum()
    for total in call_totals.values():
        overall.add(total)
    by_outcome = {outcome: overall.by_outcome.get(outcome, 0) for outcome in outcomes.OUTCOMES}
    pipeline = pipeline_sum(filters)
    figures = {
        "period": {
            "since": filters.since.isoformat(),
            "until": filters.until.isoformat(),
            "time_zone": str(filters.tz),
            "bucket": filters.bucket,
        },
        "calls": {"total": sum(by_outcome.values()), "by_outcome": by_outcome},
        "rates": outcomes.rates(by_outcome),
        "series": series(call_totals, filters),
        "transfers": [
            {"to": number, "calls": count}
            for number, count in sorted(overall.destinations.items(), key=lambda i: (-i[1], i[0]))
        ],
        "time_in_menu_seconds": histograms.percentiles(overall.menu_seconds, (50, 90, 95)),
        "ai_gathers": ai_gathers(node_totals),
        "nodes": nodes(node_totals) if filters.menu else [],
        "latency_ms": histograms.percentiles(pipeline.latency_ms),
        "pipeline": pipeline_figures(pipeline),
    }
    figures["test_calls_hidden"] = hidden_test_calls(filters, figures["calls"]["total"])
    return figures


def hidden_test_calls(filters, total):
    """How many test calls the filters leave out, for a period with no other call to count
    (0 otherwise): the page then says so and offers to include them."""
    if filters.include_test or total:
        return 0
    return _calls(filters.with_changes(include_test=True)).filter(is_test=True).count()


def menu_figures(filters):
    """The per-menu page: the funnel of every node of ``filters.version``."""
    call_totals, node_totals = call_and_node_sums(filters)
    overall = CallSum()
    for total in call_totals.values():
        overall.add(total)
    by_outcome = {outcome: overall.by_outcome.get(outcome, 0) for outcome in outcomes.OUTCOMES}
    total = sum(by_outcome.values())
    return {
        "calls": {"total": total, "by_outcome": by_outcome},
        "rates": outcomes.rates(by_outcome),
        "nodes": nodes(node_totals),
        "test_calls_hidden": hidden_test_calls(filters, total),
    }


def series(call_totals, filters):
    """Calls per hour or day of the period (in its time zone), by outcome; empty ones too."""
    starts = _bucket_starts(filters)
    counts = {start: dict.fromkeys(outcomes.OUTCOMES, 0) for start in starts}
    for (bucket, *_), total in call_totals.items():
        start = _local_start(bucket, filters)
        row = counts.setdefault(start, dict.fromkeys(outcomes.OUTCOMES, 0))
        for outcome, count in total.by_outcome.items():
            row[outcome] += count
    return [
        {"start": start.isoformat(), "total": sum(row.values()), **row}
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


def nodes(node_totals):
    """Per node (of one menu, summed over its buckets): visits, calls, exits, drop-off."""
    merged = defaultdict(NodeSum)
    for key, total in node_totals.items():
        merged[key[-1]].add(total)
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
            }
        )
    return rows


def ai_gathers(node_totals):
    """Per AI gather node (by menu): valid rate, median length, how often each field was filled."""
    versions = {key[1] for key in node_totals}
    menus = dict(MenuVersion.objects.filter(pk__in=versions).values_list("pk", "menu__slug"))
    merged = defaultdict(NodeSum)
    for key, total in node_totals.items():
        if total.node_kind == "ai_gather":
            merged[(menus.get(key[1], ""), key[-1])].add(total)
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
