"""Telnyx misbehaving, end to end: duplicated and reordered webhooks and commands refused once
with 500 or 429 change nothing the caller lives through, and every command is acted on once.
Each test plays a call without faults, then the same script with them, and compares.
Also: processing every event of a finished call again sends nothing."""

from collections import Counter
from itertools import pairwise

import pytest
from django.utils import timezone

from telnyx_ivr.models import Call, Command, WebhookEvent
from telnyx_ivr.simulator import Press, Silence
from telnyx_ivr.tasks import process_event

from .e2e_support import (
    CLASSIC_NUMBER,
    acted_on,
    assert_command_ids_unique,
    assert_commands_match_rows,
    normalised_commands,
    normalised_transcript,
    settle,
)

pytestmark = pytest.mark.redis

SCENARIOS = {
    # invalid, silent, support, back, repeat, then three invalid keys: goodbye and hang-up.
    "goodbye": [Press("5"), Silence(), Press("2"), Press("*"), Press("9")] + [Press("7")] * 3,
    # support, billing: a transfer the caller hangs up after.
    "transfer": [Press("2"), Press("1")],
}


def play(e2e, scenario):
    call = e2e.run(CLASSIC_NUMBER, SCENARIOS[scenario])
    call.assert_expectations()
    return call


def distinct_command_ids_per_action(call):
    return Counter(action for action, _ in {(r.action, r.command_id) for r in call.commands})


def assert_same_call(baseline, faulted):
    """Same experience, same commands, each acted on once, one sent Command row each."""
    assert normalised_transcript(faulted) == normalised_transcript(baseline), (
        faulted.transcript_text()
    )
    assert normalised_commands(faulted) == normalised_commands(baseline)
    assert distinct_command_ids_per_action(faulted) == distinct_command_ids_per_action(baseline)
    assert len(acted_on(faulted)) == len({r.command_id for r in faulted.commands})
    assert_command_ids_unique(faulted)
    row = assert_commands_match_rows(faulted)
    expected = Call.objects.get(call_control_id=baseline.call_control_id)
    assert (row.status, row.hangup_source) == (expected.status, expected.hangup_source)
    assert list(row.steps.values_list("node_key", "outcome", "digits", "tries")) == list(
        expected.steps.values_list("node_key", "outcome", "digits", "tries")
    )
    return row


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_webhook_delivered_twice(e2e, scenario):
    baseline = play(e2e, scenario)
    e2e.sim.faults.duplicate_webhook("*", times=1000)
    faulted = play(e2e, scenario)

    duplicates = [w for w in faulted.webhooks if w.fault]
    assert duplicates, "the fault never fired"
    assert_same_call(baseline, faulted)
    # One stored event per Telnyx event, each counted as delivered twice.
    # (The transfer's new leg has events of its own call_control_id.)
    event_ids = {w.event_id for w in faulted.webhooks}
    events = WebhookEvent.objects.filter(event_id__in=event_ids)
    assert events.count() == len(event_ids)
    assert set(events.values_list("deliveries", flat=True)) == {2}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_webhooks_delivered_out_of_order(e2e, scenario):
    baseline = play(e2e, scenario)
    e2e.sim.faults.reorder_webhook("*", times=1000)
    faulted = play(e2e, scenario)

    sent = [w for w in faulted.webhooks if w.call_control_id == faulted.call_control_id]
    swapped = [
        (earlier.event_type, later.event_type)
        for earlier, later in pairwise(sent)
        if later.body["data"]["occurred_at"] < earlier.body["data"]["occurred_at"]
    ]
    # e.g. call.gather.ended before the call.dtmf.received that led to it
    assert swapped, "no webhook arrived before one that occurred earlier"
    assert_same_call(baseline, faulted)


@pytest.mark.parametrize(
    ("scenario", "action", "statuses"),
    [
        ("goodbye", "answer", [500]),
        ("goodbye", "gather_using_speak", [429]),
        ("goodbye", "hangup", [500, 429]),
        ("transfer", "transfer", [429, 500]),
    ],
)
def test_commands_refused_once_are_resent_with_the_same_command_id(e2e, scenario, action, statuses):
    baseline = play(e2e, scenario)
    for status in statuses:
        e2e.sim.faults.fail_command(action, status)
    faulted = play(e2e, scenario)

    refused = [r for r in faulted.commands if r.fault]
    assert [(r.action, r.status) for r in refused] == [(action, s) for s in statuses]
    first = next(r for r in acted_on(faulted) if r.action == action)
    assert {r.command_id for r in refused} == {first.command_id}
    row = assert_same_call(baseline, faulted)
    attempts = {c.command_id: c.attempts for c in row.commands.all()}
    assert attempts.pop(first.command_id) == len(statuses) + 1
    assert set(attempts.values()) == {1}
    command = Command.objects.get(command_id=first.command_id)
    assert (command.status, command.http_status) == (Command.Status.SENT, 200)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_reprocessing_every_event_of_a_finished_call_sends_nothing(e2e, scenario):
    call = play(e2e, scenario)
    commands_before = len(e2e.sim.commands)
    rows_before = list(Command.objects.order_by("pk").values_list("command_id", "status"))
    # Every event of the test: the transfer's new leg has events of its own.
    events = WebhookEvent.objects.all()
    assert events.filter(call_control_id=call.call_control_id).exists()
    marked_at = timezone.now()
    assert events.update(status=WebhookEvent.Status.PENDING, processed_at=None) > 0
    for pk in events.values_list("pk", flat=True):
        process_event.delay(pk)

    settle()
    assert not events.filter(processed_at__lt=marked_at).exists()
    assert not events.filter(processed_at=None).exists()
    e2e.sim.wait_idle()
    assert len(e2e.sim.commands) == commands_before
    assert list(Command.objects.order_by("pk").values_list("command_id", "status")) == rows_before
    row = Call.objects.get(call_control_id=call.call_control_id)
    assert row.status == Call.Status.ENDED
