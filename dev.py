#!/usr/bin/env python3
"""The two set-up commands of the README. Needs nothing but Python 3.11+.

    python3 dev.py run    # virtualenv, install, migrate, demo login, web server + Celery worker
    python3 dev.py test   # virtualenv, install with test extras, the whole test suite

Everything after ``test`` goes to pytest (``python3 dev.py test -k webhook``).
"""

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
DEMO_USER, DEMO_PASSWORD = "admin", "telnyx-ivr-demo"
EXAMPLE_MENUS = ["telnyx_ivr/examples/classic_tree.json", "telnyx_ivr/examples/ai_intake.json"]
HOST, PORT = os.environ.get("IVR_HOST", "127.0.0.1"), os.environ.get("IVR_PORT", "8000")


def say(text):
    print(f"==> {text}", flush=True)


def ensure_venv(extras):
    if not PYTHON.exists():
        say(f"creating virtualenv in {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    spec = f".[{extras}]" if extras else "."
    stamp = VENV / f".installed-{extras or 'base'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    say(f"installing {spec} into the virtualenv")
    subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "-e", spec], cwd=ROOT, check=True)
    stamp.write_text(digest)


def manage(*args, check=True):
    return subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, check=check)


def run():
    ensure_venv("")
    manage("migrate", "--no-input")
    manage("ivr_demo_user", DEMO_USER, DEMO_PASSWORD)
    say("loading the example menus (kept as they are if you have edited them)")
    manage("ivr_import", *EXAMPLE_MENUS, "--publish", "--skip-existing")
    say("starting the web server and a Celery worker (Ctrl-C stops both)")
    children = [
        subprocess.Popen(
            [PYTHON, "manage.py", "runserver", f"{HOST}:{PORT}", "--noreload"], cwd=ROOT
        ),
        subprocess.Popen(
            [PYTHON, "-m", "celery", "-A", "project", "worker", "-l", "INFO", "--pool", "solo"],
            cwd=ROOT,
        ),
    ]
    print(
        f"\n    Admin:    http://{HOST}:{PORT}/admin/\n"
        f"    Login:    {DEMO_USER} / {DEMO_PASSWORD}\n"
        f"    Webhook:  http://{HOST}:{PORT}/telnyx/webhook/\n",
        flush=True,
    )
    try:
        while all(child.poll() is None for child in children):
            with contextlib.suppress(subprocess.TimeoutExpired):
                children[0].wait(1)
    except KeyboardInterrupt:
        pass
    finally:
        say("stopping")
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
    return max(child.returncode or 0 for child in children)


def test(args):
    ensure_venv("test")
    return subprocess.run([PYTHON, "-m", "pytest", *args], cwd=ROOT).returncode


def main(argv):
    if not argv or argv[0] not in {"run", "test"}:
        print(__doc__)
        return 2
    return run() if argv[0] == "run" else test(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
