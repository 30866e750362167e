"""``python3 dev.py run``, the README's run command, as a user runs it: on free ports with a
fresh var/ folder it starts the web server, a worker and the simulator, plays one simulated
call through each example menu, serves the admin, and Ctrl-C stops every child."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 240  # migrate a fresh database, start three processes, play two calls
STOP_SECONDS = 60
# Settings of this test session that must not reach the run: it uses its own var/ folder.
SESSION_ONLY = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CELERY_TASK_DEFAULT_QUEUE",
    "TELNYX_API_KEY",
    "TELNYX_API_BASE_URL",
    "TELNYX_PUBLIC_KEY",
    "IVR_SIMULATOR_SIGNING_KEY",
    "IVR_SIMULATOR_WEBHOOK_URL",
)

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="finds child processes through /proc"
)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def descendants(pid):
    """Every live process below ``pid``, read from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # "pid (name) state ppid ...": the name may hold spaces and parentheses.
            fields = stat[stat.rindex(")") + 2 :].split()
            if fields[0] != "Z":
                parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def alive(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


class DevRun:
    """``python3 dev.py run`` in the background, its output collected line by line."""

    def __init__(self, tmp_path, **env):
        self.web_port, self.simulator_port = free_port(), free_port()
        child_env = {k: v for k, v in os.environ.items() if k not in SESSION_ONLY}
        child_env.update(
            IVR_VAR_DIR=str(tmp_path / "var"),
            IVR_PORT=str(self.web_port),
            IVR_SIMULATOR_PORT=str(self.simulator_port),
            PYTHONUNBUFFERED="1",
        )
        child_env.update(env)
        python = shutil.which("python3") or sys.executable
        self.lines = []
        self.process = subprocess.Popen(
            [python, "dev.py", "run"],
            cwd=ROOT,
            env=child_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self):
        return "\n".join(self.lines)

    def wait_for(self, text, timeout):
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            if self.process.poll() is not None:
                self.reader.join(5)
                if any(text in line for line in self.lines):
                    return
                pytest.fail(f"dev.py run exited before printing {text!r}:\n{self.output}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {text!r} after {timeout} s:\n{self.output}")
            time.sleep(0.2)

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for pid in descendants(self.process.pid):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def dev_run(tmp_path):
    runs = []

    def start(**env):
        runs.append(DevRun(tmp_path, **env))
        return runs[-1]

    yield start
    for run in runs:
        run.stop()


def test_run_plays_both_example_menus_serves_the_admin_and_stops_every_child(dev_run):
    run = dev_run()
    run.wait_for("Admin:", START_SECONDS)
    output = run.output
    assert "Simulated call from +15550001111 to +15550000100" in output  # classic tree
    assert "caller   pressed 1" in output
    assert "route    main -> sales" in output
    assert "Simulated call from +15550001111 to +15550100200" in output  # AI intake
    assert 'caller   AI result valid: {"age": 36, "city": "Chicago", "name": "Ada"}' in output
    assert "Connecting you to our Chicago office" in output
    assert output.count("\nPASSED") == 2, output
    assert output.index("PASSED") < output.index("Admin:")
    assert f"Admin:      http://127.0.0.1:{run.web_port}/admin/" in output
    assert "Login:      admin / telnyx-ivr-demo" in output

    login = requests.get(f"http://127.0.0.1:{run.web_port}/admin/login/", timeout=10)
    assert login.status_code == 200
    assert 'name="password"' in login.text
    status = requests.get(f"http://127.0.0.1:{run.simulator_port}/_simulator/", timeout=10)
    assert status.status_code == 401  # the simulator answers, and wants its key

    children = descendants(run.process.pid)
    assert len(children) >= 3, children  # web server, worker, simulator

    run.process.send_signal(signal.SIGINT)
    assert run.process.wait(STOP_SECONDS) == 0, run.output
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in children if alive(pid)] == []
    assert "==> stopping" in run.output


def test_a_taken_port_is_a_clear_error(dev_run):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        run = dev_run(IVR_PORT=str(port))
        assert run.process.wait(STOP_SECONDS) == 1
        run.reader.join(5)
    assert f"port {port} on 127.0.0.1 is taken" in run.output
    assert "set IVR_PORT to a free port" in run.output
    assert "Traceback" not in run.output
    assert "starting the web server" not in run.output
