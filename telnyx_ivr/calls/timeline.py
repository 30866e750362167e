"""A call's timeline: every webhook event and every command, in the order they happened."""

from dataclasses import dataclass
from datetime import datetime

from ..models import Command, WebhookEvent
from ..telnyx import client_state


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str  # "event" or "command"
    title: str  # event type, or command action
    detail: str
    status: str
    obj: object


def call_timeline(call, *, steps=None):
    """Events (by when we received them) and commands (by when they were sent) of ``call``;
    with ``steps`` (a range of step numbers), only those whose ``client_state`` names one.

    Both times are read off this server's clock: Telnyx's ``occurred_at`` comes from another
    clock, and mixing the two could put a command before the event that caused it."""
    entries = []
    for event in WebhookEvent.objects.filter(call_control_id=call.call_control_id):
        at = event.received_at
        payload = event.event_payload
        bits = [
            f"{name}={payload[name]}"
            for name in ("status", "digits", "digit", "hangup_cause", "direction")
            if payload.get(name) not in (None, "")
        ]
        if event.attempt > 1 or event.deliveries > 1:
            bits.append(f"attempt {event.attempt}, {event.deliveries} deliveries")
        if event.note:
            bits.append(event.note)
        if event.error:
            bits.append(f"error: {event.error}")
        entries.append(Entry(at, "event", event.event_type, "; ".join(bits), event.status, event))
    for command in Command.objects.filter(call=call):
        at = command.sent_at or command.created_at
        bits = [f"HTTP {command.http_status}" if command.http_status else "not answered"]
        if command.attempts:
            bits.append(f"{command.attempts} attempt(s)")
        if command.latency_ms is not None:
            bits.append(f"{command.latency_ms:.0f} ms")
        if command.error_code:
            bits.append(f"error {command.error_code}")
        if command.note:  # what the engine did about a failure, or why a fallback sent it
            bits.append(command.note)
        entries.append(
            Entry(at, "command", command.action, ", ".join(bits), command.status, command)
        )
    if steps is not None:
        entries = [e for e in entries if _step_of(e) in steps]
    # At equal times an event comes first: it is what caused the command.
    return sorted(entries, key=lambda e: (e.at, e.kind != "event", getattr(e.obj, "pk", 0)))


def _step_of(entry):
    """The engine step an entry belongs to, from the client_state it carried."""
    if entry.kind == "event":
        state = entry.obj.client_state
    else:
        try:
            state = client_state.decode((entry.obj.body or {}).get("client_state"))
        except client_state.ClientStateError:
            state = None
    return state.get("s") if isinstance(state, dict) else None


def step_numbers(step):
    """The step numbers of one visit: from its own up to the next visit's (re-asks included)."""
    following = (
        step.call.steps.filter(step__gt=step.step).order_by("step").values_list("step", flat=True)
    )
    return range(step.step, following.first() or step.step + 10_000)
