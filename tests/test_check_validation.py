"""Each problem an office-hours or check node can have, as the validator says it and as the
menu's page says it (telnyx_ivr.admin.issue_words): the step's name, the option's number
and what it checks, never a file path."""

import json

import pytest

from telnyx_ivr import examples
from telnyx_ivr.admin import issue_words
from telnyx_ivr.menus.validation import validate_definition


def classic():
    return json.loads(examples.read("classic_tree"))


def said(definition):
    """Every problem in the admin's words."""
    return [issue_words.describe(issue, definition) for issue in validate_definition(definition)]


def only(definition):
    [line] = said(definition)
    assert "routes[" not in line
    assert "schedules." not in line
    return line


def test_the_example_has_no_problem():
    assert said(classic()) == []


def test_an_office_hours_step_without_a_schedule():
    doc = classic()
    doc["nodes"]["office_hours"]["schedule"] = None
    assert only(doc) == (
        "'Is the office open?', Opening hours: an office-hours check needs a schedule"
    )


def test_a_schedule_the_file_does_not_carry():
    doc = classic()
    doc["nodes"]["office_hours"]["schedule"] = "weekend"
    assert only(doc) == (
        "'Is the office open?', Opening hours: 'weekend' is not one of the schedules in the "
        "menu's 'schedules'"
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"time_zone": "Mars/Olympus"},
            "Schedule 'office-hours': time_zone: 'Mars/Olympus' is not a time zone",
        ),
        (
            {"weekly": {"mon": [["09:00", "09:00"]]}},
            "Schedule 'office-hours': weekly.mon[0]: an interval that ends when it starts is "
            "empty (all day is 00:00 to 24:00)",
        ),
        (
            {"exceptions": [{"date": "2026-13-01", "name": "Nope", "hours": []}]},
            "Schedule 'office-hours': exceptions[0].date: a date is written 2026-12-25",
        ),
    ],
)
def test_a_schedule_in_the_file_that_cannot_be_read(change, expected):
    doc = classic()
    doc["schedules"]["office-hours"].update(change)
    assert only(doc) == expected


@pytest.mark.parametrize("status", ["open", "closed"])
def test_an_office_hours_step_with_nowhere_to_go(status):
    doc = classic()
    routes = doc["nodes"]["office_hours"]["routes"]
    doc["nodes"]["office_hours"]["routes"] = [
        r for r in routes if r["when"] not in (status, "default")
    ]
    lines = said(doc)
    assert (
        f"The options of 'Is the office open?': nowhere to go when the office is {status}: "
        f"add a route for '{status}', or a default route"
    ) in lines


def test_a_check_with_no_option():
    doc = classic()
    doc["nodes"]["which_operator"]["routes"] = doc["nodes"]["which_operator"]["routes"][1:]
    lines = said(doc)
    assert (
        "The options of 'Which operator?': a check needs at least one 'match' route with its "
        "conditions"
    ) in lines


def test_a_check_option_without_conditions():
    doc = classic()
    del doc["nodes"]["which_operator"]["routes"][0]["conditions"]
    assert only(doc) == (
        "Option 1 of 'Which operator?' (conditions hold), conditions: a 'match' route needs "
        "its conditions"
    )


def test_a_check_on_a_variable_the_menu_never_saves():
    doc = classic()
    doc["nodes"]["which_operator"]["routes"][0]["conditions"][0]["field"] = "account"
    assert only(doc) == (
        "Option 1 of 'Which operator?' (if account starts with +44), condition 1 (what it "
        "checks): 'account' is not a variable of this menu (called_number, caller_number, "
        "main_choice, support_choice)"
    )


def test_a_number_test_with_text_for_its_value():
    doc = classic()
    doc["nodes"]["which_operator"]["routes"][0]["conditions"] = [
        {"field": "caller_number", "op": "at_least", "value": "ten"}
    ]
    line = only(doc)
    assert line.startswith("Option 1 of 'Which operator?' (if caller's number is at least ten)")
    assert "condition 1 (value): 'ten' is not of type 'number'" in line


def test_an_earlier_call_test_on_an_ai_answer():
    doc = json.loads(examples.read("ai_intake"))
    doc["nodes"]["intake"]["routes"][0]["conditions"] = [{"op": "called_within_days", "value": 3}]
    lines = said(doc)
    assert any(
        line.startswith("Option 1 of ")
        and line.endswith("condition 1 (test): 'called_within_days' is for checks only")
        for line in lines
    ), lines


def test_conditions_on_an_office_hours_route():
    doc = classic()
    doc["nodes"]["office_hours"]["routes"][0]["conditions"] = [
        {"field": "caller_number", "op": "is_set", "value": True}
    ]
    assert only(doc) == (
        "Option 1 of 'Is the office open?' (office open), conditions: only a 'valid' route "
        "(an AI answer) or a 'match' route (a check) has conditions"
    )


def test_checks_that_lead_to_each_other():
    doc = classic()
    doc["nodes"]["which_operator"]["routes"][1] = {
        "when": "default",
        "target": "node",
        "node": "office_hours",
    }
    lines = said(doc)
    assert any(
        "the loop office_hours -> which_operator -> office_hours never stops for input" in line
        or "the loop which_operator -> office_hours -> which_operator never stops for input" in line
        for line in lines
    ), lines


def test_a_check_that_repeats_itself():
    doc = classic()
    doc["nodes"]["which_operator"]["routes"][1] = {"when": "default", "target": "repeat"}
    lines = said(doc)
    assert any("the loop which_operator -> which_operator never stops" in line for line in lines)
