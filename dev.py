#!/usr/bin/env python3
"""The two set-up commands of the README. Needs nothing but Python 3.11+.

    python3 dev.py run    # virtualenv, install, migrate, demo login, example menus, demo calls
                          # for the dashboards; web server, Celery worker and beat, the Telnyx
                          # simulator; one simulated call per menu
    python3 dev.py test   # virtualenv, install with test extras, the whole test suite
    python3 dev.py simulate --press 2 --press 1   # one more simulated call to a running `run`

Everything after ``test`` goes to pytest (``python3 dev.py test -k webhook``), everything after
``simulate`` to ``manage.py ivr_simulate`` (with the settings ``run`` gives the app).
``run`` reads IVR_HOST, IVR_PORT (web server, default 127.0.0.1:8000), IVR_SIMULATOR_PORT
(default 8001), IVR_VAR_DIR (default var/) and IVR_SEED_CALLS (demo calls played when the call
log is empty, default 300; 0 plays none).
"""

import collections
import contextlib
import hashlib
import json
import os
import secrets
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
DEMO_USER, DEMO_PASSWORD = "admin", "telnyx-ivr-demo"
EXAMPLE_MENUS = ["classic_tree", "ai_intake"]  # shipped with the app: ivr_import --example
HOST, PORT = os.environ.get("IVR_HOST", "127.0.0.1"), os.environ.get("IVR_PORT", "8000")
SIMULATOR_PORT = os.environ.get("IVR_SIMULATOR_PORT", "8001")
VAR_DIR = ROOT / os.environ.get("IVR_VAR_DIR", "var")  # as project/settings.py reads it
SEED_CALLS = os.environ.get("IVR_SEED_CALLS", "300")
SEED_DAYS = 7  # the dashboard's default period
DASHBOARD = "/admin/telnyx_ivr/dashboard/?include_test=1"  # the demo calls are test calls
READY_SECONDS = 60
STOP_SECONDS = 15
# One call through each example menu at start-up: (menu, ivr_simulate arguments).
DEMO_CALLS = [
    (
        "classic tree",
        [
            "--to", "+15550000100",
            "--expect-heard", "Press 1 for sales",
            "--press", "1",
            "--expect-end", "transferred_to=+15550100001",
        ],
    ),
    (
        "AI intake",
        [
            "--to", "+15550100200",
            "--expect-heard", "your name, your age",
            "--ai-result", '{"name": "Ada", "age": 36, "city": "Chicago"}',
            "--expect-heard", "Connecting you to our Chicago office",
            "--expect-end", "transferred_to=+15550100201",
        ],
    ),
]  # fmt: skip


class Failure(Exception):
    """A start-up problem with a message for the user (no traceback)."""


class OutputClosed(Exception):
    """Whoever read dev.py's output has gone (``| head`` had enough, or Ctrl-C ended ``| tee``)."""


class Terminal:
    """dev.py's standard output, which may be a pipe whose reader goes away. Nothing written here
    may fail: once the reader has gone, nothing more is shown (the logs in var/logs go on) and
    ``run`` stops."""

    def __init__(self):
        self.lock = threading.Lock()  # the relay threads and the main thread write lines whole
        self.gone = threading.Event()
        self.poller = None
        if hasattr(select, "poll"):
            with contextlib.suppress(AttributeError, OSError, ValueError):  # no stdout at all
                self.poller = select.poll()
                self.poller.register(sys.stdout.fileno(), select.POLLERR | select.POLLHUP)

    def write(self, text):
        with self.lock:
            if self.gone.is_set():
                return
            try:
                sys.stdout.write(text + "\n")
                sys.stdout.flush()
            except (AttributeError, OSError, ValueError):
                self._lose()

    def closed(self, wait=0.0):
        """True once the reader has gone, even if nothing has been written since; waits up to
        ``wait`` seconds for that to happen."""
        if self.poller is None or self.gone.is_set():
            time.sleep(0 if self.gone.is_set() else wait)
        elif self.poller.poll(wait * 1000):  # a pipe without a reader: POLLERR; a tty: POLLHUP
            with self.lock:
                self._lose()
        return self.gone.is_set()

    def _lose(self):
        self.gone.set()
        # What could not be written stays buffered, and Python flushes it at exit: let that go
        # to /dev/null rather than into a BrokenPipeError on stderr.
        with contextlib.suppress(AttributeError, OSError, ValueError):
            nowhere = os.open(os.devnull, os.O_WRONLY)
            os.dup2(nowhere, sys.stdout.fileno())
            os.close(nowhere)


TERMINAL = Terminal()


def say(text):
    TERMINAL.write(f"==> {text}")


def ensure_venv(extras):
    if not PYTHON.exists():
        say(f"creating virtualenv in {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    spec = f".[{extras}]" if extras else "."
    stamp = VENV / f".installed-{extras or 'base'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    # The test extras include everything the other installs have.
    enough = [stamp] if extras == "test" else [stamp, VENV / ".installed-test"]
    if any(path.exists() and path.read_text() == digest for path in enough):
        return
    say(f"installing {spec} into the virtualenv")
    subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "-e", spec], cwd=ROOT, check=True)
    stamp.write_text(digest)


def manage(*args, check=True, env=None, **options):
    return subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, check=check, env=env, **options)


def setup(*args, env):
    """A manage.py command that prepares the run, its output shown through dev.py: a command
    writing to a closed pipe itself would fail with a traceback. A closed output ends the run
    here, before any server starts for no one."""
    done = manage(
        *args,
        env=env,
        check=False,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        TERMINAL.write(line)
    if TERMINAL.closed():
        raise OutputClosed
    done.check_returncode()


# --- the local Telnyx stand-in ------------------------------------------------------------


def simulator_keys():
    """The simulator's signing seed, public key and API key, made once and kept in var/."""
    path = VAR_DIR / "simulator-keys.json"
    with contextlib.suppress(OSError, ValueError):
        keys = json.loads(path.read_text())
        if {"signing_key", "public_key", "api_key"} <= set(keys):
            return keys
    code = (
        "import json; from telnyx_ivr.simulator.service import new_signing_seed; "
        "print(json.dumps(new_signing_seed()))"
    )
    made = subprocess.run([PYTHON, "-c", code], cwd=ROOT, check=True, capture_output=True)
    seed, public = json.loads(made.stdout)
    keys = {
        "signing_key": seed,
        "public_key": public,
        "api_key": "KEYlocal_" + secrets.token_hex(16),
    }
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(keys, handle)
    return keys


def local_host():
    return "127.0.0.1" if HOST in ("0.0.0.0", "", "::") else HOST  # noqa: S104


def run_environment(keys):
    """What the web server, the worker and the simulator share: commands go to the simulator,
    whose webhooks the app accepts."""
    public_keys = [k for k in os.environ.get("TELNYX_PUBLIC_KEY", "").split(",") if k.strip()]
    return {
        **os.environ,
        "TELNYX_API_BASE_URL": f"http://127.0.0.1:{SIMULATOR_PORT}/v2",
        "TELNYX_API_KEY": keys["api_key"],
        "TELNYX_PUBLIC_KEY": ",".join([*public_keys, keys["public_key"]]),
        "IVR_SIMULATOR_SIGNING_KEY": keys["signing_key"],
        "IVR_SIMULATOR_WEBHOOK_URL": f"http://{local_host()}:{PORT}/telnyx/webhook/",
        "PYTHONUNBUFFERED": "1",
    }


def check_port(host, port, what, variable):
    try:
        number = int(port)
    except ValueError:
        raise Failure(f"{variable}={port!r} is not a port number") from None
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, number))
        except OSError as exc:
            raise Failure(
                f"port {number} on {host} is taken ({exc.strerror}), so the {what} cannot start:"
                f" stop what uses it (another `dev.py run`?) or set {variable} to a free port"
            ) from None


def beat_command():
    # Its schedule file in var/, not in the checkout.
    schedule = str(VAR_DIR / "celerybeat-schedule")
    return [PYTHON, "-m", "celery", "-A", "project", "beat", "-l", "INFO", "--schedule", schedule]


def calls_to_seed():
    try:
        count = int(SEED_CALLS)
    except ValueError:
        count = -1
    if count < 0:
        raise Failure(f"IVR_SEED_CALLS={SEED_CALLS!r} is not a number of calls (0 plays none)")
    return count


# --- the processes of a run ----------------------------------------------------------------


# Worker features the IVR does not use; their reconnect after a broker restart is where
# workers were seen to crash (gossip: AttributeError on 'connection_errors').
WORKER_FLAGS = ("--without-gossip", "--without-mingle", "--without-heartbeat")


class Group:
    """Every process ``run`` starts (web server, worker, simulator, demo calls, and whatever they
    start in turn) in one process group that is not dev.py's: a terminal's Ctrl-C reaches dev.py
    alone, and dev.py stops the group as a whole, whatever made it stop."""

    def __init__(self):
        self.pgid = None
        self.children = []

    def start(self, name, args, env, echo, label=True):
        if os.name == "posix":
            # The first child leads the group, the others join it.
            options = {"process_group": self.pgid or 0}
        else:
            options = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
        child = Child(name, args, env, echo, label, options)
        child.started = (args, env, echo, label)
        if self.pgid is None and os.name == "posix":
            self.pgid = child.process.pid
        self.children.append(child)
        return child

    def restart(self, child):
        """Start ``child`` again, as it was started; returns the new Child."""
        return self.start(child.name, *child.started)

    def interrupt(self):
        """Ask every process in the group to stop. SIGTERM, not SIGINT: a child inherits SIGINT
        ignored when dev.py itself was started with it ignored (a script's ``&``)."""
        self._signal(signal.SIGTERM)

    def wait(self, grace):
        """Wait up to ``grace`` seconds in all, then SIGKILL whatever is left, children of
        children included."""
        deadline = time.monotonic() + grace
        for child in self.children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(max(0.0, deadline - time.monotonic()))
        self._signal(signal.SIGKILL if os.name == "posix" else signal.SIGTERM)
        for child in self.children:
            child.process.wait()
            child.relay.join(5)

    def _signal(self, signum):
        if self.pgid is not None:
            with contextlib.suppress(ProcessLookupError):  # the group has ended
                os.killpg(self.pgid, signum)
            return
        for child in self.children:
            if child.process.poll() is None:
                child.process.send_signal(signum)


class Child:
    """A child process whose output goes to var/logs/<name>.log, and to the terminal once ``echo``
    is set (each line after its name, with ``label``), so start-up transcripts stay readable."""

    def __init__(self, name, args, env, echo, label, options):
        self.name = name
        self.log_path = VAR_DIR / "logs" / f"{name}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.tail = collections.deque(maxlen=25)
        self.echo = echo
        self.prefix = f"{name:>9} | " if label else ""
        self.process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            **options,
        )
        self.relay = threading.Thread(target=self._relay, name=f"relay-{name}", daemon=True)
        self.relay.start()

    def _relay(self):
        with self.log_path.open("ab") as log:
            for raw in self.process.stdout:
                log.write(raw)
                log.flush()
                line = raw.decode("utf-8", "replace").rstrip()
                self.tail.append(line)
                if self.echo.is_set():
                    TERMINAL.write(self.prefix + line)

    def exited(self):
        return self.process.poll() is not None

    def report(self):
        lines = "\n".join(f"    {line}" for line in self.tail) or "    (no output)"
        return f"the {self.name} exited with status {self.process.returncode}:\n{lines}"


def answers(url, headers=None):
    """True when an HTTP server answers at ``url`` with 2xx."""
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 (http, loopback)
    try:
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
            return 200 <= response.status < 300
    except (OSError, urllib.error.HTTPError):
        return False


# A worker may exit on its own (a broker that went away, say): it is started again, as compose
# restarts it, unless it keeps exiting.
RESTARTED = frozenset({"worker", "beat"})
MAX_RESTARTS, RESTART_WINDOW = 5, 60.0
restarts = collections.deque(maxlen=MAX_RESTARTS)


def keep_watch(servers, seconds, group=None):
    """Wait ``seconds``. A worker that has exited is started again; another server that has
    exited ends the run with a Failure, a closed output with an OutputClosed: there is no
    one left to run it for."""
    for index, child in enumerate(servers):
        if not child.exited():
            continue
        now = time.monotonic()
        if (
            group is None
            or child.name not in RESTARTED
            or (len(restarts) == MAX_RESTARTS and now - restarts[0] < RESTART_WINDOW)
        ):
            raise Failure(child.report())
        restarts.append(now)
        say(f"the {child.name} exited with status {child.process.returncode}; starting it again")
        servers[index] = group.restart(child)
    if TERMINAL.closed(seconds):
        raise OutputClosed


def wait_ready(servers, probes):
    deadline = time.monotonic() + READY_SECONDS
    waiting = dict(probes)
    while waiting:
        for name, probe in list(waiting.items()):
            if probe():
                del waiting[name]
        if time.monotonic() > deadline:
            raise Failure(f"not ready after {READY_SECONDS} s: {', '.join(waiting)}")
        keep_watch(servers, 0.2)


def play_demo_calls(group, servers, env):
    shown = threading.Event()
    shown.set()
    for menu, arguments in DEMO_CALLS:
        say(f"a simulated call through the {menu} menu")
        call = group.start(
            "demo-call",
            [PYTHON, "manage.py", "ivr_simulate", *arguments, "--timeout", "60"],
            env,
            shown,
            label=False,
        )
        while not call.exited():
            keep_watch(servers, 0.2)
        call.relay.join(5)  # its transcript before what dev.py says next
        if call.process.returncode != 0:
            say(
                f"the {menu} call did not go as expected (see above); if you edited the menu, "
                "that may be why. Carrying on."
            )


def stop_on_signals():
    """Ctrl-C, SIGTERM and a hang-up each raise KeyboardInterrupt in the main thread, once: a
    second one while the children stop must not cut that short. A signal dev.py was started
    with ignored (``nohup``, a script's ``&``) stays ignored."""
    stopping = threading.Event()

    def interrupt(signum, frame):
        if not stopping.is_set():
            stopping.set()
            raise KeyboardInterrupt

    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, interrupt)
    return stopping


def run():
    stopping = stop_on_signals()
    ensure_venv("server")
    seed_calls = calls_to_seed()
    keys = simulator_keys()
    env = run_environment(keys)
    check_port(HOST, PORT, "web server", "IVR_PORT")
    check_port("127.0.0.1", SIMULATOR_PORT, "Telnyx simulator", "IVR_SIMULATOR_PORT")
    setup("migrate", "--no-input", env=env)
    setup("demo_user", DEMO_USER, DEMO_PASSWORD, env=env)
    say("loading the example menus (kept as they are if you have edited them)")
    examples = [f"--example={name}" for name in EXAMPLE_MENUS]
    setup("ivr_import", *examples, "--publish", "--skip-existing", env=env)
    if seed_calls:
        say(
            f"demo calls for the dashboards: {seed_calls} simulated calls over the past "
            f"{SEED_DAYS} days, played once, into an empty call log (a minute or two)"
        )
        seeding = ["--calls", str(seed_calls), "--days", str(SEED_DAYS), "--if-empty"]
        setup("ivr_seed_calls", *seeding, env=env)
    say(
        "starting the web server, a Celery worker, Celery beat (which rolls the call log up "
        "into the dashboards' figures every minute) and the Telnyx simulator "
        f"(logs in {VAR_DIR / 'logs'}; Ctrl-C stops them all)"
    )
    base = f"http://{local_host()}:{PORT}"
    echo = threading.Event()
    group = Group()
    problem = None
    try:
        servers = [
            group.start(
                "web", [PYTHON, "manage.py", "runserver", f"{HOST}:{PORT}", "--noreload"], env, echo
            ),
            group.start(
                "worker",
                [
                    PYTHON,
                    "-m",
                    "celery",
                    "-A",
                    "project",
                    "worker",
                    "-l",
                    "INFO",
                    "--pool",
                    "solo",
                    *WORKER_FLAGS,
                ],
                env,
                echo,
            ),
            group.start("beat", beat_command(), env, echo),
            group.start("simulator", [PYTHON, "manage.py", "ivr_simulator"], env, echo),
        ]
        wait_ready(
            servers,
            {
                "web server": lambda: answers(f"{base}/admin/login/"),
                "simulator": lambda: answers(
                    f"http://127.0.0.1:{SIMULATOR_PORT}/_simulator/",
                    {"Authorization": f"Bearer {keys['api_key']}"},
                ),
            },
        )
        play_demo_calls(group, servers, env)
        TERMINAL.write(
            f"\n    Admin:      {base}/admin/\n"
            f"    Dashboard:  {base}{DASHBOARD}\n"
            f"    Login:      {DEMO_USER} / {DEMO_PASSWORD}\n"
            f"    Webhook:    {base}/telnyx/webhook/\n"
            f"    Simulator:  http://127.0.0.1:{SIMULATOR_PORT}/v2 "
            "(another call: python3 dev.py simulate --press 2 --press 1)\n"
        )
        echo.set()
        while True:
            keep_watch(servers, 0.5, group)
    except KeyboardInterrupt:  # Ctrl-C, SIGTERM or a hang-up: stopped as asked
        status = 0
    except OutputClosed:
        status = 1
    except Failure as failure:
        problem, status = failure, 1
    finally:
        stopping.set()
        # First, before any output: the children must not outlive dev.py.
        group.interrupt()
        if problem is not None:
            say(f"error: {problem}")
        say("stopping")
        group.wait(STOP_SECONDS)
    return status


def test(args):
    ensure_venv("test")
    return subprocess.run([PYTHON, "-m", "pytest", *args], cwd=ROOT).returncode


def simulate(args):
    """``manage.py ivr_simulate`` with the settings ``run`` gives the app, so it reaches the
    simulator and the app that ``run`` started; its exit status is ours."""
    ensure_venv("server")
    env = run_environment(simulator_keys())
    return manage("ivr_simulate", *args, env=env, check=False).returncode


def main(argv):
    if not argv or argv[0] not in {"run", "test", "simulate"}:
        print(__doc__)
        return 2
    if argv[0] == "test":
        return test(argv[1:])
    if argv[0] == "simulate":
        return simulate(argv[1:])
    try:
        return run()
    except Failure as problem:
        say(f"error: {problem}")
        return 1
    except subprocess.CalledProcessError as failed:
        say(f"error: {' '.join(map(str, failed.cmd))} failed with status {failed.returncode}")
        return 1
    except KeyboardInterrupt:
        return 130
    except OutputClosed:
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
