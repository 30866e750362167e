"""Office-hours and check nodes end to end: the simulator plays Telnyx and the caller, the
live endpoint takes the webhooks, a real Celery worker runs the engine, reading the schedule
as it is in the database when the call reaches it."""

import copy

import pytest

from telnyx_ivr.menus.io import import_definition
from telnyx_ivr.models import Call
from telnyx_ivr.simulator import ExpectEnd, Press

from .e2e_support import CLASSIC_NUMBER, acted_on, client_state, heard, prompt_text
from .office_hours import closed_all_week, holiday_today

pytestmark = pytest.mark.redis


def steps_of(call):
    row = Call.objects.get(call_control_id=call.call_control_id)
    return [(s.node_key, s.node_kind, s.exit) for s in row.steps.order_by("step")]


def test_closed_office_says_so_then_the_caller_is_back_in_the_main_menu(e2e):
    closed_all_week()  # edited after publishing: calls read it live
    call = e2e.run(
        CLASSIC_NUMBER,
        [Press("0"), Press("1"), ExpectEnd(by="caller", transferred_to="+15550100001")],
    )
    call.assert_expectations()
    main = prompt_text(e2e.classic, "main_menu")
    assert heard(call) == [main, prompt_text(e2e.classic, "closed"), main]
    assert steps_of(call) == [
        ("main", "speak_menu", "0"),
        ("office_hours", "schedule", "closed"),
        ("closed_message", "announcement", "completed"),
        ("main", "speak_menu", "1"),
        ("sales", "transfer", "transferred"),
    ]
    speak = next(r for r in acted_on(call) if r.action == "speak")
    assert client_state(speak)["p"] == [["office_hours", "closed"]]


def test_on_a_holiday_the_caller_hears_the_holiday_message(e2e):
    holiday_today()
    call = e2e.run(CLASSIC_NUMBER, [Press("0"), Press("1"), ExpectEnd(by="caller")])
    call.assert_expectations()
    assert heard(call)[1] == prompt_text(e2e.classic, "holiday")
    assert ("office_hours", "schedule", "holiday") in steps_of(call)


def test_while_open_a_caller_from_the_uk_reaches_the_london_office(e2e):
    call = e2e.run(
        CLASSIC_NUMBER,
        [Press("0"), ExpectEnd(by="caller", transferred_to="+442079460000")],
        from_="+442071234567",
    )
    call.assert_expectations()
    assert steps_of(call)[1:] == [
        ("office_hours", "schedule", "open"),
        ("which_operator", "condition", "option_1"),
        ("operator_london", "transfer", "transferred"),
    ]
    [transfer] = [r for r in acted_on(call) if r.action == "transfer"]
    assert client_state(transfer)["p"] == [["office_hours", "open"], ["which_operator", "option_1"]]


def test_a_caller_who_called_in_the_last_week_is_known(e2e):
    # The classic tree with its check asking for an earlier call instead of a UK number.
    document = copy.deepcopy(e2e.classic)
    document["nodes"]["which_operator"]["routes"][0]["conditions"] = [
        {"op": "called_within_days", "value": 7}
    ]
    import_definition(document, publish=True)
    script = [Press("0"), ExpectEnd(by="caller")]
    first = e2e.run(CLASSIC_NUMBER, script, from_="+15557770001")
    second = e2e.run(CLASSIC_NUMBER, script, from_="+15557770001")
    other = e2e.run(CLASSIC_NUMBER, script, from_="+15557770002")
    assert first.outcome["transferred_to"] == "+15550100000"  # first time: never called
    assert second.outcome["transferred_to"] == "+442079460000"  # called a moment ago
    assert other.outcome["transferred_to"] == "+15550100000"
    assert ("which_operator", "condition", "option_1") in steps_of(second)
