"""docs/integration.md, followed literally, in a new Django project with django-telnyx-ivr
installed from a wheel built from this checkout, not from the checkout itself.

The project is made by ``django-admin startproject hostsite``. Every Python block of
integration.md and docs/testing.md that names a file is written into that file (``yourproject``
becomes ``hostsite``); the commands are those of the guide's shell blocks. The site then
passes ``check``, serves its admin and static files, passes the documented tests with pytest,
and plays a simulated call through the shipped example menu with a real Celery worker.
"""

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import uuid
import venv
from pathlib import Path

import pytest
import redis
import requests
from django.db import connection

from . import services
from .docs_examples import ROOT, blocks, shell_commands
from .stack import free_port

GUIDE = "docs/integration.md"
HOST = "hostsite"
# The guide's code, then the documented host tests; conftest.py is in both, the same.
DOCUMENTED = [GUIDE, "docs/testing.md"]
CALL = [
    "ivr_simulate", "--to", "+15550000100", "--press", "1",
    "--expect-end", "transferred_to=+15550100001",
]  # fmt: skip

pytestmark = [pytest.mark.redis]


def build_wheel(folder):
    """A wheel of the package, built from a copy of just what the package build reads, so no
    stale build/ folder or uncommitted file outside the package can slip in."""
    source = folder / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "telnyx_ivr",
        source / "telnyx_ivr",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    dist = folder / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(dist), str(source)],
        check=True, capture_output=True,
    )  # fmt: skip
    [wheel] = dist.glob("django_telnyx_ivr-*.whl")
    return wheel


def make_venv(folder, wheel):
    """A virtualenv with the wheel installed. Its dependencies are this suite's own (on the
    path through a .pth file, without this checkout's editable install), so nothing is
    downloaded."""
    venv.EnvBuilder(with_pip=False).create(folder)
    python = folder / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    site_packages = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    # A path line in a .pth file adds the folder, not the .pth files in it: this checkout's
    # editable install stays out.
    (Path(site_packages) / "_suite_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n"
    )
    return python


def documented_files():
    """{path: code} of every Python block naming a file in the documented pages, in order;
    blocks for the same file (settings.py) are joined."""
    files = {}
    for doc in DOCUMENTED:
        for block in blocks(doc, "python"):
            if block.file is None:
                continue
            path = block.file.replace("yourproject/", f"{HOST}/")
            if path in ("settings.py", "urls.py"):
                path = f"{HOST}/{path}"
            code = block.code.replace("yourproject", HOST)
            if path == "conftest.py" and path in files:
                same = code.splitlines()[1:] == files[path].strip().splitlines()[1:]
                assert same, f"{block.where}: a second, different conftest.py"
                continue
            files[path] = files.get(path, "") + "\n" + code
    return files


class Host:
    """The new project, its processes and what they printed."""

    def __init__(self, folder, python):
        self.folder, self.python = folder, python
        self.processes = []
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("TELNYX_", "IVR_", "DJANGO_", "CELERY_", "DATABASE_"))
        }
        self.env.update(PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")

    def run(self, *args, check=True, timeout=180):
        done = subprocess.run(
            [self.python, *args],
            cwd=self.folder, env=self.env, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        if check:
            assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
        return done

    def manage(self, *args, **options):
        return self.run("manage.py", *args, **options)

    def start(self, name, *args):
        log = (self.folder / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [self.python, *args],
            cwd=self.folder, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.processes.append((name, process, log))
        return process

    def log(self, name):
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def wait_for(self, what, predicate, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process, _ in self.processes:
                if process.poll() is not None:
                    pytest.fail(f"{name} exited with {process.returncode}:\n{self.log(name)}")
            if predicate():
                return
            time.sleep(0.2)
        logs = "\n".join(f"--- {name}\n{self.log(name)}" for name, _, _ in self.processes)
        pytest.fail(f"no {what} after {timeout} s:\n{logs}")

    def stop(self):
        for _, process, _ in self.processes:
            if process.poll() is None:
                process.terminate()
        for _, process, log in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


def answers(url):
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def database_settings(name):
    """This site's own database (not from the guide): PostgreSQL when the suite runs on it."""
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        return (
            "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', "
            f"'NAME': {name!r}, 'USER': {s['USER']!r}, 'PASSWORD': {s['PASSWORD']!r}, "
            f"'HOST': {s['HOST'] or '127.0.0.1'!r}, 'PORT': {str(s['PORT'] or '')!r}}}}}\n"
        )
    # One web server and one worker on SQLite: writers wait their turn instead of failing.
    return "DATABASES['default']['OPTIONS'] = {'transaction_mode': 'IMMEDIATE', 'timeout': 20}\n"


def server_sql(statement):
    """Run ``statement`` on the suite's PostgreSQL server, outside any test database."""
    if connection.vendor != "postgresql":
        return
    import psycopg

    s = connection.settings_dict
    with psycopg.connect(
        dbname="postgres", user=s["USER"], password=s["PASSWORD"] or None,
        host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, autocommit=True,
    ) as server:  # fmt: skip
        server.execute(statement)


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    services.require_redis()
    folder = tmp_path_factory.mktemp("host")
    python = make_venv(folder / "venv", build_wheel(folder))
    site = folder / "site"
    site.mkdir()
    subprocess.run([python, "-m", "django", "startproject", HOST, str(site)], check=True)
    for path, code in documented_files().items():
        target = site / path
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a", encoding="utf-8") as handle:
            handle.write(code)
    # testing.md's example reads the menu it tests from the file its step 2 exports.
    (site / "tests" / "menus").mkdir()
    shutil.copy(
        ROOT / "telnyx_ivr" / "examples" / "classic_tree.json",
        site / "tests" / "menus" / "main-menu.json",
    )
    (site / "pytest.ini").write_text(f"[pytest]\nDJANGO_SETTINGS_MODULE = {HOST}.settings\n")
    database = f"telnyx_ivr_host_{uuid.uuid4().hex[:8]}"
    with (site / HOST / "settings.py").open("a") as handle:
        handle.write("\n# --- this site's own, not from the guide\n" + database_settings(database))

    project = Host(site, python)
    web_port, simulator_port = free_port(), free_port()
    project.web = f"http://127.0.0.1:{web_port}"
    project.env.update(
        CELERY_BROKER_URL=services.redis_url(),
        CELERY_TASK_DEFAULT_QUEUE=f"telnyx-ivr-host-{uuid.uuid4().hex[:8]}",
        IVR_SIMULATOR_API_URL=f"http://127.0.0.1:{simulator_port}/v2",
        IVR_SIMULATOR_WEBHOOK_URL=f"{project.web}/phone/webhook/",
    )
    server_sql(f'CREATE DATABASE "{database}"')
    yield project
    project.stop()
    server_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def test_the_guide_names_the_commands_this_test_runs():
    commands = shell_commands(GUIDE)
    for wanted in [
        "pip install django-telnyx-ivr",
        "python manage.py migrate",
        "python manage.py collectstatic --no-input",
        "python manage.py ivr_import --example classic_tree --publish",
        "python manage.py ivr_simulator --new-key",
        "python manage.py runserver",
        "celery -A yourproject worker -l INFO",
        "celery -A yourproject beat -l INFO",
        "python manage.py ivr_simulator",
        "python manage.py " + " ".join(CALL),
    ]:
        assert any(command.startswith(wanted) for command in commands), wanted


@pytest.mark.django_db(transaction=True)
def test_the_guide_followed_literally_gives_a_working_site(host):
    where = host.run("-c", "import telnyx_ivr; print(telnyx_ivr.__file__)").stdout
    assert str(host.python.parent.parent) in where  # the wheel, not this checkout
    assert "ModuleNotFoundError" in host.run("-c", "import project", check=False).stderr

    # Step 2: check names what is missing before the keys are there.
    missing = host.manage("check", "--deploy", check=False)
    assert "telnyx_ivr.W001" in missing.stderr  # no public key yet (DEBUG is on)

    # Step 8: the simulator's key, made by the app.
    made = host.manage("ivr_simulator", "--new-key").stdout
    seed = re.search(r'SIMULATOR_SIGNING_KEY"\]: (\S+)', made)[1]
    public_key = re.search(r'PUBLIC_KEYS"\]: (\S+)', made)[1]
    host.env.update(IVR_SIMULATOR_SIGNING_KEY=seed, IVR_SIMULATOR_PUBLIC_KEY=public_key)
    checked = host.manage("check")
    assert "System check identified no issues" in checked.stdout, checked.stderr

    host.manage("migrate", "--no-input")
    collected = host.manage("collectstatic", "--no-input").stdout
    assert "static files copied" in collected
    assert list((host.folder / "staticfiles" / "telnyx_ivr").glob("menu_admin.*.js"))
    swagger = host.folder / "staticfiles" / "drf_spectacular_sidecar" / "swagger-ui-dist"
    assert list(swagger.glob("swagger-ui-bundle.*.js"))  # the read API's docs page
    imported = host.manage("ivr_import", "--example", "classic_tree", "--publish").stdout
    assert "Created menu 'classic-tree'" in imported

    # Step 12 and docs/testing.md: the documented tests pass as written, and queue nothing.
    tests = host.run("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", check=False)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert re.search(r"\b4 passed\b", tests.stdout), tests.stdout
    with redis.Redis.from_url(services.redis_url()) as client:
        assert client.llen(host.env["CELERY_TASK_DEFAULT_QUEUE"]) == 0

    # Step 8: the site, a worker, the simulator, and a call through the example menu.
    host.start("web", "manage.py", "runserver", host.web.removeprefix("http://"), "--noreload")
    host.start("worker", "-m", "celery", "-A", HOST, "worker", "-l", "INFO")
    host.start("simulator", "manage.py", "ivr_simulator")
    host.wait_for("admin login page", lambda: answers(host.web + "/admin/login/"))
    host.wait_for("worker", lambda: " ready." in host.log("worker"))
    host.wait_for("simulator", lambda: "Telnyx simulator: commands at" in host.log("simulator"))
    call = host.manage(*CALL, "--timeout", "60", check=False)
    assert call.returncode == 0, call.stdout + call.stderr + host.log("worker")
    assert "PASSED" in call.stdout
    assert "transfer" in call.stdout

    # The app's scripts are served to the admin.
    assert answers(host.web + "/static/telnyx_ivr/menu_admin.js")
    # The read API is mounted with the app, and refuses anyone not logged in.
    refused = requests.get(host.web + "/phone/api/calls/", timeout=5)
    assert refused.status_code in (401, 403)
    assert list(refused.json()) == ["detail"]
    assert answers(host.web + "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css")
    # What beat schedules is a task the worker knows.
    registered = host.run("-m", "celery", "-A", HOST, "inspect", "registered", check=False)
    assert "telnyx_ivr.tasks.requeue_stale_events" in registered.stdout, registered.stderr
