"""Move a recorded call in time: every timestamp of the call, its transfer legs, its visits,
commands and webhook events moves by the same amount, the engine's stored state included.

For the demo data of ``ivr_seed_calls`` and for tests of time-bucketed figures: a call is
played for real through the engine (its rows are exactly what a real call writes), then moved
to its place in the past. Only calls not rolled up yet can move (the roll-ups hold their time).
"""

from datetime import datetime

from django.db import transaction
from django.db.models import F

from ..engine.state import CallState
from ..models import Call, CallStep, Command, WebhookEvent

CALL_TIMES = ("started_at", "answered_at", "ended_at", "transferred_at", "created_at")


def shift_call(call, delta):
    """Move ``call`` (and its legs) by ``delta`` (a timedelta)."""
    with transaction.atomic():
        calls = list(Call.objects.select_for_update().filter(pk=call.pk) | call.legs.all())
        if any(row.rolled_up for row in calls):
            raise ValueError("a rolled-up call cannot move: the roll-ups hold its time")
        pks = [row.pk for row in calls]
        ids = [row.call_control_id for row in calls]
        for row in calls:
            for name in CALL_TIMES:
                value = getattr(row, name)
                if value is not None:
                    setattr(row, name, value + delta)
            row.state = _shifted_state(row.state, delta)
            # Not save(): updated_at would say "now", and auto_now_add would be ignored.
            Call.objects.filter(pk=row.pk).update(
                state=row.state, **{name: getattr(row, name) for name in CALL_TIMES}
            )
        _move(CallStep.objects.filter(call_id__in=pks), delta, "started_at", "ended_at")
        _move(Command.objects.filter(call_id__in=pks), delta, "created_at", "sent_at")
        _move(
            WebhookEvent.objects.filter(call_control_id__in=ids),
            delta,
            "occurred_at",
            "received_at",
            "processed_at",
        )
    call.refresh_from_db()
    return call


def _move(queryset, delta, *names):
    for name in names:
        queryset.exclude(**{f"{name}__isnull": True}).update(**{name: F(name) + delta})


def _shifted_state(stored, delta):
    if not stored:
        return stored
    state = CallState.from_dict(stored)
    for name, value in vars(state).items():
        if isinstance(value, datetime):
            setattr(state, name, value + delta)
    return state.to_dict()
