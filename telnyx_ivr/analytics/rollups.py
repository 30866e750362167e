"""Summing the call log into the roll-ups (telnyx_ivr/models/rollups.py), and the sums the
figures are made of.

``roll_up()`` (a beat task, every minute) takes what has finished and is not summed yet: ended
calls with their visits, processed or failed events, final commands. It adds them to the
roll-ups and marks them ``rolled_up``, in one transaction per batch. What is not rolled up yet
(calls in progress, the last minute) is summed on the fly by the same ``*_sums`` functions, so
a figure is the same whichever way its rows were summed.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, timedelta

from django.db import IntegrityError, transaction

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
from . import histograms, outcomes, traffic

BUCKET = timedelta(minutes=15)
BATCH = 2000
FINAL_EVENTS = (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.FAILED)
FINAL_COMMANDS = (Command.Status.SENT, Command.Status.FAILED, Command.Status.CANCELLED)


def bucket_of(moment):
    """The start (UTC) of the 15 minutes ``moment`` falls in."""
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


# --- sums ------------------------------------------------------------------------------------


@dataclass
class CallSum:
    """Calls of one (bucket, menu version, dialled number, test or not)."""

    menu_id: int | None = None
    by_outcome: dict = field(default_factory=lambda: dict.fromkeys(outcomes.OUTCOMES, 0))
    menu_seconds: dict = field(default_factory=dict)
    destinations: dict = field(default_factory=dict)

    def add(self, other):
        for outcome, count in other.by_outcome.items():
            self.by_outcome[outcome] = self.by_outcome.get(outcome, 0) + count
        histograms.add(self.menu_seconds, other.menu_seconds)
        _add_counts(self.destinations, other.destinations)
        return self


@dataclass
class NodeSum:
    """Visits to one node by the calls of one (bucket, version, number, test or not)."""

    node_kind: str = ""
    visits: int = 0
    calls: int = 0
    tries: int = 0
    exits: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    filled: dict = field(default_factory=dict)
    valid_routes: dict = field(default_factory=dict)  # AI: route index (a string) -> answers

    def add(self, other):
        self.node_kind = self.node_kind or other.node_kind
        self.visits += other.visits
        self.calls += other.calls
        self.tries += other.tries
        _add_counts(self.exits, other.exits)
        histograms.add(self.seconds, other.seconds)
        _add_counts(self.filled, other.filled)
        _add_counts(self.valid_routes, other.valid_routes)
        return self


@dataclass
class PipelineSum:
    """Events that arrived in one (bucket, test or not) and the commands they caused."""

    processed: int = 0
    failed: int = 0
    pending: int = 0
    queue_wait_ms: dict = field(default_factory=dict)
    commands: int = 0
    command_failures: int = 0
    retries: int = 0
    latency_ms: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)

    def add(self, other):
        for name in ("processed", "failed", "pending", "commands", "command_failures", "retries"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        histograms.add(self.queue_wait_ms, other.queue_wait_ms)
        histograms.add(self.latency_ms, other.latency_ms)
        _add_counts(self.errors, other.errors)
        return self


def _add_counts(into, other):
    for key, count in (other or {}).items():
        into[key] = into.get(key, 0) + count


def call_key(call):
    started = call.started_at or call.created_at
    return (bucket_of(started), call.menu_version_id, call.to_number, call.is_test)


def call_sums(calls, steps, definitions):
    """``({call key: CallSum}, {call key + (node key,): NodeSum})`` for counted ``calls`` and
    their ``steps`` (all of them, any order); ``definitions``: ``{menu version id:
    definition}`` of the calls' versions (``version_definitions``). Pure apart from reading
    the rows given."""
    by_call = defaultdict(list)
    for step in steps:
        by_call[step.call_id].append(step)
    call_totals, node_totals = defaultdict(CallSum), defaultdict(NodeSum)
    for call in calls:
        key = call_key(call)
        total = call_totals[key]
        total.menu_id = call.menu_id
        outcome = call.outcome or outcomes.IN_PROGRESS
        total.by_outcome[outcome] += 1
        if outcome != outcomes.IN_PROGRESS:
            histograms.add(total.menu_seconds, histograms.of([call.menu_seconds]))
        if outcome == outcomes.TRANSFERRED and call.transferred_to:
            total.destinations[call.transferred_to] = (
                total.destinations.get(call.transferred_to, 0) + 1
            )
        ended = outcome != outcomes.IN_PROGRESS
        visited = set()
        for step in by_call[call.pk]:
            exit = step.exit or outcomes.exit_of(
                step.node_kind, step.outcome, step.digits, call_ended=ended
            )
            if exit is None:
                continue  # a visit still going on
            node = node_totals[(*key, step.node_key)]
            node.node_kind = step.node_kind
            node.visits += 1
            node.tries += step.tries
            node.exits[exit] = node.exits.get(exit, 0) + 1
            if step.ended_at is not None:
                seconds = (step.ended_at - step.started_at).total_seconds()
                histograms.add(node.seconds, histograms.of([seconds]))
            if step.node_kind == "ai_gather" and isinstance(step.result, dict):
                for name, value in step.result.items():
                    if value not in (None, "", [], {}):
                        node.filled[name] = node.filled.get(name, 0) + 1
            if exit == outcomes.EXIT_VALID:
                route = _valid_route(definitions.get(call.menu_version_id), step)
                if route is not None:
                    node.valid_routes[route] = node.valid_routes.get(route, 0) + 1
            if step.node_key not in visited:
                visited.add(step.node_key)
                node.calls += 1
    return dict(call_totals), dict(node_totals)


def _valid_route(definition, step):
    """The route (its index, as a string) a valid AI answer took, where the node has several
    valid routes told apart by the result: the one its result matches, as the engine chose.
    Summed now because the results themselves are not kept as long as the roll-ups."""
    node = ((definition or {}).get("nodes") or {}).get(step.node_key)
    if node is None or not traffic.needs_results(node):
        return None
    result = step.result if isinstance(step.result, dict) else {}
    index = traffic.route_of_exit(node, outcomes.EXIT_VALID, result=result)
    return None if index is None else str(index)


def version_definitions(calls):
    """``{menu version id: definition}`` for the versions of ``calls``."""
    versions = {call.menu_version_id for call in calls} - {None}
    return dict(MenuVersion.objects.filter(pk__in=versions).values_list("pk", "definition"))


def pipeline_sums(events, commands, test_calls):
    """``{(bucket, is_test): PipelineSum}`` for ``events`` and ``commands`` (with their
    ``event`` loaded); ``test_calls`` is the set of test calls' call_control_ids."""
    totals = defaultdict(PipelineSum)
    for event in events:
        total = totals[(bucket_of(event.received_at), event.call_control_id in test_calls)]
        if event.status == WebhookEvent.Status.PROCESSED:
            total.processed += 1
        elif event.status == WebhookEvent.Status.FAILED:
            total.failed += 1
        else:
            total.pending += 1
        if event.queue_wait_ms is not None:
            histograms.add(total.queue_wait_ms, histograms.of([event.queue_wait_ms]))
    for command in commands:
        arrived = command.event.received_at if command.event_id else command.created_at
        total = totals[(bucket_of(arrived), command.call.call_control_id in test_calls)]
        if command.status == Command.Status.PENDING:
            continue
        total.commands += 1
        total.retries += max(command.attempts - 1, 0)
        if command.status == Command.Status.FAILED:
            total.command_failures += 1
        if command.status == Command.Status.SENT and command.sent_at and command.event_id:
            latency = (command.sent_at - arrived).total_seconds() * 1000
            histograms.add(total.latency_ms, histograms.of([latency]))
        if command.error and command.status != Command.Status.CANCELLED:
            key = error_key(command.http_status, command.error_code)
            total.errors[key] = total.errors.get(key, 0) + 1
    return dict(totals)


def error_key(http_status, code):
    """How command errors are grouped: ``"422 90018"``, ``"503"``, ``"no answer"``."""
    return " ".join(part for part in (str(http_status or "no answer"), code or "") if part)


# --- rolling up -----------------------------------------------------------------------------


class AlreadyRolledUp(Exception):
    """Another roll-up took some of the same rows first; this batch is undone."""


def roll_up(batch=BATCH):
    """Sum everything finished and not rolled up yet; returns how many rows were summed."""
    done = 0
    for step in (_roll_up_calls, _roll_up_pipeline):
        while True:
            try:
                with transaction.atomic():
                    count = step(batch)
            except AlreadyRolledUp:
                continue  # the other roll-up summed them; look again for what is left
            done += count
            if count < batch:
                break
    return done


def _claim(queryset, ids):
    """Mark ``ids`` rolled up, or undo the batch when another roll-up already did some."""
    if queryset.filter(pk__in=ids, rolled_up=False).update(rolled_up=True) != len(ids):
        raise AlreadyRolledUp


def _merge(model, key_names, totals, add):
    """Add ``totals`` ({key: sum}, keys in ``key_names`` order, the bucket first) to the rows
    of roll-up ``model``: one query locks the rows of those buckets, then ``add(row, sum)``
    on each, and the rows are written back in bulk. A row another roll-up inserts meanwhile
    breaks the insert: the whole batch is undone and done again (AlreadyRolledUp)."""
    if not totals:
        return
    rows = model.objects.select_for_update().filter(bucket__in={key[0] for key in totals})
    existing = {tuple(getattr(row, name) for name in key_names): row for row in rows}
    changed, new = [], []
    for key, total in totals.items():
        row = existing.get(key)
        if row is None:
            row = model(**dict(zip(key_names, key, strict=True)))
            new.append(row)
        else:
            changed.append(row)
        add(row, total)
    # Rewritten rather than updated: Django's bulk_update builds a CASE per row and field,
    # which costs far more than deleting the locked rows and inserting them again.
    model.objects.filter(pk__in=[row.pk for row in changed])._raw_delete(model.objects.db)
    try:
        with transaction.atomic():
            model.objects.bulk_create([*changed, *new], batch_size=500)
    except IntegrityError:
        raise AlreadyRolledUp from None


CALL_KEY = ("bucket", "menu_version_id", "to_number", "is_test")
NODE_KEY = (*CALL_KEY, "node_key")
PIPELINE_KEY = ("bucket", "is_test")
PIPELINE_COUNTS = ("processed", "failed", "commands", "command_failures", "retries")


def _add_calls(row, total):
    row.menu_id = row.menu_id or total.menu_id
    for outcome in outcomes.ENDED_OUTCOMES:
        setattr(row, outcome, getattr(row, outcome) + total.by_outcome[outcome])
    row.menu_seconds = histograms.add(histograms.load(row.menu_seconds), total.menu_seconds)
    _add_counts(row.destinations, total.destinations)


def _add_visits(row, total):
    row.node_kind = row.node_kind or total.node_kind
    row.visits += total.visits
    row.calls += total.calls
    row.tries += total.tries
    _add_counts(row.exits, total.exits)
    row.seconds = histograms.add(histograms.load(row.seconds), total.seconds)
    _add_counts(row.filled, total.filled)
    _add_counts(row.valid_routes, total.valid_routes)


def _add_pipeline(row, total):
    for name in PIPELINE_COUNTS:
        setattr(row, name, getattr(row, name) + getattr(total, name))
    row.queue_wait_ms = histograms.add(histograms.load(row.queue_wait_ms), total.queue_wait_ms)
    row.latency_ms = histograms.add(histograms.load(row.latency_ms), total.latency_ms)
    _add_counts(row.errors, total.errors)


# What call_sums reads of a call and of a visit: not the engine's state, the bulk of a row.
CALL_COLUMNS = (
    "started_at", "created_at", "menu", "menu_version", "to_number", "is_test",
    "outcome", "menu_seconds", "transferred_to",
)  # fmt: skip
STEP_COLUMNS = (
    "call_id", "node_key", "node_kind", "outcome", "digits", "exit", "tries", "started_at",
    "ended_at", "result",
)  # fmt: skip


def _roll_up_calls(batch):
    ids = list(
        Call.objects.filter(rolled_up=False, status=Call.Status.ENDED)
        .order_by()  # none, not even Meta's: it would sort every row not rolled up, each batch
        .select_for_update(skip_locked=True)  # two roll-ups take different rows
        .values_list("pk", flat=True)[:batch]
    )
    if not ids:
        return 0
    calls = list(Call.objects.counted().filter(pk__in=ids).only(*CALL_COLUMNS))
    steps = CallStep.objects.filter(call_id__in=[call.pk for call in calls]).only(*STEP_COLUMNS)
    call_totals, node_totals = call_sums(calls, steps, version_definitions(calls))
    _claim(Call.objects, ids)
    _merge(CallRollup, CALL_KEY, call_totals, _add_calls)
    _merge(NodeRollup, NODE_KEY, node_totals, _add_visits)
    return len(ids)


def _roll_up_pipeline(batch):
    event_ids = list(
        WebhookEvent.objects.filter(rolled_up=False, status__in=FINAL_EVENTS)
        .order_by()  # none, not even Meta's: it would sort every row not rolled up, each batch
        .select_for_update(skip_locked=True)  # two roll-ups take different rows
        .values_list("pk", flat=True)[:batch]
    )
    command_ids = list(
        Command.objects.filter(rolled_up=False, status__in=FINAL_COMMANDS)
        .order_by()  # none, not even Meta's: it would sort every row not rolled up, each batch
        .select_for_update(skip_locked=True)  # two roll-ups take different rows
        .values_list("pk", flat=True)[:batch]
    )
    if not event_ids and not command_ids:
        return 0
    events = list(
        WebhookEvent.objects.filter(pk__in=event_ids).only(
            "received_at", "status", "queue_wait_ms", "call_control_id"
        )
    )
    commands = list(
        Command.objects.filter(pk__in=command_ids)
        .select_related("event", "call")
        .only(
            "status", "attempts", "sent_at", "created_at", "error", "http_status", "error_code",
            "event__received_at", "call__call_control_id",
        )
    )  # fmt: skip
    ids = {event.call_control_id for event in events} | {c.call.call_control_id for c in commands}
    tests = set(
        Call.objects.filter(call_control_id__in=ids, is_test=True).values_list(
            "call_control_id", flat=True
        )
    )
    _claim(WebhookEvent.objects, event_ids)
    _claim(Command.objects, command_ids)
    _merge(
        PipelineRollup,
        PIPELINE_KEY,
        pipeline_sums(events, commands, tests),
        _add_pipeline,
    )
    return max(len(event_ids), len(command_ids))
