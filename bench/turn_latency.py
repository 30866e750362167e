"""What does one step of a call cost, and how long does a caller wait for it? Latency and cost
per call step through the real stack, with no faults.

For each configuration it starts a stack of its own, plays N concurrent simulated calls through
it and prints: webhook -> command latency (p50/p95/p99/max, from the simulator's send of a
webhook to the arrival of the command it caused), the Celery workers' CPU time (user+system)
per webhook event processed, the SQL statements the workers ran per event (and the web
server's per webhook delivery), the peak RSS of a web and of a worker process, and the
account of tests/fault_run.py: events sent / stored / processed / lost (accepted with 2xx, not
stored), commands executed twice, calls ended. Then a Markdown table of all configurations.

The stacks (each run its own, on loopback, every process stopped by its PID; logs in a temp
folder whose path is printed):
- ``--broker redis``: gunicorn (DEBUG off, tests/stack.py ProductionServer, 2 workers), a
  redis-server of its own on a free port, PostgreSQL (a database of its own,
  ``telnyx_ivr_bench_turns``, dropped and made anew each run), ``--workers`` Celery workers;
- ``--broker folder``: what ``python3 dev.py run`` uses: ``manage.py runserver --noreload``
  (DEBUG on), the folder broker and a SQLite file under an IVR_VAR_DIR of the run's own.
Workers run as tests/celery_worker.py starts them (``--pool solo``, no heartbeat, gossip or
mingle) through bench/turn_worker.py, which counts their statements; gunicorn counts through
bench/turn_gunicorn.py, runserver through bench/turn_web.py (bench/turn_counting.py).

The callers (bench/turn_stack.py TurnCaller): each call goes to the classic tree example menu,
presses 9 (the menu again) 2 to 5 times, then carries on as tests/fault_run.py's seeded
RandomCaller does (a valid key mostly: a transfer, the support menu, an operator; sometimes an
invalid key, silence or a hang-up); it thinks 1 to 3 s before each key. The calls start evenly
over ``--spread`` seconds (default 0.6 * sqrt(N): 6 s for 100, 19 s for 1000). Webhooks go out
from 8 simulator threads (``--senders``; each call's in order); 1 is the simulator as shipped.

``--history``: a few calls (``--history-calls 5``) that each go round the menu until they have
had ``--history-events`` (400) events, thinking 0.05 to 0.15 s, and a table of latency p50,
task CPU and statements per step by the call's event number (1-50, 51-100, 101-200, ...): does
a step cost more when the call has a long history?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python \\
        bench/turn_latency.py --broker redis --calls 10,100 --workers 2
    ... bench/turn_latency.py --broker redis --calls 100 --workers 1,2,4
    .venv/bin/python bench/turn_latency.py --broker folder --calls 10 --workers 1
    DATABASE_URL=... .venv/bin/python bench/turn_latency.py --history [--history-calls 5]

DATABASE_URL names the PostgreSQL server (any database on it; redis mode only). Exits 1 when an
event was lost, a command took effect twice, or a call did not end (or its caller gave up
after 30 s of silence).
"""

import argparse
import json
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(1, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

BENCH_DB = "telnyx_ivr_bench_turns"
MENU = "classic-tree"
MIB = 1024 * 1024
IDLE_SECONDS = 3.0
SHOWN_GIVEN_UP = 5
# After the calls, the workers get this long to finish what is queued before the account.
SETTLE_SECONDS = 180.0


def spread_for(calls):
    return round(0.6 * math.sqrt(calls), 1)


def buckets(last):
    """(1, 50), (51, 100), (101, 200), (201, 400), ... up to ``last``."""
    found, low, high = [], 1, 50
    while low <= last:
        found.append((low, high))
        low, high = high + 1, high * 2
    return found


def numbers(text, kind=int):
    try:
        return [kind(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma list of numbers: {text!r}") from None


# --- the parent: one child process per configuration --------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--broker", choices=("redis", "folder"), default="redis")
    parser.add_argument("--calls", type=numbers, default=[10, 100], help="a comma list")
    parser.add_argument("--workers", type=numbers, default=[2], help="a comma list")
    parser.add_argument("--spread", type=float, help="seconds the calls start over")
    parser.add_argument("--think", type=lambda t: numbers(t, float), help="LOW,HIGH seconds")
    parser.add_argument("--senders", type=int, default=8, help="simulator webhook threads")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--deadline", type=float, help="seconds for every call to end")
    parser.add_argument("--history", action="store_true")
    parser.add_argument("--history-calls", type=int, default=5)
    parser.add_argument("--history-events", type=int, default=400)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--profile", action="store_true", help="workers under cProfile (slower): where time goes"
    )
    args = parser.parse_args()
    if args.one:
        sys.exit(one(json.loads(args.one)))
    if args.think is not None and len(args.think) != 2:
        parser.error("--think takes LOW,HIGH")
    if min(args.calls + args.workers) < 1 or args.senders < 1:
        parser.error("--calls, --workers and --senders must be at least 1")

    server = os.environ.get("DATABASE_URL", "")
    if args.broker == "redis" and not server.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL server: redis mode runs on PostgreSQL.")
    if args.broker == "folder" and max(args.workers) > 1:
        print("note: more than one worker on SQLite (project/settings.py: it wants PostgreSQL)")
    top = Path(tempfile.mkdtemp(prefix="telnyx-ivr-turns-"))
    print(f"logs in {top}", flush=True)

    configs = []
    if args.history:
        loops = max(args.history_events // 2, 1)
        configs.append(
            {
                "history": True,
                "calls": args.history_calls,
                "workers": args.workers[0],
                "loops": [loops, loops],
                "think": args.think or [0.05, 0.15],
                "spread": args.spread if args.spread is not None else 1.0,
            }
        )
    else:
        for calls in args.calls:
            for workers in args.workers:
                configs.append(
                    {
                        "history": False,
                        "calls": calls,
                        "workers": workers,
                        "loops": [2, 5],
                        "think": args.think or [1.0, 3.0],
                        "spread": args.spread if args.spread is not None else spread_for(calls),
                    }
                )
    results = []
    for number, config in enumerate(configs, 1):
        config.update(
            broker=args.broker,
            senders=args.senders,
            web_workers=args.web_workers,
            seed=args.seed,
            profile=args.profile,
            database_url=server,
            folder=str(top / f"run{number}"),
            result=str(top / f"run{number}.json"),
        )
        config["deadline"] = args.deadline or config["spread"] + 300.0
        results.append(run_child(config))
    print()
    print_tables(results)
    failed = [r for r in results if r.get("failed")]
    sys.exit(1 if failed else 0)


def run_child(config):
    what = f"{config['broker']}, {config['workers']} workers, {config['calls']} calls"
    print(f"\n=== {'history: ' if config['history'] else ''}{what} ===", flush=True)
    child = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--one",
                              json.dumps(config)])  # fmt: skip
    try:
        child.wait()
    except KeyboardInterrupt:
        child.terminate()  # it stops its stack (SIGTERM runs its cleanup)
        child.wait(60)
        raise
    try:
        return json.loads(Path(config["result"]).read_text())
    except (OSError, ValueError):
        return {"config": config, "failed": [f"the run exited with {child.returncode}"]}


def _ms(value):
    return "-" if value is None else f"{value:,.0f}"


def print_tables(results):
    print(
        "| broker | workers | calls | steps | latency p50 / p95 / p99 ms | worker CPU ms/step "
        "| queries/step | web queries/webhook | peak RSS web / worker MiB | lost | duplicates "
        "| calls not ended |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        c = r["config"]
        if "steps" not in r:
            print(f"| {c['broker']} | {c['workers']} | {c['calls']} | run failed: "
                  f"{'; '.join(r['failed'])} |||||||||")  # fmt: skip
            continue
        lat = r["latency_ms"]
        print(
            f"| {c['broker']}{' (history)' if c['history'] else ''} | {c['workers']} "
            f"| {c['calls']} | {r['steps']:,} "
            f"| {_ms(lat.get('p50'))} / {_ms(lat.get('p95'))} / {_ms(lat.get('p99'))} "
            f"| {r['worker_cpu_ms_per_step']:.1f} | {r['queries_per_step']:.1f} "
            f"| {r['web_queries_per_webhook']:.1f} "
            f"| {r['rss_mib'].get('web', 0):.0f} / {r['rss_mib'].get('worker', 0):.0f} "
            f"| {r['lost']} | {r['duplicates']} | {r['not_ended']} |"
        )
    print(
        "\n(steps: webhook events processed; latency: simulator's send of a webhook -> the "
        "command it caused; worker CPU: user+system of all workers over the run, idle time "
        "included; queries: statements through Django's cursors; calls not ended: not ended "
        "by the deadline, or their callers gave up after 30 s of silence)"
    )
    stacks = {r["config"]["broker"]: r.get("stack", "") for r in results}
    for broker, stack in stacks.items():
        print(f"\n{broker}: {stack}")
    for r in results:
        if r.get("buckets"):
            print()
            print_buckets(r)


def print_buckets(r):
    c = r["config"]
    print(
        f"By the call's event number ({c['calls']} calls of ~{r['steps'] // max(c['calls'], 1)} "
        f"events, {c['broker']}, {c['workers']} workers):\n"
    )
    print("| events | steps | latency p50 ms | task CPU ms/step | queries/step |")
    print("|---|---:|---:|---:|---:|")
    for b in r["buckets"]:
        print(
            f"| {b['from']}-{b['to']} | {b['events']:,} | {_ms(b['latency_p50'])} "
            f"| {b['cpu_ms']:.1f} | {b['queries']:.1f} |"
        )
    print(
        "\n(task CPU: the worker thread's CPU between a task's start and end, shared among the "
        "events the task was given; an event's task also applies the call's other pending "
        f"events. Events processed outside a task, by a rescue loop: {r['rescued_events']}.)"
    )


# --- the child: one configuration ---------------------------------------------------------------


def one(config):
    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    folder = Path(config["folder"])
    folder.mkdir(parents=True)
    print(f"logs in {folder}", flush=True)
    redis = None
    try:
        redis, bench_url = _environment(config, folder)
        result = _run(config, folder, redis, bench_url)
    finally:
        if redis is not None:
            redis.stop()
    Path(config["result"]).write_text(json.dumps(result))
    return 1 if result["failed"] else 0


def _environment(config, folder):
    """The bench process's environment, before Django is set up; returns (redis, db URL)."""
    os.environ["IVR_VAR_DIR"] = str(folder / "var")
    os.environ["IVR_LOG_LEVEL"] = "WARNING"
    if config["broker"] == "folder":
        for name in ("CELERY_BROKER_URL", "DATABASE_URL", "DJANGO_DEBUG"):
            os.environ.pop(name, None)  # what dev.py run leaves unset
        os.environ["CELERY_TASK_DEFAULT_QUEUE"] = "celery"
        return None, None
    from tests.stack import RedisServer, own_database

    os.environ["DATABASE_URL"] = config["database_url"]
    own_database(BENCH_DB)  # dropped and made anew; DATABASE_URL now names it
    bench_url = os.environ["DATABASE_URL"]
    redis = RedisServer(folder).start()
    os.environ.update(
        CELERY_BROKER_URL=redis.url,
        DJANGO_DEBUG="false",  # as compose runs the worker
        CELERY_TASK_DEFAULT_QUEUE=f"telnyx-ivr-turns-{uuid.uuid4().hex[:8]}",
    )
    return redis, bench_url


def _run(config, folder, redis, bench_url):
    import django

    django.setup()
    from django.core.management import call_command
    from django.urls import reverse
    from turn_stack import CountedWorkers, ParallelDelivery, RunServer, Sampler, Scheduler

    from telnyx_ivr import examples
    from telnyx_ivr.calls.seeding import lines_for
    from telnyx_ivr.menus.io import import_definition
    from telnyx_ivr.simulator import TelnyxSimulator
    from tests.fault_run import FaultPlan, FaultReport, _account, _settle
    from tests.stack import ProductionServer

    call_command("migrate", verbosity=0)
    for name in examples.names():
        import_definition(json.loads(examples.read(name)), publish=True)
    lines = lines_for(MENU)

    counts = folder / "counts"
    sim = TelnyxSimulator(command_id_window=60.0)
    ParallelDelivery.install(sim, config["senders"])
    sim.start()
    env = {
        **os.environ,
        "TELNYX_API_BASE_URL": sim.api_base_url,
        "TELNYX_API_KEY": sim.api_key,
        "TELNYX_PUBLIC_KEY": sim.public_key,
        "TURN_COUNT_DIR": str(counts),
        "TURN_TASK_COSTS": "1" if config["history"] else "0",
        "TURN_PROFILE": "1" if config["profile"] else "0",
        "PYTHONUNBUFFERED": "1",
    }
    if config["broker"] == "redis":
        web = ProductionServer(
            folder / "var", folder / "gunicorn.log", sim.public_key, workers=config["web_workers"]
        )
        web.env.update({k: v for k, v in env.items() if k.startswith(("TELNYX_", "TURN_"))})
        web.env.update(
            CELERY_BROKER_URL=redis.url,
            CELERY_TASK_DEFAULT_QUEUE=os.environ["CELERY_TASK_DEFAULT_QUEUE"],
            IVR_LOG_LEVEL="WARNING",
            GUNICORN_CMD_ARGS=f"-c {HERE / 'turn_gunicorn.py'}",
        )
        stack = (
            f"gunicorn ({config['web_workers']} workers, DEBUG off), redis-server, PostgreSQL "
            f"({BENCH_DB}); Celery workers --pool solo, DEBUG off"
        )
    else:
        web = RunServer(folder / "runserver.log", env)
        stack = (
            f"{RunServer.name}, DEBUG on, the example project's default broker "
            f"({_default_broker()}) and SQLite under the run's IVR_VAR_DIR; "
            "Celery workers --pool solo"
        )
    stack += f"; {config['senders']} simulator webhook senders"
    workers = CountedWorkers(folder, os.environ["CELERY_TASK_DEFAULT_QUEUE"], env)
    groups = {
        "web": lambda: [web.process.pid],
        "worker": workers.pids,
        "bench": lambda: [os.getpid()],
    }
    if redis is not None:
        groups["broker"] = lambda: [redis.process.pid]
    sampler = Sampler(groups, pg_dsn=bench_url)
    scheduler = Scheduler().start()
    plan = FaultPlan(
        calls=config["calls"], copies=0, shuffle=False, command_share=0, kill_worker_at=None,
        terminate_db_at=None, redis_down_at=None, spread_seconds=config["spread"],
        deadline_seconds=config["deadline"], seed=config["seed"],
    )  # fmt: skip
    report = FaultReport(plan=plan)
    try:
        web.start()
        sim.webhook_url = web.url + reverse("telnyx_ivr:webhook")
        workers.start(config["workers"])
        sampler.start()
        print(f"stack up: {stack}; web {web.url}", flush=True)
        from turn_counting import read

        time.sleep(1.5)  # the workers' first rescue rounds, and the counters' first writes
        sampler.mark()  # a few idle seconds first: what the workers cost doing nothing
        idle_before = read(counts, "worker")
        time.sleep(IDLE_SECONDS)
        idle = sampler.window()
        idle["queries"] = _delta(idle_before, read(counts, "worker"), "queries")
        sampler.mark()
        before = {kind: read(counts, kind) for kind in ("worker", "web")}
        calls, peak = _play(config, sim, lines, scheduler, report)
        settling = time.monotonic()
        _settle(report, timeout=SETTLE_SECONDS)
        settled = time.monotonic() - settling
        time.sleep(0.6)  # the counters' last writes
        window = sampler.window()
        after = {kind: read(counts, kind) for kind in ("worker", "web")}
        _account(report, sim, workers, redis)
        from telnyx_ivr.models import WebhookEvent

        rescued = WebhookEvent.objects.filter(
            event_id__in={w.event_id for w in sim.webhooks}, requeued_at__isnull=False
        ).count()
        result = _figures(config, report, window, before, after, peak, stack)
        result["rescued"] = rescued
        result["settle_s"] = settled
        result["idle_worker_cpu_ms_per_s"] = idle["cpu"].get("worker", 0) * 1000 / IDLE_SECONDS
        result["idle_worker_queries_per_s"] = idle["queries"] / IDLE_SECONDS
        if config["history"]:
            result.update(_by_event_number(calls, sim, counts))
        result["problems"] = report.problems[:10]
        _print_run(report, result, workers)
        return result
    finally:
        scheduler.stop()
        sampler.stop()
        workers.stop()
        web.stop()
        sim.stop()
        from django.db import connections

        connections.close_all()
        if config["profile"]:
            _print_profile(counts)


def _default_broker():
    """The broker URL and polling interval the example project gives a site with no broker."""
    from django.conf import settings

    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    return f"{settings.CELERY_BROKER_URL}, polled every {options.get('polling_interval')} s"


def _print_profile(counts, top=25):
    """The workers' profiles together: the functions that took the most time of their own."""
    import pstats

    paths = sorted(str(p) for p in counts.glob("worker-*.prof"))
    if not paths:
        print("no worker profile was written")
        return
    stats = pstats.Stats(*paths, stream=sys.stdout)
    print(f"\nworkers' main threads under cProfile ({len(paths)} profiles), by own time:")
    stats.sort_stats("tottime").print_stats(top)
    print("by cumulative time:")
    stats.sort_stats("cumulative").print_stats(top)


def _play(config, sim, lines, scheduler, report):
    """Start the calls evenly over the spread, wait for all to end (a caller silent for
    PATIENCE_SECONDS hangs up: given up); returns (calls, most calls in progress at once)."""
    from turn_stack import TurnCaller

    from tests.fault_run import PATIENCE_SECONDS, record_calls, wait_for_calls

    n, spread = config["calls"], config["spread"]
    calls = []
    peak = [0]
    done = threading.Event()

    def watch():
        while not done.wait(0.2):
            peak[0] = max(peak[0], sum(c.outcome is None for c in list(calls)))

    watcher = threading.Thread(target=watch, daemon=True)
    began = time.monotonic()
    report.started_at = datetime.now(UTC)
    watcher.start()
    for index in range(n):
        rng = random.Random(f"{config['seed']}:call:{index}")
        line = rng.choice(lines)
        caller = TurnCaller(
            rng,
            loops=rng.randint(*config["loops"]),
            think=tuple(config["think"]),
            scheduler=scheduler,
        )
        call = sim.start_call(
            from_=f"+1555{rng.randrange(2_000_000, 10_000_000)}",
            to=line.to,
            connection_id=line.connection_id,
            caller=caller,
        )
        caller.call = call
        calls.append(call)
        time.sleep(max(began + (index + 1) * spread / n - time.monotonic(), 0))
    given_up = wait_for_calls(sim, calls, began + config["deadline"])
    report.problems.extend(list(given_up.values())[:SHOWN_GIVEN_UP])
    if len(given_up) > SHOWN_GIVEN_UP:
        report.problems.append(
            f"... and {len(given_up) - SHOWN_GIVEN_UP} more callers gave up after "
            f"{PATIENCE_SECONDS:g} s of silence"
        )
    done.set()
    watcher.join()
    record_calls(report, calls, len(given_up), began)
    return calls, peak[0]


def _delta(before, after, key):
    return sum(data.get(key, 0) - before.get(pid, {}).get(key, 0) for pid, data in after.items())


def _figures(config, report, window, before, after, peak, stack):
    steps = report.events_processed
    per = max(steps, 1)
    cpu = window["cpu"]
    worker_queries = _delta(before["worker"], after["worker"], "queries")
    web_webhooks = _delta(before["web"], after["web"], "webhooks")
    web_queries = _delta(before["web"], after["web"], "queries")
    not_ended = report.calls - report.calls_ended + report.calls_given_up
    failed = []
    if report.events_lost:
        failed.append(f"{report.events_lost} events lost")
    if report.commands_twice or report.events_acted_on_twice:
        failed.append("a command took effect twice")
    if not_ended:
        failed.append(f"{not_ended} calls did not end (or their callers gave up)")
    return {
        "config": config,
        "stack": stack,
        "seconds": report.seconds,
        "steps": steps,
        "most_in_progress": peak,
        "latency_ms": report.latency_ms,
        "answer_ms": report.answer_ms,
        "worker_cpu_ms_per_step": cpu.get("worker", 0.0) * 1000 / per,
        "web_cpu_ms_per_step": cpu.get("web", 0.0) * 1000 / per,
        "cpu_s": cpu,
        "machine_busy": window["machine_busy"],
        "queries_per_step": worker_queries / per,
        "worker_queries": worker_queries,
        "worker_transactions_per_step": _delta(before["worker"], after["worker"], "transactions")
        / per,
        "worker_tasks": _delta(before["worker"], after["worker"], "tasks"),
        "web_webhooks": web_webhooks,
        "web_queries_per_webhook": web_queries / max(web_webhooks, 1),
        "web_transactions_per_webhook": _delta(before["web"], after["web"], "transactions")
        / max(web_webhooks, 1),
        "rss_mib": {kind: rss / MIB for kind, rss in window["rss"].items()},
        "lost": report.events_lost,
        "duplicates": report.commands_twice + report.events_acted_on_twice,
        "not_ended": not_ended,
        "failed": failed,
    }


def _by_event_number(calls, sim, counts):
    """Latency p50, task CPU and statements per step by the call's event number."""
    from turn_counting import task_records

    from telnyx_ivr.models import WebhookEvent
    from tests.fault_run import percentiles

    number = {}  # event_id -> its number in its call (first deliveries, in sending order)
    for call in calls:
        first = sorted((w for w in call.webhooks if w.attempt == 1), key=lambda w: w.sent_monotonic)
        for index, hook in enumerate(first, 1):
            number[hook.event_id] = index
    ranges = buckets(max(number.values(), default=1))

    def bucket(n):
        return next(i for i, (low, high) in enumerate(ranges) if low <= n <= high)

    latency = defaultdict(list)
    seen = set()
    for record in sim.commands:
        if record.command_id in seen or record.reply_seconds is None:
            continue
        seen.add(record.command_id)
        if record.in_reply_to_id in number:
            latency[bucket(number[record.in_reply_to_id])].append(record.reply_seconds * 1000)
    records = task_records(counts)
    pks = {pk for r in records for pk in r["events"]}
    event_ids = dict(WebhookEvent.objects.filter(pk__in=pks).values_list("pk", "event_id"))
    cpu, queries, events = defaultdict(float), defaultdict(float), defaultdict(int)
    for r in records:
        mine = [number[event_ids[pk]] for pk in r["events"] if event_ids.get(pk) in number]
        for n in mine:
            cpu[bucket(n)] += r["cpu"] / len(mine)
            queries[bucket(n)] += r["q"] / len(mine)
    processed = WebhookEvent.objects.filter(
        event_id__in=list(number), status=WebhookEvent.Status.PROCESSED
    ).values_list("pk", "event_id")
    rescued = 0
    for pk, event_id in processed:
        events[bucket(number[event_id])] += 1
        rescued += pk not in pks
    return {
        "rescued_events": rescued,
        "buckets": [
            {
                "from": low,
                "to": high,
                "events": events[i],
                "latency_p50": percentiles(latency[i]).get("p50"),
                "cpu_ms": cpu[i] * 1000 / max(events[i], 1),
                "queries": queries[i] / max(events[i], 1),
            }
            for i, (low, high) in enumerate(ranges)
        ],
    }


def _print_run(report, r, workers):
    print()
    for line in report.lines():
        print(line)
    cpu = r["cpu_s"]
    steps = max(r["steps"], 1)
    print(
        f"most calls in progress at once: {r['most_in_progress']}; steps (events processed): "
        f"{r['steps']:,} in {r['worker_tasks']:,} tasks, "
        f"{r['steps'] / (r['seconds'] + r['settle_s']):.1f} a second; queue drained "
        f"{r['settle_s']:.1f} s after the last call ended; "
        f"taken up by a rescue loop (pending over 3 s): {r['rescued']}; machine CPU busy "
        f"{r['machine_busy']:.0%} of {os.cpu_count()} cores over the run"
    )
    print(
        "CPU s in the run: "
        + ", ".join(f"{k} {v:.1f} ({v * 1000 / steps:.1f} ms/step)" for k, v in sorted(cpu.items()))
    )
    print(
        f"workers: {r['queries_per_step']:.1f} statements/step "
        f"(+ {r['worker_transactions_per_step']:.1f} transactions/step, each a BEGIN and a "
        f"COMMIT besides); web: {r['web_webhooks']:,} webhook deliveries, "
        f"{r['web_queries_per_webhook']:.1f} statements and "
        f"{r['web_transactions_per_webhook']:.1f} transactions per delivery"
    )
    print(
        f"idle (before the calls), all workers together: {r['idle_worker_cpu_ms_per_s']:.1f} "
        f"ms CPU and {r['idle_worker_queries_per_s']:.1f} statements per second"
    )
    print(
        "peak RSS of one process, MiB: "
        + ", ".join(f"{k} {v:.0f}" for k, v in sorted(r["rss_mib"].items()))
    )
    errors = workers.lines_with("ERROR") + workers.lines_with("Traceback")
    print(f"worker log lines with ERROR or Traceback: {len(errors)}")
    for line in errors[:5]:
        print(f"  {line}")
    print("goal missed: " + "; ".join(r["failed"]) if r["failed"] else "goal met", flush=True)


if __name__ == "__main__":
    main()
