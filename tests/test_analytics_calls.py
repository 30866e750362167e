"""What calls count as, and the figures made of them, on calls played through the engine.

Every call here goes through the real stack: the simulator dials in, the site's webhook stores
each event, the engine decides (tasks run eagerly, as with the pytest plugin) and its commands
go back to the simulator. So each call's outcome is known by construction, and the figures
must add up to exactly those calls.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from telnyx_ivr.analytics import figures, outcomes
from telnyx_ivr.analytics.filters import parse_filters
from telnyx_ivr.analytics.rollups import roll_up
from telnyx_ivr.calls.time_shift import shift_call
from telnyx_ivr.models import Call, CallRollup, WebhookEvent
from telnyx_ivr.simulator import AIResult, HangUp, Press, Silence

from . import services

pytest_plugins = ["telnyx_ivr.pytest_plugin"]

CLASSIC, AI = "+15550000100", "+15550100200"
BERLIN = ZoneInfo("Europe/Berlin")


def everything(**params):
    """Filters for every test call there is."""
    return parse_filters(
        {"since": "2000-01-01", "until": "2100-01-01", "include_test": "1", **params}, tz=UTC
    )


def test_each_outcome_is_what_the_call_did(menus, play):
    sales = play(CLASSIC, [Press("1")])
    assert (sales.outcome, sales.transferred_to, sales.outcome_node) == (
        "transferred",
        "+15550100001",
        "sales",
    )
    assert sales.ended_by == "transfer"
    assert sales.menu_seconds is not None
    assert sales.is_test

    goodbye = play(CLASSIC, [Silence(), Silence(), Silence()])
    assert (goodbye.outcome, goodbye.outcome_node, goodbye.ended_by) == (
        "completed",
        "goodbye",
        "app",
    )

    gave_up = play(CLASSIC, [Press("2"), HangUp()])
    assert (gave_up.outcome, gave_up.outcome_node, gave_up.ended_by) == (
        "abandoned",
        "support",
        "caller",
    )
    assert [(s.node_key, s.exit) for s in gave_up.steps.order_by("step")] == [
        ("main", "2"),
        ("support", "hangup"),
    ]


def test_a_transfer_leg_belongs_to_its_call_and_is_not_counted(menus, play):
    call = play(CLASSIC, [Press("0")])
    [leg] = call.legs.all()
    assert (leg.direction, leg.to_number, leg.outcome) == ("outgoing", "+15550100000", "")
    assert leg.is_test
    assert list(Call.objects.counted()) == [call]


def test_a_command_refused_for_good_fails_the_call(menus, ivr_simulator, settings):
    settings.TELNYX_IVR = {**settings.TELNYX_IVR, "MAX_RETRIES": 1}
    ivr_simulator.faults.fail_command("gather_using_speak", 503, times=5)
    simulated = ivr_simulator.start_call(to=CLASSIC)
    ivr_simulator.wait_until(
        lambda: (
            Call.objects.filter(call_control_id=simulated.call_control_id)
            .exclude(failure="")
            .exists()
        ),
        20,
        message="the gather to fail for good",
        call=simulated,
    )
    simulated.hang_up()
    simulated.wait_for_end(10)
    call = Call.objects.get(call_control_id=simulated.call_control_id)
    assert call.outcome == "failed"
    assert call.failure.startswith("gather_using_speak failed:")
    assert call.outcome_node == "main"


def test_the_figures_add_up_to_the_calls_played(menus, play, ivr_simulator):
    played = [
        play(CLASSIC, [Press("1")]),  # transferred to sales
        play(CLASSIC, [Press("7"), Press("1")]),  # an invalid key, then sales
        play(CLASSIC, [Press("0")]),  # transferred to the operator
        play(CLASSIC, [Silence(), Silence(), Silence()]),  # completed: goodbye
        play(CLASSIC, [Press("2"), HangUp()]),  # abandoned in support
        play(AI, [AIResult({"name": "Ada", "age": 36, "city": "Chicago"})]),  # local office
        play(AI, [AIResult({"name": "Bo"}, status="invalid"), Press("1")]),  # operator
    ]
    waiting = ivr_simulator.start_call(to=CLASSIC, when_script_ends="wait")
    ivr_simulator.wait_until(
        lambda: Call.objects.filter(
            call_control_id=waiting.call_control_id, status="active"
        ).exists(),
        10,
        message="the call to reach the menu",
        call=waiting,
    )

    live = figures.dashboard(everything())
    roll_up()
    assert CallRollup.objects.exists()
    rolled = figures.dashboard(everything())
    assert rolled["calls"] == live["calls"]  # the same, summed either way
    assert rolled["transfers"] == live["transfers"]
    assert rolled["ai_gathers"] == live["ai_gathers"]

    assert rolled["calls"] == {
        "total": 8,
        "by_outcome": {
            "completed": 1,
            "transferred": 5,
            "abandoned": 1,
            "failed": 0,
            "in_progress": 1,
        },
    }
    assert rolled["rates"] == {"containment": 1 / 7, "abandonment": 1 / 7, "transfer": 5 / 7}
    assert rolled["transfers"] == [
        {"to": "+15550100001", "calls": 2},
        {"to": "+15550100000", "calls": 1},
        {"to": "+15550100201", "calls": 1},
        {"to": "+15550100202", "calls": 1},
    ]
    seconds = sorted(call.menu_seconds for call in played)
    # Read from a histogram: within a bucket's width (12 %) of the exact median.
    assert rolled["time_in_menu_seconds"]["p50"] == pytest.approx(seconds[3], rel=0.12)

    [intake] = rolled["ai_gathers"]
    assert (intake["menu"], intake["node"], intake["gathers"]) == ("ai-intake", "intake", 2)
    assert (intake["valid"], intake["invalid"], intake["valid_rate"]) == (1, 1, 0.5)
    assert intake["fields_filled"] == {"age": 1, "city": 1, "name": 2}

    classic = figures.menu_figures(everything(menu="classic-tree"))
    main = next(node for node in classic["nodes"] if node["key"] == "main")
    assert (main["visits"], main["calls"]) == (5, 5)  # the waiting call's visit is still open
    assert main["exits"] == {"1": 2, "0": 1, "2": 1, "no_input": 1}
    assert main["mean_tries"] == round((1 + 2 + 1 + 3 + 1) / 5, 2)
    support = next(node for node in classic["nodes"] if node["key"] == "support")
    assert (support["exits"], support["drop_off"]) == ({"hangup": 1}, 1.0)
    assert classic["calls"]["total"] == 6

    events = rolled["pipeline"]["events"]
    assert events["received"] == events["processed"] + events["failed"] + events["pending"]
    assert events["failed"] == 0
    assert rolled["pipeline"]["commands"] > 0
    assert rolled["latency_ms"]["p50"] is not None


def test_test_calls_are_left_out_unless_asked_for(menus, play):
    play(CLASSIC, [Press("1")])
    hidden = figures.dashboard(everything(include_test="0"))
    assert hidden["calls"]["total"] == 0
    assert hidden["test_calls_hidden"] == 1
    assert figures.dashboard(everything())["calls"]["total"] == 1


def test_an_empty_period_is_all_zeros(menus):
    empty = figures.dashboard(
        parse_filters({"since": "2026-11-01", "until": "2026-11-03"}, tz=BERLIN)
    )
    assert empty["calls"]["total"] == 0
    assert empty["rates"] == {"containment": None, "abandonment": None, "transfer": None}
    assert [row["total"] for row in empty["series"]] == [0, 0, 0]  # until: the 3rd included
    assert empty["time_in_menu_seconds"]["p50"] is None
    assert empty["test_calls_hidden"] == 0


@pytest.mark.parametrize("rolled_up", [False, True], ids=["live", "rolled up"])
def test_days_are_the_site_time_zones_days(menus, play, rolled_up):
    """23:59 and 00:00 in Berlin are different days, though both are the same UTC day."""
    late, early = play(CLASSIC, [Press("1")]), play(CLASSIC, [Press("0")])
    # 2026-03-28 23:59:30 and 2026-03-29 00:00:30 Berlin (CET, +1): the night before DST.
    for call, moment in [
        (late, datetime(2026, 3, 28, 22, 59, 30, tzinfo=UTC)),
        (early, datetime(2026, 3, 28, 23, 0, 30, tzinfo=UTC)),
    ]:
        shift_call(call, moment - call.started_at)
    if rolled_up:
        roll_up()
    days = figures.dashboard(
        parse_filters(
            {"since": "2026-03-28", "until": "2026-03-29", "include_test": "1", "bucket": "day"},
            tz=BERLIN,
        )
    )["series"]
    assert [(row["start"], row["transferred"]) for row in days] == [
        ("2026-03-28T00:00:00+01:00", 1),
        ("2026-03-29T00:00:00+01:00", 1),
    ]
    hours = figures.dashboard(
        parse_filters(
            {"since": "2026-03-29", "until": "2026-03-29", "include_test": "1", "bucket": "hour"},
            tz=BERLIN,
        )
    )["series"]
    assert len(hours) == 23  # the day the clocks go forward
    assert hours[0] == {**hours[0], "start": "2026-03-29T00:00:00+01:00", "transferred": 1}
    assert hours[2]["start"] == "2026-03-29T03:00:00+02:00"


def test_each_valid_ai_answer_is_summed_on_the_route_it_took(menus, play):
    """The intake's two valid routes are told apart by the city: the route of each answer is
    counted when its visit is summed, so the diagram's split needs no stored result, and is
    the same live, rolled up, and after the calls themselves are deleted."""
    play(AI, [AIResult({"name": "Ada", "age": 36, "city": "Chicago"})])  # the local office
    play(AI, [AIResult({"name": "Bo", "age": 40, "city": "New York"})])  # the local office
    play(AI, [AIResult({"name": "Cy", "age": 51, "city": "Boston"})])  # the other office
    play(AI, [AIResult({"name": "Di"}, status="invalid"), Press("1")])

    def split():
        [row] = [n for n in figures.menu_figures(everything(menu="ai-intake"))["nodes"]
                 if n["key"] == "intake"]  # fmt: skip
        return row["exits"], row["valid_routes"]

    live = split()
    assert live == ({"valid": 3, "invalid": 1}, {"0": 2, "1": 1})
    roll_up()
    assert not Call.objects.counted().filter(rolled_up=False).exists()
    assert split() == live
    Call.objects.all().delete()  # what retention does to old calls; the roll-ups stay
    assert split() == live


def test_rolling_up_twice_counts_each_call_once(menus, play):
    play(CLASSIC, [Press("1")])
    assert roll_up() > 0
    assert roll_up() == 0
    assert figures.dashboard(everything())["calls"]["total"] == 1


def test_a_roll_up_batch_takes_its_rows_without_sorting_every_row_waiting(menus, play):
    """With an ORDER BY, each batch sorted every row not rolled up yet: a backlog of millions
    of events was summed at ~700 a second, each batch slower than the last."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    services.require_postgres()  # SQLite has no SKIP LOCKED: one writer at a time anyway
    play(CLASSIC, [Press("1")])
    with CaptureQueriesContext(connection) as queries:
        assert roll_up() > 0
    claims = [q["sql"] for q in queries if "SKIP LOCKED" in q["sql"]]
    assert len(claims) >= 3, claims  # calls, events, commands
    assert not [sql for sql in claims if "ORDER BY" in sql], claims


def test_outcome_rates_are_shares_of_ended_calls():
    counts = {"completed": 2, "transferred": 1, "abandoned": 1, "failed": 0, "in_progress": 9}
    assert outcomes.rates(counts) == {"containment": 0.5, "abandonment": 0.25, "transfer": 0.25}


def test_the_timeline_says_who_hung_up_not_telnyxs_callee(menus, play):
    """Telnyx reports hangup_source "callee" when this app hangs up an incoming call; the
    event's note on the timeline read "callee" as if someone else had."""
    goodbye = play(CLASSIC, [Silence(), Silence(), Silence()])
    gave_up = play(CLASSIC, [Press("2"), HangUp()])

    def note(call):
        return WebhookEvent.objects.get(
            call_control_id=call.call_control_id, event_type="call.hangup"
        ).note

    assert note(goodbye).endswith("; the menu hung up)")
    assert "callee" not in note(goodbye)
    assert note(gave_up).endswith("; the caller hung up)")
