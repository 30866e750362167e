"""The decision core on the shipped example menus (telnyx_ivr/examples/*.json) and the test
fixture checked against the menu validator, so the engine and the menu contract agree."""

import json
from datetime import UTC, datetime
from pathlib import Path

import telnyx_ivr
from telnyx_ivr.menus.validation import validate_definition

from .test_engine_support import CALLER, CallDriver, classic_menu, cs_of, without_cs

EXAMPLES = Path(telnyx_ivr.__file__).parent / "examples"
DIGIT_PARAMS = {
    "minimum_digits": 1,
    "maximum_digits": 1,
    "terminating_digit": "#",
    "timeout_millis": 10000,
    "inter_digit_timeout_millis": 5000,
    "maximum_tries": 1,
}


def example(name):
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def test_the_test_fixture_menu_is_a_valid_definition():
    assert [str(issue) for issue in validate_definition(classic_menu())] == []


def test_classic_tree_example_support_then_back_then_operator():
    # A Tuesday at 10:00 in New York: the office is open, so 0 reaches the operator.
    driver = CallDriver(example("classic_tree"), clock=datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    main = driver.only_command(driver.start())
    assert main.action == "gather_using_speak"
    assert without_cs(main.params) == {
        "payload": "Thank you for calling. Press 1 for sales, 2 for support, or 0 for an "
        "operator. Press 9 to hear these options again.",
        "payload_type": "text",
        "voice": "female",
        "language": "en-US",
        "service_level": "premium",
        "valid_digits": "0129",
        **DIGIT_PARAMS,
    }
    support = driver.only_command(driver.gather_ended("valid", "2"))
    assert support.params["valid_digits"] == "129*"
    assert cs_of(support)["n"] == "support"
    retry = driver.only_command(driver.gather_ended("timeout"))
    assert retry.params["payload"] == (
        "Sorry, I did not hear a choice. Support. Press 1 for billing or 2 for technical "
        "support. Press 9 to hear these options again, or star to go back."
    )
    back = driver.only_command(driver.gather_ended("valid", "*"))
    assert without_cs(back.params) == without_cs(main.params)
    transfer = driver.only_command(driver.gather_ended("valid", "0"))
    assert (transfer.action, without_cs(transfer.params)) == (
        "transfer",
        {"to": "+15550100000", "timeout_secs": 30},
    )
    assert driver.state.variables["main_choice"] == "0"
    assert driver.state.variables["support_choice"] == "*"


def test_classic_tree_example_three_invalid_tries_say_goodbye_and_hang_up():
    driver = CallDriver(example("classic_tree"))
    driver.start()
    driver.gather_ended("invalid", "5")
    driver.gather_ended("invalid", "5")
    goodbye = driver.only_command(driver.gather_ended("invalid", "5"))
    assert goodbye.action == "speak"
    assert goodbye.params["payload"] == (
        "We could not get your choice. Thank you for calling, goodbye."
    )
    hangup = driver.only_command(driver.feed("call.speak.ended", {"status": "completed"}))
    assert hangup.action == "hangup"


def test_ai_intake_example_routes_on_the_city():
    driver = CallDriver(example("ai_intake"))
    intake = driver.only_command(driver.start())
    definition = example("ai_intake")
    assert intake.action == "gather_using_ai"
    assert without_cs(intake.params) == {
        "parameters": definition["ai_schemas"]["caller_details"]["schema"],
        "assistant": definition["nodes"]["intake"]["assistant"],
        "greeting": "Hello! Can you tell me your name, your age and the city you live in?",
        "gather_ended_speech": "Thank you for providing the information.",
        "interruption_settings": {"enable": True},
        "language": "en",
        "send_message_history_updates": False,
        "send_partial_results": False,
        "transcription": {"model": "distil-whisper/distil-large-v2"},
        "user_response_timeout_ms": 10000,
        "voice": "Telnyx.KokoroTTS.af",
    }
    assert_ada_reaches_chicago(driver)


def assert_ada_reaches_chicago(driver):
    """After the AI intake's question: Ada from Chicago is thanked and sent to that office."""
    result = {"name": "Ada", "age": 36, "city": "Chicago"}
    local = driver.only_command(
        driver.feed("call.ai_gather.ended", {"status": "valid", "result": result})
    )
    assert local.params["payload"] == "Thanks, Ada. Connecting you to our Chicago office."
    transfer = driver.only_command(driver.feed("call.speak.ended", {"status": "completed"}))
    assert without_cs(transfer.params) == {"to": "+15550100201", "timeout_secs": 30}


def test_ai_intake_example_thanks_other_cities_and_falls_back_to_dtmf():
    driver = CallDriver(example("ai_intake"))
    driver.start()
    result = {"name": "Bo", "age": 41, "city": "Lyon"}
    thanks = driver.only_command(
        driver.feed("call.ai_gather.ended", {"status": "valid", "result": result})
    )
    assert thanks.params["payload"] == (
        f"Thank you, Bo. We have noted that you are 41 and live in Lyon. Someone will call "
        f"you back on {CALLER}."
    )

    driver = CallDriver(example("ai_intake"))
    driver.start()
    fallback = driver.only_command(
        driver.feed("call.ai_gather.ended", {"status": "invalid", "result": {}})
    )
    assert fallback.action == "gather_using_speak"
    assert fallback.params["valid_digits"] == "12"
    again = driver.only_command(driver.gather_ended("valid", "2"))
    assert again.action == "gather_using_ai"
    assert driver.state.back_stack == ["fallback"]
