"""Celery tasks. Thin on purpose: each loads what it needs and hands it to plain code."""

import logging
import time

from celery import shared_task
from django.db import OperationalError

from .analytics.rollups import roll_up
from .calls.retention import prune, retention_days
from .calls.runner import RetryLater, process_stored_event, send_pending_commands
from .dispatch import rescue

logger = logging.getLogger("telnyx_ivr.tasks")


# A database that is briefly unreachable or locked should delay an event, not strand it.
DATABASE_RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": 1,
    "retry_backoff_max": 60,
    "max_retries": 8,
}


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, **DATABASE_RETRY)
def process_event(event_pk, queued_at=None):
    """Process one stored webhook event. Safe to run twice: processed events are skipped,
    and commands already sent are not sent again."""
    _process(event_pk, queued_at)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, **DATABASE_RETRY)
def process_events(events):
    """Process stored webhook events in the order given: ``[(event_pk, queued_at), ...]``,
    the ones the web process had waiting when it published (see dispatch.Publisher). Run
    again after a database error, it skips those already processed."""
    for event_pk, queued_at in events:
        _process(event_pk, queued_at)


def _process(event_pk, queued_at):
    wait_ms = (time.time() - queued_at) * 1000 if queued_at else None
    try:
        # A call another worker holds is left to it: it applies the event once it lets go.
        process_stored_event(event_pk, queue_wait_ms=wait_ms, skip_held_call=True)
    except RetryLater as later:
        schedule_retry(later)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, **DATABASE_RETRY)
def send_call_commands(call_pk):
    """Resend a call's pending commands after a retryable failure (429, 5xx, timeout)."""
    try:
        send_pending_commands(call_pk)
    except RetryLater as later:
        schedule_retry(later)


@shared_task(ignore_result=True)
def requeue_stale_events():
    """Process events and send commands that waited too long (a lost broker message, a
    worker killed mid-task): what each worker's rescue loop does every second, once."""
    return rescue()


def schedule_retry(later):
    """Send a call's pending commands again after ``later.countdown`` seconds, via the queue.

    With no broker to queue it on, it only says so: the command is stored pending with its
    ``retry_at``, which brings it back to a worker's rescue loop when it is due.
    """
    try:
        send_call_commands.apply_async((later.call_pk,), countdown=later.countdown)
    except Exception as exc:
        logger.warning("Could not queue a retry of call %s: %s", later.call_pk, exc)


@shared_task(ignore_result=True, **DATABASE_RETRY)
def roll_up_call_log():
    """Sum the call log's finished rows into the dashboards' roll-ups (run it from beat)."""
    return roll_up()


@shared_task(ignore_result=True, **DATABASE_RETRY)
def prune_call_log(calls=False):
    """Empty the bodies of webhook events and commands older than RETENTION_DAYS, and with
    ``calls`` delete whole old calls (run it daily from beat). Does nothing when the setting
    is None (keep everything). Returns what it pruned."""
    days = retention_days()
    if days is None:
        return None
    result = prune(days, calls=calls)
    logger.info(
        "Pruned the call log older than %d day(s): %d call(s) deleted, bodies of %d event(s) "
        "and %d command(s) emptied",
        days,
        result.deleted_calls,
        result.event_bodies,
        result.command_bodies,
    )
    return result.as_dict()
