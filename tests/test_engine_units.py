"""The engine's building blocks: state serialisation, prompt rendering, route matching."""

import json
from datetime import UTC, datetime

import pytest

from telnyx_ivr.engine import CallState, MenuError, render_text
from telnyx_ivr.engine.render import announce_command, gather_command, get_prompt
from telnyx_ivr.engine.routing import conditions_hold, find_route, lookup

from .test_engine_support import audio, menu, node, tts

# --- CallState ------------------------------------------------------------------------------


def test_call_state_round_trips_through_json():
    state = CallState(
        status="active",
        call_control_id="v3:x",
        node="main",
        phase="gather",
        awaiting="call.gather.ended",
        step_open=True,
        step=4,
        visit_step=3,
        tries=2,
        back_stack=["a", "b"],
        variables={"caller_number": "+1", "details": {"age": 3, "tags": ["x"]}},
        ai_partial_results={"name": "Ada"},
        ai_message_history=[{"role": "user", "content": "hi"}],
        conversation_id="conv",
        answered=True,
        started_at=datetime(2025, 1, 1, 10, 0, tzinfo=UTC),
        answered_at=datetime(2025, 1, 1, 10, 0, 1, 500, tzinfo=UTC),
        seen_event_ids=["e1"],
    )
    text = json.dumps(state.to_dict())
    assert CallState.from_dict(json.loads(text)) == state
    assert json.loads(text)["started_at"] == "2025-01-01T10:00:00+00:00"


def test_call_state_from_dict_tolerates_old_and_unknown_keys():
    state = CallState.from_dict({"status": "active", "retired_field": 1})
    assert state.status == "active"
    assert state.step == 0
    assert state.variables == {}
    assert CallState.from_dict(None) == CallState()


def test_to_dict_copies_so_callers_cannot_change_the_state():
    state = CallState(variables={"a": {"b": 1}})
    state.to_dict()["variables"]["a"]["b"] = 2
    assert state.variables == {"a": {"b": 1}}


# --- rendering ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "variables", "ssml", "expected"),
    [
        ("Hi {{ name }}", {"name": "Tom & Jerry"}, False, "Hi Tom & Jerry"),
        (
            "<speak>Hi {{ name }}</speak>",
            {"name": "Tom & <Jerry>"},
            True,
            "<speak>Hi Tom &amp; &lt;Jerry&gt;</speak>",
        ),
        ("Hi {{ missing }}!", {}, False, "Hi !"),
        (
            "You live in {{ details.city }}",
            {"details": {"city": "Rome"}},
            False,
            "You live in Rome",
        ),
        (
            "{% if vip %}Welcome back{% else %}Hello{% endif %}",
            {"vip": True},
            False,
            "Welcome back",
        ),
        ("Broken {% nonsense %}", {}, False, "Broken {% nonsense %}"),
        ("", {"a": 1}, False, ""),
    ],
)
def test_render_text(text, variables, ssml, expected):
    assert render_text(text, variables, ssml=ssml) == expected


def test_get_prompt_checks_presence_and_kind():
    definition = menu({}, prompts={"a": audio(url="https://x/a.mp3")})
    assert get_prompt(definition, "a")["kind"] == "audio"
    with pytest.raises(MenuError, match="prompt 'nope' is not in the menu"):
        get_prompt(definition, "nope")
    with pytest.raises(MenuError, match="prompt 'a' is a 'audio' prompt, not 'tts'"):
        get_prompt(definition, "a", "tts")


def test_audio_prompt_without_source_is_a_menu_error():
    definition = menu({}, prompts={"a": audio()})
    with pytest.raises(MenuError, match="neither audio_url nor media_name"):
        announce_command(definition, "a", {})


def test_speak_menu_joins_two_ssml_prompts_into_one_speak_element():
    definition = menu(
        {"m": node("speak_menu", prompt="menu", digits={})},
        prompts={
            "menu": tts("<speak version='1.0'>Press 1.</speak>", payload_type="ssml"),
            "bad": tts("<speak>Oops.</speak>\n", payload_type="ssml"),
        },
    )
    action, params = gather_command(
        definition, definition["nodes"]["m"], {}, retry_prompt_key="bad"
    )
    assert action == "gather_using_speak"
    assert params["payload"] == "<speak>Oops. Press 1.</speak>"
    assert params["payload_type"] == "ssml"


def test_speak_menu_ssml_retry_before_text_prompt_escapes_the_text():
    definition = menu(
        {"m": node("speak_menu", prompt="menu", digits={})},
        prompts={
            "menu": tts("Press 1 for R&D."),
            "bad": tts("<speak><emphasis>No.</emphasis></speak>", payload_type="ssml"),
        },
    )
    _, params = gather_command(definition, definition["nodes"]["m"], {}, retry_prompt_key="bad")
    assert params["payload"] == "<speak><emphasis>No.</emphasis> Press 1 for R&amp;D.</speak>"


def test_gather_command_refuses_non_dtmf_nodes():
    with pytest.raises(MenuError, match="does not gather digits"):
        gather_command(menu({}), node("announcement"), {})


# --- routing --------------------------------------------------------------------------------

RESULT = {"age": 18, "city": "Paris", "adult": True, "contact": {"email": "a@b.c"}, "tags": ["x"]}


@pytest.mark.parametrize(
    ("conditions", "holds"),
    [
        ([], True),
        ([{"field": "age", "op": "equals", "value": 18}], True),
        ([{"field": "age", "op": "equals", "value": "18"}], False),
        ([{"field": "city", "op": "one_of", "value": ["Paris", "Rome"]}], True),
        ([{"field": "city", "op": "one_of", "value": ["Rome"]}], False),
        ([{"field": "city", "op": "one_of", "value": "Paris"}], False),
        ([{"field": "contact.email", "op": "equals", "value": "a@b.c"}], True),
        ([{"field": "tags.0", "op": "equals", "value": "x"}], True),
        ([{"field": "tags.5", "op": "equals", "value": "x"}], False),
        ([{"field": "missing", "op": "equals", "value": None}], False),
        ([{"field": "adult", "op": "equals", "value": 1}], False),
        ([{"field": "adult", "op": "equals", "value": True}], True),
        ([{"field": "age", "op": "bigger_than", "value": 1}], False),
        (
            [
                {"field": "age", "op": "equals", "value": 18},
                {"field": "city", "op": "one_of", "value": ["Paris"]},
            ],
            True,
        ),
        (
            [
                {"field": "age", "op": "equals", "value": 18},
                {"field": "city", "op": "one_of", "value": ["Rome"]},
            ],
            False,
        ),
    ],
)
def test_conditions(conditions, holds):
    assert conditions_hold(conditions, RESULT) is holds


def test_conditions_on_a_result_that_is_not_an_object_fail():
    assert conditions_hold([{"field": "age", "op": "equals", "value": 1}], None) is False
    assert conditions_hold([], None) is True


def test_first_matching_route_wins():
    spec = node(
        "ai_gather",
        routes=[
            {
                "when": "valid",
                "conditions": [{"field": "age", "op": "equals", "value": 1}],
                "target": "node",
                "node": "one",
            },
            {"when": "valid", "target": "node", "node": "any"},
            {"when": "valid", "target": "node", "node": "never"},
            {"when": "digits", "digits": "1", "target": "node", "node": "d1"},
            {"when": "digits", "digits": "12", "target": "node", "node": "d12"},
        ],
    )
    assert find_route(spec, "valid", result={"age": 1})["node"] == "one"
    assert find_route(spec, "valid", result={"age": 2})["node"] == "any"
    assert find_route(spec, "digits", digits="12")["node"] == "d12"
    assert find_route(spec, "digits", digits="2") is None
    assert find_route(spec, "default") is None


def test_lookup_walks_dotted_paths():
    assert lookup(RESULT, "contact.email") == "a@b.c"
    assert lookup({"a": {"b": None}}, "a.b") is None
