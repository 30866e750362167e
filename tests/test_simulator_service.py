import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from telnyx_ivr.simulator.service import configured_client, configured_simulator, new_signing_seed


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
