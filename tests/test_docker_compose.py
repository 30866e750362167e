"""Docker cannot run here, so docker-compose.yml is checked by reading it."""

from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_has_the_five_services(compose):
    assert set(compose["services"]) == {"postgres", "redis", "web", "worker", "beat"}


@pytest.mark.parametrize("name", ["postgres", "redis", "web"])
def test_healthchecks(compose, name):
    assert compose["services"][name]["healthcheck"]["test"]


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_app_services_wait_for_healthy_database_and_broker(compose, name):
    depends = compose["services"][name]["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_app_services_point_at_the_compose_database_and_broker(compose, name):
    env = compose["services"][name]["environment"]
    pg = compose["services"]["postgres"]["environment"]
    db = urlsplit(env["DATABASE_URL"])
    assert (db.scheme, db.hostname, db.port) == ("postgres", "postgres", 5432)
    assert (db.username, db.password, db.path) == (
        pg["POSTGRES_USER"],
        pg["POSTGRES_PASSWORD"],
        "/" + pg["POSTGRES_DB"],
    )
    assert urlsplit(env["CELERY_BROKER_URL"]).hostname == "redis"
    assert "TELNYX_API_KEY" in env
    assert "TELNYX_PUBLIC_KEY" in env


def test_commands_name_real_modules(compose):
    web = compose["services"]["web"]["command"]
    assert "migrate" in web
    assert "project.wsgi:application" in web
    assert (ROOT / "project" / "wsgi.py").exists()
    assert compose["services"]["worker"]["command"][:4] == ["celery", "-A", "project", "worker"]
    assert compose["services"]["beat"]["command"][:4] == ["celery", "-A", "project", "beat"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    for copied in ("telnyx_ivr", "project", "templates", "manage.py"):
        assert copied in dockerfile
        assert (ROOT / copied).exists()


def test_the_image_serves_its_static_files_as_the_production_test_does():
    """tests/test_production_server.py runs collectstatic and gunicorn with DEBUG off; the image
    must do the same: the `server` extra (gunicorn, WhiteNoise) installed, files collected."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    installs = [line for line in dockerfile.splitlines() if "pip install" in line]
    assert any("server" in line for line in installs), installs
    collect = dockerfile.index("manage.py collectstatic")
    assert collect > dockerfile.index("COPY project")  # the settings must be there
    assert collect < dockerfile.index("USER ivr")  # written while the build may write /app/var


def test_the_web_service_runs_with_debug_off(compose):
    env = compose["services"]["web"]["environment"]
    assert env["DJANGO_DEBUG"] == "false"
    assert "gunicorn project.wsgi:application" in compose["services"]["web"]["command"]


def test_workers_run_as_the_outage_tests_run_them_and_are_restarted(compose):
    """tests/test_broker_outage.py restarts Redis under workers started with these flags."""
    worker = compose["services"]["worker"]
    for flag in ("--without-gossip", "--without-mingle", "--without-heartbeat"):
        assert flag in worker["command"]
    assert worker["restart"] == "unless-stopped"
