"""Each validation rule of issue 4 with a failing and a passing case."""

import copy
import json
from pathlib import Path

import pytest

from telnyx_ivr.menus.definition import apply_definition
from telnyx_ivr.menus.kinds import DIGIT_DEFAULTS
from telnyx_ivr.menus.validation import ValidationIssue, validate_definition, validate_menu
from telnyx_ivr.models import Menu, Node, Route

EXAMPLES = Path(__file__).resolve().parent.parent / "telnyx_ivr" / "examples"


def example(name):
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def classic():
    return example("classic_tree")


def ai():
    return example("ai_intake")


def announcement(name, routes, prompt="goodbye"):
    return {
        "kind": "announcement",
        "name": name,
        "routes": routes,
        "save_as": None,
        "prompt": prompt,
    }


def to(when, node):
    return {"when": when, "target": "node", "node": node}


def issue_texts(definition):
    return [str(issue) for issue in validate_definition(definition)]


def assert_issue(definition, node, field, fragment):
    issues = validate_definition(definition)
    matching = [i for i in issues if i.node == node and i.field == field and fragment in i.message]
    assert matching, f"no issue at node {node!r} field {field!r} with {fragment!r}: {issues}"


def assert_valid(definition):
    assert issue_texts(definition) == []


@pytest.mark.parametrize("name", ["classic_tree", "ai_intake"])
def test_examples_are_valid(name):
    assert_valid(example(name))


def test_issue_text_names_node_and_field():
    issue = ValidationIssue("main", "routes[2].digits", "boom")
    assert str(issue) == "node 'main', field 'routes[2].digits': boom"
    assert str(ValidationIssue(None, "menu.entry_node", "x")) == "field 'menu.entry_node': x"


# --- menu without an entry node ------------------------------------------------------------


def test_menu_without_entry_node_fails():
    doc = classic()
    doc["menu"]["entry_node"] = None
    assert_issue(doc, None, "menu.entry_node", "no entry node")


def test_entry_node_that_is_not_a_node_fails():
    doc = classic()
    doc["menu"]["entry_node"] = "nowhere"
    assert_issue(doc, None, "menu.entry_node", "'nowhere' is not a node")


def test_menu_with_entry_node_passes():
    doc = classic()
    doc["menu"]["entry_node"] = "support"
    doc["nodes"]["support"]["digits"]["valid_digits"] = "0129*"
    doc["nodes"]["support"]["routes"].insert(0, {**to("digits", "main"), "digits": "0"})
    assert_valid(doc)


# --- unreachable nodes ---------------------------------------------------------------------


def test_unreachable_node_fails():
    doc = classic()
    doc["nodes"]["orphan"] = {
        "kind": "hangup",
        "name": "Orphan",
        "routes": [],
        "save_as": None,
        "prompt": None,
    }
    assert_issue(doc, "orphan", "key", "unreachable")


def test_node_reached_by_a_route_passes():
    doc = classic()
    doc["nodes"]["orphan"] = {
        "kind": "hangup",
        "name": "Orphan",
        "routes": [],
        "save_as": None,
        "prompt": None,
    }
    doc["nodes"]["support"]["routes"][-1] = to("default", "orphan")
    assert_valid(doc)


def test_node_reachable_only_through_a_callable_passes():
    doc = classic()
    doc["nodes"]["orphan"] = {
        "kind": "hangup",
        "name": "Orphan",
        "routes": [],
        "save_as": None,
        "prompt": None,
    }
    doc["nodes"]["main"]["routes"][-1] = {
        "when": "default",
        "target": "callable",
        "callable": "myproject.routing.pick_node",
    }
    assert_valid(doc)


# --- routes into another menu --------------------------------------------------------------


def test_route_to_a_node_of_no_this_menu_fails():
    doc = classic()
    doc["nodes"]["main"]["routes"][0]["node"] = "intake"  # a node of the AI menu
    assert_issue(doc, "main", "routes[0].node", "not a node of this menu")


@pytest.mark.django_db
def test_route_row_into_another_menu_fails_and_own_menu_passes():
    mine = apply_definition(classic())
    other = apply_definition(ai())
    assert validate_menu(mine) == []
    route = Route.objects.get(node__menu=mine, node__key="main", digits="1")
    # Same key in both menus: only the rows show that the route leaves the menu.
    route.target_node = Node.objects.get(menu=other, key="goodbye")
    route.save()
    issues = validate_menu(mine)
    leaving = [i for i in issues if (i.node, i.field) == ("main", "routes[0].node")]
    assert len(leaving) == 1
    assert "routes into another menu: 'goodbye' belongs to" in leaving[0].message
    route.target_node = Node.objects.get(menu=mine, key="sales")
    route.save()
    assert validate_menu(mine) == []


# --- digit routes the node cannot accept ---------------------------------------------------


def test_digit_not_in_valid_digits_fails():
    doc = classic()
    doc["nodes"]["main"]["routes"][0]["digits"] = "7"
    assert_issue(doc, "main", "routes[0].digits", "'7' of '7' is not in valid digits '0129'")


def test_digit_in_valid_digits_passes():
    doc = classic()
    doc["nodes"]["main"]["routes"][0]["digits"] = "7"
    doc["nodes"]["main"]["digits"]["valid_digits"] = "01279"
    assert_valid(doc)


def test_digits_longer_than_maximum_fails():
    doc = classic()
    doc["nodes"]["main"]["routes"][0]["digits"] = "12"
    assert_issue(doc, "main", "routes[0].digits", "has 2 digit(s); this node accepts 1 to 1")


def test_digits_shorter_than_minimum_fails():
    doc = classic()
    doc["nodes"]["main"]["digits"].update(minimum_digits=2, maximum_digits=2)
    assert_issue(doc, "main", "routes[0].digits", "has 1 digit(s); this node accepts 2 to 2")


def test_digits_within_length_passes():
    doc = classic()
    doc["nodes"]["main"]["routes"][0]["digits"] = "12"
    doc["nodes"]["main"]["digits"]["maximum_digits"] = 2
    assert_valid(doc)


def test_digits_containing_the_terminating_digit_fail():
    doc = classic()
    doc["nodes"]["support"]["digits"]["terminating_digit"] = "*"
    assert_issue(doc, "support", "routes[3].digits", "terminating digit '*'")


def test_digit_route_repeated_fails():
    doc = classic()
    doc["nodes"]["main"]["routes"][1]["digits"] = "1"
    assert_issue(doc, "main", "routes[1].digits", "already routed by routes[0]")


def test_minimum_above_maximum_fails():
    doc = classic()
    doc["nodes"]["main"]["digits"].update(minimum_digits=3, maximum_digits=2)
    assert_issue(doc, "main", "digits.minimum_digits", "more than maximum_digits")


# --- nodes with no default route -----------------------------------------------------------


def test_node_without_default_route_fails():
    doc = classic()
    doc["nodes"]["main"]["routes"] = [
        r for r in doc["nodes"]["main"]["routes"] if r["when"] != "default"
    ]
    assert_issue(doc, "main", "routes", "no default route")


def test_terminal_nodes_need_no_default_route_but_take_no_routes():
    doc = classic()
    assert doc["nodes"]["goodbye"]["routes"] == []
    assert_valid(doc)
    doc["nodes"]["goodbye"]["routes"] = [to("default", "main")]
    assert_issue(doc, "goodbye", "routes", "takes no routes")


# --- cycles that never stop for input ------------------------------------------------------


def test_loop_of_announcements_fails():
    doc = classic()
    doc["nodes"]["main"]["routes"][0]["node"] = "a"
    doc["nodes"]["a"] = announcement("A", [to("default", "b")])
    doc["nodes"]["b"] = announcement("B", [to("default", "a")])
    assert_issue(doc, "a", "routes[0]", "the loop a -> b -> a never stops for input")


def test_announcement_repeating_itself_fails():
    doc = classic()
    doc["nodes"]["main"]["routes"][0]["node"] = "a"
    doc["nodes"]["a"] = announcement("A", [{"when": "default", "target": "repeat"}])
    assert_issue(doc, "a", "routes[0]", "the loop a -> a never stops")


def test_loop_through_a_menu_node_passes():
    doc = classic()
    doc["nodes"]["main"]["routes"][0]["node"] = "a"
    doc["nodes"]["a"] = announcement("A", [to("default", "b")])
    doc["nodes"]["b"] = announcement("B", [to("default", "main"), to("error", "sales")])
    assert_valid(doc)


# --- prompts with unknown variables --------------------------------------------------------


def test_prompt_with_unknown_variable_fails():
    doc = classic()
    doc["prompts"]["goodbye"]["text"] = "Goodbye {{ customer.name }}, from {{ called_number }}."
    assert_issue(doc, "goodbye", "prompt", "prompt 'goodbye' uses unknown variable 'customer'")


def test_prompt_with_saved_and_builtin_variables_passes():
    doc = classic()
    doc["prompts"]["goodbye"]["text"] = (
        "You pressed {{ main_choice }} on {{ called_number }} from {{ caller_number }}."
        "{% if support_choice == '1' %} Billing.{% endif %}"
    )
    assert_valid(doc)


def test_ai_result_attribute_lookup_passes_and_messages_variable_is_known():
    doc = ai()
    doc["prompts"]["thanks"]["text"] = "{{ details.name }} said {{ details_messages|length }}."
    assert_valid(doc)
    doc["prompts"]["thanks"]["text"] = "{{ detail.name }}"
    assert_issue(doc, "thanks", "prompt", "unknown variable 'detail'")


def test_ai_greeting_is_a_template_checked_for_unknown_variables():
    doc = ai()
    doc["nodes"]["intake"]["greeting"] = "Hello {{ caller_number }}, {{ mood }}?"
    assert_issue(doc, "intake", "greeting", "it uses unknown variable 'mood'")
    doc["nodes"]["intake"]["greeting"] = "Hello {{ caller_number }}, {{ fallback_choice }}?"
    doc["nodes"]["intake"]["gather_ended_speech"] = "Thanks {{ details.name }}"
    assert_valid(doc)


def test_prompt_with_unknown_variable_in_a_tag_fails():
    doc = classic()
    doc["prompts"]["invalid"]["text"] = "{% if mood == 'bad' %}Sorry.{% endif %}"
    assert_issue(doc, "main", "invalid_prompt", "unknown variable 'mood'")


def test_prompt_with_broken_template_fails():
    doc = classic()
    doc["prompts"]["goodbye"]["text"] = "Goodbye {% if %}"
    assert_issue(doc, "goodbye", "prompt", "not a valid template")


# --- references, kinds and fields ----------------------------------------------------------


def test_route_outcome_the_kind_cannot_produce_fails():
    doc = classic()
    doc["nodes"]["main"]["routes"][0]["when"] = "valid"
    doc["nodes"]["main"]["routes"][0].pop("digits")
    assert_issue(doc, "main", "routes[0].when", "has no 'valid' outcome")


def test_condition_on_a_field_outside_the_schema_fails():
    doc = ai()
    doc["nodes"]["intake"]["routes"][0]["conditions"][0]["field"] = "country"
    assert_issue(doc, "intake", "routes[0].conditions[0].field", "'country' is not a property")
    doc["nodes"]["intake"]["routes"][0]["conditions"][0]["field"] = "age"
    assert_valid(doc)


def test_conditions_only_on_valid_routes():
    doc = ai()
    doc["nodes"]["intake"]["routes"][2]["conditions"] = [
        {"field": "age", "op": "equals", "value": 18}
    ]
    assert_issue(doc, "intake", "routes[2].conditions", "only a 'valid' route")


def test_speak_menu_needs_a_tts_prompt():
    doc = classic()
    doc["prompts"]["beep"] = {
        "kind": "audio",
        "audio_url": "https://example.com/a.mp3",
        "media_name": None,
    }
    doc["nodes"]["main"]["prompt"] = "beep"
    assert_issue(doc, "main", "prompt", "needs a tts prompt")
    doc["nodes"]["main"]["prompt"] = None
    assert_issue(doc, "main", "prompt", "needs a prompt")


def test_unknown_prompt_and_schema_keys_fail():
    doc = ai()
    doc["nodes"]["thanks"]["prompt"] = "nope"
    doc["nodes"]["intake"]["ai_schema"] = "nope"
    assert_issue(doc, "thanks", "prompt", "'nope' is not a prompt of this menu")
    assert_issue(doc, "intake", "ai_schema", "'nope' is not a schema of this menu")


def test_audio_prompt_needs_exactly_one_source():
    doc = classic()
    doc["prompts"]["beep"] = {
        "kind": "audio",
        "audio_url": "https://example.com/a.mp3",
        "media_name": "beep",
    }
    assert_issue(doc, None, "prompts.beep.audio_url", "exactly one of audio_url and media_name")
    doc["prompts"]["beep"]["media_name"] = None
    assert_valid(doc)


def test_ai_schema_must_be_a_valid_json_schema():
    doc = ai()
    doc["ai_schemas"]["caller_details"]["schema"]["properties"]["age"]["type"] = "int"
    assert_issue(doc, None, "ai_schemas.caller_details.schema", "'int' is not one of")


def test_save_as_on_a_node_that_gathers_nothing_fails():
    doc = classic()
    doc["nodes"]["goodbye"]["save_as"] = "bye"
    assert_issue(doc, "goodbye", "save_as", "gathers nothing to save")


def test_schema_errors_are_reported_at_node_and_field():
    doc = classic()
    doc["nodes"]["main"]["digits"]["maximum_digits"] = 200
    assert issue_texts(doc) == [
        "node 'main', field 'digits.maximum_digits': 200 is greater than the maximum of 128"
    ]


def test_digit_defaults_are_the_apis():
    assert DIGIT_DEFAULTS == {
        "minimum_digits": 1,
        "maximum_digits": 128,
        "valid_digits": "0123456789#*",
        "terminating_digit": "#",
        "timeout_millis": 60000,
        "inter_digit_timeout_millis": 5000,
        "initial_timeout_millis": None,
        "maximum_tries": 3,
    }


# --- two active menus claiming the same number ---------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("numbers", ["+15550100200"], "+15550100200 is also claimed"),
        ("connection_ids", ["conn-1"], "connection conn-1 is also claimed"),
        ("is_default", True, "is already the default"),
    ],
)
def test_two_active_menus_claiming_the_same_call_fail(field, value, fragment):
    first = apply_definition(ai())
    second_doc = copy.deepcopy(classic())
    second_doc["menu"]["is_default"] = False
    second = apply_definition(second_doc)
    for menu in (first, second):
        setattr(menu, field, value)
        menu.is_active = True
        menu.save()
    issues = validate_menu(second)
    assert [i.field for i in issues] == [f"menu.{field}"]
    assert fragment in issues[0].message
    # Passing: the other menu is inactive, or claims something else.
    Menu.objects.filter(pk=first.pk).update(is_active=False)
    assert validate_menu(second) == []
