"""Faults on demand: the ways Telnyx's side misbehaves that an app must survive.

Each fault fires for the next ``times`` matching webhooks or commands, then is spent. A fault
matches an ``event_type`` or ``action`` exactly, or any with ``"*"``, and optionally one call.
"""

import threading
from dataclasses import dataclass


@dataclass
class Fault:
    kind: str  # duplicate, reorder, delay, fail_command
    match: str  # event_type or action, or "*"
    call_control_id: str | None
    times: int
    seconds: float = 0.0  # delay
    status: int = 500  # fail_command
    reset_seconds: int = 1  # fail_command with 429
    fired: int = 0

    def matches(self, name, call_control_id):
        return (
            self.fired < self.times
            and self.match in ("*", name)
            and self.call_control_id in (None, call_control_id)
        )

    def describe(self):
        if self.kind == "delay":
            return f"delay {self.match} by {self.seconds:g} s"
        if self.kind == "fail_command":
            return f"fail {self.match} with {self.status}"
        return f"{self.kind} {self.match}"


class Faults:
    """The faults waiting to fire on one simulator (``sim.faults``). Thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults = []

    def duplicate_webhook(self, event_type, *, call=None, times=1):
        """Deliver the next ``event_type`` webhook twice: same ``data.id``, ``meta.attempt`` 2."""
        return self._add(Fault("duplicate", event_type, _call_id(call), times))

    def reorder_webhook(self, event_type, *, call=None, times=1):
        """Hold the next ``event_type`` webhook and deliver it after the one that follows it."""
        return self._add(Fault("reorder", event_type, _call_id(call), times))

    def delay_webhook(self, event_type, seconds, *, call=None, times=1):
        """Wait ``seconds`` before delivering the next ``event_type`` webhook (and those after
        it, which keep their order)."""
        return self._add(Fault("delay", event_type, _call_id(call), times, seconds=seconds))

    def fail_command(self, action, status=500, *, call=None, times=1, reset_seconds=1):
        """Answer the next ``action`` command with ``status`` (500 or 429, with
        ``x-ratelimit-reset: reset_seconds``) and do not act on it, so a retry with the same
        ``command_id`` is accepted."""
        if status not in (429, 500, 502, 503, 504):
            raise ValueError(f"fail_command supports 429 and 5xx, not {status}")
        return self._add(
            Fault(
                "fail_command",
                action,
                _call_id(call),
                times,
                status=status,
                reset_seconds=reset_seconds,
            )
        )

    def take(self, kind, name, call_control_id):
        """The fault of ``kind`` that fires for ``name`` now, counted as fired, or None."""
        with self._lock:
            for fault in self._faults:
                if fault.kind == kind and fault.matches(name, call_control_id):
                    fault.fired += 1
                    return fault
        return None

    def pending(self):
        """Faults that have not fired as often as asked."""
        with self._lock:
            return [fault for fault in self._faults if fault.fired < fault.times]

    def clear(self):
        with self._lock:
            self._faults.clear()

    def _add(self, fault):
        if fault.times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.append(fault)
        return fault


def _call_id(call):
    if call is None or isinstance(call, str):
        return call
    return call.call_control_id
