"""Signals for host projects. Receivers run in the Celery worker, inside no transaction."""

from django.dispatch import Signal

# A verified webhook event has been stored (sent once per event, not per redelivery).
# Arguments: event (WebhookEvent). Sent in the web request after the transaction commits.
webhook_event_stored = Signal()

# A worker has finished an event. Arguments: event (WebhookEvent).
webhook_event_processed = Signal()
