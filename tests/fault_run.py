"""A black-box fault run: many concurrent simulated calls through the production stack while
Telnyx misbehaves and the machine loses parts of it, then an account of what came through.

The stack: gunicorn with DEBUG off, two Celery workers (each with its rescue loop, the
dispatcher of events and commands the queue did not deliver), a redis-server of the run's own,
and PostgreSQL (the database Django is connected to when ``run`` is called: the bench's own, or
the test database). Telnyx is the call simulator, its callers ``RandomCaller``s on random
paths: valid keys, invalid keys, silence, hang-ups, AI results.

The faults, each optional (``FaultPlan``):
- every webhook delivered ``copies`` more times, and in shuffled order (each one swapped with
  the next of its call);
- a ``command_share`` of command tries refused with 500, with 429 and Retry-After, or acted on
  and never answered;
- a worker SIGKILLed while it runs a task, then started again (as compose's ``restart`` or
  ``dev.py run`` would);
- Redis stopped for ``redis_down_for`` seconds, then started again on the same port;
- every PostgreSQL connection of the stack killed with ``pg_terminate_backend``.

Used by ``bench/faults.py`` (the figures) and ``tests/test_fault_suite.py`` (a few calls,
with assertions). Every process is stopped by the PID this run started.
"""

import math
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.db import connection
from django.urls import reverse

from telnyx_ivr.calls.seeding import lines_for
from telnyx_ivr.models import Call, Command, WebhookEvent
from telnyx_ivr.simulator import TelnyxSimulator
from telnyx_ivr.simulator.random_caller import RandomCaller

from .celery_worker import WorkerProcess
from .stack import ProductionServer, RedisServer

# Telnyx gives up on a webhook not answered within 2 s; an answer that slow counts as failed.
SLOW_ANSWER_SECONDS = 2.0
# A caller who hears nothing for this long hangs up: counted as given up, a failure.
PATIENCE_SECONDS = 30.0
# The goal: every event of a broker outage processed within this long of the broker's return.
AFTER_BROKER_BACK_SECONDS = 15
WORKERS = 2
# Commands caused by what arrived in a Redis outage still come this long after it (the rescue
# loop's wait): counted with the outage.
OUTAGE_TAIL = timedelta(seconds=5)


@dataclass
class FaultPlan:
    calls: int = 100
    copies: int = 1  # extra deliveries of every webhook; 0: none
    shuffle: bool = True
    command_share: float = 0.2  # of command tries refused (500, 429, no answer)
    kill_worker_at: float | None = 5.0  # seconds after the first call; None: no kill
    terminate_db_at: float | None = 10.0
    redis_down_at: float | None = 15.0
    redis_down_for: float = 10.0
    spread_seconds: float = 30.0  # the calls start evenly over this time, faults and all
    deadline_seconds: float = 180.0  # for every call to end
    seed: int = 2026

    def describe(self):
        faults = []
        if self.copies:
            faults.append(f"every webhook x{self.copies + 1}")
        if self.shuffle:
            faults.append("shuffled")
        if self.command_share:
            faults.append(f"{self.command_share:.0%} of command tries refused")
        if self.kill_worker_at is not None:
            faults.append(f"a worker SIGKILLed at {self.kill_worker_at:g} s")
        if self.redis_down_at is not None:
            faults.append(f"Redis down {self.redis_down_for:g} s from {self.redis_down_at:g} s")
        if self.terminate_db_at is not None:
            faults.append(f"database connections killed at {self.terminate_db_at:g} s")
        return f"{self.calls} calls; " + (", ".join(faults) or "no faults")


@dataclass
class FaultReport:
    plan: FaultPlan
    seconds: float = 0.0
    calls: int = 0
    calls_ended: int = 0
    calls_given_up: int = 0  # the caller hung up after PATIENCE_SECONDS of silence
    calls_ended_in_log: int = 0
    outcomes: Counter = field(default_factory=Counter)
    events_sent: int = 0
    events_accepted: int = 0
    events_stored: int = 0
    events_processed: int = 0
    events_failed: int = 0
    events_pending: int = 0
    events_lost: int = 0  # accepted (2xx) but not stored
    deliveries: int = 0
    answers: Counter = field(default_factory=Counter)  # status (or "no answer") -> count
    answer_ms: dict = field(default_factory=dict)  # p50/p95/p99/max
    slow_answers: int = 0
    refusals: list = field(default_factory=list)  # deliveries not answered 2xx, in words
    commands_acted_on: int = 0
    commands_refused: Counter = field(default_factory=Counter)
    commands_twice: int = 0  # one command_id acted on twice
    events_acted_on_twice: int = 0  # one event caused the same action under two ids
    commands_pending: int = 0
    latency_ms: dict = field(default_factory=dict)
    latency_ms_by_second: dict = field(default_factory=dict)  # second of the run -> p50
    latency_ms_outside_outage: dict = field(default_factory=dict)
    longest_event_wait_s: float = 0.0
    started_at: datetime | None = None
    broker_down_at: datetime | None = None
    broker_back_at: datetime | None = None
    after_broker_back_s: float | None = None  # last event of the outage processed, after
    call_ids: list = field(default_factory=list)
    worker_kills: int = 0
    killed_mid_task: int = 0
    worker_exits: int = 0  # exits nobody asked for
    worker_errors: list = field(default_factory=list)  # why a worker died, in Celery's words
    worker_criticals: list = field(default_factory=list)  # CRITICAL lines it lived through
    worker_tracebacks: int = 0  # errors a worker logged and lived through
    problems: list = field(default_factory=list)

    def goal_missed(self):
        """What of the issue's goal this run missed, in words; [] when it was met."""
        missed = []
        if self.events_lost:
            missed.append(f"{self.events_lost} events lost")
        if self.commands_twice or self.events_acted_on_twice:
            missed.append("a command took effect twice")
        if self.slow_answers:
            missed.append(f"{self.slow_answers} webhook answers slower than 2 s or none")
        fivexx = sum(n for status, n in self.answers.items() if str(status).startswith("5"))
        if fivexx:
            missed.append(f"{fivexx} webhook answers 5xx")
        if (self.after_broker_back_s or 0) > AFTER_BROKER_BACK_SECONDS:
            missed.append(
                f"an event of the outage processed {self.after_broker_back_s:.0f} s after Redis "
                "came back"
            )
        if self.calls_ended < self.calls or self.calls_given_up:
            missed.append(
                f"{self.calls - self.calls_ended} calls did not end, "
                f"{self.calls_given_up} callers gave up in silence"
            )
        if self.events_pending or self.commands_pending:
            missed.append(f"{self.events_pending} events, {self.commands_pending} commands pending")
        if self.worker_exits or self.worker_errors:
            missed.append(f"{self.worker_exits} worker exits")
        return missed

    def lines(self):
        """The report as printed by bench/faults.py."""
        pct = lambda d: ", ".join(f"{k} {v:,.0f}" for k, v in d.items()) or "none"  # noqa: E731
        return [
            self.plan.describe(),
            f"run: {self.seconds:.1f} s",
            f"calls ended: {self.calls_ended}/{self.calls} (ended in the call log: "
            f"{self.calls_ended_in_log}; callers who gave up after {PATIENCE_SECONDS:g} s of "
            f"silence: {self.calls_given_up}); outcomes: {dict(sorted(self.outcomes.items()))}",
            f"events: {self.events_sent} sent, {self.events_accepted} accepted, "
            f"{self.events_stored} stored, {self.events_processed} processed, "
            f"{self.events_failed} failed, {self.events_pending} pending, "
            f"{self.events_lost} lost",
            f"webhook answers ({self.deliveries} deliveries): "
            + ", ".join(f"{k}: {v}" for k, v in sorted(self.answers.items(), key=str))
            + f"; answer time ms: {pct(self.answer_ms)}; slower than "
            f"{SLOW_ANSWER_SECONDS:g} s: {self.slow_answers}",
            f"commands: {self.commands_acted_on} acted on, refused "
            f"{dict(sorted(self.commands_refused.items()))}, executed twice: "
            f"{self.commands_twice} (one command_id) + {self.events_acted_on_twice} "
            f"(one event, two ids), still pending: {self.commands_pending}",
            f"webhook -> command latency ms: {pct(self.latency_ms)}"
            + (
                f"; outside the Redis outage: {pct(self.latency_ms_outside_outage)}"
                if self.broker_down_at
                else ""
            ),
            "median latency ms by 5 s of the run: "
            + ", ".join(f"{k}-{k + 5} s {v:,.0f}" for k, v in self.latency_ms_by_second.items()),
            f"longest any event waited (stored -> processed): {self.longest_event_wait_s:.1f} s"
            + (
                f"; last event of the outage processed {self.after_broker_back_s:.1f} s after "
                "Redis came back"
                if self.after_broker_back_s is not None
                else ""
            ),
            f"workers: {self.worker_kills} SIGKILLed ({self.killed_mid_task} mid-task), "
            f"{self.worker_exits} exits besides, {self.worker_tracebacks} tracebacks logged"
            + "".join(f"\n  died: {e}" for e in self.worker_errors)
            + "".join(f"\n  lived through: {e}" for e in self.worker_criticals),
            *(f"not taken: {r}" for r in self.refusals[:10]),
            *(f"problem: {p}" for p in self.problems),
        ]


def percentiles(values, points=(50, 95, 99)):
    """{"p50": .., "p95": .., "p99": .., "max": ..} by nearest rank; {} without values."""
    ordered = sorted(values)
    if not ordered:
        return {}
    found = {f"p{p}": ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)] for p in points}
    found["max"] = ordered[-1]
    return found


class Workers:
    """The run's Celery workers; a worker that exits is started again, and counted, unless
    the run killed it."""

    def __init__(self, folder, broker_url, queue, env):
        self.folder, self.broker_url, self.queue, self.env = folder, broker_url, queue, env
        self.running = {}
        self.retired = []
        self.kills = self.mid_task = self.exits = 0
        self._count = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._watch = threading.Thread(target=self._supervise, daemon=True, name="fault-workers")

    def start(self, count):
        for _ in range(count):
            self._spawn()
        for worker in list(self.running.values()):
            worker.wait_ready()
        self._watch.start()

    def _spawn(self):
        self._count += 1
        name = f"w{self._count}"
        worker = WorkerProcess(
            broker_url=self.broker_url,
            queue=self.queue,
            log_path=self.folder / f"{name}.log",
            env=self.env,
            name=name,
        )
        self.running[name] = worker
        return worker

    def kill_one_mid_task(self, within=3.0):
        """SIGKILL a worker while its log shows a task received and not finished (or, if
        none is busy within ``within`` s, any worker), then start a new one."""
        with self._lock:
            deadline = time.monotonic() + within
            name, busy = None, False
            while time.monotonic() < deadline and not busy:
                for candidate, worker in self.running.items():
                    if _busy(worker.output()):
                        name, busy = candidate, True
                        break
                else:
                    time.sleep(0.002)
            name = name or next(iter(self.running))
            victim = self.running.pop(name)
            victim.process.kill()
            victim.process.wait()
            self.retired.append(victim)
            self.kills += 1
            self.mid_task += busy
            self._spawn()

    def _supervise(self):
        while not self._stopping.wait(0.5):
            with self._lock:
                for name, worker in list(self.running.items()):
                    if worker.process.poll() is not None:
                        self.exits += 1
                        self.retired.append(self.running.pop(name))
                        self._spawn()

    def logs(self):
        return {w.log_path.name: w.output() for w in [*self.retired, *self.running.values()]}

    def lines_with(self, text):
        return [
            f"{name}: {line.strip()[:160]}"
            for name, log in self.logs().items()
            for line in log.splitlines()
            if text in line
        ]

    def stop(self):
        self._stopping.set()
        if self._watch.is_alive():
            self._watch.join(5)
        for worker in [*self.running.values(), *self.retired]:
            worker.stop()


def _busy(log):
    """Whether a solo worker's log ends inside a task: received, not yet finished."""
    received = log.count("] received")
    finished = sum(log.count(word) for word in ("] succeeded in", "] retry:", "] raised"))
    return received > finished


def run(plan, folder, say=print):
    """Play ``plan`` on the stack, with ``folder`` for its logs; returns a FaultReport."""
    folder = Path(folder)
    lines = lines_for()
    report = FaultReport(plan=plan)
    redis = RedisServer(folder).start()
    sim = TelnyxSimulator(command_id_window=60.0).start()
    queue = f"telnyx-ivr-faults-{uuid.uuid4().hex[:8]}"
    env = {
        "CELERY_BROKER_URL": redis.url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "TELNYX_API_BASE_URL": sim.api_base_url,
        "TELNYX_API_KEY": sim.api_key,
        "TELNYX_PUBLIC_KEY": sim.public_key,
        "IVR_LOG_LEVEL": "WARNING",
    }
    web = ProductionServer(folder / "var", folder / "gunicorn.log", sim.public_key)
    web.env.update(env)
    workers = Workers(folder, redis.url, queue, env)
    try:
        web.start()
        sim.webhook_url = web.url + reverse("telnyx_ivr:webhook")
        workers.start(WORKERS)
        say(f"stack up: gunicorn {web.url}, Redis {redis.url}, {WORKERS} workers")
        _play(plan, sim, lines, redis, workers, report, say)
        _settle(report)
        _account(report, sim, workers, redis)
    finally:
        workers.stop()
        web.stop()
        sim.stop()
        redis.stop()
    return report


def _play(plan, sim, lines, redis, workers, report, say):
    if plan.copies:
        sim.faults.duplicate_webhook("*", times=10**9, copies=plan.copies)
    if plan.shuffle:
        sim.faults.reorder_webhook("*", times=10**9)
    if plan.command_share:
        sim.faults.fail_commands_at_random(plan.command_share, seed=plan.seed)
    with connection.cursor() as cursor:  # this thread's connection, which must survive
        cursor.execute("SELECT pg_backend_pid()")
        spared = cursor.fetchone()[0]
    began = time.monotonic()
    report.started_at = datetime.now(UTC)
    timeline = threading.Thread(
        target=_faults_in_time,
        args=(plan, began, redis, workers, report, spared, say),
        daemon=True,
    )
    timeline.start()
    calls = []
    for index in range(plan.calls):
        rng = random.Random(f"{plan.seed}:call:{index}")
        line = rng.choice(lines)
        calls.append(
            sim.start_call(
                from_=f"+1555{rng.randrange(2_000_000, 10_000_000)}",
                to=line.to,
                connection_id=line.connection_id,
                caller=RandomCaller(rng),
            )
        )
        time.sleep(plan.spread_seconds / plan.calls)
    given_up = wait_for_calls(sim, calls, began + plan.deadline_seconds)
    report.problems.extend(given_up.values())
    timeline.join()
    record_calls(report, calls, len(given_up), began)


def wait_for_calls(sim, calls, deadline):
    """Wait until every call has settled or ``deadline`` (monotonic) has passed; a caller
    who hears nothing for PATIENCE_SECONDS hangs up. Returns {call id: what they last
    heard} for the callers who gave up."""
    given_up = {}
    while time.monotonic() < deadline:
        waiting = [call for call in calls if not call.settled]
        if not waiting:
            break
        for call in waiting:
            if call.outcome is None and _silent_for(call) > PATIENCE_SECONDS:
                given_up[call.call_control_id] = _last_heard(call)
                sim.hang_up(call)
        time.sleep(0.2)
    return given_up


def record_calls(report, calls, given_up, began):
    """The calls' part of ``report``: how long they took (since ``began``, a monotonic
    time), how many there were, ended and given up, and the ones that had not ended."""
    report.seconds = time.monotonic() - began
    report.calls = len(calls)
    report.calls_ended = sum(call.outcome is not None for call in calls)
    report.calls_given_up = given_up
    report.call_ids = [call.call_control_id for call in calls]
    unended = [call.call_control_id for call in calls if call.outcome is None]
    if unended:
        report.problems.append(f"{len(unended)} calls had not ended: {unended[:5]}")


def _last_heard(call):
    """What a caller who gave up last heard and sent, to find where the call stalled."""
    events = [f"{w.t:.1f} s {w.event_type} ({w.status or w.error})" for w in call.webhooks[-3:]]
    commands = [f"{c.t:.1f} s {c.action} ({c.fault or c.status})" for c in call.commands[-3:]]
    return (
        f"caller {call.call_control_id} gave up; last webhooks: {', '.join(events) or 'none'}; "
        f"last commands: {', '.join(commands) or 'none'}"
    )


def _silent_for(call):
    """Seconds since the simulator last heard from or sent anything on ``call``."""
    now = datetime.now(UTC)
    last = max(
        [w.sent_at for w in call.webhooks] + [record.received_at for record in call.commands],
        default=now,
    )
    return (now - last).total_seconds()


def _faults_in_time(plan, began, redis, workers, report, spared, say):
    moments = []
    if plan.kill_worker_at is not None:
        moments.append((plan.kill_worker_at, "kill"))
    if plan.terminate_db_at is not None:
        moments.append((plan.terminate_db_at, "database"))
    if plan.redis_down_at is not None:
        moments.append((plan.redis_down_at, "redis down"))
        moments.append((plan.redis_down_at + plan.redis_down_for, "redis up"))
    for at, what in sorted(moments):
        time.sleep(max(began + at - time.monotonic(), 0))
        if what == "kill":
            workers.kill_one_mid_task()
            say(f"{at:5.1f} s: SIGKILLed a worker ({'mid-task' if workers.mid_task else 'idle'})")
        elif what == "database":
            killed = _terminate_connections(spared)
            say(f"{at:5.1f} s: killed {killed} database connections")
        elif what == "redis down":
            redis.stop()
            report.broker_down_at = datetime.now(UTC)
            say(f"{at:5.1f} s: Redis stopped")
        else:
            redis.start()
            report.broker_back_at = datetime.now(UTC)
            say(f"{at:5.1f} s: Redis started again")


def _terminate_connections(spared):
    """Kill every connection to this database but the run's own (``spared`` and this one)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid <> %s",
                [spared],
            )
            return cursor.fetchone()[0]
    finally:
        connection.close()  # this thread's; it is done


def _settle(report, timeout=30.0):
    """Wait until no event and no command is pending (the rescue loop's last round)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not (
            WebhookEvent.objects.filter(status=WebhookEvent.Status.PENDING).exists()
            or Command.objects.filter(status=Command.Status.PENDING).exists()
        ):
            return
        time.sleep(0.25)
    report.problems.append(f"events or commands still pending {timeout:g} s after the calls")


def _account(report, sim, workers, redis):
    deliveries = sim.webhooks
    report.deliveries = len(deliveries)
    sent = {w.event_id for w in deliveries}
    accepted = {w.event_id for w in deliveries if w.status and 200 <= w.status < 300}
    report.events_sent, report.events_accepted = len(sent), len(accepted)
    report.answers = Counter(w.status or "no answer" for w in deliveries)
    answered = [w.answer_seconds * 1000 for w in deliveries if w.answer_seconds is not None]
    report.answer_ms = percentiles(answered)
    report.refusals = [
        f"{(w.sent_at - report.started_at).total_seconds():.1f} s {w.event_type} -> "
        f"{w.status or 'no answer'}: {w.answer or w.error or ''}"
        for w in deliveries
        if not (w.status and 200 <= w.status < 300)
    ]
    report.slow_answers = sum(
        w.answer_seconds is None or w.answer_seconds > SLOW_ANSWER_SECONDS for w in deliveries
    )
    stored = WebhookEvent.objects.filter(event_id__in=sent)
    statuses = Counter(stored.values_list("status", flat=True))
    report.events_stored = sum(statuses.values())
    report.events_processed = statuses[WebhookEvent.Status.PROCESSED]
    report.events_failed = statuses[WebhookEvent.Status.FAILED]
    report.events_pending = statuses[WebhookEvent.Status.PENDING]
    stored_ids = set(stored.values_list("event_id", flat=True))
    report.events_lost = len(accepted - stored_ids)
    waits = [
        (processed - received).total_seconds()
        for received, processed in stored.exclude(processed_at=None).values_list(
            "received_at", "processed_at"
        )
    ]
    report.longest_event_wait_s = max(waits, default=0.0)
    if report.broker_back_at is not None:
        back = report.broker_back_at
        outage = stored.filter(received_at__lt=back).exclude(processed_at=None)
        last = max(outage.values_list("processed_at", flat=True), default=None)
        if last is not None:
            report.after_broker_back_s = max((last - back).total_seconds(), 0.0)

    commands = sim.commands
    acted = [r for r in commands if r.status == 200 and not r.duplicate]
    report.commands_acted_on = len(acted)
    report.commands_refused = Counter(r.fault for r in commands if r.fault)
    report.commands_twice = sum(n - 1 for n in Counter(r.command_id for r in acted).values())
    caused = Counter(
        Command.objects.filter(
            status=Command.Status.SENT, command_id__in=[r.command_id for r in acted]
        )
        .exclude(event=None)
        .values_list("event_id", "action")
    )
    report.events_acted_on_twice = sum(n - 1 for n in caused.values())
    report.commands_pending = Command.objects.filter(status=Command.Status.PENDING).count()
    first = {}
    for record in commands:
        first.setdefault(record.command_id, record)
    timed = [r for r in first.values() if r.reply_seconds is not None]
    report.latency_ms = percentiles([r.reply_seconds * 1000 for r in timed])
    down, back = report.broker_down_at, report.broker_back_at
    report.latency_ms_outside_outage = percentiles(
        [
            r.reply_seconds * 1000
            for r in timed
            if down is None or not down <= r.received_at <= (back or r.received_at) + OUTAGE_TAIL
        ]
    )
    by_second = {}
    for r in timed:
        second = int((r.received_at - report.started_at).total_seconds() // 5 * 5)
        by_second.setdefault(second, []).append(r.reply_seconds * 1000)
    report.latency_ms_by_second = {
        k: percentiles(v)["p50"] for k, v in sorted(by_second.items()) if k >= 0
    }
    calls = Call.objects.filter(call_control_id__in=report.call_ids)
    report.calls_ended_in_log = calls.filter(status=Call.Status.ENDED).count()
    report.outcomes = Counter(calls.values_list("outcome", flat=True))
    report.worker_kills, report.killed_mid_task = workers.kills, workers.mid_task
    report.worker_exits = workers.exits
    report.worker_errors = workers.lines_with("Unrecoverable error")
    report.worker_criticals = [
        line for line in workers.lines_with("CRITICAL") if line not in report.worker_errors
    ]
    report.worker_tracebacks = sum(log.count("Traceback") for log in workers.logs().values())
