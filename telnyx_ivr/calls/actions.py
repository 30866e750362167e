"""Act on a live call from host code (a view, a task, a signal receiver):

    from telnyx_ivr.calls.actions import stop_ai_assistant, add_ai_messages, stop_gather
    stop_ai_assistant(call)                       # the node continues on conversation.ended
    add_ai_messages(call, [{"role": "system", "content": "The caller is a VIP."}])
    stop_gather(call)                             # the gather ends as cancelled

Each locks the call, asks the engine whether the action fits the call's current step,
stores the command and sends it. Returns the Command, or raises ActionRefused saying why.
"""

import uuid

from django.db import transaction

from ..engine import core
from ..engine.state import CallState
from ..models import Call, Command
from ..tasks import schedule_retry
from ..telnyx.client import redact_body
from .runner import (
    COMMAND_ID_NAMESPACE,
    RetryLater,
    apply_waiting,
    send_pending_commands,
)


class ActionRefused(Exception):
    """The call is not in a state where the action makes sense (e.g. no assistant running)."""


def stop_ai_assistant(call):
    return _act(call, core.stop_ai_assistant)


def add_ai_messages(call, messages):
    return _act(call, lambda state: core.add_ai_messages(state, messages))


def stop_gather(call):
    return _act(call, core.stop_gather)


def _act(call, helper):
    try:
        return _store_and_send(call, helper)
    except ActionRefused:
        apply_waiting(call.call_control_id)  # events left to this holder while it looked
        raise


def _store_and_send(call, helper):
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call.pk)
        decision = helper(CallState.from_dict(call.state))
        if decision.ignored:
            raise ActionRefused(decision.ignored_reason)
        spec = decision.commands[0]
        # Host actions have no causing event; a fresh id per request, reused by its retries.
        command = Command.objects.create(
            call=call,
            action=spec.action,
            body=redact_body(spec.action, spec.params),
            params=spec.params,
            command_id=str(uuid.uuid5(COMMAND_ID_NAMESPACE, f"host:{uuid.uuid4()}")),
        )
    try:
        send_pending_commands(call.pk)
    except RetryLater as later:
        schedule_retry(later)
    command.refresh_from_db()
    return command
