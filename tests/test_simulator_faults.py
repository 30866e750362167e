# ruff: noqa: F811 -- pytest fixtures imported from test_simulator_support are redefined as arguments
"""Faults on demand (duplicate, reorder, delay webhooks; fail a command with 500 or 429) and
Telnyx's retries of webhooks the app does not take."""

import time

import pytest
import requests

from telnyx_ivr.simulator import Press, TelnyxSimulator

from .test_simulator_support import (  # noqa: F401
    Api,
    answered_call,
    answering_app,
    api,
    receiver,
    sim,
)


def test_duplicate_webhook_keeps_its_id_with_attempt_2(sim, api, receiver):
    sim.faults.duplicate_webhook("call.answered")
    call = sim.start_call()
    api.post(call, "answer")
    sim.wait_idle()
    answered = [b for b in receiver.bodies(call) if b["data"]["event_type"] == "call.answered"]
    assert len(answered) == 2
    assert answered[0]["data"]["id"] == answered[1]["data"]["id"]
    assert [b["meta"]["attempt"] for b in answered] == [1, 2]
    assert all(d["verified"] for d in receiver.deliveries)
    assert [w.fault for w in call.webhooks if w.event_type == "call.answered"] == [
        None,
        "duplicate call.answered",
    ]
    assert sim.faults.pending() == []


def test_duplicate_webhook_with_copies_delivers_it_that_many_more_times(sim, api, receiver):
    sim.faults.duplicate_webhook("call.answered", copies=3)
    call = sim.start_call()
    api.post(call, "answer")
    sim.wait_idle()
    answered = [b for b in receiver.bodies(call) if b["data"]["event_type"] == "call.answered"]
    assert len({b["data"]["id"] for b in answered}) == 1
    assert [b["meta"]["attempt"] for b in answered] == [1, 2, 3, 4]
    assert [w.fault for w in call.webhooks if w.event_type == "call.answered"][1:] == [
        "duplicate call.answered x4"
    ] * 3
    assert all(w.answer_seconds is not None for w in call.webhooks)


def test_refusing_commands_at_random_refuses_about_the_share_asked(sim, api, receiver):
    sim.faults.fail_commands_at_random(0.5, ways=("500", "429"), seed=7)
    call = sim.start_call()
    statuses = [api.post(call, "answer").status_code for _ in range(200)]
    refused = [s for s in statuses if s != 200]
    assert 70 < len(refused) < 130, len(refused)
    assert set(refused) == {500, 429}
    sim.faults.fail_commands_at_random(0)
    assert api.post(call, "answer").status_code == 200


def test_a_command_refused_with_no_answer_is_acted_on_and_its_retry_is_a_repeat(sim, api, receiver):
    sim.faults.fail_commands_at_random(1, ways=("no answer",), hold_seconds=0.3)
    call = sim.start_call()
    began = time.monotonic()
    with pytest.raises(requests.ConnectionError):
        api.post(call, "answer", command_id="c-lost")
    assert time.monotonic() - began >= 0.3
    sim.faults.clear()
    assert api.post(call, "answer", command_id="c-lost").status_code == 200
    sim.wait_idle()
    assert receiver.events(call) == ["call.initiated", "call.answered"]
    assert [(c.status, c.fault, c.duplicate) for c in call.commands] == [
        (200, "no answer", False),
        (200, None, True),
    ]


def test_refusing_at_random_checks_its_arguments():
    faults = TelnyxSimulator().faults
    with pytest.raises(ValueError, match="between 0 and 1"):
        faults.fail_commands_at_random(1.5)
    with pytest.raises(ValueError, match="ways must be among"):
        faults.fail_commands_at_random(0.2, ways=("404",))
    with pytest.raises(ValueError, match="copies must be at least 1"):
        faults.duplicate_webhook("*", copies=0)


def test_reorder_delivers_a_webhook_after_the_next_one(sim, api, receiver):
    sim.faults.reorder_webhook("call.dtmf.received")
    call = answered_call(sim, api, receiver, script=[Press("12")])
    api.post(call, "gather", maximum_digits=2)
    sim.wait_idle()
    bodies = receiver.bodies(call)[2:]
    assert [(b["data"]["event_type"], b["data"]["payload"].get("digit")) for b in bodies] == [
        ("call.dtmf.received", "2"),
        ("call.dtmf.received", "1"),
        ("call.gather.ended", None),
    ]
    assert any(e["kind"] == "fault" and "reorder" in e["text"] for e in call.transcript)


def test_reorder_of_the_last_webhook_still_delivers_it(receiver):
    with TelnyxSimulator(webhook_url=receiver.url) as simulator:
        simulator._delivery.reorder_wait = 0.2
        receiver.public_key = simulator.public_key
        simulator.faults.reorder_webhook("call.initiated")
        call = simulator.start_call()
        simulator.wait_idle(3)
        assert receiver.events(call) == ["call.initiated"]


def test_delay_holds_a_webhook_and_keeps_the_order(sim, api, receiver):
    sim.faults.delay_webhook("call.answered", 0.4)
    call = sim.start_call()
    sim.wait_idle()
    started = time.monotonic()
    api.post(call, "answer")
    api.post(call, "speak", payload="Hi", voice="female")
    sim.wait_idle()
    assert time.monotonic() - started >= 0.4
    assert receiver.events(call) == [
        "call.initiated",
        "call.answered",
        "call.speak.started",
        "call.speak.ended",
    ]


def test_fail_command_500_once_then_the_retry_with_the_same_command_id_works(sim, api, receiver):
    sim.faults.fail_command("answer", 500)
    call = sim.start_call()
    first = api.post(call, "answer", command_id="c-1")
    assert first.status_code == 500
    assert first.json()["errors"][0]["code"] == "10007"
    sim.wait_idle()
    assert receiver.events(call) == ["call.initiated"]
    second = api.post(call, "answer", command_id="c-1")
    assert second.json() == {"data": {"result": "ok"}}
    third = api.post(call, "answer", command_id="c-1")
    assert third.status_code == 200
    sim.wait_idle()
    assert receiver.events(call) == ["call.initiated", "call.answered"]
    assert [(c.status, c.fault, c.duplicate) for c in call.commands] == [
        (500, "fail answer with 500", False),
        (200, None, False),
        (200, None, True),
    ]


def test_fail_command_429_carries_rate_limit_headers(sim, api, receiver):
    sim.faults.fail_command("gather_using_speak", 429, reset_seconds=2)
    call = answered_call(sim, api, receiver, script=[Press("1")])
    response = api.post(call, "gather_using_speak", payload="Menu", voice="female")
    assert response.status_code == 429
    assert response.json()["errors"][0]["code"] == "10011"
    assert response.headers["x-ratelimit-reset"] == "2"
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert "x-ratelimit-limit" in response.headers
    # Nothing was acted on: the script step is still there for the retry.
    assert [s.describe() for s in call.caller.remaining_steps] == ['press "1"']
    assert api.post(call, "gather_using_speak", payload="Menu", voice="female").status_code == 200
    sim.wait_idle()
    assert receiver.events(call)[-1] == "call.gather.ended"


def test_fault_only_for_the_given_call(sim, api, receiver):
    first, second = sim.start_call(), sim.start_call()
    sim.faults.fail_command("answer", 503, call=second)
    assert api.post(first, "answer").status_code == 200
    assert api.post(second, "answer").status_code == 503


def test_fail_command_rejects_unsupported_statuses():
    with pytest.raises(ValueError, match="429 and 5xx"):
        TelnyxSimulator().faults.fail_command("answer", 404)


def test_webhook_the_app_answers_500_is_retried_with_the_same_id(sim, receiver):
    failures = {"left": 1}

    def respond(body):
        if body["data"]["event_type"] == "call.initiated" and failures["left"]:
            failures["left"] -= 1
            return 500
        return 200

    receiver.respond = respond
    call = sim.start_call()
    sim.wait_idle()
    bodies = receiver.bodies(call)
    assert [b["meta"]["attempt"] for b in bodies] == [1, 2]
    assert bodies[0]["data"]["id"] == bodies[1]["data"]["id"]
    assert [w.status for w in call.webhooks] == [500, 200]


def test_webhook_the_app_rejects_with_400_is_not_retried(sim, receiver):
    receiver.respond = lambda body: 400
    call = sim.start_call()
    sim.wait_idle()
    assert len(receiver.bodies(call)) == 1
    assert call.webhooks[0].status == 400


def test_webhook_retries_stop_after_max_attempts(sim, receiver):
    receiver.respond = lambda body: 503
    call = sim.start_call()
    sim.wait_idle()
    assert [b["meta"]["attempt"] for b in receiver.bodies(call)] == [1, 2, 3]


def test_no_webhook_url_records_the_failure(receiver):
    with TelnyxSimulator() as simulator:
        call = simulator.start_call()
        simulator.wait_idle(3)
        (record,) = call.webhooks
        assert record.status is None
        assert record.error == "no webhook URL is configured"


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_the_apps_answer_and_is_never_followed(receiver, answering_app, status):
    # Telnyx does not follow a webhook's redirect, so neither does the simulator: here the
    # redirect points at a working app, which must never see the webhook.
    redirector = answering_app(status, headers={"Location": receiver.url})
    with TelnyxSimulator(webhook_url=redirector.url) as simulator:
        receiver.public_key = simulator.public_key
        call = simulator.start_call()
        simulator.wait_idle(5)
    (record,) = call.webhooks
    assert (record.status, record.location) == (status, receiver.url)
    assert receiver.deliveries == []
    assert f"call.initiated -> {status} (redirect to {receiver.url}, not followed)" in (
        call.transcript_text()
    )


def test_a_refusal_records_what_its_body_says(answering_app):
    app = answering_app(400, {"error": "malformed_event", "detail": "data.payload is missing"})
    with TelnyxSimulator(webhook_url=app.url) as simulator:
        call = simulator.start_call()
        simulator.wait_idle(5)
    (record,) = call.webhooks
    assert record.answer == "malformed_event: data.payload is missing"
    (entry,) = [e for e in call.transcript if e["kind"] == "webhook"]
    assert entry["answer"] == record.answer
    assert entry["text"] == "call.initiated -> 400 (malformed_event: data.payload is missing)"
