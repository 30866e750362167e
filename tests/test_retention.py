"""Retention: ``manage.py ivr_prune`` and the ``prune_call_log`` beat task, on calls played
through the engine (the pytest plugin) and then moved into the past. Pruning touches only
rows the roll-ups hold, so the dashboards' past figures are the same after it."""

import json
from datetime import UTC, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from project.celery import app as celery_app
from telnyx_ivr.analytics import figures
from telnyx_ivr.analytics.filters import parse_filters
from telnyx_ivr.analytics.rollups import roll_up
from telnyx_ivr.calls.retention import Pruned, prune, pruned_info
from telnyx_ivr.calls.time_shift import shift_call
from telnyx_ivr.conf import ivr_settings
from telnyx_ivr.models import Call, CallStep, Command, WebhookEvent
from telnyx_ivr.simulator import AIResult, HangUp, Press, Silence
from telnyx_ivr.tasks import prune_call_log
from telnyx_ivr.testing import event_body

from .played_calls import load_example_menus

pytest_plugins = ["telnyx_ivr.pytest_plugin"]

CLASSIC, AI = "+15550000100", "+15550100200"
AGE = timedelta(days=40)
BIG_TABLES = (
    "telnyx_ivr_call",
    "telnyx_ivr_callstep",
    "telnyx_ivr_command",
    "telnyx_ivr_webhookevent",
)


@pytest.fixture
def menus(transactional_db):
    load_example_menus()


@pytest.fixture
def play(menus, simulate_call):
    """Play a call and return its Call; ``old=True`` moves it 40 days into the past."""

    def play(to, script, old=False):
        simulated = simulate_call(to=to, script=script)
        call = Call.objects.get(call_control_id=simulated.call_control_id)
        return shift_call(call, -AGE) if old else call

    return play


def everything(**params):
    return parse_filters(
        {"since": "2000-01-01", "until": "2100-01-01", "include_test": "1", **params}, tz=UTC
    )


def all_figures():
    """Every figure the dashboards show: the whole time, per menu, and the old day alone."""
    old_day = (timezone.now() - AGE).date().isoformat()
    return {
        "dashboard": figures.dashboard(everything()),
        "old day": figures.dashboard(everything(since=old_day, until=old_day, bucket="hour")),
        **{
            slug: figures.menu_figures(everything(menu=slug))
            for slug in ("classic-tree", "ai-intake")
        },
    }


def rows_of(call):
    ids = [call.call_control_id, *call.legs.values_list("call_control_id", flat=True)]
    return {
        "calls": Call.objects.filter(call_control_id__in=ids).count(),
        "steps": CallStep.objects.filter(call__call_control_id__in=ids).count(),
        "commands": Command.objects.filter(call__call_control_id__in=ids).count(),
        "events": WebhookEvent.objects.filter(call_control_id__in=ids).count(),
    }


def prune_command(*args, **options):
    out = StringIO()
    call_command("ivr_prune", *args, stdout=out, **options)
    return out.getvalue()


def test_pruning_whole_calls_leaves_the_dashboards_past_figures_as_they_were(play, ivr_simulator):
    old = [
        play(CLASSIC, [Press("1")], old=True),  # transferred, with its leg
        play(CLASSIC, [Press("2"), HangUp()], old=True),  # abandoned in support
        play(CLASSIC, [Silence(), Silence(), Silence()], old=True),  # completed
        play(AI, [AIResult({"name": "Ada", "age": 36, "city": "Boston"})], old=True),
    ]
    assert old[0].legs.exists()
    before_rows = [rows_of(call) for call in old]
    recent = play(CLASSIC, [Press("0")])
    waiting = ivr_simulator.start_call(to=CLASSIC, when_script_ends="wait")
    ivr_simulator.wait_until(
        lambda: Call.objects.filter(
            call_control_id=waiting.call_control_id, status="active"
        ).exists(),
        10,
        message="the call to reach the menu",
    )
    stuck = shift_call(Call.objects.get(call_control_id=waiting.call_control_id), -AGE)
    roll_up()
    before = all_figures()
    assert before["old day"]["calls"]["total"] == 5
    caller_before = figures.dashboard(everything(from_number=recent.from_number))

    output = prune_command("--days", "30", "--calls")

    assert all_figures() == before
    assert "deleted 4 call(s), with 1 transfer leg(s)" in output
    assert "kept 1 old call(s) not wholly rolled up yet" in output  # it never ended
    for call, rows in zip(old, before_rows, strict=True):
        assert all(rows.values())
        assert rows_of(call) == {"calls": 0, "steps": 0, "commands": 0, "events": 0}
    assert rows_of(stuck)["calls"] == 1
    assert all(rows_of(recent).values())
    assert (
        WebhookEvent.objects.filter(call_control_id=recent.call_control_id)
        .exclude(raw_body="")
        .exists()
    )
    # As docs/dashboards.md says: a caller-number filter reads the calls themselves, so it
    # finds only the calls kept.
    assert caller_before["calls"]["total"] == 5
    caller = figures.dashboard(everything(from_number=recent.from_number))
    assert caller["calls"]["by_outcome"]["transferred"] == caller["calls"]["total"] == 1


def test_old_bodies_are_emptied_with_a_marker_and_the_rest_of_each_row_is_kept(play):
    old = play(CLASSIC, [Press("1")], old=True)
    recent = play(CLASSIC, [Press("1")])
    events = WebhookEvent.objects.filter(call_control_id=old.call_control_id).order_by("pk")
    kept = [
        "event_type",
        "event_id",
        "status",
        "received_at",
        "occurred_at",
        "note",
        "client_state",
    ]
    events_before = list(events.values_list(*kept))
    commands_before = list(
        old.commands.order_by("pk").values_list("action", "status", "http_status", "created_at")
    )
    answered = old.commands.exclude(response=None).count()
    assert answered > 0
    before = all_figures()

    output = prune_command(days=30)

    assert "emptied the bodies of " in output
    assert all_figures() == before
    assert list(events.values_list(*kept)) == events_before
    assert set(events.values_list("raw_body", flat=True)) == {""}
    for event in events:
        info = pruned_info(event.payload)
        assert info == Pruned(after_days=30, at=info.at)
        assert abs(info.at - timezone.now()) < timedelta(minutes=5)
        assert event.data == {}  # what reads the payload finds nothing, not an error
    commands = old.commands.order_by("pk")
    assert list(commands.values_list("action", "status", "http_status", "created_at")) == (
        commands_before
    )
    assert all(pruned_info(command.body) for command in commands)
    assert sum(pruned_info(command.response) is not None for command in commands) == answered
    # The recent call is untouched, and so is the old call itself, with its visits.
    recent_events = WebhookEvent.objects.filter(call_control_id=recent.call_control_id)
    assert all(json.loads(event.raw_body) == event.payload for event in recent_events)
    assert not any(pruned_info(command.body) for command in recent.commands.all())
    assert old.steps.exists()
    assert Call.objects.filter(pk=old.pk, outcome="transferred").exists()

    again = prune(30)  # what is pruned already is not counted again
    assert (again.event_bodies, again.command_bodies) == (0, 0)


def test_an_event_the_roll_ups_do_not_hold_keeps_its_body(telnyx_webhook):
    """Stored but never processed (``db``: the test's transaction never commits, so nothing
    queues it), and from before the retention period: it is not rolled up, so it stays whole."""
    body = event_body("call.initiated", {"call_control_id": "v3:never-processed"})
    assert telnyx_webhook.post(body).status_code == 200
    pending = WebhookEvent.objects.filter(event_id=body["data"]["id"])
    pending.update(received_at=timezone.now() - AGE)

    result = prune(30, calls=True)
    assert (result.event_bodies, result.deleted_events) == (0, 0)
    [event] = pending
    assert (event.status, event.rolled_up) == ("pending", False)
    assert json.loads(event.raw_body) == event.payload == body


def test_a_dry_run_changes_nothing_and_counts_what_a_real_run_does(play):
    for script in ([Press("1")], [Press("2"), Press("1")], [Press("9"), HangUp()]):
        play(CLASSIC, script, old=True)
    play(CLASSIC, [Press("0")])
    assert Call.objects.filter(rolled_up=False).exists()  # the dry run must count these too
    raw = sorted(WebhookEvent.objects.values_list("pk", "raw_body", "rolled_up"))
    calls = Call.objects.count()

    dry = prune(30, calls=True, dry_run=True)
    assert sorted(WebhookEvent.objects.values_list("pk", "raw_body", "rolled_up")) == raw
    assert Call.objects.count() == calls
    assert "Dry run: nothing is changed." in prune_command("--days", "30", "--calls", "--dry-run")

    real = prune(30, calls=True)
    assert real.rolled_up > 0
    assert dry.deleted_calls == real.deleted_calls == 3
    for name in ("deleted_legs", "deleted_steps", "deleted_commands", "deleted_events"):
        assert getattr(dry, name) == getattr(real, name) > 0, name
    assert (dry.event_bodies, dry.command_bodies) == (real.event_bodies, real.command_bodies)


def test_pruning_goes_in_batches_and_never_reads_a_table_whole(play):
    for _ in range(3):
        play(CLASSIC, [Press("1")], old=True)
    play(CLASSIC, [Press("2"), Press("2")], old=True)
    events = WebhookEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        bodies = prune(30, batch=2)
    assert bodies.event_bodies == events
    assert not WebhookEvent.objects.exclude(raw_body="").exists()
    with CaptureQueriesContext(connection) as more:
        calls = prune(30, calls=True, batch=2)
    assert calls.deleted_calls == 4
    assert not Call.objects.exists()
    assert not WebhookEvent.objects.exists()
    # Rows are read a batch at a time (LIMIT) or by the keys of one batch (IN); a count reads
    # no rows at all.
    for query in [*queries.captured_queries, *more.captured_queries]:
        sql = query["sql"]
        if sql.startswith("SELECT") and any(f'FROM "{table}"' in sql for table in BIG_TABLES):
            assert " LIMIT " in sql or " IN (" in sql or sql.startswith("SELECT COUNT(*)"), sql


def test_the_beat_task_prunes_what_the_setting_says_and_nothing_without_it(play, settings):
    old = play(CLASSIC, [Press("1")], old=True)
    assert ivr_settings.RETENTION_DAYS is None  # the default: keep everything
    assert prune_call_log.apply().get() is None
    assert all(rows_of(old).values())

    settings.TELNYX_IVR = {**settings.TELNYX_IVR, "RETENTION_DAYS": 30}
    bodies = prune_call_log.apply().get()
    assert bodies["event_bodies"] > 0
    assert bodies["deleted_calls"] == 0
    whole = prune_call_log.apply(kwargs={"calls": True}).get()
    assert whole["deleted_calls"] == 1
    assert rows_of(old)["calls"] == 0


def test_the_example_project_schedules_the_task_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["prune-telnyx-call-log"]
    assert entry["task"] in celery_app.tasks
    assert entry["schedule"].is_due(timezone.now() - timedelta(days=1, minutes=1)).is_due


@pytest.mark.parametrize(
    ("retention", "arguments", "message"),
    [
        (None, [], 'TELNYX_IVR["RETENTION_DAYS"] is not set, so everything is kept'),
        ("30", [], 'TELNYX_IVR["RETENTION_DAYS"] must be a whole number of days'),
        (0, [], 'TELNYX_IVR["RETENTION_DAYS"] must be a whole number of days'),
        (None, ["--days", "0"], "--days must be 1 or more, not 0"),
        (None, ["--days", "soon"], "invalid int value: 'soon'"),
    ],
)
def test_bad_retention_settings_and_arguments_are_clear_errors(
    db, settings, retention, arguments, message
):
    settings.TELNYX_IVR = {**settings.TELNYX_IVR, "RETENTION_DAYS": retention}
    with pytest.raises(CommandError) as raised:
        prune_command(*arguments)
    assert message in str(raised.value)


def test_days_given_on_the_command_line_win_over_the_setting(play, settings):
    settings.TELNYX_IVR = {**settings.TELNYX_IVR, "RETENTION_DAYS": 60}
    play(CLASSIC, [Press("1")], old=True)
    assert "the bodies of 0 webhook event(s)" in prune_command()
    assert "the bodies of 0 webhook event(s)" not in prune_command("--days", "30")


def test_the_admin_says_in_words_what_pruning_removed(play, client, django_user_model):
    from django.urls import reverse

    old = play(CLASSIC, [Press("1")], old=True)
    prune_command(days=30)
    django_user_model.objects.create_superuser("office", "o@example.com", "pw-12345")
    client.login(username="office", password="pw-12345")
    event = WebhookEvent.objects.filter(call_control_id=old.call_control_id).first()
    command = old.commands.first()
    for url in (
        reverse("admin:telnyx_ivr_webhookevent_change", args=[event.pk]),
        reverse("admin:telnyx_ivr_command_change", args=[command.pk]),
    ):
        page = client.get(url).content.decode()
        assert "by the retention rule (kept 30 days;" in page
        assert "after_days" not in page  # the marker's JSON is not shown
