"""Work split over several forked processes ("lanes") that each use the database, for jobs
whose cost is Python on one core per process (playing simulated calls through the engine).

Each lane gets the parent's state as it was when forked (settings, menus already loaded) and
opens database connections of its own; what it reports goes back through a queue.
"""

import multiprocessing
import os
import queue as queues
import sys
import traceback

from django.db import connections

# How long a lane that has exited gets for its last words to arrive.
LAST_WORDS_SECONDS = 2.0


class Orphaned(Exception):
    """The process that started the lanes has gone (killed): a lane stops at once."""


def why_not():
    """Why work cannot be split into lanes here, or None when it can."""
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return "processes are forked only on Linux"
    for conn in connections.all():
        if conn.in_atomic_block:
            return "a database transaction is open in this process"
        if conn.vendor == "sqlite":
            if conn.is_in_memory_db():
                return "the SQLite database is in memory"
            if (conn.settings_dict.get("OPTIONS") or {}).get("transaction_mode") != "IMMEDIATE":
                return (
                    "SQLite lets several processes write at once only with "
                    'OPTIONS {"transaction_mode": "IMMEDIATE"} (or use --jobs 1)'
                )
    return None


def run(jobs, work, on_result, error):
    """Run ``work(lane, emit)`` for lanes 0..jobs-1, each in a forked process; every
    ``emit(*args)`` there calls ``on_result(*args)`` here. When a lane fails, the others are
    stopped and ``error(message)`` is raised: with the message of the ``error`` the lane
    raised, or the name of any other exception (its traceback goes to stderr)."""
    connections.close_all()  # a forked child must not share the parent's connections
    context = multiprocessing.get_context("fork")
    channel = context.Queue()
    processes = [
        context.Process(
            target=_lane,
            args=(work, lane, channel, error, os.getpid()),
            name=f"lane-{lane}",
            daemon=True,
        )
        for lane in range(jobs)
    ]
    for process in processes:
        process.start()
    running, problem = set(range(jobs)), None
    try:
        while running and problem is None:
            try:
                kind, lane, payload = channel.get(timeout=0.5)
            except queues.Empty:
                problem = _dead_lane(processes, running, channel, on_result)
                continue
            problem = _handle(kind, lane, payload, running, on_result)
    finally:
        for process in processes:
            if process.is_alive() and (problem is not None or running):
                process.terminate()
        for process in processes:
            process.join()
    if problem is not None:
        raise error(problem)


def _handle(kind, lane, payload, running, on_result):
    if kind == "result":
        on_result(*payload)
    elif kind == "done":
        running.discard(lane)
    else:
        running.discard(lane)
        return payload
    return None


def _dead_lane(processes, running, channel, on_result):
    """A lane that exited without saying it was done: read what it said last, then fail."""
    for lane in sorted(running):
        code = processes[lane].exitcode
        if code is None:
            continue
        try:
            while lane in running:
                kind, other, payload = channel.get(timeout=LAST_WORDS_SECONDS)
                problem = _handle(kind, other, payload, running, on_result)
                if problem is not None:
                    return problem
        except queues.Empty:
            return f"process {lane + 1} of {len(processes)} stopped (exit status {code})"
    return None


def _lane(work, lane, channel, error, parent):
    def emit(*args):
        # A parent killed outright cannot stop its lanes; they stop themselves.
        if os.getppid() != parent:
            raise Orphaned
        channel.put(("result", lane, args))

    try:
        work(lane, emit)
    except Orphaned:
        pass
    except error as exc:
        channel.put(("error", lane, str(exc)))
    except Exception as exc:
        traceback.print_exc()
        channel.put(("error", lane, f"{type(exc).__name__}: {exc}"))
    else:
        channel.put(("done", lane, None))
    finally:
        connections.close_all()
