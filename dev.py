#!/usr/bin/env python3
"""The two set-up commands of the README. Needs nothing but Python 3.11+.

    python3 dev.py run    # virtualenv, install, migrate, demo login, example menus; web server,
                          # Celery worker and the Telnyx simulator; one simulated call per menu
    python3 dev.py test   # virtualenv, install with test extras, the whole test suite
    python3 dev.py simulate --press 2 --press 1   # one more simulated call to a running `run`

Everything after ``test`` goes to pytest (``python3 dev.py test -k webhook``), everything after
``simulate`` to ``manage.py ivr_simulate`` (with the settings ``run`` gives the app).
``run`` reads IVR_HOST, IVR_PORT (web server, default 127.0.0.1:8000), IVR_SIMULATOR_PORT
(default 8001) and IVR_VAR_DIR (default var/).
"""

import collections
import contextlib
import hashlib
import json
import os
import secrets
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


def say(text):
    print(f"==> {text}", flush=True)


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


# --- the three processes ------------------------------------------------------------------


class Child:
    """A child process whose output goes to var/logs/<name>.log, and to the terminal (each
    line prefixed with its name) once ``echo`` is set, so start-up transcripts stay readable."""

    def __init__(self, name, args, env, echo):
        self.name = name
        self.log_path = VAR_DIR / "logs" / f"{name}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.tail = collections.deque(maxlen=25)
        self.echo = echo
        # A session of its own: Ctrl-C reaches dev.py only, which stops the children in turn.
        self.process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
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
                    print(f"{self.name:>9} | {line}", flush=True)

    def exited(self):
        return self.process.poll() is not None

    def report(self):
        lines = "\n".join(f"    {line}" for line in self.tail) or "    (no output)"
        return f"the {self.name} exited with status {self.process.returncode}:\n{lines}"

    def interrupt(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)

    def wait(self, timeout):
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.relay.join(5)
        return self.process.returncode


def answers(url, headers=None):
    """True when an HTTP server answers at ``url`` with 2xx."""
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 (http, loopback)
    try:
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
            return 200 <= response.status < 300
    except (OSError, urllib.error.HTTPError):
        return False


def wait_ready(children, probes):
    deadline = time.monotonic() + READY_SECONDS
    waiting = dict(probes)
    while waiting:
        for child in children:
            if child.exited():
                raise Failure(child.report())
        for name, probe in list(waiting.items()):
            if probe():
                del waiting[name]
        if time.monotonic() > deadline:
            raise Failure(f"not ready after {READY_SECONDS} s: {', '.join(waiting)}")
        time.sleep(0.2)


def play_demo_calls(env):
    for menu, arguments in DEMO_CALLS:
        say(f"a simulated call through the {menu} menu")
        done = manage(
            "ivr_simulate",
            *arguments,
            "--timeout",
            "60",
            env=env,
            check=False,
            start_new_session=True,  # Ctrl-C goes to dev.py, which then ends it
        )
        if done.returncode != 0:
            say(
                f"the {menu} call did not go as expected (see above); if you edited the menu, "
                "that may be why. Carrying on."
            )


def run():
    ensure_venv("server")
    keys = simulator_keys()
    env = run_environment(keys)
    check_port(HOST, PORT, "web server", "IVR_PORT")
    check_port("127.0.0.1", SIMULATOR_PORT, "Telnyx simulator", "IVR_SIMULATOR_PORT")
    manage("migrate", "--no-input", env=env)
    manage("demo_user", DEMO_USER, DEMO_PASSWORD, env=env)
    say("loading the example menus (kept as they are if you have edited them)")
    examples = [f"--example={name}" for name in EXAMPLE_MENUS]
    manage("ivr_import", *examples, "--publish", "--skip-existing", env=env)
    say(
        "starting the web server, a Celery worker and the Telnyx simulator "
        f"(logs in {VAR_DIR / 'logs'}; Ctrl-C stops them all)"
    )
    base = f"http://{local_host()}:{PORT}"
    echo = threading.Event()
    children = []
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        children.append(
            Child(
                "web", [PYTHON, "manage.py", "runserver", f"{HOST}:{PORT}", "--noreload"], env, echo
            )
        )
        children.append(
            Child(
                "worker",
                [PYTHON, "-m", "celery", "-A", "project", "worker", "-l", "INFO", "--pool", "solo"],
                env,
                echo,
            )
        )
        children.append(Child("simulator", [PYTHON, "manage.py", "ivr_simulator"], env, echo))
        wait_ready(
            children,
            {
                "web server": lambda: answers(f"{base}/admin/login/"),
                "simulator": lambda: answers(
                    f"http://127.0.0.1:{SIMULATOR_PORT}/_simulator/",
                    {"Authorization": f"Bearer {keys['api_key']}"},
                ),
            },
        )
        play_demo_calls(env)
        print(
            f"\n    Admin:      {base}/admin/\n"
            f"    Login:      {DEMO_USER} / {DEMO_PASSWORD}\n"
            f"    Webhook:    {base}/telnyx/webhook/\n"
            f"    Simulator:  http://127.0.0.1:{SIMULATOR_PORT}/v2 "
            "(another call: python3 dev.py simulate --press 2 --press 1)\n",
            flush=True,
        )
        echo.set()
        while not any(child.exited() for child in children):
            time.sleep(0.5)
        stopped = next(child for child in children if child.exited())
        raise Failure(stopped.report())
    except KeyboardInterrupt:
        return 0
    except Failure as problem:
        say(f"error: {problem}")
        return 1
    finally:
        # A second Ctrl-C must not cut the stopping short and leave children behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        say("stopping")
        for child in children:
            child.interrupt()
        for child in children:
            child.wait(STOP_SECONDS)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
