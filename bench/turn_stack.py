"""The parts bench/turn_latency.py adds to the fault run's machinery (tests/fault_run.py,
tests/stack.py): Celery workers that count (bench/turn_worker.py), the zero-setup web server
(``runserver --noreload`` as ``dev.py run`` starts it, through bench/turn_web.py), a sampler of
the CPU time and memory of every process of the stack, webhooks sent by several threads (each
call's in order, as Telnyx sends a call's webhooks), and a caller who goes round the menu and
thinks before each key. Every process is stopped by the PID it was started with."""

import heapq
import itertools
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from telnyx_ivr.simulator.random_caller import RandomCaller
from telnyx_ivr.simulator.script import Press
from telnyx_ivr.simulator.webhooks import DeliveryWorker
from tests.celery_worker import WorkerProcess
from tests.fault_run import Workers
from tests.stack import ServerProcess

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# The flags tests/celery_worker.py's WorkerProcess (and dev.py run) start a worker with.
WORKER_FLAGS = ("--pool", "solo", "--without-heartbeat", "--without-gossip", "--without-mingle")


# --- processes --------------------------------------------------------------------------------


class CountedWorkerProcess(WorkerProcess):
    """WorkerProcess's worker, started through bench/turn_worker.py (which counts)."""

    def __init__(self, *, queue, log_path, env, name):
        self.log_path = Path(log_path)
        command = [
            sys.executable, str(HERE / "turn_worker.py"), "-Q", queue,
            "-n", f"{name}-{os.getpid()}@%h", *WORKER_FLAGS, "-l", "INFO",
        ]  # fmt: skip
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )


class CountedWorkers(Workers):
    """The fault run's worker group (a worker that exits is counted and started again), of
    counting workers. ``env`` is the workers' whole environment."""

    def __init__(self, folder, queue, env):
        super().__init__(folder, None, queue, env)

    def _spawn(self):
        self._count += 1
        name = f"w{self._count}"
        worker = CountedWorkerProcess(
            queue=self.queue, log_path=self.folder / f"{name}.log", env=self.env, name=name
        )
        self.running[name] = worker
        return worker

    def pids(self):
        with self._lock:
            return [w.process.pid for w in [*self.retired, *self.running.values()]]


class RunServer(ServerProcess):
    """``manage.py runserver --noreload`` as ``dev.py run`` starts it (through
    bench/turn_web.py, which counts), on a free loopback port; stopped by its PID."""

    name = "runserver --noreload (as dev.py run)"
    label = "runserver"

    def command(self):
        return [sys.executable, str(HERE / "turn_web.py"), "runserver",
                f"127.0.0.1:{self.port}", "--noreload"]  # fmt: skip


# --- measuring --------------------------------------------------------------------------------


def _cpu(times):
    return times.user + times.system


class Sampler:
    """Every ``every`` s: the RSS and CPU time of each process of each group (``groups``: name ->
    a function giving the group's root PIDs; their children count too), and every second the
    PostgreSQL backends connected to the run's database (``pg_dsn``; CPU only: their RSS is
    mostly shared memory). ``mark()`` opens a window, ``window()`` closes it: CPU seconds per
    group and the largest RSS any one process of the group had, in the window."""

    def __init__(self, groups, pg_dsn=None, every=0.2, alone=("bench",)):
        self.groups = groups
        self.alone = alone  # groups whose processes' children are not theirs
        self.pg_dsn = pg_dsn
        self.every = every
        self.last = {}  # (group, pid) -> CPU seconds at the last sample
        self.peak = {}  # group -> largest RSS in bytes since mark()
        self.base = {}
        self.machine = None
        self._procs = {}
        self._pg_pids = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="turn-sampler", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(5)

    def _process(self, pid):
        proc = self._procs.get(pid)
        if proc is None:
            proc = self._procs[pid] = psutil.Process(pid)
        return proc

    def _pids(self, roots, children=True):
        found = []
        for pid in roots():
            try:
                proc = self._process(pid)
                found.append(proc)
                if children:
                    found.extend(proc.children(recursive=True))
            except psutil.Error:
                continue
        return found

    def _sample(self, pg):
        for group, roots in self.groups.items():
            for proc in self._pids(roots, children=group not in self.alone):
                try:
                    with proc.oneshot():
                        cpu, rss = _cpu(proc.cpu_times()), proc.memory_info().rss
                except psutil.Error:
                    continue
                with self._lock:
                    self.last[(group, proc.pid)] = cpu
                    self.peak[group] = max(self.peak.get(group, 0), rss)
        if pg is not None:
            for pid in self._pg_pids:
                try:
                    cpu = _cpu(self._process(pid).cpu_times())
                except psutil.Error:
                    continue
                with self._lock:
                    self.last[("postgres", pid)] = cpu

    def _run(self):
        pg = None
        if self.pg_dsn:
            import psycopg

            pg = psycopg.connect(self.pg_dsn, autocommit=True)
        try:
            for tick in itertools.count():
                if pg is not None and tick % 5 == 0:
                    rows = pg.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid()"
                    ).fetchall()
                    self._pg_pids = [row[0] for row in rows]
                self._sample(pg)
                if self._stop.wait(self.every):
                    break
        finally:
            if pg is not None:
                pg.close()

    def mark(self):
        self._sample(None)
        with self._lock:
            self.base = dict(self.last)
            self.peak = {}
        self.machine = psutil.cpu_times()

    def window(self):
        """{"cpu": {group: seconds}, "rss": {group: bytes}, "machine_busy": share of all CPUs}"""
        self._sample(None)
        with self._lock:
            cpu = {}
            for (group, pid), seconds in self.last.items():
                cpu[group] = cpu.get(group, 0.0) + seconds - self.base.get((group, pid), 0.0)
            peak = dict(self.peak)
        now, then = psutil.cpu_times(), self.machine
        total = sum(now) - sum(then)
        idle = (now.idle - then.idle) + (getattr(now, "iowait", 0) - getattr(then, "iowait", 0))
        return {"cpu": cpu, "rss": peak, "machine_busy": 1 - idle / total if total else 0.0}


# --- the simulator's side ---------------------------------------------------------------------


class ParallelDelivery:
    """``senders`` of the simulator's webhook senders (DeliveryWorker) instead of one: each
    call's webhooks go through one sender, in order, as Telnyx keeps a call's webhooks in
    order while it sends many calls' at once. Install before ``sim.start()``."""

    def __init__(self, template, senders):
        self.senders = [
            DeliveryWorker(
                signer=template.signer,
                faults=template.faults,
                recorder=template.recorder,
                timeout=template.timeout,
                max_attempts=template.max_attempts,
                retry_delays=template.retry_delays,
            )
            for _ in range(senders)
        ]
        self._assigned = {}
        self._turn = itertools.count()
        self._lock = threading.Lock()

    @classmethod
    def install(cls, sim, senders):
        if senders > 1:
            sim._delivery = cls(sim._delivery, senders)

    def start(self):
        for sender in self.senders:
            sender.start()

    def stop(self, timeout=5.0):
        for sender in self.senders:
            sender.stop(timeout)

    def submit(self, items):
        for item in items:
            key = item.call.call_control_id
            with self._lock:
                index = self._assigned.get(key)
                if index is None:
                    index = self._assigned[key] = next(self._turn) % len(self.senders)
            self.senders[index].submit([item])


class Scheduler:
    """One thread that runs functions at their time."""

    def __init__(self):
        self._heap = []
        self._count = itertools.count()
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="turn-scheduler", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def after(self, seconds, function):
        with self._wake:
            heapq.heappush(self._heap, (time.monotonic() + seconds, next(self._count), function))
            self._wake.notify()

    def stop(self):
        with self._wake:
            self._stopping = True
            self._wake.notify()
        self._thread.join(5)

    def _run(self):
        while True:
            with self._wake:
                while not self._stopping and (
                    not self._heap or self._heap[0][0] > time.monotonic()
                ):
                    wait = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._wake.wait(wait)
                if self._stopping:
                    return
                _, _, function = heapq.heappop(self._heap)
            try:
                function()
            except Exception as exc:  # one caller's trouble must not stop the others' clocks
                print(f"scheduler: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)


class _Thought:
    """What the scheduler hands a TurnCaller's call once the caller has thought."""


THOUGHT = _Thought()


class TurnCaller(RandomCaller):
    """A RandomCaller (seeded ``rng``) that first goes round the menu ``loops`` times, pressing
    ``loop_key`` wherever it is valid (9 repeats both menus of the classic tree), and thinks a
    while (``think``: (low, high) seconds, drawn) before each key it presses or each silence;
    then it goes on as a RandomCaller: a valid key mostly, sometimes an invalid one, silence,
    or a hang-up. ``call`` must be set to the SimulatedCall once it is started."""

    def __init__(self, rng, *, loops, think, scheduler, loop_key="9"):
        super().__init__(rng)
        self.loops_left = loops
        self.loop_key = loop_key
        self.think = think
        self.scheduler = scheduler
        self.call = None
        self._ready = False
        self._thinking = False

    def _dtmf(self):
        valid = str(self._body.get("valid_digits") or "")
        if self.loops_left > 0 and self.loop_key in valid:
            self.loops_left -= 1
            return Press(self.loop_key)
        return super()._dtmf()

    def take_step(self, prompt_name):
        if prompt_name in ("speak", "playback") or not self.think or self.think[1] <= 0:
            return super().take_step(prompt_name)
        if not self._ready:
            if not self._thinking:
                self._thinking = True
                self.scheduler.after(self.rng.uniform(*self.think), self._thought)
            return None  # the prompt waits for the caller
        self._ready = self._thinking = False
        return super().take_step(prompt_name)

    def add_step(self, step):
        if step is not THOUGHT:
            super().add_step(step)
        self._ready = True

    def _thought(self):
        call = self.call
        if call is not None and call.outcome is None:
            call.add_step(THOUGHT)  # the simulator's lock, then the open prompt is served
