"""Commands that fail for good, through the runner and a loopback Telnyx API: the exact
commands sent, their ids, what is stored and what the call's page shows. The decisions
themselves are tested purely in tests/test_engine_command_failure.py."""

import json

import pytest

from telnyx_ivr.calls.runner import (
    RetryLater,
    fallback_command_id,
    process_stored_event,
    send_pending_commands,
)
from telnyx_ivr.calls.timeline import call_timeline
from telnyx_ivr.menus.io import import_definition
from telnyx_ivr.models import Call, CallStep, Command, WebhookEvent

from .call_fixtures import EXAMPLES

pytestmark = pytest.mark.django_db

APOLOGY = "Sorry, we are having technical trouble. Please call again later."
RATE_LIMITED = {"errors": [{"code": "10011", "title": "Too many requests"}]}
DOWN = {"errors": [{"code": "10007", "title": "Unexpected error"}]}


def classic_with(**changes):
    """The classic example menu, changed by ``changes(document)`` callables, published."""
    document = json.loads((EXAMPLES / "classic_tree.json").read_text())
    for change in changes.values():
        change(document)
    return import_definition(document, publish=True).menu


def answered(caller, api):
    """Deliver call.initiated (answered by the stub) and call.answered, not yet processed."""
    caller.deliver("call.initiated", direction="incoming")
    return caller.reply_to(api.requests[-1].json, "call.answered", process=False)


def through_the_queue(first, call_pk):
    """Run ``first``, then resend the call's commands whenever it asks to be retried, as the
    queue would (without waiting). Returns the countdowns asked for."""
    countdowns = []
    try:
        first()
        return countdowns
    except RetryLater as later:
        countdowns.append(later.countdown)
    while True:
        try:
            send_pending_commands(call_pk)
            return countdowns
        except RetryLater as later:
            countdowns.append(later.countdown)


def sent(api):
    return [request.action for request in api.requests]


def test_three_429s_then_the_apology_and_a_hangup(api, classic, caller):
    for _ in range(3):
        api.enqueue(
            status=429, action="gather_using_speak", body=RATE_LIMITED, headers={"Retry-After": "1"}
        )
    event = answered(caller, api)
    call = Call.objects.get()

    assert through_the_queue(lambda: process_stored_event(event.pk), call.pk) == [1.0, 1.0]

    assert sent(api) == ["answer", *["gather_using_speak"] * 3, "speak"]
    gather = Command.objects.get(action="gather_using_speak")
    assert {r.json["command_id"] for r in api.requests_for("gather_using_speak")} == {
        gather.command_id
    }
    assert (gather.status, gather.attempts, gather.http_status, gather.error_code) == (
        "failed",
        3,
        429,
        "10011",
    )
    assert gather.note == (
        "Telnyx refused gather_using_speak after 3 tries: saying sorry, then hanging up"
    )
    speak_request = api.requests[-1].json
    assert speak_request["command_id"] == fallback_command_id(gather.command_id, 0)
    assert (speak_request["payload"], speak_request["voice"]) == (APOLOGY, "female")
    speak = Command.objects.get(action="speak")
    assert (speak.status, speak.event, speak.note) == (
        "sent",
        None,
        "the fallback after gather_using_speak failed",
    )
    call.refresh_from_db()
    assert call.failure.startswith("gather_using_speak failed: ")
    step = CallStep.objects.get(call=call, node_key="main")
    assert (step.outcome, step.exit) == ("error", "error")

    caller.reply_to(speak_request, "call.speak.ended", status="completed")
    assert sent(api)[-1] == "hangup"
    caller.deliver("call.hangup", hangup_cause="normal_clearing", hangup_source="callee")
    call.refresh_from_db()
    assert (call.status, call.outcome, call.outcome_node, call.ended_by) == (
        "ended",
        "failed",
        "main",
        "app",
    )

    # Processing every event again sends nothing and stores nothing new.
    requests, commands = len(api.requests), set(Command.objects.values_list("command_id"))
    WebhookEvent.objects.update(status="pending")
    process_stored_event(event.pk)
    send_pending_commands(call.pk)
    assert len(api.requests) == requests
    assert set(Command.objects.values_list("command_id")) == commands


def test_a_failure_decided_again_sends_the_same_ids(api, classic, caller, ivr_settings_for):
    """A worker that dies after Telnyx took the apology but before its commit leaves the
    gather pending: deciding its failure again yields the apology's same command_id, which
    Telnyx drops as a resend."""
    ivr_settings_for(MAX_RETRIES=1)
    for _ in range(3):
        api.enqueue(status=503, action="gather_using_speak", body=DOWN)
    event = answered(caller, api)
    with pytest.raises(RetryLater) as later:
        process_stored_event(event.pk)
    call = Call.objects.get()
    gather = Command.objects.get(action="gather_using_speak")  # pending after one try
    send_pending_commands(call.pk)  # the second try fails for good: the apology goes out
    first = api.requests_for("speak")[0].json["command_id"]
    # As if that transaction had never committed: the gather pending, no apology stored.
    Command.objects.filter(action="speak").delete()
    Command.objects.filter(pk=gather.pk).update(
        status="pending", attempts=1, note="", params=gather.params
    )
    Call.objects.filter(pk=call.pk).update(state=call.state, failure="")

    send_pending_commands(later.value.call_pk)

    gathers = ["gather_using_speak"] * 2
    assert sent(api) == ["answer", *gathers, "speak", "gather_using_speak", "speak"]
    assert api.requests_for("speak")[1].json["command_id"] == first
    assert Command.objects.filter(action="speak").count() == 1


NO_ANSWER = {"delay": 0.8}  # longer than READ_TIMEOUT (0.5 s): the client stops waiting


@pytest.mark.parametrize(
    ("fault", "note"),
    [
        ({"status": 429, "body": RATE_LIMITED, "headers": {"Retry-After": "1"}}, "refused"),
        ({"status": 500, "body": DOWN}, "refused"),
        ({"status": 502, "body": "<html>Bad gateway</html>"}, "refused"),
        (NO_ANSWER, "did not answer"),
        ({"close": True}, "did not answer"),
    ],
    ids=["429 with Retry-After", "500", "502 from a proxy", "no answer", "connection dropped"],
)
def test_each_retryable_fault_ends_in_the_apology(api, classic, caller, fault, note):
    for _ in range(3):
        api.enqueue(action="gather_using_speak", **fault)
    event = answered(caller, api)

    countdowns = through_the_queue(lambda: process_stored_event(event.pk), Call.objects.get().pk)

    assert len(countdowns) == 2  # MAX_RETRIES: two resends after the first try
    assert sent(api) == ["answer", *["gather_using_speak"] * 3, "speak"]
    assert api.requests[-1].json["payload"] == APOLOGY
    gather = Command.objects.get(action="gather_using_speak")
    assert gather.note == (
        f"Telnyx {note} gather_using_speak after 3 tries: saying sorry, then hanging up"
    )


def test_a_rate_limit_reset_far_off_falls_back_at_once(api, classic, caller):
    api.enqueue(
        status=429,
        action="gather_using_speak",
        body=RATE_LIMITED,
        headers={"x-ratelimit-reset": "30"},
    )
    event = answered(caller, api)

    process_stored_event(event.pk)  # no RetryLater: 30 s is past RETRY_GIVE_UP_SECONDS (5)

    assert sent(api) == ["answer", "gather_using_speak", "speak"]
    assert Command.objects.get(action="gather_using_speak").note == (
        "Telnyx refused gather_using_speak: saying sorry, then hanging up"
    )


@pytest.mark.parametrize("give_up", [60, None])
def test_the_give_up_wait_is_a_setting(api, classic, caller, ivr_settings_for, give_up):
    ivr_settings_for(RETRY_GIVE_UP_SECONDS=give_up)
    api.enqueue(
        status=429,
        action="gather_using_speak",
        body=RATE_LIMITED,
        headers={"x-ratelimit-reset": "30"},
    )
    event = answered(caller, api)

    with pytest.raises(RetryLater) as later:
        process_stored_event(event.pk)

    assert later.value.countdown == 30.0
    assert sent(api) == ["answer", "gather_using_speak"]


def _prompt_language(document):
    document["prompts"]["main_menu"]["language"] = "xx-XX"


def test_a_menu_telnyx_would_refuse_gets_the_apology(api, caller):
    classic_with(bad_prompt=_prompt_language)
    event = answered(caller, api)

    process_stored_event(event.pk)

    assert sent(api) == ["answer", "speak"]  # the gather never left
    gather = Command.objects.get(action="gather_using_speak")
    assert (gather.status, gather.attempts) == ("failed", 0)
    assert gather.note == (
        "gather_using_speak was refused before it was sent: saying sorry, then hanging up"
    )
    assert "language must be one of" in gather.error
    assert Call.objects.get().failure.startswith(
        "gather_using_speak was refused before it was sent"
    )


def test_an_apology_telnyx_would_refuse_too_hangs_up(api, caller):
    def menu_language(document):
        document["menu"]["language"] = "xx-XX"

    classic_with(bad_menu=menu_language)
    event = answered(caller, api)

    process_stored_event(event.pk)

    assert sent(api) == ["answer", "hangup"]
    assert Command.objects.get(action="speak").note == (
        "speak was refused before it was sent: hanging up (the fallback failed too)"
    )


def test_when_everything_fails_the_fallback_stops(api, classic, caller):
    api.enqueue(status=200, action="answer")
    api.set_default(status=500, body=DOWN)
    event = answered(caller, api)

    through_the_queue(lambda: process_stored_event(event.pk), Call.objects.get().pk)

    assert sent(api) == [
        "answer",
        *["gather_using_speak"] * 3,
        *["speak"] * 3,
        *["hangup"] * 3,
    ]
    assert list(Command.objects.order_by("pk").values_list("action", "status")) == [
        ("answer", "sent"),
        ("gather_using_speak", "failed"),
        ("speak", "failed"),
        ("hangup", "failed"),
    ]
    assert "giving up" in Command.objects.get(action="hangup").note
    call = Call.objects.get()
    assert call.failure.startswith("gather_using_speak failed: ")
    send_pending_commands(call.pk)  # nothing is left to send
    assert len(api.requests) == 10


def test_the_fallback_can_transfer_to_a_person(api, caller):
    def transfer_on_failure(document):
        document["menu"]["on_command_failure"] = {
            "prompt": None,
            "text": "One moment, we are putting you through.",
            "then": "transfer",
            "to": "+15550109999",
        }

    classic_with(fallback=transfer_on_failure)
    api.enqueue(status=500, action="gather_using_speak", body=DOWN)
    api.enqueue(status=500, action="gather_using_speak", body=DOWN)
    api.enqueue(status=500, action="gather_using_speak", body=DOWN)
    event = answered(caller, api)
    through_the_queue(lambda: process_stored_event(event.pk), Call.objects.get().pk)
    speak = api.requests[-1].json
    assert speak["payload"] == "One moment, we are putting you through."

    caller.reply_to(speak, "call.speak.ended", status="completed")

    transfer = api.requests[-1]
    assert (transfer.action, transfer.json["to"]) == ("transfer", "+15550109999")
    call = Call.objects.get()
    assert (call.status, call.transferred_to) == ("transferring", "+15550109999")


def test_call_already_ended_needs_no_fallback(api, classic, caller):
    api.enqueue(
        status=422,
        action="gather_using_speak",
        body={"errors": [{"code": "90018", "title": "Call has already ended"}]},
    )
    event = answered(caller, api)

    process_stored_event(event.pk)

    assert sent(api) == ["answer", "gather_using_speak"]
    assert Call.objects.get().status == "ended"
    assert not Command.objects.filter(action__in=["speak", "hangup"]).exists()
    assert Command.objects.get(action="gather_using_speak").note == ""


def test_the_calls_page_shows_what_the_fallback_did(api, classic, caller, admin_client):
    api.enqueue(status=500, action="gather_using_speak", body=DOWN)
    api.enqueue(status=500, action="gather_using_speak", body=DOWN)
    api.enqueue(status=500, action="gather_using_speak", body=DOWN)
    event = answered(caller, api)
    call = Call.objects.get()
    through_the_queue(lambda: process_stored_event(event.pk), call.pk)
    caller.reply_to(api.requests[-1].json, "call.speak.ended", status="completed")

    entries = {entry.title: entry for entry in call_timeline(call) if entry.kind == "command"}
    assert entries["gather_using_speak"].detail == (
        "HTTP 500, 3 attempt(s), error 10007, Telnyx refused gather_using_speak after 3 tries: "
        "saying sorry, then hanging up"
    )
    assert entries["speak"].detail.endswith("the fallback after gather_using_speak failed")
    [speak_ended] = [e for e in call_timeline(call) if e.title == "call.speak.ended"]
    assert "apology said, hanging up" in speak_ended.detail

    page = admin_client.get(f"/admin/telnyx_ivr/call/{call.pk}/change/").content.decode()
    assert "Telnyx refused gather_using_speak after 3 tries: saying sorry, then hanging up" in page
    assert "apology said, hanging up" in page
