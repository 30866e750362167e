"""Signals for host projects. Receivers run in the Celery worker, inside no transaction.

The call signals pass ``call`` (telnyx_ivr.models.Call) and ``event``, one typed object that
holds everything the signal says (``CallStarted``, ``StepCompleted``, ``AiGatherCompleted``,
``CallEnded``)::

    @receiver(step_completed)
    def on_step(sender, call, event, **kwargs):
        print(event.node, event.outcome, event.digits)

Until the next release they also pass the loose keyword arguments of earlier releases (``node``,
``outcome``, ``"from"``, ...); a receiver that names one of them in its signature is warned
(DeprecationWarning) when it is connected.
"""

import inspect
import warnings
from dataclasses import dataclass, fields
from typing import Any

from django.dispatch import Signal

# A verified webhook event has been stored (sent once per event, not per redelivery).
# Arguments: event (WebhookEvent). Sent in the web request after the transaction commits.
webhook_event_stored = Signal()

# A worker has applied an event. Arguments: event (WebhookEvent).
webhook_event_processed = Signal()


# --- the call signals' events ------------------------------------------------------------------


@dataclass(frozen=True)
class CallStarted:
    """A menu has taken an incoming call (its answer is sent)."""

    call: Any
    call_control_id: str
    direction: str
    from_number: str
    to_number: str


@dataclass(frozen=True)
class StepCompleted:
    """A visit to a node has ended. ``digits`` for DTMF nodes, ``result`` for AI gathers."""

    call: Any
    node: str
    node_kind: str
    step: int
    outcome: str
    digits: str | None
    result: Any
    tries: int


@dataclass(frozen=True)
class AiGatherCompleted:
    """An AI gather has ended: ``status`` "valid" or "invalid", what it gathered, and the
    conversation."""

    call: Any
    node: str
    status: str
    result: Any
    message_history: list


@dataclass(frozen=True)
class CallEnded:
    """The call is over. ``reason`` is "90018" when Telnyx refused a command because the call
    had ended before its call.hangup arrived (then only ``hangup_cause`` is known)."""

    call: Any
    hangup_cause: str
    hangup_source: str = ""
    sip_hangup_cause: str = ""
    answered: bool | None = None
    reason: str = ""


class CallSignal(Signal):
    """A call signal: sends ``call`` and a typed ``event``, and for one more release the loose
    keyword arguments it used to send (``legacy``: their names as sent, by field)."""

    def __init__(self, name, event_class, legacy):
        super().__init__()
        self.name, self.event_class, self.legacy = name, event_class, legacy

    def connect(self, receiver, *args, **kwargs):
        named = sorted(_parameter_names(receiver) & set(self.legacy.values()))
        if named:
            warnings.warn(
                f"{getattr(receiver, '__qualname__', receiver)!s} takes {', '.join(named)} "
                f"from telnyx_ivr's {self.name} signal: read them from its event argument "
                f"(a {self.event_class.__name__}) instead; the loose keyword arguments go in "
                "the next release",
                DeprecationWarning,
                stacklevel=2,
            )
        return super().connect(receiver, *args, **kwargs)

    def send_event(self, sender, call, data):
        """Send the event made of ``data`` (the keyword arguments by their old names), and
        ``data`` itself as those arguments."""
        known = {field: data[sent] for field, sent in self.legacy.items() if sent in data}
        return self.send(sender=sender, call=call, event=self.event_class(call, **known), **data)


def _parameter_names(receiver):
    try:
        parameters = inspect.signature(receiver).parameters.values()
    except (TypeError, ValueError):  # a callable without a signature Python can read
        return set()
    return {p.name for p in parameters if p.kind is not inspect.Parameter.VAR_KEYWORD}


def _legacy(event_class, renamed=None):
    names = [f.name for f in fields(event_class) if f.name != "call"]
    return {name: (renamed or {}).get(name, name) for name in names}


call_started = CallSignal(
    "call_started", CallStarted, _legacy(CallStarted, {"from_number": "from", "to_number": "to"})
)
step_completed = CallSignal("step_completed", StepCompleted, _legacy(StepCompleted))
ai_gather_completed = CallSignal(
    "ai_gather_completed", AiGatherCompleted, _legacy(AiGatherCompleted)
)
call_ended = CallSignal("call_ended", CallEnded, _legacy(CallEnded))
