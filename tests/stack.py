"""The production stack's parts, started by tests and by bench/ scripts alike: a redis-server
of one's own on a free port, and the example project under gunicorn with DEBUG off. Each is
stopped by the PID it started, and listens on loopback only."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

from .celery_worker import database_url

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 60
PASSWORD = "production-test-password"
# This session's own settings must not reach the server: it gets exactly what compose gives.
SESSION_ONLY = (
    "CELERY_BROKER_URL",
    "CELERY_TASK_DEFAULT_QUEUE",
    "TELNYX_API_BASE_URL",
    "IVR_SIMULATOR_SIGNING_KEY",
    "IVR_SIMULATOR_WEBHOOK_URL",
    "DJANGO_DEBUG",
)


def own_database(name):
    """Point DATABASE_URL at a database ``name`` of its own, dropped and made anew, on the
    PostgreSQL server DATABASE_URL names: for bench/ scripts, whose runs are about the
    production stack. Call before Django is set up. Exits saying so without PostgreSQL."""
    import psycopg

    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL server: the run is about the production stack.")
    parts = urlsplit(server)
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


class StackError(RuntimeError):
    """A part of the stack did not start."""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server of this test's own on a free loopback port, stopped by its PID only."""

    def __init__(self, folder):
        self.port = free_port()
        self.folder = folder
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise StackError("redis-server did not start")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def pause(self):
        self.process.send_signal(signal.SIGSTOP)

    def resume(self):
        self.process.send_signal(signal.SIGCONT)


class ServerProcess:
    """A web server child process on a free loopback port, answering once it serves the
    admin's login page; stopped by its PID. Subclasses say the command line."""

    label = "server"

    def __init__(self, log_path, env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = env
        self.process = None

    def command(self):
        raise NotImplementedError

    def start(self):
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.command(), cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StackError(
                    f"{self.label} exited with {self.process.returncode}:\n{self.log()}"
                )
            try:
                requests.get(self.url + "/admin/login/", timeout=5)
                return self
            except requests.RequestException:  # not listening yet, or its workers still booting
                time.sleep(0.2)
        raise StackError(f"{self.label} did not answer within {START_SECONDS} s:\n{self.log()}")

    def log(self):
        return self.log_path.read_text(errors="replace")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self._log.close()


class ProductionServer(ServerProcess):
    """The example project under gunicorn with DEBUG off, as compose runs it."""

    label = "gunicorn"

    def __init__(self, var_dir, log_path, public_key, workers=2):
        env = {k: v for k, v in os.environ.items() if k not in SESSION_ONLY}
        super().__init__(log_path, env)
        self.workers = workers
        self.static_root = var_dir / "static"
        self.env.update(
            DATABASE_URL=database_url(),
            DJANGO_DEBUG="false",
            DJANGO_SECRET_KEY="production-test-" + "k" * 40,
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            IVR_VAR_DIR=str(var_dir),
            TELNYX_API_KEY="KEY_production_test",
            TELNYX_PUBLIC_KEY=public_key,
            PYTHONUNBUFFERED="1",
        )

    def command(self):
        return [sys.executable, "-m", "gunicorn", "project.wsgi:application",
                "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers)]  # fmt: skip

    def collectstatic(self):
        done = subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    def logged_in(self, username):
        session = requests.Session()
        login = session.get(self.url + "/admin/login/", timeout=10)
        token = session.cookies["csrftoken"]
        answer = session.post(
            self.url + "/admin/login/?next=/admin/",
            data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": login.url},
            timeout=10,
        )
        assert answer.status_code == 200
        assert "Log out" in answer.text, answer.text[:500]
        return session
