"""Store a verified webhook event exactly once and queue its processing after commit."""

import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import (
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.utils import timezone

from .dispatch import enqueue
from .models import WebhookEvent
from .models.event_insert import insert_or_count
from .signals import webhook_event_stored

logger = logging.getLogger("telnyx_ivr.webhooks")

REQUEUE_AFTER = timedelta(seconds=1)


@dataclass(frozen=True)
class StoreResult:
    event: WebhookEvent | None  # None for a redelivery: nothing was stored
    created: bool


class UnstorableEvent(Exception):
    """The database refused the event for another reason than its id being stored already."""


class DatabaseUnavailable(Exception):
    """The database could not be reached, even on a new connection: nothing was stored."""


def store_event(parsed):
    """Store ``parsed`` (see ``_store``), once more on a new connection when the database
    connection breaks under it (PostgreSQL restarted, the connection killed): the unique
    ``event_id`` makes the second try safe, even if the first committed before it broke.
    Raises DatabaseUnavailable when the second try fails too, or when the connection is in
    the host's transaction (``ATOMIC_REQUESTS``), which is lost with it."""
    try:
        return _store(parsed)
    except (OperationalError, InterfaceError) as exc:
        if connection.in_atomic_block:
            raise DatabaseUnavailable(_first_line(exc)) from exc
        logger.warning(
            "The database connection broke while storing event %s (%s); trying a new one",
            parsed.event_id,
            _first_line(exc),
        )
        connection.close()
        try:
            return _store(parsed)
        except (OperationalError, InterfaceError) as again:
            connection.close()
            raise DatabaseUnavailable(_first_line(again)) from again


def _first_line(exc):
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _store(parsed):
    """Insert the event, or count a redelivery of one already stored, in one statement.

    Concurrent deliveries of one event race on the unique ``event_id``; the database settles
    the race inside the statement (``INSERT ... ON CONFLICT DO UPDATE``), so exactly one row
    and one task exist whatever the interleaving, and a new event costs one round trip: in
    autocommit the statement is its own transaction. Inside the host's transaction
    (``ATOMIC_REQUESTS``) it runs in a savepoint, so a refused row leaves that transaction
    usable. Any refusal by the database raises UnstorableEvent: "duplicate" is said only when
    the row exists (the statement returns it with its count of deliveries above one).
    """
    event = WebhookEvent(
        event_id=parsed.event_id,
        event_type=parsed.event_type,
        occurred_at=parsed.occurred_at,
        call_control_id=parsed.call_control_id,
        call_session_id=parsed.call_session_id,
        call_leg_id=parsed.call_leg_id,
        client_state=parsed.client_state,
        client_state_raw=parsed.client_state_raw,
        attempt=parsed.attempt,
        raw_body=parsed.raw_text,
        payload=parsed.body,
    )
    try:
        in_host_transaction = connection.in_atomic_block
        with transaction.atomic() if in_host_transaction else contextlib.nullcontext():
            row = insert_or_count(event)
    except (DataError, IntegrityError) as exc:
        raise UnstorableEvent(str(exc).strip()) from exc
    pk, deliveries, status, received_at = row
    if deliveries == 1:
        event.pk = pk
        event._state.adding = False
        event._state.db = connection.alias
        transaction.on_commit(lambda: _after_commit(event))
        return StoreResult(event=event, created=True)
    # Telnyx redelivers what it thinks we missed: if it is still waiting here a while after
    # it arrived (its task lost in a broker outage, say), queue it again rather than leave it
    # to a rescue. Deliveries racing each other a moment apart do not.
    if status == WebhookEvent.Status.PENDING and received_at < timezone.now() - REQUEUE_AFTER:
        transaction.on_commit(lambda: enqueue(pk))
    return StoreResult(event=None, created=False)


def _after_commit(event):
    # "Stored" comes before anything can process the event (with eager tasks, enqueue
    # processes it right here). A host receiver that fails must not keep it from the queue.
    for receiver, result in webhook_event_stored.send_robust(sender=WebhookEvent, event=event):
        if isinstance(result, Exception):
            logger.error(
                "A webhook_event_stored receiver (%r) failed on event %s",
                receiver,
                event.event_id,
                exc_info=result,
            )
    enqueue(event.pk)
