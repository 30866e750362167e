import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from telnyx_ivr.checks import check_webhook_verification
from telnyx_ivr.conf import ivr_settings
from telnyx_ivr.testing import WebhookSigner

APP = Path(__file__).resolve().parent.parent / "telnyx_ivr"


def ids(messages):
    return [m.id for m in messages]


def test_settings_are_read_lazily_and_follow_override_settings(settings):
    settings.TELNYX_IVR = {"API_BASE_URL": "http://127.0.0.1:9/v2"}
    assert ivr_settings.API_BASE_URL == "http://127.0.0.1:9/v2"
    settings.TELNYX_IVR = {"API_BASE_URL": "http://127.0.0.1:10/v2"}
    assert ivr_settings.API_BASE_URL == "http://127.0.0.1:10/v2"


def test_defaults_apply_when_unset(settings):
    settings.TELNYX_IVR = {}
    assert ivr_settings.TIMESTAMP_TOLERANCE_SECONDS == 300
    assert ivr_settings.MAX_BODY_BYTES == 1024 * 1024
    assert ivr_settings.API_BASE_URL == "https://api.telnyx.com/v2"


def test_missing_api_key_names_the_setting(settings):
    settings.TELNYX_IVR = {}
    with pytest.raises(ImproperlyConfigured, match=r'TELNYX_IVR\["API_KEY"\] is not set') as error:
        _ = ivr_settings.API_KEY
    # A host's settings need not read the example project's environment variables.
    assert "example project" not in str(error.value)
    assert "TELNYX_API_KEY" not in str(error.value)


# Words only the example project (project/, dev.py) gives meaning to.
EXAMPLE_PROJECT_WORDING = re.compile(
    r"example project|dev\.py|\b(?!TELNYX_IVR\b)(TELNYX|IVR)_[A-Z_]+"
)


def test_shipped_messages_name_only_the_apps_settings_and_commands():
    found = [
        f"{path.relative_to(APP.parent)}:{number}: {match[0]}"
        for path in sorted(APP.rglob("*"))
        if path.suffix in {".py", ".html", ".js", ".txt"} and "migrations" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for match in EXAMPLE_PROJECT_WORDING.finditer(line)
    ]
    assert found == []


def test_unknown_key_is_an_error_listing_valid_keys(settings):
    settings.TELNYX_IVR = {"PUBLIC_KEY": "x"}
    with pytest.raises(ImproperlyConfigured, match=r"Unknown key.*PUBLIC_KEY.*PUBLIC_KEYS"):
        _ = ivr_settings.PUBLIC_KEYS


def test_settings_must_be_a_dict(settings):
    settings.TELNYX_IVR = ["API_KEY"]
    with pytest.raises(ImproperlyConfigured, match="must be a dict"):
        _ = ivr_settings.API_KEY


def test_public_keys_accept_comma_separated_text(settings):
    settings.TELNYX_IVR = {"PUBLIC_KEYS": " a, ,b ,"}
    assert ivr_settings.PUBLIC_KEYS == ["a", "b"]


def test_no_public_key_is_an_error_without_debug(settings):
    settings.DEBUG = False
    settings.TELNYX_IVR = {}
    assert ids(check_webhook_verification()) == ["telnyx_ivr.E001"]


def test_no_public_key_is_a_warning_with_debug(settings):
    settings.DEBUG = True
    settings.TELNYX_IVR = {}
    assert ids(check_webhook_verification()) == ["telnyx_ivr.W001"]


def test_a_valid_key_passes(settings):
    settings.DEBUG = False
    settings.TELNYX_IVR = {"PUBLIC_KEYS": [WebhookSigner().public_key]}
    assert check_webhook_verification() == []


def test_a_malformed_key_is_an_error_naming_its_position(settings):
    settings.TELNYX_IVR = {"PUBLIC_KEYS": [WebhookSigner().public_key, "bm9wZQ=="]}
    messages = check_webhook_verification()
    assert ids(messages) == ["telnyx_ivr.E002"]
    assert 'PUBLIC_KEYS"][1]' in messages[0].msg


def test_skipping_verification_warns_even_in_debug_and_keeps_warning(settings):
    for debug in (True, False):
        settings.DEBUG = debug
        settings.TELNYX_IVR = {"INSECURE_SKIP_SIGNATURE_VERIFICATION": True}
        assert ids(check_webhook_verification()) == ["telnyx_ivr.W002"]


def test_broken_settings_become_a_check_error_not_a_crash(settings):
    settings.TELNYX_IVR = {"NOPE": 1}
    assert ids(check_webhook_verification()) == ["telnyx_ivr.E003"]


@pytest.mark.django_db
def test_debug_does_not_switch_verification_off(client, settings):
    settings.DEBUG = True
    settings.TELNYX_IVR = {}
    from telnyx_ivr.testing import event_body

    response = WebhookSigner().post(client, "/telnyx/webhook/", event_body("call.initiated"))
    assert response.status_code == 403


@pytest.mark.django_db
def test_insecure_setting_accepts_unsigned_events(client, settings):
    settings.TELNYX_IVR = {"INSECURE_SKIP_SIGNATURE_VERIFICATION": True}
    response = client.post(
        "/telnyx/webhook/",
        data=b'{"data": {"id": "e-1", "event_type": "call.initiated"}}',
        content_type="application/json",
    )
    assert response.status_code == 200
