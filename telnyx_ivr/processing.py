"""What a worker does with a stored event: hand it to the call engine."""

import logging

from .engine.runner import RetryLater, process_event, send_pending_commands
from .models import WebhookEvent
from .signals import webhook_event_processed

logger = logging.getLogger("telnyx_ivr.processing")

__all__ = ["RetryLater", "process_stored_event", "send_pending_commands"]


def process_stored_event(event_pk, queue_wait_ms=None):
    """Apply the event to its call and send what the engine decided.

    Raises RetryLater when a command must be resent later; the event itself is done by then.
    """
    try:
        event = process_event(event_pk, queue_wait_ms=queue_wait_ms)
    except RetryLater:
        _announce(WebhookEvent.objects.filter(pk=event_pk).first())
        raise
    _announce(event)
    return event


def _announce(event):
    if event is not None and event.status != WebhookEvent.Status.PENDING:
        webhook_event_processed.send(sender=WebhookEvent, event=event)
