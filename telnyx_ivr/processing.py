"""What a worker does with a stored event: hand it to the call engine."""

from .engine.runner import RetryLater, process_event, send_pending_commands

__all__ = ["RetryLater", "process_stored_event", "send_pending_commands"]


def process_stored_event(event_pk, queue_wait_ms=None, *, skip_held_call=False):
    """Apply the event to its call and send what the engine decided; the engine sends
    ``webhook_event_processed`` for each event it applied.

    Raises RetryLater when a command must be resent later; the event itself is done by then.
    """
    return process_event(event_pk, queue_wait_ms=queue_wait_ms, skip_held_call=skip_held_call)
