# ruff: noqa: F811 -- fixtures imported from test_simulator_support are redefined as arguments
"""The pytest plugin as a host project uses it: its own menu, ``simulate_call`` and
``ivr_simulator``, no Redis and no worker process (tasks run eagerly)."""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import current_app

from telnyx_ivr.conf import ivr_settings
from telnyx_ivr.menus.io import import_definition
from telnyx_ivr.models import Call
from telnyx_ivr.simulator import ExpectEnd, ExpectHeard, Press, Silence, TelnyxSimulator

from .test_simulator_support import answering_app  # noqa: F401

pytest_plugins = ["telnyx_ivr.pytest_plugin"]  # what a host puts in its conftest.py

ROOT = Path(__file__).resolve().parent.parent
PIZZA_NUMBER = "+15557770000"
KITCHEN = "+15557770001"
REGULAR_CUSTOMER = "+15551230000"


def tts(text):
    return {
        "kind": "tts",
        "text": text,
        "payload_type": "text",
        "voice": None,
        "language": None,
        "voice_settings": None,
    }


PIZZA_MENU = {
    "format": "telnyx-ivr-menu",
    "format_version": 1,
    "menu": {
        "slug": "pizza",
        "name": "Pizza line",
        "description": "",
        "numbers": [PIZZA_NUMBER],
        "connection_ids": [],
        "is_default": False,
        "voice": "female",
        "language": "en-US",
        "service_level": "basic",
        "entry_node": "welcome",
    },
    "prompts": {
        "welcome": tts("Welcome to Pizza. Press 1 to order, or 2 to hear your last order."),
        "last_order": tts("Your last order from {{ caller_number }}: one margherita. Goodbye."),
        "no_order": tts("We have no order from {{ caller_number }}. Goodbye."),
    },
    "ai_schemas": {},
    "nodes": {
        "welcome": {
            "kind": "speak_menu",
            "name": "Welcome",
            "prompt": "welcome",
            "invalid_prompt": None,
            "no_input_prompt": None,
            "digits": {
                "valid_digits": "12",
                "minimum_digits": 1,
                "maximum_digits": 1,
                "maximum_tries": 2,
                "terminating_digit": "#",
                "timeout_millis": 5000,
                "inter_digit_timeout_millis": 3000,
                "initial_timeout_millis": None,
            },
            "save_as": "choice",
            "routes": [
                {"when": "digits", "digits": "1", "target": "node", "node": "kitchen"},
                {
                    "when": "digits",
                    "digits": "2",
                    "target": "callable",
                    "callable": "tests.test_host_fixture.by_caller",
                },
                {"when": "no_input", "target": "node", "node": "no_order"},
                {"when": "default", "target": "node", "node": "no_order"},
            ],
        },
        "kitchen": {
            "kind": "transfer",
            "name": "Kitchen",
            "to": KITCHEN,
            "from": None,
            "timeout_secs": 30,
            "save_as": None,
            "routes": [],
        },
        "last_order": {
            "kind": "hangup",
            "name": "Last order",
            "prompt": "last_order",
            "save_as": None,
            "routes": [],
        },
        "no_order": {
            "kind": "hangup",
            "name": "No order",
            "prompt": "no_order",
            "save_as": None,
            "routes": [],
        },
    },
}


def by_caller(variables):
    """A host's routing code: look the caller up (here: one known number)."""
    return "last_order" if variables["caller_number"] == REGULAR_CUSTOMER else "no_order"


@pytest.fixture
def pizza_menu(transactional_db):
    return import_definition(PIZZA_MENU, publish=True).menu


def test_a_scripted_call_through_the_host_menu(pizza_menu, simulate_call):
    call = simulate_call(
        to=PIZZA_NUMBER,
        script=[ExpectHeard("Welcome to Pizza"), Press("1"), ExpectEnd(transferred_to=KITCHEN)],
        timeout=20,
    )
    assert call.ended
    assert call.outcome["transferred_to"] == KITCHEN
    assert [r.action for r in call.commands] == ["answer", "gather_using_speak", "transfer"]
    row = Call.objects.get(call_control_id=call.call_control_id)
    assert (row.menu, row.status, row.variables["choice"]) == (pizza_menu, "ended", "1")


@pytest.mark.parametrize(
    ("caller", "text"),
    [
        (REGULAR_CUSTOMER, f"Your last order from {REGULAR_CUSTOMER}: one margherita."),
        ("+15559990000", "We have no order from +15559990000."),
    ],
)
def test_a_callable_route_sees_the_caller(pizza_menu, simulate_call, caller, text):
    call = simulate_call(
        to=PIZZA_NUMBER, from_=caller, script=[Press("2"), ExpectHeard(text), ExpectEnd(by="app")]
    )
    assert [r.action for r in call.commands][-2:] == ["speak", "hangup"]


def test_a_failed_expectation_raises_with_the_transcript(pizza_menu, simulate_call):
    with pytest.raises(AssertionError) as failure:
        simulate_call(
            to=PIZZA_NUMBER, script=[ExpectHeard("Welcome to Burgers"), Silence(), Silence()]
        )
    message = str(failure.value)
    assert 'expected to hear "Welcome to Burgers"' in message
    assert "Simulated call v3:" in message  # the transcript follows
    assert "We have no order from" in message


def test_a_call_that_does_not_end_raises_with_the_transcript(
    pizza_menu, ivr_simulator, simulate_call, answering_app
):
    ivr_simulator.webhook_url = answering_app(200).url  # takes webhooks, sends no command
    with pytest.raises(AssertionError) as failure:
        simulate_call(to=PIZZA_NUMBER, script=[Press("1")], timeout=1.5)
    message = str(failure.value)
    assert "timed out after 1.5 s" in message
    assert "call.initiated -> 200" in message


def test_a_call_the_app_never_hears_of_fails_at_once_saying_why(
    pizza_menu, ivr_simulator, simulate_call, live_server
):
    ivr_simulator.webhook_url = f"{live_server.url}/telnyx/wrong-path/"
    started = time.monotonic()
    with pytest.raises(AssertionError) as failure:
        simulate_call(to=PIZZA_NUMBER, script=[Press("1")], timeout=8)
    assert time.monotonic() - started < 5, "a refused call must not wait out its timeout"
    message = str(failure.value)
    assert "the app refused the call's first webhook, call.initiated -> 404" in message
    assert (
        f"nothing is mounted at {live_server.url}/telnyx/wrong-path/: this site's webhook path "
        "is /telnyx/webhook/"
    ) in message
    assert "Simulated call v3:" in message  # the transcript follows


def test_a_redirect_fails_the_call_at_once_naming_secure_ssl_redirect(
    pizza_menu, ivr_simulator, simulate_call, answering_app
):
    # What SECURE_SSL_REDIRECT answers a plain-http webhook (to an https that is not there).
    https_url = "https://127.0.0.1:9/telnyx/webhook/"
    redirector = answering_app(301, headers={"Location": https_url})
    ivr_simulator.webhook_url = redirector.url
    started = time.monotonic()
    with pytest.raises(AssertionError) as failure:
        simulate_call(to=PIZZA_NUMBER, script=[Press("1")], timeout=8)
    assert time.monotonic() - started < 5
    message = str(failure.value)
    assert f"call.initiated -> 301 (redirect to {https_url}, not followed)" in message
    assert f"this site redirected the webhook to {https_url} (HTTP 301)" in message
    assert "SECURE_SSL_REDIRECT" in message
    assert redirector.requests == ["POST"]  # not followed, and not delivered again


def test_the_webhook_path_alone_is_exempt_from_the_ssl_redirect(settings):
    patterns = [re.compile(pattern) for pattern in settings.SECURE_REDIRECT_EXEMPT]
    # SecurityMiddleware matches the path without its leading slash.
    assert any(pattern.search("telnyx/webhook/") for pattern in patterns)
    for path in ("admin/", "telnyx/webhook/extra", "other/telnyx/webhook/", ""):
        assert not any(pattern.search(path) for pattern in patterns), path


SECURE_HOST_TEST = """
import pytest

from telnyx_ivr.menus.io import import_definition
from telnyx_ivr.simulator import ExpectEnd, Press
from tests.test_host_fixture import KITCHEN, PIZZA_MENU, PIZZA_NUMBER


@pytest.fixture
def pizza_menu(transactional_db):
    return import_definition(PIZZA_MENU, publish=True).menu


def test_a_simulated_call_passes(pizza_menu, simulate_call):
    call = simulate_call(to=PIZZA_NUMBER, script=[Press("1"), ExpectEnd(transferred_to=KITCHEN)])
    assert call.outcome["transferred_to"] == KITCHEN


def test_other_paths_are_still_redirected(client):
    response = client.get("/admin/login/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
"""


def test_a_host_with_secure_ssl_redirect_runs_simulated_calls(tmp_path):
    # SecurityMiddleware reads its settings once, when the session's live server starts, so
    # this needs a host whose own settings say SECURE_SSL_REDIRECT = True: a pytest of its own.
    (tmp_path / "secure_host_settings.py").write_text(
        "from project.settings import *  # noqa: F403\n\nSECURE_SSL_REDIRECT = True\n"
    )
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["telnyx_ivr.pytest_plugin"]\n')
    (tmp_path / "test_secure_host.py").write_text(SECURE_HOST_TEST)
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nDJANGO_SETTINGS_MODULE = secure_host_settings\n"
    )
    result = run_host_pytest(tmp_path, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "2 passed" in output


def run_host_pytest(folder, timeout):
    """pytest in ``folder`` as a host project: this project's example site on the path, its
    own SQLite test database, the settings its pytest.ini names (the environment's
    DJANGO_SETTINGS_MODULE, which pytest-django sets here, would win over them)."""
    unset = ("DATABASE_URL", "PYTEST_ADDOPTS", "DJANGO_SETTINGS_MODULE")
    env = {
        **{k: v for k, v in os.environ.items() if k not in unset},
        "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT)]),
        "IVR_VAR_DIR": str(folder / "var"),
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_the_app_is_pointed_at_the_simulator_and_runs_tasks_eagerly(ivr_simulator, live_server):
    assert ivr_simulator.api_base_url == ivr_settings.API_BASE_URL
    assert ivr_simulator.api_key == ivr_settings.API_KEY
    assert [ivr_simulator.public_key] == ivr_settings.PUBLIC_KEYS
    assert ivr_simulator.webhook_url == f"{live_server.url}/telnyx/webhook/"
    assert current_app.conf.task_always_eager is True


def test_the_overrides_are_undone_afterwards(settings):
    # Imported here: a plugin module imported before pytest registers it is not rewritten.
    from telnyx_ivr.pytest_plugin import app_pointed_at, eager_celery_tasks

    settings.TELNYX_IVR = {"API_KEY": "KEY_host", "MAX_RETRIES": 5}
    was_eager = current_app.conf.task_always_eager
    with TelnyxSimulator() as sim:
        with app_pointed_at(sim), eager_celery_tasks():
            assert sim.api_key == ivr_settings.API_KEY
            assert ivr_settings.MAX_RETRIES == 5  # the host's other keys stay
            assert current_app.conf.task_always_eager is True
        assert ivr_settings.API_KEY == "KEY_host"
        assert settings.TELNYX_IVR == {"API_KEY": "KEY_host", "MAX_RETRIES": 5}
        assert current_app.conf.task_always_eager is was_eager


def documented_files():
    """The files of docs/testing.md's host example: python blocks headed ``# <path>``."""
    text = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    files = {}
    for block in re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL):
        first = block.splitlines()[0]
        match = re.match(r"# (\S+\.py)", first)
        if match:
            files[match[1]] = block
    return files


def test_the_documented_host_example_passes_as_written(tmp_path):
    files = documented_files()
    assert set(files) == {"conftest.py", "tests/test_phone_menu.py"}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    menus = tmp_path / "tests" / "menus"
    menus.mkdir()
    shutil.copy(ROOT / "telnyx_ivr" / "examples" / "classic_tree.json", menus / "main-menu.json")
    (tmp_path / "pytest.ini").write_text("[pytest]\nDJANGO_SETTINGS_MODULE = project.settings\n")
    result = run_host_pytest(tmp_path, timeout=180)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "2 passed" in output
