"""The process-wide client from settings, the API key kept out of logs, redacted command
bodies for storage, and client_state helpers."""

import copy
import json
import logging

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from telnyx_ivr.telnyx import client_state
from telnyx_ivr.telnyx.client import TelnyxClient, get_client, redact_body, shared_session
from telnyx_ivr.telnyx.errors import TelnyxError
from telnyx_ivr.telnyx.retry import RetryPolicy

API_KEY = "KEY01LOGS_very_secret_value"
CALL = "v3:call-settings"


def test_missing_api_key_names_the_setting(settings):
    settings.TELNYX_IVR = {"API_BASE_URL": "http://127.0.0.1:9/v2"}
    with pytest.raises(ImproperlyConfigured, match=r'TELNYX_IVR\["API_KEY"\]'):
        get_client()
    with pytest.raises(ImproperlyConfigured, match=r'TELNYX_IVR\["API_KEY"\]'):
        TelnyxClient("", "http://127.0.0.1:9/v2")


def test_get_client_is_built_from_settings_and_reused(telnyx_api, ivr_settings_for):
    ivr_settings_for(
        API_KEY=API_KEY,
        API_BASE_URL=telnyx_api.base_url,
        CONNECT_TIMEOUT=1.5,
        READ_TIMEOUT=0.75,
        MAX_RETRIES=4,
    )
    client = get_client()
    assert get_client() is client
    assert client.base_url == telnyx_api.base_url
    assert (client.connect_timeout, client.read_timeout) == (1.5, 0.75)
    assert client.retry_policy.max_retries == 4
    assert client.session is shared_session()
    client.hangup(CALL)
    assert telnyx_api.requests[0].headers["authorization"] == f"Bearer {API_KEY}"


def test_default_read_timeout_is_short(ivr_settings_for):
    ivr_settings_for(API_KEY=API_KEY)
    assert get_client().read_timeout == 0.5


def test_changed_settings_rebuild_the_client_on_the_same_session(telnyx_api, ivr_settings_for):
    ivr_settings_for(API_KEY=API_KEY, API_BASE_URL=telnyx_api.base_url)
    first = get_client()
    with override_settings(TELNYX_IVR={"API_KEY": "KEY02other", "API_BASE_URL": "http://x/v2"}):
        second = get_client()
        assert second is not first
        assert second.base_url == "http://x/v2"
        assert second.session is first.session
    third = get_client()
    assert third.base_url == telnyx_api.base_url
    third.hangup(CALL)
    assert telnyx_api.requests[0].headers["authorization"] == f"Bearer {API_KEY}"


def test_repr_does_not_show_the_key():
    client = TelnyxClient(API_KEY, "http://127.0.0.1:9/v2")
    assert API_KEY not in repr(client)
    assert API_KEY not in str(vars(client).get("base_url"))


@pytest.fixture
def debug_logs(caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="telnyx_ivr")  # the project logs it at INFO
    return caplog


def test_no_log_line_contains_the_api_key(telnyx_api, debug_logs):
    client = TelnyxClient(
        API_KEY,
        telnyx_api.base_url,
        read_timeout=0.2,
        retry_policy=RetryPolicy(max_retries=1, random=lambda: 0.0),
        sleep=lambda seconds: None,
    )
    echo = f'{{"errors": [{{"code": "10009", "title": "Bearer {API_KEY} rejected"}}]}}'
    down = {"errors": [{"code": "10007", "title": "down"}]}
    telnyx_api.enqueue(status=503, body=down, action="gather_using_speak")
    telnyx_api.enqueue(status=401, body=echo, action="hangup")
    telnyx_api.enqueue(status=500, body=f"<html>{API_KEY}</html>", action="hangup")
    telnyx_api.enqueue(status=500, body=f"<html>{API_KEY}</html>", action="hangup")
    telnyx_api.enqueue(delay=0.5, action="hangup")
    telnyx_api.enqueue(delay=0.5, action="hangup")
    client.gather_using_speak(CALL, payload="Hi", voice="female")  # 503, then ok
    for _ in range(3):  # 401 / non-JSON 500 twice / timeout twice
        with pytest.raises(TelnyxError):
            client.hangup(CALL)
    client.gather_using_ai(CALL, parameters={"type": "object"})
    assert len(telnyx_api.requests) == 8
    lines = [record.getMessage() for record in debug_logs.records]
    assert any("Bearer [REDACTED]" in line for line in lines), "requests were not logged"
    assert any("retrying" in line for line in lines)
    assert any("failed after" in line for line in lines)
    for line in lines:
        assert API_KEY not in line
    assert API_KEY not in debug_logs.text


def test_logged_bodies_are_redacted(telnyx_api, debug_logs):
    client = TelnyxClient(API_KEY, telnyx_api.base_url)
    tool = {
        "type": "webhook",
        "webhook": {
            "name": "crm",
            "description": "CRM lookup",
            "url": "https://crm.example.com",
            "headers": [{"name": "X-Api", "value": "tool-header-secret"}],
        },
    }
    client.gather_using_ai(CALL, parameters={"type": "object"}, assistant={"tools": [tool]})
    client.transfer(CALL, to="+1", sip_auth_username="agent", sip_auth_password="sip-pass-9")
    text = debug_logs.text
    assert "tool-header-secret" not in text
    assert "sip-pass-9" not in text
    assert "crm.example.com" in text  # the rest of the body is still there
    # ...while Telnyx received them unredacted
    assert telnyx_api.requests[1].json["sip_auth_password"] == "sip-pass-9"


class TestRedactBody:
    def test_assistant_tool_headers_and_secret_names(self):
        params = {
            "parameters": {"type": "object"},
            "assistant": {
                "instructions": "Be nice",
                "openai_api_key_ref": "my_openai_key",
                "tools": [
                    {
                        "type": "webhook",
                        "webhook": {
                            "name": "n",
                            "url": "https://example.com",
                            "headers": [
                                {"name": "Authorization", "value": "Bearer abc"},
                                {"name": "X-Plain", "value": "visible?"},
                            ],
                        },
                    },
                    {
                        "type": "book_appointment",
                        "book_appointment": {"event_type_id": 1, "api_key_ref": "cal"},
                    },
                ],
            },
            "voice_settings": {"type": "elevenlabs", "api_key_ref": "el"},
        }
        original = copy.deepcopy(params)
        redacted = redact_body("gather_using_ai", params)
        assert params == original  # not modified in place
        assistant = redacted["assistant"]
        assert assistant["instructions"] == "Be nice"
        assert assistant["openai_api_key_ref"] == "[REDACTED]"
        headers = assistant["tools"][0]["webhook"]["headers"]
        assert headers == [
            {"name": "Authorization", "value": "[REDACTED]"},
            {"name": "X-Plain", "value": "[REDACTED]"},
        ]
        assert assistant["tools"][0]["webhook"]["url"] == "https://example.com"
        assert assistant["tools"][1]["book_appointment"] == {
            "event_type_id": 1,
            "api_key_ref": "[REDACTED]",
        }
        assert redacted["voice_settings"] == {"type": "elevenlabs", "api_key_ref": "[REDACTED]"}
        assert redacted["parameters"] == {"type": "object"}

    def test_sip_password_and_secret_sip_headers(self):
        redacted = redact_body(
            "transfer",
            {
                "to": "+1",
                "sip_auth_username": "agent",
                "sip_auth_password": "pw",
                "custom_headers": [
                    {"name": "X-Auth-Token", "value": "t0k"},
                    {"name": "X-Tag", "value": "menu"},
                ],
            },
        )
        assert redacted == {
            "to": "+1",
            "sip_auth_username": "agent",
            "sip_auth_password": "[REDACTED]",
            "custom_headers": [
                {"name": "X-Auth-Token", "value": "[REDACTED]"},
                {"name": "X-Tag", "value": "menu"},
            ],
        }

    @pytest.mark.parametrize(
        "key", ["api_key", "apiKey", "token", "access_token", "secret", "password", "Authorization"]
    )
    def test_any_key_named_like_a_secret(self, key):
        redacted = redact_body("answer", {"transcription_config": {key: "v", "other": "w"}})
        assert redacted == {"transcription_config": {key: "[REDACTED]", "other": "w"}}

    def test_plain_bodies_are_unchanged_and_json_serialisable(self):
        body = {"payload": "Press 1", "voice": "female", "client_state": "eyJ9", "command_id": "c"}
        assert redact_body("speak", body) == body
        assert json.loads(json.dumps(redact_body("unknown_action", body))) == body


def test_client_state_helpers_round_trip_through_a_command(telnyx_api):
    state = {"call": 12, "node": "billing", "step": 2}
    client = TelnyxClient(API_KEY, telnyx_api.base_url)
    client.gather(CALL, client_state=client_state.encode(state))
    sent = telnyx_api.requests[0].json["client_state"]
    assert client_state.is_base64(sent)
    assert client_state.decode(sent) == state
