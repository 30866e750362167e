"""How close does the webhook come to the least a durable endpoint can do? A load run.

Starts gunicorn (DEBUG off, ``--workers``, sync, the example project plus two yardsticks of
``bench/ingest_site.py``), a redis-server of its own on a free port and a PostgreSQL database
of its own (``telnyx_ivr_bench_ingest``, made anew each run), then drives three endpoints with
wrk, in turns, ``--rounds`` times, each for ``--seconds``:

- ``webhook``: the real one (verify Ed25519, parse, store, queue the task for a worker);
- ``bare``: a Django view that reads and parses the body, nothing more;
- ``floor``: a Django view that commits one INSERT of the raw body: the durable floor.

Every webhook request is a different, correctly signed event (signed just before its turn), so
nothing is a redelivery. Prints requests/s and latency p50/p99 for each (the median of the
rounds), the webhook's share of the floor and of the bare view, and checks that every event
answered 2xx was stored exactly once (and nothing else was). No worker runs: the tasks wait in
Redis, so the figures are the web side's alone. Exits 1 when the check fails.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/ingest.py \\
        [--rounds 3] [--seconds 10] [--connections 16] [--threads 2] [--workers 2]

Needs wrk (Debian's package) and redis-server on the PATH.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

from tests.stack import own_database  # noqa: E402  (after the path is set)

BENCH_DB = "telnyx_ivr_bench_ingest"
PATHS = {"webhook": "/telnyx/webhook/", "bare": "/bench/bare/", "floor": "/bench/floor/"}
# Enough events that no turn runs out, at far more than this machine answers per second.
EVENTS_PER_SECOND = 4000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk's threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn's sync workers")
    parser.add_argument("--only", choices=sorted(PATHS), action="append", help="drive only these")
    args = parser.parse_args()
    if args.rounds < 1 or args.seconds < 1 or args.connections < args.threads:
        parser.error("--rounds and --seconds at least 1, --connections at least --threads")
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    own_database(BENCH_DB)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench.ingest_urls import FLOOR_TABLE
    from telnyx_ivr.testing import WebhookSigner
    from tests.stack import ProductionServer, RedisServer

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {FLOOR_TABLE} (id bigserial PRIMARY KEY, body text NOT NULL)")

    folder = Path(tempfile.mkdtemp(prefix="telnyx-ivr-ingest-"))
    print(f"logs and event files in {folder}", flush=True)
    signer = WebhookSigner()
    redis = RedisServer(folder).start()
    web = ProductionServer(folder / "var", folder / "gunicorn.log", signer.public_key)
    queue = f"telnyx-ivr-ingest-{uuid.uuid4().hex[:8]}"
    web.env.update(
        DJANGO_SETTINGS_MODULE="bench.ingest_site",
        CELERY_BROKER_URL=redis.url,
        CELERY_TASK_DEFAULT_QUEUE=queue,
        IVR_LOG_LEVEL="WARNING",
    )
    web.workers = args.workers
    names = args.only or ["webhook", "bare", "floor"]
    results = {name: [] for name in names}
    sent_ids = []
    try:
        web.start()
        print(f"gunicorn {web.url} with {args.workers} sync workers, Redis {redis.url}", flush=True)
        for round_number in range(args.rounds):
            # Turns rotate, so no endpoint always runs first (on a cold cache) or last.
            order = names[round_number % len(names) :] + names[: round_number % len(names)]
            for name in order:
                files = folder / f"{name}-{round_number}"
                # The yardsticks may post a body twice; the webhook never.
                per_thread = EVENTS_PER_SECOND * args.seconds // args.threads
                ids = _write_events(files, signer, args, per_thread if name == "webhook" else 500)
                if name == "webhook":
                    sent_ids.append(ids)
                before = _cpu_seconds(web, redis)
                found = _wrk(web.url, name, files, args)
                after = _cpu_seconds(web, redis)
                found["cpu_ms"] = {
                    part: sum(cpu - before[part].get(pid, 0.0) for pid, cpu in used.items())
                    * 1000
                    / max(found["requests"], 1)
                    for part, used in after.items()
                }
                results[name].append(found)
                print(
                    f"round {round_number + 1} {name:8} {found['rate']:8.1f} req/s  "
                    f"p50 {found['p50_ms']:6.1f} ms  p99 {found['p99_ms']:6.1f} ms  "
                    f"answers {found['answers']}  socket errors {found['errors']}  CPU per "
                    "request: "
                    + ", ".join(f"{part} {ms:.2f} ms" for part, ms in found["cpu_ms"].items()),
                    flush=True,
                )
        time.sleep(1)  # the last answers' commits
        report = _report(results, args)
        problems = _check(results.get("webhook", []), sent_ids, args)
        tasks = _queued_tasks(redis.url, queue)
    finally:
        web.stop()
        redis.stop()
    for line in report:
        print(line)
    print(f"tasks waiting in Redis for a worker: {tasks}")
    print()
    print("check: " + ("; ".join(problems) if problems else "every 2xx event stored exactly once"))
    sys.exit(1 if problems else 0)


def _cpu_seconds(web, redis):
    """CPU seconds used so far by the web workers, their PostgreSQL backends and Redis: the
    machine's two cores are shared, so CPU per request says more than a noisy rate does."""
    import psutil
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        backends = [pid for (pid,) in cursor.fetchall()]
    parts = {
        "web": psutil.Process(web.process.pid).children(),
        "postgres": [psutil.Process(pid) for pid in backends],
        "redis": [psutil.Process(redis.process.pid)],
    }
    used = {}  # part -> {pid: CPU seconds}: a backend that ends between two looks drops out
    for part, processes in parts.items():
        used[part] = {}
        for process in processes:
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            used[part][process.pid] = times.user + times.system
    return used


def _write_events(prefix, signer, args, per_thread):
    """One file of signed events per wrk thread; returns every event id written."""
    from telnyx_ivr.testing import event_body

    ids = []
    timestamp = int(time.time())
    for thread in range(1, args.threads + 1):
        with open(f"{prefix}.{thread}", "w") as out:
            for _ in range(per_thread):
                call = uuid.uuid4().hex
                body = event_body(
                    "call.dtmf.received",
                    {
                        "call_control_id": f"v3:{call}",
                        "call_leg_id": call,
                        "call_session_id": uuid.uuid4().hex,
                        "connection_id": "1684641123236054244",
                        "from": "+13125550100",
                        "to": "+13125550199",
                        "digit": "1",
                        "client_state": None,
                    },
                )
                raw = json.dumps(body).encode()
                headers = signer.sign(raw, timestamp)
                ids.append(body["data"]["id"])
                out.write(f"{headers['telnyx-signature-ed25519']}\t{timestamp}\t{raw.decode()}\n")
    return ids


def _wrk(url, name, prefix, args):
    done = subprocess.run(
        ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{args.seconds}s",
         "--latency", "-s", str(ROOT / "bench" / "ingest.lua"), url],
        env={**os.environ, "BENCH_EVENTS": str(prefix), "BENCH_PATH": PATHS[name]},
        capture_output=True, text=True, timeout=args.seconds + 120,
    )  # fmt: skip
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if done.returncode or line is None:
        sys.exit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    fields = dict(re.findall(r"(\w+)=(\S*)", line))
    if fields["exhausted"] != "0" and name == "webhook":
        sys.exit(f"wrk ran out of events on {name}: raise EVENTS_PER_SECOND in bench/ingest.py")
    answers = dict(pair.split(":") for pair in fields["answers"].split(",") if pair)
    return {
        "rate": int(fields["requests"]) / (int(fields["duration_us"]) / 1e6),
        "p50_ms": int(fields["p50_us"]) / 1000,
        "p99_ms": int(fields["p99_us"]) / 1000,
        "requests": int(fields["requests"]),
        "errors": int(fields["errors"]),
        "answers": {int(status): int(count) for status, count in answers.items()},
    }


def _report(results, args):
    median = {
        name: {key: statistics.median(r[key]) for key in ("rate", "p50_ms", "p99_ms")}
        for name, runs in results.items()
        if (r := {key: [run[key] for run in runs] for key in ("rate", "p50_ms", "p99_ms")})
    }
    lines = [
        "",
        f"median of {args.rounds} round(s), {args.seconds} s each, wrk {args.threads} threads "
        f"{args.connections} connections, gunicorn {args.workers} sync workers:",
        "",
        "| endpoint | requests/s | p50 | p99 |",
        "|---|---|---|---|",
    ]
    for name, m in median.items():
        lines.append(f"| {name} | {m['rate']:.0f} | {m['p50_ms']:.1f} ms | {m['p99_ms']:.1f} ms |")
    if "webhook" in median:
        for other in ("floor", "bare"):
            if other in median:
                share = median["webhook"]["rate"] / median[other]["rate"]
                lines.append(f"\nwebhook / {other}: {share:.2f}x")
        per_round = [
            w["rate"] / f["rate"]
            for w, f in zip(results["webhook"], results.get("floor", []), strict=False)
        ]
        if per_round:
            lines.append("webhook / floor per round: " + ", ".join(f"{x:.2f}x" for x in per_round))
    return lines


def _queued_tasks(url, queue):
    import redis

    return redis.Redis.from_url(url).llen(queue)


def _check(webhook_runs, sent_ids, args):
    """Every event answered 2xx stored once, nothing answered otherwise, no redelivery."""
    from django.db.models import Count, Max

    from telnyx_ivr.models import WebhookEvent

    problems = []
    ok = sum(c for run in webhook_runs for s, c in run["answers"].items() if 200 <= s < 300)
    other = sum(c for run in webhook_runs for s, c in run["answers"].items() if not 200 <= s < 300)
    if other:
        problems.append(f"{other} answers were not 2xx")
    stored = WebhookEvent.objects.aggregate(rows=Count("pk"), most=Max("deliveries"))
    unanswered = stored["rows"] - ok
    # wrk stops mid-request: at most one unanswered request per connection per turn.
    if not 0 <= unanswered <= args.connections * len(webhook_runs):
        problems.append(f"{ok} events answered 2xx but {stored['rows']} rows stored")
    if (stored["most"] or 1) != 1:
        problems.append(f"an event was counted {stored['most']} times: a redelivery was sent")
    known = {i for ids in sent_ids for i in ids}
    strays = WebhookEvent.objects.exclude(event_id__in=known).count() if known else 0
    if strays:
        problems.append(f"{strays} stored events were never sent")
    print(
        f"\nwebhook: {ok} answered 2xx, {stored['rows']} stored, "
        f"{unanswered} stored as wrk stopped mid-request",
        flush=True,
    )
    return problems


if __name__ == "__main__":
    main()
