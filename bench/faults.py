"""Does every call come through when Telnyx and the machine misbehave? A black-box fault run.

Starts the production stack on this machine: gunicorn (DEBUG off), two Celery workers with
their rescue loops, a redis-server of its own on a free port, and a PostgreSQL database of its
own (``telnyx_ivr_bench_faults``, made anew each run). The call simulator plays Telnyx: many
concurrent callers on random paths through every example menu. Then it turns the faults on
(all by default, each can be switched off) and prints what came through: calls ended, events
accepted, stored, processed and lost, commands executed twice, webhook answers by status and
time, webhook -> command latency, the longest any event waited, and worker exits.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/faults.py \\
        [--calls 100] [--copies 1] [--no-shuffle] [--command-share 0.2] \\
        [--kill-worker-at 5 | --no-kill] [--terminate-db-at 10 | --no-db-fault] \\
        [--redis-down-at 15 --redis-down-for 10 | --no-redis-fault] [--spread 30] [--seed 2026]

DATABASE_URL names the PostgreSQL server (any database on it). Exits 1 when the goal is missed:
a lost event, a duplicate effect, an answer slower than 2 s or a 5xx, an event of the outage
processed more than 15 s after Redis came back, a call that did not end, or a worker exit.
The same run, smaller, is ``tests/test_fault_suite.py``.
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

from tests.stack import own_database  # noqa: E402  (after the path is set)

BENCH_DB = "telnyx_ivr_bench_faults"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--copies", type=int, default=1, help="extra deliveries of each webhook")
    parser.add_argument("--no-shuffle", action="store_true")
    parser.add_argument("--command-share", type=float, default=0.2, help="of command tries")
    parser.add_argument("--kill-worker-at", type=float, default=5.0, metavar="SECONDS")
    parser.add_argument("--no-kill", action="store_true")
    parser.add_argument("--redis-down-at", type=float, default=15.0, metavar="SECONDS")
    parser.add_argument("--redis-down-for", type=float, default=10.0, metavar="SECONDS")
    parser.add_argument("--no-redis-fault", action="store_true")
    parser.add_argument("--terminate-db-at", type=float, default=10.0, metavar="SECONDS")
    parser.add_argument("--no-db-fault", action="store_true")
    parser.add_argument("--spread", type=float, default=30.0, help="seconds the calls start over")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    if args.calls < 1 or args.copies < 0 or not 0 <= args.command_share <= 1:
        parser.error("--calls must be at least 1, --copies 0 or more, --command-share 0 to 1")

    own_database(BENCH_DB)

    import django

    django.setup()
    import json

    from django.core.management import call_command

    from telnyx_ivr import examples
    from telnyx_ivr.menus.io import import_definition
    from tests.fault_run import FaultPlan, run

    call_command("migrate", verbosity=0)
    for name in examples.names():
        import_definition(json.loads(examples.read(name)), publish=True)

    plan = FaultPlan(
        calls=args.calls,
        copies=args.copies,
        shuffle=not args.no_shuffle,
        command_share=args.command_share,
        kill_worker_at=None if args.no_kill else args.kill_worker_at,
        redis_down_at=None if args.no_redis_fault else args.redis_down_at,
        redis_down_for=args.redis_down_for,
        terminate_db_at=None if args.no_db_fault else args.terminate_db_at,
        spread_seconds=args.spread,
        seed=args.seed,
    )
    folder = Path(tempfile.mkdtemp(prefix="telnyx-ivr-faults-"))
    print(f"logs in {folder}", flush=True)
    report = run(plan, folder, say=lambda text: print(text, flush=True))
    print()
    for line in report.lines():
        print(line)
    missed = report.goal_missed()
    print()
    print("goal missed: " + "; ".join(missed) if missed else "goal met")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
