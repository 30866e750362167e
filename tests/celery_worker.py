"""Run a real Celery worker in a child process against the test database and broker."""

import os
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url():
    """A DATABASE_URL for the test database this process is using."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    host = s["HOST"] or "127.0.0.1"
    port = f":{s['PORT']}" if s["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{s['NAME']}"


class WorkerProcess:
    def __init__(self, *, broker_url, queue, log_path, env=None, name="worker"):
        self.log_path = Path(log_path)
        child_env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": broker_url,
            # Tasks the worker queues itself (retries) must land on the queue it consumes.
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        command = [
            sys.executable, "-m", "celery", "-A", "project", "worker",
            "-Q", queue, "-n", f"{name}-{os.getpid()}@%h", "--pool", "solo",
            "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "INFO",
        ]  # fmt: skip
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=child_env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Celery worker exited early:\n{self.output()}")
            if b" ready." in self.log_path.read_bytes():
                return self
            time.sleep(0.1)
        raise RuntimeError(f"Celery worker not ready after {timeout}s:\n{self.output()}")

    def output(self):
        return self.log_path.read_bytes().decode("utf-8", "replace")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
