"""What the core's office-hours and check nodes need from the database, looked up before the
core decides (``CallContext``), so the core itself reads no rows and no clock."""

from ..engine.state import CallContext
from ..menus.conditions import asks_for_earlier_calls
from ..models import Call, Schedule


def call_context(call, menu):
    """The ``CallContext`` for ``call`` running on the definition ``menu``: the menu's
    schedules as they are now, and, when one of its checks asks, when the caller's previous
    call started. Menus without either cost no query."""
    if not menu:
        return None
    keys = list(menu.get("schedules") or {})
    schedules = {}
    if keys:
        rows = Schedule.objects.filter(key__in=keys).prefetch_related("hours", "exceptions")
        schedules = {row.key: row.data() for row in rows}
    previous = None
    if asks_for_earlier_calls(menu) and call.from_number and call.started_at:
        previous = previous_call_start(call)
    return CallContext(schedules=schedules, previous_call_at=previous)


def previous_call_start(call):
    """When the caller's latest earlier call started. Test calls count only for test calls
    and real calls for real ones, so the simulator never makes a caller look known."""
    return (
        Call.objects.filter(
            from_number=call.from_number,
            is_test=call.is_test,
            parent__isnull=True,
            started_at__lt=call.started_at,
        )
        .exclude(pk=call.pk)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
