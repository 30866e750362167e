"""Signals for host projects. Receivers run in the Celery worker, inside no transaction."""

from django.dispatch import Signal

# A verified webhook event has been stored (sent once per event, not per redelivery).
# Arguments: event (WebhookEvent). Sent in the web request after the transaction commits.
webhook_event_stored = Signal()

# A worker has finished an event. Arguments: event (WebhookEvent).
webhook_event_processed = Signal()

# Call signals. Sent by the worker after the transaction that stored the change commits.
# Every one passes ``call`` (telnyx_ivr.models.Call) and the keyword arguments listed.

# A menu has taken an incoming call (answer sent).
# Keyword arguments: call_control_id, direction, and "from" / "to" (read them from **kwargs).
call_started = Signal()

# A visit to a node has ended. Keyword arguments: node, node_kind, step, outcome, digits
# (DTMF nodes), result (AI gather nodes), tries.
step_completed = Signal()

# An AI gather has ended. Keyword arguments: node, status ("valid"/"invalid"), result,
# message_history.
ai_gather_completed = Signal()

# The call is over. Keyword arguments: hangup_cause, hangup_source, sip_hangup_cause,
# answered; reason "90018" when Telnyx refused a command because the call had ended before
# its call.hangup arrived.
call_ended = Signal()
