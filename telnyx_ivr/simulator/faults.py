"""Faults on demand: the ways Telnyx's side misbehaves that an app must survive.

Each fault fires for the next ``times`` matching webhooks or commands, then is spent. A fault
matches an ``event_type`` or ``action`` exactly, or any with ``"*"``, and optionally one call.
``fail_commands_at_random`` is the exception: it refuses a share of all commands, for as long
as it is set, as a load test needs.
"""

import random
import threading
from dataclasses import dataclass

# How a command can be refused at random: Telnyx's side erring, throttling, or silent.
RANDOM_REFUSALS = ("500", "429", "no answer")


@dataclass
class Fault:
    kind: str  # duplicate, reorder, delay, fail_command
    match: str  # event_type or action, or "*"
    call_control_id: str | None
    times: int
    seconds: float = 0.0  # delay
    status: int = 500  # fail_command
    reset_seconds: int = 1  # fail_command with 429
    copies: int = 1  # duplicate: extra deliveries
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
        if self.kind == "duplicate" and self.copies > 1:
            return f"duplicate {self.match} x{self.copies + 1}"
        return f"{self.kind} {self.match}"


@dataclass(frozen=True)
class Refusal:
    """What ``fail_commands_at_random`` drew for one command: ``how`` is one of
    RANDOM_REFUSALS. "no answer": the command is acted on, but its answer is held for
    ``hold_seconds`` and the connection closed without one (the app's read timeout fires)."""

    how: str
    status: int | None
    reset_seconds: int
    hold_seconds: float

    def describe(self):
        return "no answer" if self.status is None else f"refused at random with {self.status}"


class Faults:
    """The faults waiting to fire on one simulator (``sim.faults``). Thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults = []
        self._random = None  # [share, ways, rng, reset_seconds, hold_seconds, refusals]

    def duplicate_webhook(self, event_type, *, call=None, times=1, copies=1):
        """Deliver the next ``event_type`` webhook ``copies`` more times: the same ``data.id``,
        ``meta.attempt`` counting up."""
        if copies < 1:
            raise ValueError("copies must be at least 1")
        return self._add(Fault("duplicate", event_type, _call_id(call), times, copies=copies))

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

    def fail_commands_at_random(
        self, share, *, ways=RANDOM_REFUSALS, seed=None, reset_seconds=1, hold_seconds=1.0
    ):
        """From now on refuse each command (each try of it) with probability ``share``, in
        each of ``ways`` in turn: "500", "429" (with ``x-ratelimit-reset``) or "no answer".
        ``share=0`` stops it; ``clear()`` does too."""
        if not 0 <= share <= 1:
            raise ValueError(f"share must be between 0 and 1, not {share}")
        unknown = set(ways) - set(RANDOM_REFUSALS)
        if unknown or not ways:
            raise ValueError(f"ways must be among {RANDOM_REFUSALS}, not {sorted(unknown)}")
        with self._lock:
            self._random = (
                [share, tuple(ways), random.Random(seed), reset_seconds, hold_seconds, 0]
                if share
                else None
            )

    def draw_refusal(self):
        """A Refusal for the command arriving now, or None (most of the time)."""
        with self._lock:
            if self._random is None:
                return None
            share, ways, rng, reset_seconds, hold_seconds, drawn = self._random
            if rng.random() >= share:
                return None
            how = ways[drawn % len(ways)]
            self._random[-1] = drawn + 1
        status = None if how == "no answer" else int(how)
        return Refusal(how, status, reset_seconds, hold_seconds)

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
            self._random = None

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
