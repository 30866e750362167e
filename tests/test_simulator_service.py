import base64
import io

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from nacl.signing import SigningKey

from telnyx_ivr.simulator.service import (
    configured_client,
    configured_simulator,
    new_signing_seed,
    simulator_webhook_url,
)
from telnyx_ivr.testing import WebhookSigner

from .urls_other_mount import OTHER_WEBHOOK_PATH


@pytest.fixture
def seed(ivr_settings_for):
    seed, public = new_signing_seed()
    ivr_settings_for(
        API_KEY="KEY_sim",
        API_BASE_URL="http://127.0.0.1:0/v2",
        SIMULATOR_SIGNING_KEY=seed,
        PUBLIC_KEYS=[public],
        SIMULATOR_WEBHOOK_URL="http://127.0.0.1:8000/telnyx/webhook/",
    )
    return seed, public


def test_builds_the_simulator_from_settings(seed):
    with configured_simulator() as simulator:
        assert simulator.public_key == seed[1]
        assert simulator.api_key == "KEY_sim"
        assert simulator.webhook_url == "http://127.0.0.1:8000/telnyx/webhook/"
        assert simulator.api_base_url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"API_BASE_URL": "https://api.telnyx.com/v2"}, "loopback address"),
        ({"API_BASE_URL": "http://127.0.0.1:8001/api"}, "must end in /v2"),
        ({"SIMULATOR_SIGNING_KEY": None}, 'SIMULATOR_SIGNING_KEY"] is not set'),
        ({"SIMULATOR_SIGNING_KEY": "c2hvcnQ="}, "base64 of 32 bytes"),
        ({"PUBLIC_KEYS": []}, "would reject its webhooks"),
    ],
)
def test_misconfiguration_names_the_setting(seed, ivr_settings_for, overrides, message):
    ivr_settings_for(**overrides)
    with pytest.raises(ImproperlyConfigured, match=message):
        configured_simulator()


def test_the_command_reports_misconfiguration_without_a_traceback(seed, ivr_settings_for):
    ivr_settings_for(API_BASE_URL="https://api.telnyx.com/v2")
    with pytest.raises(CommandError, match="loopback"):
        call_command("ivr_simulator")


def test_client_refuses_a_remote_base_url(seed, ivr_settings_for):
    ivr_settings_for(API_BASE_URL="https://api.telnyx.com/v2")
    with pytest.raises(ImproperlyConfigured):
        configured_client()


# --- where the simulator delivers webhooks ---------------------------------------------------

# A URLconf without the app, for the test that needs one (pytest.mark.urls names this module).
urlpatterns = []


def test_the_webhook_url_defaults_to_this_sites_webhook(seed, ivr_settings_for):
    ivr_settings_for(SIMULATOR_WEBHOOK_URL=None)
    assert simulator_webhook_url() == "http://127.0.0.1:8000/telnyx/webhook/"
    ivr_settings_for(SIMULATOR_WEBHOOK_URL="http://web:8000/hooks/telnyx/")
    assert simulator_webhook_url() == "http://web:8000/hooks/telnyx/"


@pytest.mark.urls("tests.urls_other_mount")
def test_the_default_webhook_url_follows_another_mount(seed, ivr_settings_for):
    ivr_settings_for(SIMULATOR_WEBHOOK_URL=None)
    with configured_simulator() as simulator:
        assert simulator.webhook_url == f"http://127.0.0.1:8000{OTHER_WEBHOOK_PATH}"


@pytest.mark.urls("tests.test_simulator_service")
def test_a_site_without_the_apps_urls_needs_the_webhook_url_set(seed, ivr_settings_for):
    ivr_settings_for(SIMULATOR_WEBHOOK_URL=None)
    with pytest.raises(ImproperlyConfigured, match=r"include telnyx_ivr\.urls.*SIMULATOR_WEBHOOK"):
        configured_simulator()


# --- a signing key for the simulator ---------------------------------------------------------


def test_new_key_prints_a_seed_and_the_public_key_that_verifies_it(ivr_settings_for):
    out, err = io.StringIO(), io.StringIO()
    call_command("ivr_simulator", "--new-key", stdout=out, stderr=err)
    lines = out.getvalue().splitlines()
    assert [line.split(": ")[0] for line in lines] == [
        'TELNYX_IVR["SIMULATOR_SIGNING_KEY"]',
        'add to TELNYX_IVR["PUBLIC_KEYS"]',
    ]
    seed, public = (line.split(": ")[1] for line in lines)
    assert WebhookSigner(SigningKey(base64.b64decode(seed))).public_key == public
    assert "never add its public key to a production site" in err.getvalue()
    # What it printed is what the simulator needs: it builds, and this site trusts it.
    ivr_settings_for(
        API_KEY="KEY_sim",
        API_BASE_URL="http://127.0.0.1:0/v2",
        SIMULATOR_SIGNING_KEY=seed,
        PUBLIC_KEYS=[public],
    )
    with configured_simulator() as simulator:
        assert simulator.public_key == public


def test_new_key_gives_a_new_key_each_time():
    def printed():
        out = io.StringIO()
        call_command("ivr_simulator", "--new-key", stdout=out, stderr=io.StringIO())
        return out.getvalue()

    assert printed() != printed()
