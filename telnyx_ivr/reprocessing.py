"""Processing stored webhook events again: failed ones, or any when forced.

``manage.py ivr_reprocess`` processes the events it selects here and now, one by one, and
says what became of each; the admin's "Process again" action only sets failed events back
to pending and queues them, so that a page request never waits on the engine or on Telnyx.

Reprocessing is the engine's own processing (``process_stored_event``) run once more, so it
is as idempotent as a redelivered task: the engine skips an event its call has already
applied (the call's ``seen_event_ids``), and a command decided again gets the same
``command_id`` (derived from the event's id and the command's position), whose row exists
already, so no command is sent twice. A processed event is left alone unless forced.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from .calls.runner import RetryLater, process_stored_event
from .dispatch import enqueue
from .models import Command, WebhookEvent
from .tasks import schedule_retry

logger = logging.getLogger("telnyx_ivr.reprocessing")

Status = WebhookEvent.Status

# What became of an event.
PROCESSED_NOW = "processed now"
ALREADY_PROCESSED = "already processed"
STILL_FAILING = "still failing"
NOT_DONE = "not done"
WOULD = "dry run"

# The engine's note for an event its call has applied already (engine/core.py).
_ALREADY_APPLIED = "ignored: duplicate of event "

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Reprocessed:
    event: WebhookEvent  # as it is now
    outcome: str
    words: str

    @property
    def ok(self):
        return self.outcome not in (STILL_FAILING, NOT_DONE)

    def line(self):
        return f"{describe(self.event)}: {self.words}"


def describe(event):
    """How the reports name an event: its row, its type, Telnyx's id and its call."""
    call = f", call {event.call_control_id}" if event.call_control_id else ""
    return f"event {event.pk} ({event.event_type} {event.event_id}{call})"


# --- choosing events ----------------------------------------------------------------------


class SelectionError(ValueError):
    """What was asked for does not name any stored events, or cannot be read."""


def find_event(identifier):
    """The event whose row number or Telnyx id (``data.id``) is ``identifier``."""
    text = str(identifier).strip()
    match = Q(event_id=text) | (Q(pk=int(text)) if text.isdigit() else Q())
    event = WebhookEvent.objects.filter(match).order_by("pk").first()
    if event is None:
        raise SelectionError(f"no webhook event has the number or id {text!r}")
    return event


def select(*, call_control_id=None, since=None, force=False):
    """Failed events (of one call, received since ``since``), oldest first; with ``force``
    every event of the call that is not pending."""
    events = WebhookEvent.objects.all()
    if call_control_id:
        events = events.filter(call_control_id=call_control_id)
        if not events.exists():
            raise SelectionError(f"no webhook event of call {call_control_id!r} is stored")
    if since is not None:
        events = events.filter(received_at__gte=since)
    if force and call_control_id:
        events = events.exclude(status=Status.PENDING)
    else:
        events = events.filter(status=Status.FAILED)
    return events.order_by("occurred_at", "received_at", "pk")


def parse_since(text, now=None):
    """``90s``, ``30m``, ``2h``, ``7d`` (that long ago) or a date or time (``2026-11-21``,
    ``2026-11-21T12:00``) in the site's time zone unless it names its own."""
    value = str(text).strip()
    unit = value[-1:].lower()
    if unit in _UNITS and value[:-1].isdigit():
        return (now or timezone.now()) - timedelta(seconds=int(value[:-1]) * _UNITS[unit])
    try:
        moment = parse_datetime(value)
        day = None if moment else parse_date(value)
    except ValueError:
        moment = day = None
    if day is not None:
        moment = datetime(day.year, day.month, day.day)
    if moment is None:
        raise SelectionError(
            f"--since {value!r} is neither a time ago (90s, 30m, 2h, 7d) nor a date or time "
            "(2026-11-21, 2026-11-21T12:00)"
        )
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


# --- processing again, here and now ---------------------------------------------------------


def reprocess(event, *, force=False, dry_run=False):
    """Process ``event`` again here and now (unless processed already and not ``force``);
    returns a Reprocessed saying what happened."""
    was = event.status
    if was == Status.PROCESSED and not force:
        return Reprocessed(event, ALREADY_PROCESSED, "already processed; left as it was")
    if dry_run:
        return Reprocessed(event, WOULD, _would(event))
    note_before, sent_before = event.note, _sent_before(event)
    if was != Status.PENDING:
        # Only from the status it was seen in: a worker may have got to it meanwhile.
        changed = WebhookEvent.objects.filter(pk=event.pk, status=was).update(status=Status.PENDING)
        if not changed:
            event.refresh_from_db()
            return Reprocessed(event, _outcome_now(event), f"changed meanwhile: now {event.status}")
    problem = None
    try:
        process_stored_event(event.pk)
    except RetryLater as later:
        schedule_retry(later)
    except Exception as exc:  # reported for this event; the others are still tried
        problem = _one_line(f"{type(exc).__name__}: {exc}")
    event.refresh_from_db()
    if event.status == Status.FAILED:
        return Reprocessed(event, STILL_FAILING, f"still failing: {_one_line(event.error)}")
    if event.status == Status.PENDING:
        return Reprocessed(
            event, NOT_DONE, f"set back to pending, but not processed: {problem or 'no reason'}"
        )
    if was == Status.PROCESSED and event.note.startswith(_ALREADY_APPLIED):
        # Forced: the engine skipped it; its note keeps saying what it did the first time.
        WebhookEvent.objects.filter(pk=event.pk).update(note=note_before)
        event.note = note_before
        return Reprocessed(
            event,
            PROCESSED_NOW,
            "processed again: its call had applied it already, so nothing changed"
            + _sending(event, sent_before, problem),
        )
    said = f" ({event.note})" if event.note else ""
    outcome = NOT_DONE if problem else PROCESSED_NOW
    return Reprocessed(
        event, outcome, f"processed now{said}" + _sending(event, sent_before, problem)
    )


def _would(event):
    if event.status == Status.FAILED:
        return f"failed ({_one_line(event.error)}); would be processed again"
    if event.status == Status.PENDING:
        return "pending; would be processed now"
    return "processed; would be processed again (forced)"


def _one_line(text):
    return " ".join(str(text).split())


def _outcome_now(event):
    return {Status.FAILED: STILL_FAILING, Status.PROCESSED: ALREADY_PROCESSED}.get(
        event.status, NOT_DONE
    )


def _sent_before(event):
    return set(
        Command.objects.filter(event=event, status=Command.Status.SENT).values_list("pk", flat=True)
    )


def _sending(event, sent_before, problem):
    """What became of the commands the event decided, this time, in words (each after a
    '; '): sent now, left to a worker, or not sent and why."""
    commands = Command.objects.filter(event=event).order_by("position")
    rows = list(commands.values_list("pk", "action", "status"))
    waiting = [action for _, action, status in rows if status == Command.Status.PENDING]
    parts = []
    sent = [
        action
        for pk, action, status in rows
        if status == Command.Status.SENT and pk not in sent_before
    ]
    if sent:
        parts.append("sent " + ", ".join(sent))
    if waiting and problem:
        parts.append(f"{', '.join(waiting)} not sent: {problem}")
    elif waiting:
        parts.append(f"{', '.join(waiting)} to be resent by a worker")
    elif problem:
        parts.append(f"then: {problem}")
    return "".join(f"; {part}" for part in parts)


# --- processing again, through the queue (the admin) ----------------------------------------


@dataclass(frozen=True)
class Queued:
    queued: list  # failed events set back to pending and queued
    waiting: list  # events that were pending already, queued again
    processed: list  # processed events, left as they were


def queue_again(events):
    """Set the failed ``events`` back to pending and queue every pending one of them for a
    worker; processed events are left as they were. Returns what was done to which."""
    chosen = list(events.order_by("occurred_at", "received_at", "pk"))
    failed = [event.pk for event in chosen if event.status == Status.FAILED]
    reset = set(
        WebhookEvent.objects.filter(pk__in=failed, status=Status.FAILED).values_list(
            "pk", flat=True
        )
    )
    WebhookEvent.objects.filter(pk__in=reset).update(status=Status.PENDING)
    result = Queued(queued=[], waiting=[], processed=[])
    for event in chosen:
        if event.pk in reset:
            result.queued.append(event)
        elif event.status == Status.PENDING:
            result.waiting.append(event)
        else:
            result.processed.append(event)
            continue
        enqueue(event.pk)
    return result
