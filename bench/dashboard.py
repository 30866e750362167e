"""How fast are the dashboards over a busy line's call log? Loads a million calls (with their
visits, commands and webhook events) into a PostgreSQL database of its own, rolls them up, then
times the pages a team opens each morning and counts their SQL queries.

The rows are real: a few hundred calls are played through the whole stack by ``ivr_seed_calls``
(simulator, webhook view, engine), then copied in bulk by SQL, each copy moved by whole days,
so each copy keeps the seeded calls' office-hour shape. Ids and Telnyx ids get a suffix per
copy; copies of webhook events keep their bodies unless ``--prune-bodies``.

Prints, for each measurement, the median of ``--runs`` runs (after one warm-up) and the
number of SQL queries:
- the dashboard page and ``api/stats/`` over the last 30 days;
- a menu's Analytics page over the last 30 days;
- the first page of the call list;
- a CSV export of about 100,000 calls (``api/calls/?format=csv``), with the peak memory the
  export allocated (Python's tracemalloc), next to the same for 10,000 calls.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/dashboard.py \\
        [--calls 1000000] [--days 90] [--templates 300] [--runs 7]
        [--reuse] [--cut-pipeline-roll-up [--pipeline-minutes 10]]

DATABASE_URL names the server (any database on it); the benchmark uses its own database,
``telnyx_ivr_bench_dashboard``, made anew unless ``--reuse`` finds it already loaded.
"""

import argparse
import json
import math
import os
import statistics
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

BENCH_DB = "telnyx_ivr_bench_dashboard"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--templates", type=int, default=300, help="calls played for real")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded database")
    parser.add_argument("--prune-bodies", action="store_true", help="copies without raw bodies")
    parser.add_argument(
        "--cut-pipeline-roll-up",
        action="store_true",
        help="sum events and commands for at most --pipeline-minutes, then mark the rest "
        "rolled up without summing them (the pipeline roll-up sums ~2,500 rows/s: over an hour "
        "for a million calls' 9.6M events and 4.2M commands), then measure",
    )
    parser.add_argument("--pipeline-minutes", type=float, default=10.0)
    args = parser.parse_args()

    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL server: the benchmark is about PostgreSQL.")
    parts = urlsplit(server)
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")

    import psycopg

    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone()
        if exists and not args.reuse:
            conn.execute(f'DROP DATABASE "{BENCH_DB}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["*"]
    # Pages are rendered without collectstatic (as in the tests): plain static file names.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("migrate", verbosity=0)

    from telnyx_ivr.models import Call

    loaded = Call.objects.counted().count()
    if loaded < args.calls * 0.95:
        load(args)
    else:
        say(f"reusing {loaded:,} calls in {BENCH_DB}")
    roll_up_all(args)
    measure(args)


def say(text):
    print(text, flush=True)


# --- loading ---------------------------------------------------------------------------------


def load(args):
    from django.db import connection

    from telnyx_ivr import examples
    from telnyx_ivr.calls.seeding import seed_calls
    from telnyx_ivr.menus.io import import_definition
    from telnyx_ivr.models import (
        Call,
        CallRollup,
        Command,
        NodeRollup,
        PipelineRollup,
        WebhookEvent,
    )

    for name in examples.names():
        import_definition(json.loads(examples.read(name)), publish=True)
    began = time.monotonic()
    report = seed_calls(args.templates, 1, seed=2026)
    say(
        f"played {report.calls} calls through the stack in {time.monotonic() - began:.1f} s "
        f"({dict(report.outcomes)})"
    )
    # The copies are summed by the timed roll-up below, the templates with them.
    for model in (CallRollup, NodeRollup, PipelineRollup):
        model.objects.all().delete()
    for model in (Call, Command, WebhookEvent):
        model.objects.update(rolled_up=False)

    templates = Call.objects.counted().count()
    copies = math.ceil(args.calls / templates)
    say(f"copying {templates} calls {copies - 1:,} times over {args.days} days ...")
    began = time.monotonic()
    with connection.cursor() as cursor:
        tables = copy_statements(cursor, args)
        chunk = 200
        for first in range(1, copies, chunk):
            last = min(first + chunk - 1, copies - 1)
            for statement in tables:
                cursor.execute(statement, {"first": first, "last": last, "days": args.days})
            say(f"  copies {first:,}-{last:,} of {copies - 1:,} ({time.monotonic() - began:.0f} s)")
        for model in (Call, "callstep", Command, WebhookEvent):
            table = f"telnyx_ivr_{model if isinstance(model, str) else model._meta.model_name}"
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        cursor.execute("ANALYZE")
    counts = {
        "calls": Call.objects.counted().count(),
        "all call rows": Call.objects.count(),
        "visits": _count("telnyx_ivr_callstep"),
        "commands": _count("telnyx_ivr_command"),
        "events": _count("telnyx_ivr_webhookevent"),
    }
    say(
        f"copied in {time.monotonic() - began:.0f} s: "
        + ", ".join(f"{v:,} {k}" for k, v in counts.items())
    )


def roll_up_all(args):
    """Sum what is not rolled up yet (all of it after a load), timed: the calls, then the
    pipeline (cut short with --cut-pipeline-roll-up). The steps are the beat task's own."""
    from django.db import connection, transaction

    from telnyx_ivr.analytics import rollups

    limit = args.pipeline_minutes * 60 if args.cut_pipeline_roll_up else math.inf
    summed = False
    for name, step, seconds in (
        ("call rows", rollups._roll_up_calls, math.inf),
        ("pipeline rows", rollups._roll_up_pipeline, limit),
    ):
        began, rows = time.monotonic(), 0
        while time.monotonic() - began < seconds:
            with transaction.atomic():
                count = step(5000)
            rows += count
            if count < 5000:
                break
        took = time.monotonic() - began
        if rows:
            summed = True
            say(f"rolled up {rows:,} {name} in {took:.0f} s ({rows / took:,.0f}/s)")
    if args.cut_pipeline_roll_up:
        cut_pipeline_roll_up()
    if summed:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def cut_pipeline_roll_up():
    """The page costs depend on how many roll-up rows a period holds, which the events summed
    so far already fill (the copies are spread over every day); what is left would only add
    to their sums. Left as it is, it would be the pages' live part, millions of rows that a
    beat task keeping up never leaves."""
    from telnyx_ivr.models import Command, WebhookEvent

    for name, model in (("events", WebhookEvent), ("commands", Command)):
        total = model.objects.count()
        cut = model.objects.filter(rolled_up=False).update(rolled_up=True)
        say(f"  {name}: {total - cut:,} of {total:,} summed, {cut:,} marked rolled up unsummed")


def _count(table):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return cursor.fetchone()[0]


def copy_statements(cursor, args):
    """INSERT ... SELECT statements copying the templates once per g in [first, last]: ids
    moved past the templates' (stride), Telnyx ids suffixed with the copy, times moved back
    by a whole number of days (copy g: (g * 7919) mod days)."""
    from telnyx_ivr.models import Call, CallStep, Command, WebhookEvent

    strides = {}
    for model in (Call, CallStep, Command, WebhookEvent):
        cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {model._meta.db_table}")
        strides[model] = cursor.fetchone()[0]
    shift = "(((g * 7919) %% %(days)s) * interval '1 day')"
    suffixed = {"call_control_id", "call_session_id", "event_id", "command_id"}
    statements = []
    for model in (Call, CallStep, WebhookEvent, Command):  # a command refers to its event
        columns, values = [], []
        for field in model._meta.concrete_fields:
            column = field.column
            columns.append(f'"{column}"')
            target = getattr(field, "related_model", None)
            if field.primary_key:
                value = f't."{column}" + g * {strides[model]}'
            elif target in strides:
                value = f't."{column}" + g * {strides[target]}'
            elif column in suffixed:
                value = (
                    f"t.\"{column}\" || ':' || g"
                    if column != "call_session_id"
                    else (
                        f"CASE WHEN t.\"{column}\" = '' THEN '' ELSE t.\"{column}\" || ':' || g END"
                    )
                )
            elif field.get_internal_type() == "DateTimeField":
                value = f't."{column}" - {shift}'
            elif args.prune_bodies and model is WebhookEvent and column in ("raw_body",):
                value = "''"
            else:
                value = f't."{column}"'
            values.append(value)
        table = model._meta.db_table
        statements.append(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} "
            f"FROM {table} t CROSS JOIN generate_series(%(first)s, %(last)s) g "
            f"WHERE t.id < {strides[model]}"
        )
    return statements


# --- measuring -------------------------------------------------------------------------------


def measure(args):
    from django.contrib.auth import get_user_model
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from telnyx_ivr.models import Call, Menu

    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    newest = Call.objects.counted().order_by("-started_at").values_list("started_at", flat=True)[0]
    until = timezone.localtime(newest).date()
    # The seeded calls are test calls (the simulator placed them): every figure includes them.
    month = {
        "since": (until - timedelta(days=29)).isoformat(),
        "until": until.isoformat(),
        "include_test": "1",
    }
    menu = Menu.objects.order_by("pk").first()
    pages = [
        ("dashboard page, 30 days", reverse("admin:telnyx_ivr_dashboard_changelist"), month),
        ("api/stats/, 30 days", reverse("telnyx_ivr:api-stats"), month),
        (
            f"analytics page of {menu.slug}, 30 days",
            reverse("admin:telnyx_ivr_menu_analytics", args=[menu.pk]),
            month,
        ),
        (
            "call list, first page",
            reverse("admin:telnyx_ivr_call_changelist"),
            {"include_test": "1"},
        ),
    ]
    say(f"\n{'page':40} {'median':>9} {'p90':>9} {'queries':>8}")
    results = []
    for name, url, params in pages:
        times, queries = [], 0
        for run in range(args.runs + 1):
            reset_queries()
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                answer = client.get(url, params)
                elapsed = (time.perf_counter() - began) * 1000
            assert answer.status_code == 200, (name, answer.status_code, answer.content[:300])
            if run:  # the first run warms caches up
                times.append(elapsed)
            queries = len(captured)
        times.sort()
        median, p90 = statistics.median(times), times[int(0.9 * (len(times) - 1))]
        results.append((name, median, queries))
        say(f"{name:40} {median:7.0f} ms {p90:7.0f} ms {queries:8}")

    for wanted in (10_000, 100_000):
        params = _period_with(wanted)
        url = f"{reverse('telnyx_ivr:api-calls')}?{urlencode({**params, 'format': 'csv'})}"
        tracemalloc.start()
        began = time.perf_counter()
        answer = client.get(url)
        rows = sum(chunk.count(b"\n") for chunk in answer.streaming_content) - 1
        seconds = time.perf_counter() - began
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        say(
            f"CSV export of {rows:,} calls: {seconds:.1f} s, "
            f"peak memory allocated {peak / 2**20:.1f} MiB"
        )
    slow = [name for name, median, queries in results if median > 300 or queries > 20]
    say(
        "\ngoal (each page under 300 ms median, at most 20 queries): "
        + ("met" if not slow else f"missed by {', '.join(slow)}")
    )


def _period_with(wanted):
    """since/until (whole days, newest first) holding about ``wanted`` calls."""
    from django.db.models import Count
    from django.db.models.functions import TruncDate

    from telnyx_ivr.models import Call

    days = (
        Call.objects.counted()
        .annotate(day=TruncDate("started_at"))
        .values_list("day")
        .order_by("-day")
        .annotate(n=Count("id"))
    )
    total, since, until = 0, None, None
    for day, count in days:
        until = until or day
        since = day
        total += count
        if total >= wanted:
            break
    return {"since": since.isoformat(), "until": until.isoformat(), "include_test": "1"}


if __name__ == "__main__":
    main()
