"""``manage.py ivr_seed_calls``: demo calls played through the real stack (the simulator's signed
webhooks to the site's webhook view served in-process, the engine with eager tasks, commands
back to the simulator), then moved into the past and rolled up. The rows checked here are the
ones real calls write; nothing in these tests makes one by hand."""

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from telnyx_ivr.analytics import figures
from telnyx_ivr.analytics.filters import parse_filters
from telnyx_ivr.calls import seeding
from telnyx_ivr.menus.publishing import deactivate_menu
from telnyx_ivr.models import Call, CallRollup, CallStep, Command, NodeRollup, WebhookEvent
from telnyx_ivr.simulator import AIResult, HangUp, Press, Silence
from telnyx_ivr.simulator.random_caller import TEMPERAMENTS, RandomCaller

BERLIN = ZoneInfo("Europe/Berlin")
SPEAK_MENU = {
    "valid_digits": "0129",
    "minimum_digits": 1,
    "maximum_digits": 1,
    "terminating_digit": "#",
}
SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer"},
        "city": {"type": "string"},
        "plan": {"type": "string", "enum": ["basic", "plus"]},
    },
    "required": ["name", "age", "city"],
}
DECISIVE = next(t for t in TEMPERAMENTS if t.name == "decisive")


def seed(*args, **options):
    out = StringIO()
    call_command("ivr_seed_calls", *args, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def everything(**params):
    return parse_filters(
        {"since": "2000-01-01", "until": "2100-01-01", "include_test": "1", **params}, tz=UTC
    )


def played(calls):
    """What each call did, in start order: enough to tell two runs apart."""
    return [
        (
            call.menu.slug,
            call.from_number,
            call.to_number,
            call.outcome,
            call.outcome_node,
            call.started_at,
            tuple(call.steps.order_by("step").values_list("node_key", "exit", "digits")),
        )
        for call in calls.order_by("started_at", "pk")
    ]


# --- the command, through the real stack -----------------------------------------------------


def test_seeded_calls_are_real_test_calls_spread_over_the_days_and_rolled_up(menus, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    before = timezone.now()
    output = seed(calls=80, days=3, seed=11)
    after = timezone.now()

    calls = Call.objects.counted()
    assert calls.count() == 80
    assert "Played 80 test calls over the past 3 day(s)" in output
    assert not Call.objects.filter(is_test=False).exists()  # legs included
    # Within the 3 local days ending today, and all in the past.
    first_day = timezone.localtime(before, BERLIN).date() - timedelta(days=2)
    assert min(calls.values_list("started_at", flat=True)).astimezone(BERLIN).date() >= first_day
    assert max(calls.values_list("ended_at", flat=True)) < after
    days = {call.started_at.astimezone(BERLIN).date() for call in calls}
    assert days <= {first_day + timedelta(days=n) for n in range(3)}
    assert {first_day, first_day + timedelta(days=1)} <= days  # today may have just begun
    office = sum(8 <= call.started_at.astimezone(BERLIN).hour < 18 for call in calls)
    assert office > 0.6 * 80  # office hours are busiest

    # Every outcome a call can end with, and every kind of exit from a node.
    assert set(calls.values_list("outcome", flat=True)) == {
        "completed",
        "transferred",
        "abandoned",
        "failed",
    }
    exits = set(CallStep.objects.values_list("exit", flat=True))
    assert {"1", "2", "0", "invalid", "no_input", "valid", "hangup", "transferred"} <= exits
    assert {node for (node,) in NodeRollup.objects.values_list("node_key")} >= {"main", "intake"}

    # Real rows: each call has the events, commands and visits the engine wrote, moved with it.
    for call in calls:
        events = WebhookEvent.objects.filter(call_control_id=call.call_control_id)
        assert events.filter(event_type="call.initiated").exists()
        assert events.filter(event_type="call.hangup").exists()
        assert call.commands.filter(action="answer").exists()
        assert call.steps.exists()
        assert events.earliest("received_at").received_at >= call.started_at
        assert call.commands.earliest("created_at").created_at >= call.started_at
        assert call.steps.earliest("started_at").started_at >= call.started_at
    failed = calls.filter(outcome="failed")
    assert Command.objects.filter(call__in=failed, status="failed", http_status=503).exists()

    # Rolled up, with the same figures as the rows themselves.
    assert not Call.objects.filter(rolled_up=False, status="ended").exists()
    assert CallRollup.objects.filter(is_test=True).exists()
    by_outcome = Counter(calls.values_list("outcome", flat=True))
    dashboard = figures.dashboard(everything())
    assert dashboard["calls"]["by_outcome"] == {"in_progress": 0, **by_outcome}
    for slug in ("classic-tree", "ai-intake"):
        rolled = figures.menu_figures(everything(menu=slug))
        live = Counter(calls.filter(menu__slug=slug).values_list("outcome", flat=True))
        assert rolled["calls"]["by_outcome"] == {"in_progress": 0, **live}
        visits = Counter(CallStep.objects.filter(call__menu__slug=slug).values_list("node_key"))
        assert {n["key"]: n["visits"] for n in rolled["nodes"]} == {
            k: v for (k,), v in visits.items()
        }
    events = dashboard["pipeline"]["events"]
    assert events["processed"] == WebhookEvent.objects.filter(status="processed").count()


def test_the_same_seed_plays_the_same_calls_in_one_process_or_several(menus):
    now = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
    first = seeding.seed_calls(12, 2, seed=5, jobs=1, now=now)
    runs = [played(Call.objects.counted())]
    Call.objects.all().delete()
    second = seeding.seed_calls(12, 2, seed=5, jobs=2, now=now)
    runs.append(played(Call.objects.counted()))
    assert (first.jobs, second.jobs) == (1, 2)
    assert runs[0] == runs[1]
    assert len({run[0] for run in runs[0]}) == 2  # both menus were called
    Call.objects.all().delete()
    seeding.seed_calls(12, 2, seed=6, jobs=1, now=now)
    assert played(Call.objects.counted()) != runs[0]


def test_one_menu_only_and_a_call_log_with_calls_is_left_alone(menus):
    output = seed("--calls", "5", "--days", "1", "--menu", "ai-intake", "--seed", "3")
    assert "By menu: ai-intake 5" in output
    assert set(Call.objects.counted().values_list("to_number", flat=True)) == {"+15550100200"}
    assert "no calls seeded" in seed("--calls", "5", "--if-empty")
    assert Call.objects.counted().count() == 5


def test_the_default_menu_is_called_on_a_number_no_menu_claims(menus):
    seed(calls=3, days=1, menu="classic-tree", seed=1)
    [number] = set(Call.objects.counted().values_list("to_number", flat=True))
    assert number not in menus["ai_intake"].numbers
    assert set(Call.objects.counted().values_list("menu__slug", flat=True)) == {"classic-tree"}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--calls", "0"], "--calls must be at least 1, not 0"),
        (["--days", "-2"], "--days must be at least 1, not -2"),
        (["--calls", "many"], "'many' is not a whole number"),
        (["--menu", "nope"], "there is no menu 'nope' (menus: ai-intake, classic-tree)"),
        (["--jobs", "0"], "the number of jobs must be at least 1, not 0"),
    ],
)
def test_bad_arguments_are_clear_errors(menus, arguments, message):
    with pytest.raises(CommandError) as raised:
        seed(*arguments)
    assert message in str(raised.value)
    assert not Call.objects.exists()


def test_a_menu_that_answers_no_calls_is_a_clear_error(menus):
    deactivate_menu(menus["ai_intake"])
    with pytest.raises(CommandError, match="menu 'ai-intake' is not active"):
        seed(menu="ai-intake")
    deactivate_menu(menus["classic_tree"])
    with pytest.raises(CommandError, match="no menu is both active and published"):
        seed()


def test_several_processes_need_a_database_that_lets_them_write(menus, settings):
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        pytest.skip("the SQLite rule")
    options = settings.DATABASES["default"]["OPTIONS"]
    settings.DATABASES["default"]["OPTIONS"] = {**options, "transaction_mode": None}
    try:
        with pytest.raises(CommandError, match='"transaction_mode": "IMMEDIATE"'):
            seed(calls=1, jobs=2)
    finally:
        settings.DATABASES["default"]["OPTIONS"] = options


# --- when calls start ------------------------------------------------------------------------


def test_start_times_follow_the_office_day_in_the_site_time_zone():
    now = datetime(2026, 3, 31, 9, 20, tzinfo=UTC)  # 11:20 in Berlin, after the DST change
    times = seeding.start_times(random.Random(1), 5000, 7, now=now, tz=BERLIN)
    assert times == sorted(times)
    assert times == seeding.start_times(random.Random(1), 5000, 7, now=now, tz=BERLIN)
    local = [moment.astimezone(BERLIN) for moment in times]
    assert local[0] >= datetime(2026, 3, 25, tzinfo=BERLIN)  # 7 days, today included
    assert times[-1] <= now - seeding.NEWEST
    hours = Counter(moment.hour for moment in local)
    assert hours[10] > 10 * hours[3]  # mid-morning busy, the small hours quiet
    assert sum(hours[h] for h in range(8, 18)) > 0.8 * len(times)
    days = Counter(moment.date() for moment in local)
    assert days[datetime(2026, 3, 29).date()] < days[datetime(2026, 3, 30).date()] / 3  # Sunday


# --- the caller ------------------------------------------------------------------------------


def steps_for(action, body, draws=2000, seed=1, temperament=DECISIVE):
    rng = random.Random(seed)
    taken = []
    for _ in range(draws):
        caller = RandomCaller(rng, temperament=temperament)
        caller.command_received(action, body)
        taken.append(caller.take_step(action))
    return taken


def test_the_caller_presses_mostly_valid_keys_favouring_some():
    steps = steps_for("gather_using_speak", SPEAK_MENU)
    presses = Counter(step.digits for step in steps if isinstance(step, Press))
    valid = sum(presses[key] for key in "0129")
    assert valid > 0.85 * len(steps)
    assert 0 < sum(presses.values()) - valid < 0.1 * len(steps)  # a few keys that are not valid
    assert presses["1"] > 2 * presses["9"]
    assert set(presses) - set("0129") <= set("345678*")  # never the terminating key
    kinds = Counter(type(step) for step in steps)
    assert 0 < kinds[Silence] < 0.1 * len(steps)
    assert 0 < kinds[HangUp] < 0.1 * len(steps)


def test_the_caller_enters_as_many_digits_as_asked():
    body = {"valid_digits": "0123456789", "minimum_digits": 4, "maximum_digits": 8}
    presses = [s for s in steps_for("gather", body, 200) if isinstance(s, Press)]
    valid = [p for p in presses if p.digits[:4].isdigit()]
    assert valid
    assert all(p.digits.endswith("#") and len(p.digits) == 5 for p in valid)


def test_the_caller_answers_an_ai_gather_from_its_schema():
    steps = steps_for("gather_using_ai", {"parameters": SCHEMA}, 500)
    results = [step for step in steps if isinstance(step, AIResult)]
    valid = [step.result for step in results if step.status == "valid"]
    assert len(valid) > 0.8 * len(steps)
    assert all(set(result) == {"name", "age", "city", "plan"} for result in valid)
    assert all(isinstance(r["age"], int) and 18 <= r["age"] <= 85 for r in valid)
    assert {r["plan"] for r in valid} == {"basic", "plus"}
    assert {"Chicago", "Boston"} <= {r["city"] for r in valid}
    invalid = [step.result for step in results if step.status == "invalid"]
    assert invalid
    assert all(not {"name", "age", "city"} <= set(result) for result in invalid)


def test_the_caller_sometimes_hangs_up_during_an_announcement():
    impatient = next(t for t in TEMPERAMENTS if t.name == "impatient")
    rng = random.Random(2)
    peeked = []
    for _ in range(400):
        caller = RandomCaller(rng, temperament=impatient)
        caller.command_received("speak", {"payload": "Our opening hours are..."})
        peeked.append(caller.peek_step())
    hang_ups = [step for step in peeked if isinstance(step, HangUp)]
    assert all(step.during_announcement for step in hang_ups)
    assert 0.1 * 400 < len(hang_ups) < 0.4 * 400
    assert peeked.count(None) == 400 - len(hang_ups)  # otherwise it listens to the end


def test_the_same_random_state_makes_the_same_caller():
    def choices(seed):
        return [str(step) for step in steps_for("gather_using_speak", SPEAK_MENU, 50, seed, None)]

    assert choices(4) == choices(4)
    assert choices(4) != choices(5)
