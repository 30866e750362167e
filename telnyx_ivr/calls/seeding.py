"""Demo data for the dashboards: simulated calls played through the real stack, then moved to
their place in the past (``manage.py ivr_seed_calls``).

Each call is placed by the call simulator (so it is a test call), delivered as signed webhooks
to this site's own webhook view served in this process, decided by the engine with the tasks
run eagerly, and answered by a ``RandomCaller``, which reacts to what each command asks for.
Its rows are exactly what a real call writes. Once it has ended it is moved, whole, to a start
time drawn over the past days with a daily shape (office hours are busy, nights and weekends
quiet, in the site's time zone), and at the end everything is rolled up.

A small share of calls meets a Telnyx outage (the simulator answers 503 until the app gives
up), so failed calls are in the data too. A caller who hears nothing more, after such a
failure, hangs up.
"""

import random
import secrets
import time as clock
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.utils import timezone

from ..analytics.rollups import roll_up
from ..conf import ivr_settings
from ..menus.matching import find_menu_version
from ..models import Call, Menu
from ..simulator.in_process import simulated_site
from ..simulator.random_caller import RandomCaller
from ..simulator.refusals import refused_start, refused_start_problem
from . import lanes
from .time_shift import shift_call

# Local hour of day -> how busy it is: office hours carry most calls.
HOUR_WEIGHTS = (
    0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 0.8,  # 00-07
    2.5, 4.0, 4.5, 4.2, 3.0, 3.5, 4.0, 3.8,  # 08-15
    3.2, 2.0, 1.2, 0.8, 0.6, 0.4, 0.25, 0.15,  # 16-23
)  # fmt: skip
WEEKDAY_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 0.9, 0.35, 0.2)  # Monday .. Sunday
# The newest call starts this long before the run: it has ended by the time it is placed.
NEWEST = timedelta(minutes=1)
HOUR = timedelta(hours=1)
OUTAGE_SHARE = 0.03
# What an outage refuses: everything the menu says after the answer, or the transfer.
OUTAGE_ACTIONS = {
    "menu": (
        "gather", "gather_using_speak", "gather_using_audio", "gather_using_ai",
        "ai_assistant_start", "speak", "playback_start",
    ),
    "transfer": ("transfer",),
}  # fmt: skip
CALL_SECONDS = 30.0  # a call that has not ended by then is hung up and reported
CONNECTION_ID = "7000000000000000001"  # the seeded calls' Telnyx connection
NUMBER_CANDIDATES = [f"+1555000{n:04d}" for n in range(100, 200)]


class SeedError(ValueError):
    """Why no calls can be seeded (no such menu, nothing published, a refused webhook...)."""


@dataclass(frozen=True)
class Line:
    """How a call reaches a menu: the number dialled and the connection it comes in on."""

    menu: Menu
    to: str
    connection_id: str = CONNECTION_ID


@dataclass
class SeedReport:
    seed: int
    since: datetime
    until: datetime
    jobs: int = 1
    calls: int = 0
    outcomes: Counter = field(default_factory=Counter)
    menus: Counter = field(default_factory=Counter)
    rolled_up: int = 0
    seconds: float = 0.0
    problems: list = field(default_factory=list)


def lines_for(slug=None):
    """The ``Line`` of each menu to seed: ``slug``'s, or every active published menu's."""
    menus = Menu.objects.order_by("pk").select_related("live_version")
    if slug is not None:
        menu = menus.filter(slug=slug).first()
        if menu is None:
            known = ", ".join(menus.order_by("slug").values_list("slug", flat=True)) or "none yet"
            raise SeedError(f"there is no menu {slug!r} (menus: {known})")
        if menu.live_version is None:
            raise SeedError(f"menu {slug!r} has no published version: publish it first")
        if not menu.is_active:
            raise SeedError(f"menu {slug!r} is not active, so it answers no calls: activate it")
        line = line_of(menu)
        if line is None:
            raise SeedError(
                f"no call reaches menu {slug!r}: another active menu claims its numbers and "
                "connection ids, and it is not the default menu"
            )
        return [line]
    found = [line_of(menu) for menu in menus.filter(is_active=True, live_version__isnull=False)]
    found = [line for line in found if line is not None]
    if not found:
        raise SeedError(
            "no menu is both active and published, so no call would be answered: publish one "
            "(e.g. python manage.py ivr_import --example classic_tree --publish)"
        )
    return found


def line_of(menu):
    """A number (and connection) that reaches ``menu``'s live version, or None."""
    claims = menu.live_version.definition.get("menu") or {}
    free = _unclaimed_number()
    candidates = [Line(menu, number) for number in claims.get("numbers") or []]
    candidates += [Line(menu, free, cid) for cid in claims.get("connection_ids") or []]
    candidates.append(Line(menu, free))  # the default menu answers numbers no menu claims
    for line in candidates:
        if line.to is None:
            continue
        version = find_menu_version(to=line.to, connection_id=line.connection_id)
        if version is not None and version.pk == menu.live_version_id:
            return line
    return None


def _unclaimed_number():
    claimed = set()
    for menu in Menu.objects.filter(is_active=True, live_version__isnull=False).select_related(
        "live_version"
    ):
        claimed.update((menu.live_version.definition.get("menu") or {}).get("numbers") or [])
    return next((number for number in NUMBER_CANDIDATES if number not in claimed), None)


def start_times(rng, count, days, *, now, tz):
    """``count`` start times, sorted, over the ``days`` days ending ``now`` in ``tz`` (today is
    the last of them, up to ``now`` less NEWEST), each local hour as busy as HOUR_WEIGHTS and
    WEEKDAY_WEIGHTS make it."""
    until = now - NEWEST
    first_day = until.astimezone(tz).date() - timedelta(days=days - 1)
    moment = timezone.make_aware(datetime.combine(first_day, time()), tz)
    slots, weights = [], []
    while moment < until:  # whole hours from local midnight, the last one cut at ``until``
        end = min(moment + HOUR, until)
        local = moment.astimezone(tz)
        share = (end - moment) / HOUR
        slots.append((moment, end))
        weights.append(HOUR_WEIGHTS[local.hour] * WEEKDAY_WEIGHTS[local.weekday()] * share)
        moment = end
    picked = rng.choices(slots, weights, k=count)
    return sorted(begin + (end - begin) * rng.random() for begin, end in picked)


def seed_calls(count, days, *, slug=None, seed=None, jobs=None, now=None, tz=None, progress=None):
    """Play ``count`` calls spread over the past ``days`` days; returns a SeedReport.

    ``seed`` makes the run reproducible: the callers' choices, menus and numbers, and the
    start times (for the same ``now``). ``jobs``: how many processes play calls side by side
    (default 1; more is faster only with free cores and a database whose writers need not take
    turns, such as PostgreSQL). ``progress(done, count)`` is called after each call.
    Raises SeedError, before any call, for bad arguments or nothing to call.
    """
    if not isinstance(count, int) or count < 1:
        raise SeedError(f"the number of calls must be at least 1, not {count}")
    if not isinstance(days, int) or days < 1:
        raise SeedError(f"the number of days must be at least 1, not {days}")
    jobs = check_jobs(jobs)
    plan = Plan(
        seed=secrets.randbelow(10**9) if seed is None else seed,
        lines=lines_for(slug),
        count=count,
    )
    now = now or timezone.now()
    tz = tz or timezone.get_current_timezone()
    plan.times = start_times(random.Random(f"{plan.seed}:times"), count, days, now=now, tz=tz)
    callers = random.Random(f"{plan.seed}:callers")
    plan.callers = [
        f"+1555{callers.randrange(2_000_000, 10_000_000)}" for _ in range(max(20, count // 3))
    ]
    report = SeedReport(seed=plan.seed, since=plan.times[0], until=plan.times[-1], jobs=jobs)
    began = clock.monotonic()

    def played(outcome, slug, problems):
        report.calls += 1
        report.outcomes[outcome] += 1
        report.menus[slug] += 1
        report.problems.extend(problems)
        if progress is not None:
            progress(report.calls, count)

    if jobs == 1:
        _play_lane(plan, 0, 1, played)
    else:
        lanes.run(jobs, lambda lane, emit: _play_lane(plan, lane, jobs, emit), played, SeedError)
    report.rolled_up = roll_up()
    report.seconds = clock.monotonic() - began
    return report


@dataclass
class Plan:
    """What every lane needs to play its share of the calls, the same in each."""

    seed: int
    lines: list
    count: int
    times: list = field(default_factory=list)
    callers: list = field(default_factory=list)


def _play_lane(plan, lane, jobs, emit):
    """Play the calls ``lane``, ``lane + jobs``, ... of ``plan``; ``emit(outcome, menu slug,
    problems)`` after each. A call's choices come from its own ``random.Random``, so a call
    is the same whichever lane plays it."""
    with simulated_site(connection_id=CONNECTION_ID) as simulator:
        for index in range(lane, plan.count, jobs):
            rng = random.Random(f"{plan.seed}:call:{index}")
            line = rng.choice(plan.lines)
            problems = []
            call = _play(simulator, rng, line, rng.choice(plan.callers), problems)
            try:
                shift_call(call, plan.times[index] - call.started_at)
            except ValueError:  # a roll-up running beside this one took it first
                problems.append(f"call {call.pk} was rolled up before it could move")
            emit(call.outcome or "not counted", line.menu.slug, problems)


def check_jobs(jobs):
    if jobs is None:
        return 1
    if not isinstance(jobs, int) or jobs < 1:
        raise SeedError(f"the number of jobs must be at least 1, not {jobs}")
    why_not = lanes.why_not() if jobs > 1 else None
    if why_not is not None:
        raise SeedError(f"calls cannot be played in {jobs} processes: {why_not}")
    return jobs


def _play(simulator, rng, line, from_, problems):
    """One call through ``line``, with an outage now and then; returns its Call once ended."""
    outage = rng.random() < OUTAGE_SHARE
    if outage:
        for action in OUTAGE_ACTIONS[rng.choice(sorted(OUTAGE_ACTIONS))]:
            # The first try and every retry the app makes are refused: it gives up.
            simulator.faults.fail_command(action, 503, times=ivr_settings.MAX_RETRIES + 1)
    caller = RandomCaller(rng)
    simulated = simulator.start_call(
        from_=from_, to=line.to, connection_id=line.connection_id, caller=caller
    )
    try:
        simulator.wait_until(
            lambda: simulated.settled or _silent(simulated) or refused_start(simulated.transcript),
            CALL_SECONDS,
            message="the call to end",
        )
        refused = None if simulated.settled else refused_start(simulated.transcript)
        if refused is not None:
            simulated.hang_up()
            raise SeedError(refused_start_problem(refused, simulated.webhook_url))
        if not simulated.settled:  # nothing more is coming: the caller gives up
            simulated.hang_up()
            simulated.wait_for_end(CALL_SECONDS)
    except AssertionError as exc:  # SimulatorTimeout
        simulated.hang_up()
        problems.append(f"call to {line.to} did not end in time: {exc}")
        simulator.wait_until(lambda: simulated.settled, CALL_SECONDS, message="the hang-up")
    finally:
        simulator.faults.clear()
    return Call.objects.get(call_control_id=simulated.call_control_id)


def _silent(simulated):
    """Nothing plays, nothing waits for the caller and no webhook is on its way: with eager
    tasks the app has said all it will say until the caller does something."""
    return (
        simulated.outcome is None
        and simulated.pending_webhooks == 0
        and simulated.prompt is None
        and simulated.media is None
        and bool(simulated.webhooks)
    )
