"""Processing failed webhook events again: manage.py ivr_reprocess and the admin's action.

An event fails here the way it fails in production when the database refuses a write: a
trigger makes the database refuse to store commands while it exists (a full disk, say).
"""

import contextlib
from io import StringIO

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from telnyx_ivr.calls.runner import process_stored_event
from telnyx_ivr.models import Call, Command, WebhookEvent
from telnyx_ivr.reprocessing import describe

from .call_fixtures import CCID, Caller
from .conftest import wait_for

REFUSAL = "disk quota exceeded (test trigger)"
CHANGELIST = "admin:telnyx_ivr_webhookevent_changelist"


@contextlib.contextmanager
def commands_refused():
    """While inside, the database refuses every new Command row."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION ivr_test_refuse() RETURNS trigger AS $$ BEGIN "
                f"RAISE EXCEPTION '{REFUSAL}'; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER ivr_test_refuse BEFORE INSERT ON telnyx_ivr_command "
                "FOR EACH ROW EXECUTE FUNCTION ivr_test_refuse()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER ivr_test_refuse BEFORE INSERT ON telnyx_ivr_command "
                f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("DROP TRIGGER ivr_test_refuse ON telnyx_ivr_command")
                cursor.execute("DROP FUNCTION ivr_test_refuse()")
            else:
                cursor.execute("DROP TRIGGER ivr_test_refuse")


def reprocess(*args):
    """Run ivr_reprocess; returns its output lines (raises CommandError as it does)."""
    out = StringIO()
    call_command("ivr_reprocess", *args, stdout=out)
    return out.getvalue().splitlines()


def failing(*args):
    out = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("ivr_reprocess", *args, stdout=out)
    return out.getvalue().splitlines(), failed.value


def command_ids(api):
    return [request.json["command_id"] for request in api.requests]


@pytest.fixture
def answered_fails(api, classic, caller):
    """A call whose call.answered failed: answered, but the database refused its gather."""
    caller.deliver("call.initiated", direction="incoming")
    answer = api.requests[-1].json
    with commands_refused():
        event = caller.reply_to(answer, "call.answered")
    assert event.status == "failed"
    assert REFUSAL in event.error
    assert [r.action for r in api.requests] == ["answer"]
    return event


@pytest.mark.django_db
def test_an_event_refused_in_a_batch_fails_alone_and_the_later_ones_apply(api, classic, caller):
    caller.deliver("call.initiated", direction="incoming")
    answered = caller.reply_to(api.requests[-1].json, "call.answered", process=False)
    hangup = caller.deliver("call.hangup", process=False, hangup_cause="normal_clearing")

    with commands_refused():  # call.answered stores a gather; call.hangup stores nothing
        process_stored_event(hangup.pk)  # one worker applies both, oldest first

    answered.refresh_from_db()
    hangup.refresh_from_db()
    assert (answered.status, hangup.status) == ("failed", "processed")
    assert REFUSAL in answered.error
    assert hangup.error == ""
    call = Call.objects.get()
    assert call.status == "ended"
    assert call.failure == "the engine could not process call.answered"
    assert not Command.objects.filter(event=answered).exists()
    assert [r.action for r in api.requests] == ["answer"]


# --- manage.py ivr_reprocess -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_failed_event_is_processed_again_and_its_command_sent_once(api, answered_fails):
    lines = reprocess("--failed")
    answered_fails.refresh_from_db()
    assert answered_fails.status == "processed"
    assert answered_fails.error == ""
    assert lines == [f"{describe(answered_fails)}: processed now; sent gather_using_speak"]
    assert [r.action for r in api.requests] == ["answer", "gather_using_speak"]
    gather = Command.objects.get(event=answered_fails)
    assert gather.status == "sent"

    # Again, in every way: nothing more reaches Telnyx.
    assert reprocess("--failed") == ["No failed events to process again."]
    assert reprocess("--event", answered_fails.event_id) == [
        f"{describe(answered_fails)}: already processed; left as it was",
        "Events already processed are left alone: add --force to process them again.",
    ]
    note = answered_fails.note
    forced = reprocess("--call", CCID, "--force")
    assert len(forced) == 2  # call.initiated and call.answered
    assert all(
        line.endswith(": processed again: its call had applied it already, so nothing changed")
        for line in forced
    )
    answered_fails.refresh_from_db()
    assert answered_fails.note == note  # still what the engine did the first time
    assert [r.action for r in api.requests] == ["answer", "gather_using_speak"]
    assert len(set(command_ids(api))) == len(api.requests)
    assert Command.objects.count() == 2


@pytest.mark.django_db
def test_an_event_that_fails_again_says_why_and_exits_1(api, answered_fails):
    with commands_refused():
        lines, error = failing("--event", str(answered_fails.pk))
    answered_fails.refresh_from_db()
    assert answered_fails.status == "failed"
    assert len(lines) == 1
    assert lines[0].startswith(f"{describe(answered_fails)}: still failing: ")
    assert REFUSAL in lines[0]
    assert error.returncode == 1
    assert str(error) == "1 of 1 event(s) still not processed."
    assert [r.action for r in api.requests] == ["answer"]


@pytest.mark.django_db
def test_a_dry_run_changes_nothing(api, answered_fails):
    lines = reprocess("--failed", "--dry-run")
    assert lines[0] == "Dry run: nothing is changed."
    assert lines[1] == (
        f"{describe(answered_fails)}: failed ({' '.join(answered_fails.error.split())}); "
        "would be processed again"
    )
    answered_fails.refresh_from_db()
    assert answered_fails.status == "failed"
    assert [r.action for r in api.requests] == ["answer"]


@pytest.mark.django_db
def test_a_command_telnyx_refuses_for_now_is_left_to_a_worker(api, answered_fails):
    api.enqueue(status=503, body={"errors": [{"code": "10007", "title": "Unexpected error"}]})
    lines = reprocess("--failed")
    assert lines == [
        f"{describe(answered_fails)}: processed now; gather_using_speak to be resent by a worker"
    ]
    gather = Command.objects.get(event=answered_fails)
    assert (gather.status, gather.http_status, gather.attempts) == ("pending", 503, 1)


@pytest.mark.django_db
def test_since_keeps_older_failures_out(api, answered_fails):
    WebhookEvent.objects.filter(pk=answered_fails.pk).update(
        received_at=answered_fails.received_at.replace(year=2020)
    )
    assert reprocess("--failed", "--since", "2h") == ["No failed events to process again."]
    assert reprocess("--failed", "--since", "2019-12-31", "--dry-run")[1].endswith(
        "would be processed again"
    )
    assert reprocess("--call", CCID, "--since", "2020-01-01T00:00", "--dry-run")[1].startswith(
        describe(answered_fails)
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "Say which events: --event ID, --failed or --call CALL_CONTROL_ID."),
        (("--event", "nope"), "no webhook event has the number or id 'nope'"),
        (("--event", "999999"), "no webhook event has the number or id '999999'"),
        (("--call", "v3:no-such-call"), "no webhook event of call 'v3:no-such-call' is stored"),
        (
            ("--event", "1", "--failed"),
            "--event names events itself: leave out --failed, --call, --since.",
        ),
        (
            ("--failed", "--since", "yesterday"),
            "--since 'yesterday' is neither a time ago (90s, 30m, 2h, 7d) nor a date or time "
            "(2026-11-21, 2026-11-21T12:00)",
        ),
        (
            ("--failed", "--since", "2026-13-45"),
            "--since '2026-13-45' is neither a time ago (90s, 30m, 2h, 7d) nor a date or time "
            "(2026-11-21, 2026-11-21T12:00)",
        ),
    ],
)
def test_bad_choices_are_named(args, message):
    with pytest.raises(CommandError) as failed:
        call_command("ivr_reprocess", *args, stdout=StringIO())
    assert str(failed.value) == message


# --- the admin's "Process again" ---------------------------------------------------------------


def act(client, *events):
    return client.post(
        reverse(CHANGELIST),
        {"action": "process_again", "_selected_action": [e.pk for e in events]},
        follow=True,
    )


def said(response):
    return [str(message) for message in response.context["messages"]]


@pytest.mark.django_db
def test_process_again_queues_failed_events_and_leaves_processed_ones(
    admin_client, api, answered_fails
):
    initiated = WebhookEvent.objects.get(event_type="call.initiated")
    response = act(admin_client, answered_fails, initiated)
    assert response.status_code == 200
    assert said(response) == [
        "1 event set back to pending and queued: a worker processes it within seconds. "
        "Reload this page to see how it went.",
        "1 event already processed: left as it was. To process one again anyway: manage.py "
        f"ivr_reprocess --event {initiated.pk} --force (docs/operations.md).",
    ]
    answered_fails.refresh_from_db()
    initiated.refresh_from_db()
    assert (answered_fails.status, initiated.status) == ("pending", "processed")
    assert [r.action for r in api.requests] == ["answer"]  # nothing sent by the request


@pytest.mark.django_db
def test_process_again_is_offered_only_to_those_allowed_to_change_events(client, answered_fails):
    viewer = User.objects.create_user("viewer", password="pw-viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_webhookevent"))
    client.force_login(viewer)
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert "Process again" not in page
    response = act(client, answered_fails)
    answered_fails.refresh_from_db()
    assert answered_fails.status == "failed"
    assert said(response) == []

    viewer.user_permissions.add(Permission.objects.get(codename="change_webhookevent"))
    viewer = User.objects.get(pk=viewer.pk)  # permissions are cached on the instance
    client.force_login(viewer)
    assert "Process again" in client.get(reverse(CHANGELIST)).content.decode()
    # The permission gives the action, not the editing: events stay read-only.
    change = reverse("admin:telnyx_ivr_webhookevent_change", args=[answered_fails.pk])
    assert client.post(change, {"event_type": "forged"}).status_code == 403
    delete = reverse("admin:telnyx_ivr_webhookevent_delete", args=[answered_fails.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403


@pytest.mark.redis
def test_process_again_through_a_real_worker_sends_the_command_once(
    start_worker, api, classic, client, signed, admin_client
):
    start_worker(env={"TELNYX_API_BASE_URL": api.base_url, "TELNYX_API_KEY": "KEY_runner_test"})
    caller = Caller(client, signed)
    caller.deliver("call.initiated", process=False, direction="incoming")
    wait_for(lambda: api.requests_for("answer"), message="the worker to answer the call")
    with commands_refused():
        answered = caller.deliver(
            "call.answered", process=False, client_state=api.requests[-1].json["client_state"]
        )
        wait_for(
            lambda: WebhookEvent.objects.filter(pk=answered.pk, status="failed").exists(),
            message="call.answered to fail",
        )
    assert [r.action for r in api.requests] == ["answer"]

    response = act(admin_client, answered)
    assert said(response)[0].startswith("1 event set back to pending and queued")
    wait_for(
        lambda: WebhookEvent.objects.filter(pk=answered.pk, status="processed").exists(),
        message="the worker to process the event again",
    )
    wait_for(lambda: api.requests_for("gather_using_speak"), message="the gather")
    act(admin_client, answered)  # processed now: left as it was
    reprocess("--call", CCID, "--force")
    assert [r.action for r in api.requests] == ["answer", "gather_using_speak"]
    assert len(set(command_ids(api))) == 2
