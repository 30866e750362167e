"""Office-hours and check nodes in the pure core: the route each takes for a moment, a
caller and an earlier call passed in (no clock, no database), table by table, on the
classic example menu and on small menus of their own."""

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest

from telnyx_ivr import examples
from telnyx_ivr.engine import CallContext
from telnyx_ivr.engine.routing import conditions_hold
from telnyx_ivr.menus.validation import validate_definition

from .test_engine_support import CallDriver, cs_of, without_cs


def utc(*parts):
    return datetime(*parts, tzinfo=UTC)


def classic():
    return json.loads(examples.read("classic_tree"))


def press_zero_at(moment, *, definition=None, context=None, caller=None):
    """Play the classic tree to pressing 0 at ``moment``: the command that follows."""
    driver = CallDriver(
        definition or classic(), clock=moment - timedelta(seconds=3), context=context
    )
    driver.feed(
        "call.initiated",
        {"direction": "incoming", "from": caller or "+15551230000", "to": "+15559870000"},
    )
    driver.feed("call.answered")
    decision = driver.gather_ended("valid", "0")
    return driver, decision


# The example's office: Mon-Fri 09:00-17:00 in New York; Christmas Day and New Year's Day
# closed, New Year's Eve 09:00-12:00. New York changes its clocks on 8 March 2026 (02:00 EST
# -> 03:00 EDT) and on 1 November 2026 (02:00 EDT -> 01:00 EST). Times are when 0 is pressed.
OPERATOR = ("transfer", "+15550100000")
CLOSED = (
    "speak",
    "Our office is closed now. We are open Monday to Friday, 9 AM to 5 PM Eastern time.",
)
HOLIDAY = ("speak", "Our office is closed today for the holiday.")
CASES = [
    (utc(2026, 12, 1, 14, 0), "Tue 09:00 EST, opening", OPERATOR),
    (utc(2026, 12, 1, 13, 59, 59), "Tue 08:59:59 EST", CLOSED),
    (utc(2026, 12, 1, 21, 59, 59), "Tue 16:59:59 EST", OPERATOR),
    (utc(2026, 12, 1, 22, 0), "Tue 17:00 EST, closing", CLOSED),
    (utc(2026, 12, 2, 5, 0), "Wed 00:00 EST, midnight", CLOSED),
    (utc(2026, 12, 2, 4, 59, 59), "Tue 23:59:59 EST", CLOSED),
    (utc(2026, 12, 5, 15, 0), "Sat 10:00 EST", CLOSED),
    # Summer time: the same 09:00 is an hour earlier in UTC.
    (utc(2026, 7, 1, 13, 0), "Wed 09:00 EDT", OPERATOR),
    (utc(2026, 7, 1, 12, 59), "Wed 08:59 EDT", CLOSED),
    (utc(2026, 7, 1, 21, 0), "Wed 17:00 EDT", CLOSED),
    # The Monday after spring forward (Sun 8 Mar), and the one after fall back (Sun 1 Nov).
    (utc(2026, 3, 9, 13, 0), "Mon 9 Mar 09:00 EDT", OPERATOR),
    (utc(2026, 3, 9, 12, 59), "Mon 9 Mar 08:59 EDT", CLOSED),
    (utc(2026, 3, 6, 14, 0), "Fri 6 Mar 09:00 EST, before the change", OPERATOR),
    (utc(2026, 3, 6, 13, 59), "Fri 6 Mar 08:59 EST", CLOSED),
    (utc(2026, 11, 2, 14, 0), "Mon 2 Nov 09:00 EST", OPERATOR),
    (utc(2026, 11, 2, 13, 0), "Mon 2 Nov 08:00 EST (09:00 before the change)", CLOSED),
    (utc(2026, 10, 30, 13, 0), "Fri 30 Oct 09:00 EDT", OPERATOR),
    # Holidays and special hours.
    (utc(2026, 12, 25, 15, 0), "Fri 25 Dec 10:00, Christmas Day", HOLIDAY),
    (utc(2026, 12, 25, 4, 59), "Thu 24 Dec 23:59, the evening before", CLOSED),
    (utc(2026, 12, 25, 5, 0), "Fri 25 Dec 00:00", HOLIDAY),
    (utc(2026, 12, 31, 16, 59), "Thu 31 Dec 11:59, special hours", OPERATOR),
    (utc(2026, 12, 31, 17, 0), "Thu 31 Dec 12:00, after them", HOLIDAY),
    (utc(2027, 1, 1, 16, 0), "Fri 1 Jan 11:00, New Year's Day", HOLIDAY),
    (utc(2027, 1, 4, 14, 0), "Mon 4 Jan 09:00, back to the weekly hours", OPERATOR),
]


def heard(decision):
    [command] = decision.commands
    if command.action == "transfer":
        return ("transfer", command.params["to"])
    return (command.action, command.params["payload"])


@pytest.mark.parametrize(("moment", "clock", "expected"), CASES, ids=[c[1] for c in CASES])
def test_pressing_0_reaches_the_operator_only_while_the_office_is_open(moment, clock, expected):
    _, decision = press_zero_at(moment)
    assert heard(decision) == expected
    visited = [(s.node, s.kind, s.outcome) for s in decision.steps]
    status = {OPERATOR: "open", CLOSED: "closed", HOLIDAY: "holiday"}[expected]
    assert ("office_hours", "closed", status) in visited


def test_after_the_closed_message_the_caller_is_back_in_the_main_menu():
    driver, decision = press_zero_at(utc(2026, 12, 5, 15, 0))  # a Saturday
    assert cs_of(decision.commands[0])["n"] == "closed_message"
    back = driver.only_command(driver.feed("call.speak.ended", {"status": "completed"}))
    assert back.action == "gather_using_speak"
    assert cs_of(back)["n"] == "main"
    assert back.params["payload"].startswith("Thank you for calling.")


def test_the_schedule_as_it_is_now_wins_over_the_one_published_with_the_menu():
    # Saturday: closed by the published hours, open by the hours the runner found now.
    always = {
        "name": "Always",
        "time_zone": "UTC",
        "weekly": {
            d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        },
        "exceptions": [],
    }
    context = CallContext(schedules={"office-hours": always})
    _, decision = press_zero_at(utc(2026, 12, 5, 15, 0), context=context)
    assert heard(decision) == OPERATOR


def test_a_caller_from_the_uk_reaches_the_london_office():
    _, decision = press_zero_at(utc(2026, 12, 1, 15, 0), caller="+442071234567")
    assert heard(decision) == ("transfer", "+442079460000")
    visited = [(s.node, s.kind, s.outcome) for s in decision.steps if s.kind == "closed"]
    assert ("which_operator", "closed", "option_1") in visited


def test_a_missing_schedule_ends_the_call_with_the_reason():
    definition = classic()
    del definition["schedules"]
    driver, decision = press_zero_at(utc(2026, 12, 1, 15, 0), definition=definition)
    assert [c.action for c in decision.commands] == ["hangup"]
    assert "schedule 'office-hours' is not defined" in driver.state.end_reason


FIRST, SECOND, OTHERWISE = "+15550000001", "+15550000002", "+15550000000"
NUMBERS = {"first": FIRST, "second": SECOND, "otherwise": OTHERWISE}


# --- checks on their own menu ------------------------------------------------------------


def check_menu(routes):
    """A menu that asks for a number (saved as ``pin``), then checks it."""

    def transfer(to):
        return {
            "kind": "transfer",
            "name": to,
            "routes": [],
            "save_as": None,
            "to": to,
            "from": None,
            "timeout_secs": None,
        }

    definition = json.loads(examples.read("classic_tree"))
    used = {route["node"] for route in routes} | {"otherwise"}
    definition["nodes"] = {
        "ask": {
            "kind": "gather",
            "name": "Ask",
            "save_as": "pin",
            "invalid_prompt": None,
            "no_input_prompt": None,
            "digits": {
                **definition["nodes"]["main"]["digits"],
                "valid_digits": "0123456789",
                "maximum_digits": 4,
            },
            "routes": [{"when": "default", "target": "node", "node": "check"}],
        },
        "check": {
            "kind": "condition",
            "name": "Check",
            "save_as": None,
            "routes": [*routes, {"when": "default", "target": "node", "node": "otherwise"}],
        },
        **{key: transfer(to) for key, to in NUMBERS.items() if key in used},
    }
    definition["menu"]["entry_node"] = "ask"
    definition.pop("schedules")
    return definition


def match(conditions, to):
    key = {number: key for key, number in NUMBERS.items()}.get(to, to)
    return {"when": "match", "conditions": conditions, "target": "node", "node": key}


def where_to(routes, digits, *, caller="+15551230000", context=None):
    definition = check_menu(routes)
    assert validate_definition(definition) == []
    driver = CallDriver(definition, context=context)
    driver.feed("call.initiated", {"direction": "incoming", "from": caller, "to": "+15559870000"})
    driver.feed("call.answered")
    [command] = driver.gather_ended("valid", digits).commands
    return command.params["to"]


CHECKS = [
    ([match([{"field": "pin", "op": "equals", "value": "1234"}], FIRST)], "1234", FIRST),
    ([match([{"field": "pin", "op": "equals", "value": "1234"}], FIRST)], "4321", OTHERWISE),
    ([match([{"field": "pin", "op": "one_of", "value": ["1", "2"]}], FIRST)], "2", FIRST),
    ([match([{"field": "pin", "op": "one_of", "value": ["1", "2"]}], FIRST)], "3", OTHERWISE),
    # Keys pressed are text; comparisons read them as numbers.
    ([match([{"field": "pin", "op": "less_than", "value": 18}], FIRST)], "17", FIRST),
    ([match([{"field": "pin", "op": "less_than", "value": 18}], FIRST)], "18", OTHERWISE),
    ([match([{"field": "pin", "op": "at_most", "value": 18}], FIRST)], "18", FIRST),
    ([match([{"field": "pin", "op": "greater_than", "value": 65}], FIRST)], "65", OTHERWISE),
    ([match([{"field": "pin", "op": "at_least", "value": 65}], FIRST)], "65", FIRST),
    ([match([{"field": "pin", "op": "at_least", "value": 65}], FIRST)], "100", FIRST),
    # The first option that holds wins; all conditions of one option must hold.
    (
        [
            match([{"field": "pin", "op": "at_least", "value": 10}], FIRST),
            match([{"field": "pin", "op": "at_least", "value": 5}], SECOND),
        ],
        "7",
        SECOND,
    ),
    (
        [
            match([{"field": "pin", "op": "at_least", "value": 5}], FIRST),
            match([{"field": "pin", "op": "at_least", "value": 10}], SECOND),
        ],
        "70",
        FIRST,
    ),
    (
        [
            match(
                [
                    {"field": "pin", "op": "at_least", "value": 5},
                    {"field": "pin", "op": "at_most", "value": 9},
                ],
                FIRST,
            )
        ],
        "12",
        OTHERWISE,
    ),
    ([match([{"field": "pin", "op": "is_set", "value": True}], FIRST)], "5", FIRST),
    (
        [match([{"field": "caller_number", "op": "starts_with", "value": "+44"}], FIRST)],
        "1",
        OTHERWISE,
    ),
    (
        [match([{"field": "called_number", "op": "equals", "value": "+15559870000"}], FIRST)],
        "1",
        FIRST,
    ),
    (
        [
            match(
                [{"field": "called_number", "op": "starts_with", "value": ["+1555", "+44"]}], FIRST
            )
        ],
        "1",
        FIRST,
    ),
]


@pytest.mark.parametrize(("routes", "digits", "expected"), CHECKS)
def test_a_check_takes_the_first_option_whose_conditions_hold(routes, digits, expected):
    assert where_to(routes, digits) == expected


def test_a_check_reads_the_callers_number():
    routes = [match([{"field": "caller_number", "op": "starts_with", "value": "+44"}], FIRST)]
    assert where_to(routes, "1", caller="+447700900123") == FIRST
    assert where_to(routes, "1", caller="+15551230000") == OTHERWISE


@pytest.mark.parametrize(
    ("previous", "expected"),
    [
        (None, OTHERWISE),  # never called before
        (timedelta(days=6, hours=23), FIRST),
        (timedelta(days=7), FIRST),
        (timedelta(days=7, seconds=1), OTHERWISE),
        (timedelta(days=400), OTHERWISE),
    ],
)
def test_a_check_knows_whether_the_caller_called_within_n_days(previous, expected):
    from .test_engine_support import NOW

    routes = [match([{"op": "called_within_days", "value": 7}], FIRST)]
    # The call starts one second after NOW (the driver's clock ticks before each event).
    at = None if previous is None else NOW + timedelta(seconds=1) - previous
    assert where_to(routes, "1", context=CallContext(previous_call_at=at)) == expected


@pytest.mark.parametrize(
    ("condition", "values", "expected"),
    [
        ({"field": "age", "op": "is_set", "value": True}, {}, False),
        ({"field": "age", "op": "is_set", "value": False}, {}, True),
        ({"field": "age", "op": "is_set", "value": True}, {"age": None}, False),
        ({"field": "age", "op": "is_set", "value": True}, {"age": ""}, False),
        ({"field": "age", "op": "is_set", "value": True}, {"age": 0}, True),
        ({"field": "age", "op": "less_than", "value": 18}, {"age": "twelve"}, False),
        ({"field": "age", "op": "less_than", "value": 18}, {"age": True}, False),
        ({"field": "age", "op": "less_than", "value": 18}, {"age": "nan"}, False),
        ({"field": "age", "op": "greater_than", "value": 18}, {"age": "inf"}, False),
        ({"field": "age", "op": "less_than", "value": 18}, {"age": 17.5}, True),
        ({"field": "age", "op": "less_than", "value": 18}, {}, False),
        (
            {"field": "details.city", "op": "equals", "value": "Austin"},
            {"details": {"city": "Austin"}},
            True,
        ),
        (
            {"field": "caller_number", "op": "starts_with", "value": ""},
            {"caller_number": "+1"},
            False,
        ),
        ({"field": "flag", "op": "equals", "value": 1}, {"flag": True}, False),
        ({"field": "age", "op": "no_such_op", "value": 1}, {"age": 1}, False),
    ],
)
def test_each_operator_on_values_it_may_meet(condition, values, expected):
    assert conditions_hold([condition], values) is expected


def test_checks_that_lead_back_to_each_other_hang_up_instead_of_looping():
    definition = check_menu([])
    definition["nodes"]["check"]["routes"] = [
        match([{"field": "pin", "op": "is_set", "value": True}], "check2"),
        {"when": "default", "target": "node", "node": "check2"},
    ]
    definition["nodes"]["check2"] = copy.deepcopy(definition["nodes"]["check"])
    definition["nodes"]["check2"]["routes"][0]["node"] = "check"
    definition["nodes"]["check2"]["routes"][1]["node"] = "check"
    issues = [str(i) for i in validate_definition(definition)]
    assert any("never stops for input" in issue for issue in issues)
    driver = CallDriver(definition)
    driver.feed(
        "call.initiated", {"direction": "incoming", "from": "+15551230000", "to": "+15559870000"}
    )
    driver.feed("call.answered")
    decision = driver.gather_ended("valid", "1")
    assert [c.action for c in decision.commands] == ["hangup"]
    assert "the checks loop" in driver.state.end_reason
    assert without_cs(decision.commands[0].params) == {}
