"""A week of calls played through the real stack for the dashboard pages' tests: each call's
outcome is known by construction, then it is moved to its day (Berlin time) with
``shift_call``. They are test calls, as every simulated call is."""

from datetime import datetime
from zoneinfo import ZoneInfo

from telnyx_ivr.calls.time_shift import shift_call
from telnyx_ivr.models import Call
from telnyx_ivr.simulator import AIResult, HangUp, Press, Silence

from .played_calls import load_example_menus

CLASSIC, AI = "+15550000100", "+15550100200"
BERLIN = ZoneInfo("Europe/Berlin")
WEEK = {"since": "2026-11-02", "until": "2026-11-08", "include_test": "1"}

# (name, number dialled, caller's script, when it started in Berlin)
PLAYED = [
    ("sales", CLASSIC, [Press("1")], (2, 9, 15)),
    ("operator", CLASSIC, [Press("0")], (2, 16, 40)),
    ("goodbye", CLASSIC, [Silence(), Silence(), Silence()], (3, 11, 5)),
    ("gave_up", CLASSIC, [Press("2"), HangUp()], (3, 14, 30)),
    ("invalid_then_sales", CLASSIC, [Press("7"), Press("1")], (4, 10, 0)),
    ("chicago", AI, [AIResult({"name": "Ada", "age": 36, "city": "Chicago"})], (4, 12, 20)),
    ("ai_invalid", AI, [AIResult({"name": "Bo"}, status="invalid"), Press("1")], (5, 8, 45)),
    ("boston", AI, [AIResult({"name": "Cy", "age": 50, "city": "Boston"})], (5, 17, 10)),
]
BY_OUTCOME = {"completed": 2, "transferred": 5, "abandoned": 1, "failed": 0, "in_progress": 0}
CLASSIC_CALLS = 5


def load_menus():
    return load_example_menus()


def play_week(simulate_call):
    """Play ``PLAYED`` and move each call to its day: ``{name: Call}``."""
    calls = {}
    for name, to, script, (day, hour, minute) in PLAYED:
        simulated = simulate_call(to=to, script=script)
        call = Call.objects.get(call_control_id=simulated.call_control_id)
        when = datetime(2026, 11, day, hour, minute, tzinfo=BERLIN)
        calls[name] = shift_call(call, when - call.started_at)
    return calls
