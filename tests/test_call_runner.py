"""The engine's database side, one event at a time, against a loopback Telnyx API.

Events go through the real endpoint (signed); the worker's code runs in-process here so each
step can be inspected. tests/test_engine_integration.py runs the same through a real worker.
"""

import json
import logging
import threading
import warnings

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from telnyx_ivr import signals
from telnyx_ivr.calls.runner import (
    RetryLater,
    command_id_for,
    process_stored_event,
    send_pending_commands,
)
from telnyx_ivr.menus.io import import_definition
from telnyx_ivr.models import Call, CallStep, Command, WebhookEvent
from telnyx_ivr.telnyx import client_state

from .call_fixtures import CCID, EXAMPLES, Caller
from .conftest import wait_for
from .docs_examples import blocks
from .services import require_postgres

pytestmark = pytest.mark.django_db


def test_a_call_through_the_classic_menu(api, classic, caller):
    initiated = caller.deliver("call.initiated", direction="incoming", state="parked")
    assert [r.action for r in api.requests] == ["answer"]
    answer = api.requests[0]
    assert answer.path == f"/v2/calls/{CCID}/actions/answer"
    assert answer.json["command_id"] == command_id_for(initiated.event_id, 0)
    call = Call.objects.get()
    assert (call.status, call.menu, call.menu_version) == (
        "answering",
        classic,
        classic.live_version,
    )
    assert (call.from_number, call.to_number, call.direction) == (
        "+15550001111",
        "+15550002222",
        "incoming",
    )

    caller.reply_to(answer.json, "call.answered")
    gather = api.requests[-1]
    assert gather.action == "gather_using_speak"
    assert gather.json["maximum_tries"] == 1
    assert gather.json["valid_digits"] == "0129"
    assert gather.json["voice"] == "female"
    assert "press 1" in gather.json["payload"].lower()
    assert client_state.decode(gather.json["client_state"])["n"] == "main"

    caller.reply_to(gather.json, "call.dtmf.received", digit="1")
    assert len(api.requests) == 2  # a key press is recorded, nothing sent
    caller.reply_to(gather.json, "call.gather.ended", digits="1", status="valid")
    sales = api.requests[-1]
    assert sales.action in {"transfer", "speak", "gather_using_speak"}
    step = CallStep.objects.get(call=call, node_key="main")
    assert (step.outcome, step.digits, step.tries) == ("valid", "1", 1)
    assert step.ended_at is not None

    caller.deliver("call.hangup", hangup_cause="normal_clearing", hangup_source="caller")
    call.refresh_from_db()
    assert (call.status, call.hangup_cause, call.hangup_source) == (
        "ended",
        "normal_clearing",
        "caller",
    )
    assert call.ended_at is not None
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}
    sent = Command.objects.filter(call=call)
    assert sent.count() == len(api.requests)
    assert set(sent.values_list("status", flat=True)) == {"sent"}
    assert all(c.params is None and c.http_status == 200 and c.attempts == 1 for c in sent)


def test_reprocessing_every_event_sends_nothing_new(api, classic, caller):
    answer = caller.deliver("call.initiated", direction="incoming")
    caller.reply_to(api.requests[-1].json, "call.answered")
    caller.reply_to(api.requests[-1].json, "call.gather.ended", digits="9", status="valid")
    caller.deliver("call.hangup", hangup_cause="normal_clearing")
    requests_before, commands_before = len(api.requests), Command.objects.count()
    call_before = Call.objects.get()

    WebhookEvent.objects.update(status="pending")
    process_stored_event(answer.pk)

    assert len(api.requests) == requests_before
    assert Command.objects.count() == commands_before
    call = Call.objects.get()
    assert call.state == call_before.state
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}


def test_a_redelivered_task_sends_what_a_dead_worker_left_pending(api, classic, caller):
    initiated = caller.deliver("call.initiated", direction="incoming")
    command = Command.objects.get()
    # As if the worker had died after committing the decision, before Telnyx answered.
    Command.objects.filter(pk=command.pk).update(
        status="pending", params={}, sent_at=None, attempts=0
    )
    process_stored_event(initiated.pk)
    assert [r.action for r in api.requests] == ["answer", "answer"]
    assert api.requests[0].json["command_id"] == api.requests[1].json["command_id"]
    assert Command.objects.get().status == "sent"


def test_events_of_a_call_are_applied_in_the_order_they_occurred(api, classic, caller):
    caller.deliver("call.initiated", direction="incoming")
    answer = api.requests[-1].json
    answered = caller.reply_to(answer, "call.answered")
    # Arrives before call.answered was applied, yet occurred after it.
    Command.objects.all().delete()
    WebhookEvent.objects.filter(pk=answered.pk).update(status="pending")
    Call.objects.update(state={**Call.objects.get().state, "status": "answering"})
    hangup = caller.deliver("call.hangup", process=False, hangup_cause="normal_clearing")
    answered_time = WebhookEvent.objects.get(pk=answered.pk).occurred_at
    assert hangup.occurred_at > answered_time

    process_stored_event(hangup.pk)  # the worker holding the call applies both, oldest first

    statuses = dict(WebhookEvent.objects.values_list("event_type", "status"))
    assert statuses["call.answered"] == statuses["call.hangup"] == "processed"
    assert Call.objects.get().status == "ended"


@pytest.mark.django_db(transaction=True)
def test_a_batch_that_applies_cleanly_takes_no_savepoint(api, classic, caller):
    # A savepoint per event is two round trips; only a batch in which an event fails needs
    # them (tests/test_reprocess.py shows that one).
    caller.deliver("call.initiated", direction="incoming")
    answered = caller.reply_to(api.requests[-1].json, "call.answered", process=False)
    hangup = caller.deliver("call.hangup", process=False, hangup_cause="normal_clearing")

    with CaptureQueriesContext(connection) as queries:
        process_stored_event(hangup.pk)

    assert [q["sql"] for q in queries if "SAVEPOINT" in q["sql"].upper()] == []
    statuses = WebhookEvent.objects.filter(pk__in=[answered.pk, hangup.pk])
    assert set(statuses.values_list("status", flat=True)) == {"processed"}
    assert Call.objects.get().status == "ended"


@pytest.mark.django_db(transaction=True)
def test_a_task_whose_call_is_held_leaves_its_event_to_the_holder(api, classic, caller):
    require_postgres()  # SQLite has no row locks: its writers take turns instead
    heard = []

    def on_processed(sender, event, **kwargs):
        heard.append(event.event_type)

    def hold_the_call():  # a worker whose send to Telnyx takes a while
        try:
            process_stored_event(answered.pk)
        finally:
            connection.close()

    caller.deliver("call.initiated", direction="incoming")
    answered = caller.reply_to(api.requests[-1].json, "call.answered", process=False)
    api.enqueue(action="gather_using_speak", delay=0.4)  # within the client's read timeout
    holder = threading.Thread(target=hold_the_call)
    signals.webhook_event_processed.connect(on_processed)
    try:
        holder.start()
        wait_for(lambda: api.requests_for("gather_using_speak"), message="the holder's send")
        hangup = caller.deliver("call.hangup", process=False, hangup_cause="normal_clearing")

        left = process_stored_event(hangup.pk, skip_held_call=True)  # as a queue task does
        assert left.status == "pending"  # it did not wait for the lock
        holder.join(timeout=20)
    finally:
        signals.webhook_event_processed.disconnect(on_processed)

    assert not holder.is_alive()
    hangup.refresh_from_db()
    assert hangup.status == "processed"  # the holder applied it once it let go
    assert Call.objects.get().status == "ended"
    assert heard == ["call.answered", "call.hangup"]  # each once, by the worker applying it


def test_unclaimed_and_outgoing_calls_are_recorded_and_left_alone(api, caller, client, signed):
    caller.deliver("call.initiated", direction="incoming")  # no menu exists at all
    other = Caller(client, signed, ccid="v3:outgoing")
    other.deliver("call.initiated", direction="outgoing")
    assert api.requests == []
    assert set(Call.objects.values_list("status", flat=True)) == {"unmanaged"}


def test_call_already_ended_marks_the_call_ended_and_stops(api, classic, caller):
    api.enqueue(
        status=422,
        action="answer",
        body={"errors": [{"code": "90018", "title": "Call has already ended"}]},
    )
    ended = []
    signals.call_ended.connect(lambda sender, **kw: ended.append(kw), weak=False)
    try:
        caller.deliver("call.initiated", direction="incoming")
    finally:
        signals.call_ended.receivers.clear()
    call = Call.objects.get()
    assert call.status == "ended"
    command = Command.objects.get()
    assert (command.status, command.http_status, command.error_code) == ("failed", 422, "90018")
    assert ended[0]["reason"] == "90018"
    assert len(api.requests) == 1  # never retried


def test_a_server_error_is_retried_through_the_queue_with_the_same_command_id(api, classic, caller):
    api.enqueue(status=503, action="answer", body={"errors": [{"code": "1", "title": "busy"}]})
    caller.deliver("call.initiated", direction="incoming", process=False)
    event = WebhookEvent.objects.get()
    with pytest.raises(RetryLater) as later:
        process_stored_event(event.pk)
    assert later.value.countdown > 0
    command = Command.objects.get()
    assert (command.status, command.attempts, command.http_status) == ("pending", 1, 503)

    send_pending_commands(later.value.call_pk)

    command.refresh_from_db()
    assert (command.status, command.attempts) == ("sent", 2)
    ids = {r.json["command_id"] for r in api.requests}
    assert ids == {command.command_id}
    assert len(api.requests) == 2


def test_gives_up_after_the_configured_retries(api, classic, caller, ivr_settings_for):
    ivr_settings_for(MAX_RETRIES=1)
    api.set_default(status=500, body={"errors": [{"code": "1", "title": "down"}]})
    caller.deliver("call.initiated", direction="incoming", process=False)
    event = WebhookEvent.objects.get()
    with pytest.raises(RetryLater) as later:
        process_stored_event(event.pk)
    # The answer's last allowed attempt fails for good; the fallback's hangup fails once.
    with pytest.raises(RetryLater):
        send_pending_commands(later.value.call_pk)
    send_pending_commands(later.value.call_pk)  # and for good: nothing more is tried
    answer, hangup = Command.objects.order_by("pk")
    assert (answer.action, answer.status, answer.attempts) == ("answer", "failed", 2)
    assert (hangup.action, hangup.status, hangup.attempts) == ("hangup", "failed", 2)
    assert [r.action for r in api.requests] == ["answer", "answer", "hangup", "hangup"]
    assert "giving up" in hangup.note


CALL_SIGNALS = ("call_started", "step_completed", "ai_gather_completed", "call_ended")


def listen_to_a_call(api, caller, receivers):
    """Play a short call (answered, key 2 in the main menu, hung up) with ``receivers`` (by
    signal name) connected."""
    for name, receiver in receivers.items():
        getattr(signals, name).connect(receiver)
    try:
        caller.deliver("call.initiated", direction="incoming")
        caller.reply_to(api.requests[-1].json, "call.answered")
        caller.reply_to(api.requests[-1].json, "call.gather.ended", digits="2", status="valid")
        caller.deliver("call.hangup", hangup_cause="normal_clearing", hangup_source="callee")
    finally:
        for name, receiver in receivers.items():
            getattr(signals, name).disconnect(receiver)


def test_signals_for_host_projects(api, classic, caller):
    seen = []

    def record(name):
        def receiver(sender, call, **kwargs):
            seen.append((name, call.call_control_id, kwargs))

        return receiver

    listen_to_a_call(api, caller, {name: record(name) for name in CALL_SIGNALS})
    names = [name for name, _, _ in seen]
    assert names[0] == "call_started"
    assert names[-1] == "call_ended"
    step = next(kw for name, _, kw in seen if name == "step_completed")
    assert (step["node"], step["digits"], step["outcome"]) == ("main", "2", "valid")
    assert seen[-1][2]["hangup_cause"] == "normal_clearing"
    assert {ccid for _, ccid, _ in seen} == {CCID}


def test_call_signals_carry_one_typed_event(api, classic, caller):
    seen = []

    def receiver(sender, call, event, **kwargs):
        seen.append((call, event))

    listen_to_a_call(api, caller, dict.fromkeys(CALL_SIGNALS, receiver))
    started, *steps, ended = (event for _, event in seen)
    assert isinstance(started, signals.CallStarted)
    assert (started.from_number, started.to_number) == ("+15550001111", "+15550002222")
    assert (started.call_control_id, started.direction) == (CCID, "incoming")
    main = next(step for step in steps if step.node == "main")
    assert isinstance(main, signals.StepCompleted)
    assert (main.digits, main.outcome, main.node_kind) == ("2", "valid", "speak_menu")
    assert isinstance(ended, signals.CallEnded)
    assert (ended.hangup_cause, ended.hangup_source, ended.reason) == (
        "normal_clearing",
        "callee",
        "",
    )
    assert all(event.call is call for call, event in seen)


def test_a_receiver_naming_the_old_keyword_arguments_is_warned_and_still_served(
    api, classic, caller
):
    heard = []

    def old_style(sender, call, node, outcome, **kwargs):
        heard.append((node, outcome))

    def new_style(sender, call, event, **kwargs):
        heard.append(event.node)

    with pytest.warns(DeprecationWarning, match=r"node, outcome from telnyx_ivr's step_comp"):
        signals.step_completed.connect(old_style)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        signals.step_completed.connect(new_style)
    try:
        caller.deliver("call.initiated", direction="incoming")
        caller.reply_to(api.requests[-1].json, "call.answered")
        caller.reply_to(api.requests[-1].json, "call.gather.ended", digits="2", status="valid")
    finally:
        signals.step_completed.disconnect(old_style)
        signals.step_completed.disconnect(new_style)
    assert ("main", "valid") in heard
    assert "main" in heard


def test_the_guides_receivers_hear_a_call(api, classic, caller, caplog):
    # docs/integration.md's receivers module, as written, connected for one call.
    (block,) = [b for b in blocks("docs/integration.md", "python") if "ivr_receivers" in b.code]
    connected_before = signals.call_ended.receivers[:]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the guide's receivers use no deprecated argument
        namespace = {"__name__": "docs_ivr_receivers"}
        exec(compile(block.code, block.where, "exec"), namespace)  # noqa: S102 (our own docs)
    caplog.set_level(logging.INFO, logger="docs_ivr_receivers")
    try:
        caller.deliver("call.initiated", direction="incoming")
        caller.deliver("call.hangup", hangup_cause="normal_clearing", hangup_source="caller")
    finally:
        signals.webhook_event_processed.disconnect(namespace["on_event"])
        signals.ai_gather_completed.disconnect(namespace["on_intake"])
        signals.call_ended.disconnect(namespace["on_call_ended"])
    assert signals.call_ended.receivers == connected_before
    said = [record.getMessage() for record in caplog.records]
    assert f"Call {CCID} hung up" in said
    assert "Call from +15550001111 ended: normal_clearing" in said


def test_publishing_during_a_call_keeps_the_call_on_its_version(api, classic, caller):
    caller.deliver("call.initiated", direction="incoming")
    first_version = Call.objects.get().menu_version
    document = json.loads((EXAMPLES / "classic_tree.json").read_text())
    document["prompts"]["main_menu"]["text"] = "A new greeting. Press 1 for sales."
    import_definition(document, publish=True)
    classic.refresh_from_db()
    assert classic.live_version != first_version

    caller.reply_to(api.requests[-1].json, "call.answered")

    assert Call.objects.get().menu_version == first_version
    assert "A new greeting" not in api.requests[-1].json["payload"]


def test_a_late_event_is_recorded_with_why_it_was_ignored(api, classic, caller):
    caller.deliver("call.initiated", direction="incoming")
    caller.reply_to(api.requests[-1].json, "call.answered")
    first_gather = api.requests[-1].json
    caller.reply_to(first_gather, "call.gather.ended", digits="9", status="valid")  # repeat
    sent = len(api.requests)

    late = caller.reply_to(first_gather, "call.gather.ended", digits="1", status="valid")

    assert len(api.requests) == sent
    assert late.status == "processed"
    assert late.note.startswith("ignored: late")
    assert late.error == ""


def pick_a_missing_node(variables):
    return "no_such_node"


def test_a_failing_callable_route_takes_the_default_and_says_so(api, caller):
    document = json.loads((EXAMPLES / "classic_tree.json").read_text())
    routes = document["nodes"]["main"]["routes"]
    routes[0] = {
        "when": "digits",
        "digits": "1",
        "target": "callable",
        "callable": f"{__name__}.pick_a_missing_node",
    }
    import_definition(document, publish=True)
    caller.deliver("call.initiated", direction="incoming")
    caller.reply_to(api.requests[-1].json, "call.answered")
    gather = api.requests[-1].json

    ended = caller.reply_to(gather, "call.gather.ended", digits="1", status="valid")

    assert "no_such_node" in ended.note
    assert "default route" in ended.note
    repeated = api.requests[-1].json  # main's default route repeats the menu
    assert repeated["payload"] == gather["payload"]
    assert repeated["client_state"] != gather["client_state"]
