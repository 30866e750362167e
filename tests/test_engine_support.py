"""Menus and a small call driver shared by the engine tests (tests/test_engine_*.py).

The menus are plain definition dicts in the format of docs/menu-format.md. ``CallDriver``
feeds events to ``decide`` the way the runner will: one at a time, each echoing the
``client_state`` of the command that caused it (unless a test says otherwise).
"""

import copy
import itertools
from datetime import UTC, datetime, timedelta

from telnyx_ivr.engine import CallState, EventFacts, decide
from telnyx_ivr.telnyx import client_state as client_state_codec

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
CALL_ID = "v3:call-control-id-1"
CALLER = "+15551230000"
CALLED = "+15559870000"

DIGITS = {
    "minimum_digits": 1,
    "maximum_digits": 1,
    "valid_digits": "0123456789*",
    "terminating_digit": "#",
    "timeout_millis": 8000,
    "inter_digit_timeout_millis": 3000,
    "initial_timeout_millis": None,
    "maximum_tries": 3,
}

_ids = itertools.count(1)


def tts(text, payload_type="text", **extra):
    prompt = {
        "kind": "tts",
        "text": text,
        "payload_type": payload_type,
        "voice": None,
        "language": None,
        "voice_settings": None,
    }
    prompt.update(extra)
    return prompt


def audio(url=None, media_name=None):
    return {"kind": "audio", "audio_url": url, "media_name": media_name}


def node(kind, routes=(), save_as=None, **fields):
    return {"kind": kind, "name": kind, "routes": list(routes), "save_as": save_as, **fields}


def to(node_key, when="default", **extra):
    return {"when": when, "target": "node", "node": node_key, **extra}


def menu(nodes, prompts=None, ai_schemas=None, entry="main", **menu_fields):
    """A definition with the given nodes; menu-level TTS defaults as in the doc."""
    return {
        "format": "telnyx-ivr-menu",
        "format_version": 1,
        "menu": {
            "slug": "test",
            "name": "Test",
            "description": "",
            "numbers": [CALLED],
            "connection_ids": [],
            "is_default": False,
            "voice": "AWS.Polly.Joanna",
            "language": "en-US",
            "service_level": "premium",
            "entry_node": entry,
            **menu_fields,
        },
        "prompts": prompts or {},
        "ai_schemas": ai_schemas or {},
        "nodes": nodes,
    }


AI_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "The caller's name"},
        "age": {"type": "integer", "description": "The caller's age"},
        "city": {"type": "string", "description": "Where the caller lives"},
    },
    "required": ["name", "age", "city"],
}


def classic_menu():
    """The classic tree: 1 sales, 2 support (submenu), 0 operator, 9 repeat, * back;
    invalid/no-input prompts with 3 tries; transfers; goodbye; an AI gather for
    name/age/city with a DTMF fallback when it ends invalid."""
    return menu(
        prompts={
            "welcome": tts(
                "Hello {{ caller_number }}. Press 1 for sales, 2 for support, "
                "0 for an operator, 9 to hear this again."
            ),
            "support_menu": tts(
                "<speak>Support. Press 1 for opening hours, 2 to leave your details, "
                "star to go back.</speak>",
                payload_type="ssml",
                voice="Telnyx.KokoroTTS.af",
            ),
            "invalid": tts("Sorry, that is not a valid choice."),
            "no_input": tts("Sorry, we did not hear anything."),
            "hours": audio(url="https://example.com/hours.mp3"),
            "goodbye": tts("Goodbye."),
            "thanks": tts("Thank you {{ details.name }} from {{ details.city }}."),
            "age_prompt_retry": audio(media_name="enter-age-again"),
        },
        ai_schemas={"caller_details": {"description": "Caller details", "schema": AI_SCHEMA}},
        nodes={
            "main": node(
                "speak_menu",
                prompt="welcome",
                invalid_prompt="invalid",
                no_input_prompt="no_input",
                digits=DIGITS,
                save_as="main_choice",
                routes=[
                    to("sales", "digits", digits="1"),
                    to("support", "digits", digits="2"),
                    to("operator", "digits", digits="0"),
                    {"when": "digits", "digits": "9", "target": "repeat"},
                    {"when": "digits", "digits": "*", "target": "back"},
                    to("goodbye", "invalid"),
                    to("goodbye", "no_input"),
                    {"when": "default", "target": "repeat"},
                ],
            ),
            "support": node(
                "speak_menu",
                prompt="support_menu",
                invalid_prompt="invalid",
                no_input_prompt=None,
                digits=DIGITS,
                routes=[
                    to("hours", "digits", digits="1"),
                    to("details", "digits", digits="2"),
                    {"when": "digits", "digits": "*", "target": "back"},
                    {"when": "digits", "digits": "9", "target": "repeat"},
                    to("goodbye", "invalid"),
                    to("goodbye", "no_input"),
                    {"when": "default", "target": "back"},
                ],
            ),
            "hours": node(
                "announcement",
                prompt="hours",
                routes=[to("goodbye", "error"), {"when": "default", "target": "back"}],
            ),
            "details": node(
                "ai_gather",
                ai_schema="caller_details",
                greeting="Hi {{ caller_number }}, what is your name, age and city?",
                assistant=None,
                voice="Telnyx.KokoroTTS.af",
                voice_settings=None,
                language=None,
                transcription=None,
                interruption_settings=None,
                user_response_timeout_ms=15000,
                send_partial_results=True,
                send_message_history_updates=True,
                message_history=None,
                gather_ended_speech="Thanks!",
                save_as="details",
                routes=[
                    {
                        "when": "valid",
                        "conditions": [{"field": "city", "op": "one_of", "value": ["Paris"]}],
                        "target": "node",
                        "node": "sales",
                    },
                    to("thanks", "valid"),
                    to("age_dtmf", "invalid"),
                    to("goodbye"),
                ],
            ),
            "age_dtmf": node(
                "gather",
                invalid_prompt="age_prompt_retry",
                no_input_prompt="no_input",
                digits={**DIGITS, "maximum_digits": 3, "initial_timeout_millis": 4000},
                save_as="age",
                routes=[to("goodbye", "invalid"), to("goodbye", "no_input"), to("thanks")],
            ),
            "sales": node("transfer", to="+15550001111", **{"from": None}, timeout_secs=None),
            "operator": node(
                "transfer", to="sip:operator@example.com", **{"from": CALLED}, timeout_secs=30
            ),
            "goodbye": node("hangup", prompt="goodbye"),
            "thanks": node("hangup", prompt="thanks"),
        },
    )


def facts(event_type, payload=None, *, cs=None, event_id=None, at=None):
    """An ``EventFacts`` as the runner builds it (payload carries the call ids)."""
    body = {"call_control_id": CALL_ID, "call_session_id": "sess-1", "call_leg_id": "leg-1"}
    body.update(payload or {})
    return EventFacts(
        event_id=event_id or f"evt-{next(_ids)}",
        event_type=event_type,
        occurred_at=at,
        payload=body,
        client_state=cs,
    )


def cs_of(command):
    """The decoded ``client_state`` of a command."""
    return client_state_codec.decode(command.params["client_state"])


def without_cs(params):
    """Command params without ``client_state`` (asserted separately)."""
    return {k: v for k, v in params.items() if k != "client_state"}


class CallDriver:
    """Feeds events to ``decide`` in order, keeping the state between them."""

    def __init__(self, definition, *, resolve_callable=None, clock=NOW, context=None):
        self.menu = definition
        self.resolve_callable = resolve_callable
        self.context = context
        self.state = None
        self.last_cs = None
        self.events = []
        self.decisions = []
        self.clock = clock

    def feed(self, event_type, payload=None, *, cs="last", event_id=None, menu="same"):
        """Apply one event. ``cs="last"`` echoes the client_state of the last command sent."""
        self.clock += timedelta(seconds=1)
        client_state = copy.deepcopy(self.last_cs) if cs == "last" else cs
        event = facts(event_type, payload, cs=client_state, event_id=event_id, at=self.clock)
        return self.apply(event, menu=menu)

    def apply(self, event, *, menu="same"):
        definition = self.menu if menu == "same" else menu
        decision = decide(
            self.state,
            definition,
            event,
            resolve_callable=self.resolve_callable,
            now=self.clock,
            context=self.context,
        )
        self.state = decision.state
        self.events.append(event)
        if decision.commands:
            self.last_cs = cs_of(decision.commands[-1])
        self.decisions.append(decision)
        return decision

    def start(self):
        """call.initiated (incoming) then call.answered: returns the answered decision."""
        self.feed("call.initiated", {"direction": "incoming", "from": CALLER, "to": CALLED})
        return self.feed("call.answered")

    def gather_ended(self, status, digits=""):
        return self.feed("call.gather.ended", {"status": status, "digits": digits})

    def only_command(self, decision):
        assert len(decision.commands) == 1, decision.commands
        return decision.commands[0]


def test_classic_menu_follows_the_contract():
    """Every node but transfer/hangup has a default route; every node/prompt key exists."""
    definition = classic_menu()
    nodes, prompts = definition["nodes"], definition["prompts"]
    for key, spec in nodes.items():
        whens = [route["when"] for route in spec["routes"]]
        if spec["kind"] not in ("transfer", "hangup"):
            assert "default" in whens, key
        for route in spec["routes"]:
            if route["target"] == "node":
                assert route["node"] in nodes, (key, route)
        for field in ("prompt", "invalid_prompt", "no_input_prompt"):
            if spec.get(field):
                assert spec[field] in prompts, (key, field)


def test_driver_starts_with_no_state():
    driver = CallDriver(classic_menu())
    assert driver.state is None
    decision = driver.start()
    assert isinstance(driver.state, CallState)
    assert decision.state is driver.state
