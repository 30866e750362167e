"""``python3 dev.py run``, the README's run command, as a user runs it: on free ports with a
fresh var/ folder it seeds demo calls for the dashboards, starts the web server, a worker, beat
and the simulator, plays one simulated call through each example menu, serves the admin and
the dashboard, and Ctrl-C, SIGTERM, a hang-up or a reader that goes away stops every child."""

import contextlib
import os
import shlex
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

from .stack import free_port

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 240  # migrate a fresh database, seed calls, start four processes, play two calls
# Demo calls seeded at start-up: a few, where a test looks at them (each takes a fraction of a
# second of CPU); the others start without (IVR_SEED_CALLS=0).
SEED_CALLS = 12
DEMO_LOGIN = ("admin", "telnyx-ivr-demo")
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


def _hang_ups_heard():
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


class DevRun:
    """``python3 dev.py run`` in the background, its output collected line by line, or left to
    the caller with a ``stdout``. With ``tee`` (a folder), ``dev.py run 2>stderr.log | tee
    run.log`` in that folder, started as a shell starts a job: in a session of its own."""

    def __init__(self, tmp_path, stdout=None, stderr=subprocess.STDOUT, tee=None, **env):
        self.web_port, self.simulator_port = free_port(), free_port()
        child_env = {k: v for k, v in os.environ.items() if k not in SESSION_ONLY}
        child_env.update(
            IVR_VAR_DIR=str(tmp_path / "var"),
            IVR_PORT=str(self.web_port),
            IVR_SIMULATOR_PORT=str(self.simulator_port),
            IVR_SEED_CALLS="0",
            PYTHONUNBUFFERED="1",
        )
        self.var = tmp_path / "var"
        child_env.update(env)
        python = shutil.which("python3") or sys.executable
        command = [python, "dev.py", "run"]
        self.tee_log = None
        if tee:
            self.tee_log, errors = tee / "run.log", tee / "stderr.log"
            pipeline = f"2>{shlex.quote(str(errors))} | tee {shlex.quote(str(self.tee_log))}"
            command = ["sh", "-c", f"{shlex.join(command)} {pipeline}"]
            stdout = subprocess.DEVNULL
        self.lines = []
        self.children = []  # recorded while running, so that none outlives a failed test
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=child_env,
            stdout=subprocess.PIPE if stdout is None else stdout,
            stderr=stderr,
            text=True,
            start_new_session=bool(tee),
            # As from a terminal: a suite run under nohup passes SIGHUP on ignored, which
            # dev.py rightly keeps ignored, and the hang-up test would wait in vain.
            preexec_fn=_hang_ups_heard,
        )
        self.reader = None
        if stdout is None:
            self.reader = threading.Thread(target=self._read, daemon=True)
            self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self):
        if self.tee_log:
            return self.tee_log.read_text() if self.tee_log.exists() else ""
        return "\n".join(self.lines)

    def wait_for(self, text, timeout):
        deadline = time.monotonic() + timeout
        while text not in self.output:
            if self.process.poll() is not None:
                if self.reader:
                    self.reader.join(5)
                if text in self.output:
                    return
                pytest.fail(f"dev.py run exited before printing {text!r}:\n{self.output}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {text!r} after {timeout} s:\n{self.output}")
            time.sleep(0.2)

    def wait_for_web_server(self, timeout):
        """Until the admin login page answers: the web server, the worker and the simulator have
        all been started by then."""
        deadline = time.monotonic() + timeout
        while not answers(f"http://127.0.0.1:{self.web_port}/admin/login/"):
            if self.process.poll() is not None:
                pytest.fail(f"dev.py run exited with {self.process.returncode}:\n{self.output}")
            if time.monotonic() > deadline:
                pytest.fail(f"the web server did not answer in {timeout} s:\n{self.output}")
            time.sleep(0.2)
        self.children = descendants(self.process.pid)
        assert len(self.children) >= 3, self.children  # web server, worker, simulator (at least)
        return self.children

    def stop(self):
        # Found before dev.py ends, after which its children would belong to PID 1.
        leftovers = {*descendants(self.process.pid), *self.children}
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for pid in leftovers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def answers(url):
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def assert_all_gone(pids):
    """Every one of ``pids`` ends within dev.py's grace period (then it kills them)."""
    deadline = time.monotonic() + 20
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in pids if alive(pid)] == []


def assert_free(*ports):
    """The next run can listen on ``ports`` (as servers do, past closed connections' TIME_WAIT)."""
    for port in ports:
        with socket.socket() as server:
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind(("127.0.0.1", port))
            server.listen()


@pytest.fixture
def dev_run(tmp_path):
    runs = []

    def start(**options):
        runs.append(DevRun(tmp_path, **options))
        return runs[-1]

    yield start
    for run in runs:
        run.stop()


def logged_in(base):
    """A requests session logged in to the admin as the demo user."""
    session = requests.Session()
    session.get(f"{base}/admin/login/", timeout=10)
    username, password = DEMO_LOGIN
    answer = session.post(
        f"{base}/admin/login/?next=/admin/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "next": "/admin/",
        },
        headers={"Referer": f"{base}/admin/login/"},
        timeout=10,
    )
    assert answer.url == f"{base}/admin/", answer.text[:500]
    return session


def test_run_seeds_demo_calls_plays_both_example_menus_serves_the_dashboard_and_stops_every_child(
    dev_run,
):
    run = dev_run(IVR_SEED_CALLS=str(SEED_CALLS))
    run.wait_for("Admin:", START_SECONDS)
    output = run.output
    base = f"http://127.0.0.1:{run.web_port}"
    assert f"demo calls for the dashboards: {SEED_CALLS} simulated calls" in output
    assert f"Played {SEED_CALLS} test calls over the past 7 day(s)" in output
    assert output.index("Played") < output.index("starting the web server")
    dashboard = f"{base}/admin/telnyx_ivr/dashboard/?include_test=1"
    assert f"Dashboard:  {dashboard}" in output
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

    # The dashboard's figures count the seeded calls and the two played since; beat runs.
    session = logged_in(base)
    page = session.get(dashboard, timeout=30)
    assert page.status_code == 200
    assert "No calls between" not in page.text
    stats = session.get(f"{base}/telnyx/api/stats/?include_test=1", timeout=30).json()
    assert stats["calls"]["total"] == SEED_CALLS + 2, stats["calls"]
    assert "beat: Starting..." in (run.var / "logs" / "beat.log").read_text()

    children = run.children = descendants(run.process.pid)
    assert len(children) >= 4, children  # web server, worker, beat, simulator

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


def test_ctrl_c_on_run_piped_to_tee_stops_every_child_and_frees_the_ports(dev_run, tmp_path):
    """``python3 dev.py run | tee run.log`` as a shell job, and Ctrl-C once it has started: the
    terminal sends SIGINT to the whole job, so tee ends at once and dev.py's output is a pipe
    without a reader, while the children still have their last words to say. (stderr goes to a
    file of its own, where a traceback would show.)"""
    run = dev_run(tee=tmp_path)
    run.wait_for("Admin:", START_SECONDS)  # the children's output is on the terminal by now
    everyone = run.children = descendants(run.process.pid)  # dev.py, tee, dev.py's children
    assert len(everyone) >= 5, everyone

    os.killpg(run.process.pid, signal.SIGINT)
    run.process.wait(STOP_SECONDS)
    assert_all_gone(everyone)
    assert_free(run.web_port, run.simulator_port)
    for text in (run.output, (tmp_path / "stderr.log").read_text()):
        assert "Traceback" not in text, text
        assert "BrokenPipeError" not in text, text


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_or_a_hang_up_stops_every_child(dev_run, signum):
    run = dev_run()
    children = run.wait_for_web_server(START_SECONDS)

    run.process.send_signal(signum)
    run.process.wait(STOP_SECONDS)
    assert_all_gone(children)
    assert run.process.returncode == 0, run.output
    assert "==> stopping" in run.output


@pytest.mark.parametrize("after", ["first line", "start-up"])
def test_a_reader_that_goes_away_stops_every_child(dev_run, tmp_path, after):
    """The reader of dev.py's output closes its end: after the first line (``| head -1``), while
    the set-up commands print, or once start-up is over and dev.py is idle, printing nothing.
    Either way dev.py notices, stops every child and exits, with no traceback."""
    stderr = (tmp_path / "stderr.log").open("w")
    run = dev_run(stdout=subprocess.PIPE, stderr=stderr)
    output = run.process.stdout.fileno()
    os.set_blocking(output, False)
    seen, wanted = b"", b"\n" if after == "first line" else b"Admin:"
    deadline = time.monotonic() + START_SECONDS
    while wanted not in seen:
        assert time.monotonic() < deadline, seen.decode()
        assert run.process.poll() is None, seen.decode()
        with contextlib.suppress(BlockingIOError):
            seen += os.read(output, 65536)
        time.sleep(0.1)
    children = run.children = descendants(run.process.pid)
    if after == "start-up":
        assert len(children) >= 3, children  # web server, worker, simulator

    run.process.stdout.close()
    assert run.process.wait(STOP_SECONDS) == 1  # it stopped for want of a reader
    assert_all_gone(children)
    stderr.close()
    assert (tmp_path / "stderr.log").read_text() == ""
    if after == "first line":  # no server started for no one
        assert not (tmp_path / "var" / "logs").exists()


def test_a_worker_that_exits_is_started_again(dev_run):
    """A worker can exit on its own (a broker restart was seen to do it): run starts it again,
    as compose's restart policy does, instead of carrying on without one."""
    run = dev_run()
    run.wait_for("Admin:", START_SECONDS)

    def workers():
        found = []
        for pid in descendants(run.process.pid):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"worker" in command and b"celery" in b" ".join(command):
                found.append(pid)
        return found

    [first] = workers()
    os.kill(first, signal.SIGKILL)
    run.wait_for("the worker exited with status -9; starting it again", 30)
    deadline = time.monotonic() + 30
    while not [pid for pid in workers() if pid != first] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [pid for pid in workers() if pid != first], run.output
    assert run.process.poll() is None  # the run goes on
    run.process.send_signal(signal.SIGTERM)
    assert run.process.wait(STOP_SECONDS) == 0, run.output
