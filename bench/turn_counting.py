"""Counting what one process of the stack does, for bench/turn_latency.py: the SQL statements
it runs through Django's cursors, the transactions it commits or rolls back, the requests it
serves (web) and, in a Celery worker, the CPU time and statements of each task.

``install(kind)`` once Django is set up (before the first database connection). The totals go
to ``$TURN_COUNT_DIR/<kind>-<pid>.json`` every 0.2 s while they change, and at exit; with
``TURN_TASK_COSTS=1`` a worker also appends one line per task to ``<kind>-<pid>.tasks.jsonl``:
the event ids it was given, its thread's CPU seconds and its statements.

What is counted: every ``execute`` (an ``executemany`` counts its rows) that goes through a
Django cursor, savepoints included. Not counted: BEGIN (psycopg sends it with a transaction's
first statement) and COMMIT (counted apart, as transactions), and what the driver runs on its
own (a new connection's set-up, the health check of CONN_HEALTH_CHECKS).
"""

import atexit
import json
import os
import threading
import time
from pathlib import Path

WRITE_EVERY = 0.2

_lock = threading.Lock()
_write_lock = threading.Lock()
_registry = []  # one dict of counts per thread that counted something; each thread writes its own
_local = threading.local()
_tasks = []  # per-task records not yet written
_state = {"kind": None, "path": None, "tasks_path": None, "written": None}


def _mine():
    counts = getattr(_local, "counts", None)
    if counts is None:
        counts = _local.counts = {
            "queries": 0,
            "transactions": 0,
            "requests": 0,
            "webhooks": 0,
            "tasks": 0,
        }
        with _lock:
            _registry.append(counts)
    return counts


def totals():
    with _lock:
        counts = list(_registry)
    summed = {}
    for one in counts:
        for key, value in one.items():
            summed[key] = summed.get(key, 0) + value
    return summed


def _counting(execute, sql, params, many, context):
    counts = _mine()
    if many:
        try:
            counts["queries"] += len(params)
        except TypeError:
            counts["queries"] += 1
    else:
        counts["queries"] += 1
    return execute(sql, params, many, context)


def _connected(sender, connection, **kwargs):
    if _counting not in connection.execute_wrappers:
        connection.execute_wrappers.append(_counting)


def _patch_transactions(backend_class):
    for name in ("_commit", "_rollback"):
        original = getattr(backend_class, name)
        if getattr(original, "turn_counted", False):
            continue

        def counted(self, _original=original):
            if self.connection is not None:
                _mine()["transactions"] += 1
            return _original(self)

        counted.turn_counted = True
        setattr(backend_class, name, counted)


def _request_started(sender, environ=None, **kwargs):
    counts = _mine()
    counts["requests"] += 1
    if (environ or {}).get("PATH_INFO", "").rstrip("/").endswith("/webhook"):
        counts["webhooks"] += 1


def _task_prerun(task_id=None, task=None, args=None, kwargs=None, **extra):
    _local.task_began = (time.thread_time(), _mine()["queries"])


def _task_postrun(task_id=None, task=None, args=None, kwargs=None, **extra):
    counts = _mine()
    counts["tasks"] += 1
    began = getattr(_local, "task_began", None)
    if began is None or _state["tasks_path"] is None:
        return
    _local.task_began = None
    cpu, queries = time.thread_time() - began[0], counts["queries"] - began[1]
    name = getattr(task, "name", "") or ""
    events = []
    if name.endswith(".process_events") and args:
        events = [item[0] for item in args[0]]
    elif name.endswith(".process_event") and args:
        events = [args[0]]
    with _lock:
        _tasks.append({"task": name.rsplit(".", 1)[-1], "events": events, "cpu": cpu, "q": queries})


def write():
    """Write the totals (if they changed) and the task records gathered since the last time."""
    if _state["path"] is None:
        return
    with _write_lock:
        _write()


def _write():
    with _lock:
        records, _tasks[:] = list(_tasks), []
    if records and _state["tasks_path"] is not None:
        with _state["tasks_path"].open("a") as out:
            out.writelines(json.dumps(r) + "\n" for r in records)
    now = totals()
    if now == _state["written"]:
        return
    path = _state["path"]
    spare = path.with_suffix(".tmp")
    spare.write_text(json.dumps({"pid": os.getpid(), "kind": _state["kind"], **now}))
    os.replace(spare, path)
    _state["written"] = now


def _keep_writing():
    while True:
        time.sleep(WRITE_EVERY)
        try:
            write()
        except OSError:  # the folder went away: the run is over
            return


def install(kind):
    """Count in this process (Django set up); ``kind``: "worker" or "web"."""
    folder = os.environ.get("TURN_COUNT_DIR")
    if not folder or _state["path"] is not None:
        return
    from django.db import connections
    from django.db.backends.signals import connection_created

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _state["kind"] = kind
    _state["path"] = folder / f"{kind}-{os.getpid()}.json"
    connection_created.connect(_connected, weak=False, dispatch_uid="turn_counting")
    default = connections["default"]
    _patch_transactions(type(default))
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None:
            _connected(None, connection)
    if kind == "worker":
        from celery.signals import task_postrun, task_prerun, worker_shutdown

        if os.environ.get("TURN_TASK_COSTS") == "1":
            _state["tasks_path"] = folder / f"{kind}-{os.getpid()}.tasks.jsonl"
        task_prerun.connect(_task_prerun, weak=False, dispatch_uid="turn_counting")
        task_postrun.connect(_task_postrun, weak=False, dispatch_uid="turn_counting")
        worker_shutdown.connect(lambda **kw: write(), weak=False, dispatch_uid="turn_counting")
    else:
        from django.core.signals import request_started

        request_started.connect(_request_started, weak=False, dispatch_uid="turn_counting")
    atexit.register(write)
    _mine()  # the totals exist (zero) from the start
    write()
    threading.Thread(target=_keep_writing, name="turn-counting", daemon=True).start()


def read(folder, kind):
    """{pid: totals} of every process of ``kind`` that wrote to ``folder``."""
    found = {}
    for path in Path(folder).glob(f"{kind}-*.json"):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        found[data["pid"]] = data
    return found


def task_records(folder):
    records = []
    for path in Path(folder).glob("worker-*.tasks.jsonl"):
        with path.open() as lines:
            records.extend(json.loads(line) for line in lines if line.strip())
    return records
