"""What a worker does with a stored event. The call engine plugs in here."""

import logging

from django.db import transaction
from django.utils import timezone

from .models import WebhookEvent
from .signals import webhook_event_processed

logger = logging.getLogger("telnyx_ivr.processing")


def process_stored_event(event_pk, queue_wait_ms=None):
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().filter(pk=event_pk).first()
        if event is None:
            logger.error("Webhook event %s no longer exists; nothing to process", event_pk)
            return None
        if event.status == WebhookEvent.Status.PROCESSED:
            return event
        if event.queue_wait_ms is None and queue_wait_ms is not None:
            event.queue_wait_ms = queue_wait_ms
        event.status = WebhookEvent.Status.PROCESSED
        event.error = ""
        event.processed_at = timezone.now()
        event.save(update_fields=["status", "error", "processed_at", "queue_wait_ms"])
    webhook_event_processed.send(sender=WebhookEvent, event=event)
    return event
