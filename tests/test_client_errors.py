"""Each error mapping: Telnyx error bodies (the reference's own 422 examples among them), bodies
that are not JSON, dropped connections, refused connections and read timeouts."""

import json
import pickle
import socket
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from telnyx_ivr.telnyx.client import TelnyxClient
from telnyx_ivr.telnyx.errors import (
    AIAssistantInProgressError,
    CallAlreadyEndedError,
    CallNotAnsweredError,
    CommandValidationError,
    TelnyxAPIError,
    TelnyxAuthenticationError,
    TelnyxError,
    TelnyxErrorDetail,
    TelnyxNetworkError,
    TelnyxNotFoundError,
    TelnyxPermissionError,
    TelnyxRateLimitError,
    TelnyxRequestError,
    TelnyxResponseError,
    TelnyxServerError,
    TelnyxTimeoutError,
    TelnyxUnprocessableError,
    parse_retry_after,
)
from telnyx_ivr.telnyx.retry import RetryPolicy

API_KEY = "KEY01ERRORS_do_not_leak"
CALL = "v3:call-errors"
FIXTURE = json.loads(
    (Path(__file__).parent / "fixtures" / "telnyx_request_schemas.json").read_text()
)
EXAMPLES = FIXTURE["unprocessable_examples"]
ERRORS_SCHEMA = Draft202012Validator(
    {"$ref": "#/components/schemas/call-control_Errors", "components": FIXTURE["components"]}
)


def error_body(code, title, detail="", pointer=None):
    item = {"code": code, "title": title, "detail": detail}
    if pointer:
        item["source"] = {"pointer": pointer}
    return {"errors": [item]}


@pytest.fixture
def client(telnyx_api):
    return TelnyxClient(
        API_KEY,
        telnyx_api.base_url,
        read_timeout=0.3,
        retry_policy=RetryPolicy(max_retries=0),
        sleep=lambda seconds: pytest.fail("no retries expected"),
    )


def fail(client, action="gather", **params):
    with pytest.raises(TelnyxError) as caught:
        client.send(action, CALL, params, command_id="cmd-err", retry=False)
    return caught.value


STATUS_CASES = [
    (401, error_body("10009", "Authentication failed", "Bad key"), TelnyxAuthenticationError),
    (403, error_body("10010", "Authorization failed"), TelnyxPermissionError),
    (404, error_body("10005", "Resource not found"), TelnyxNotFoundError),
    (422, EXAMPLES["missing_required_parameter"], TelnyxUnprocessableError),
    (422, EXAMPLES["invalid_call_control_id"], TelnyxUnprocessableError),
    (422, EXAMPLES["call_already_ended"], CallAlreadyEndedError),
    (422, EXAMPLES["call_not_answered"], CallNotAnsweredError),
    (422, EXAMPLES["ai_assistant_already_active"], AIAssistantInProgressError),
    (422, EXAMPLES["value_outside_range"], TelnyxUnprocessableError),
    (429, error_body("10011", "Too many requests"), TelnyxRateLimitError),
    (500, error_body("10007", "Unexpected error"), TelnyxServerError),
    (502, error_body("10007", "Bad gateway"), TelnyxServerError),
    (503, error_body("10007", "Service unavailable"), TelnyxServerError),
    (400, error_body("10015", "Bad request"), TelnyxRequestError),
    (409, error_body("10020", "Conflict"), TelnyxRequestError),
]


@pytest.mark.parametrize(
    ("status", "body", "cls"), STATUS_CASES, ids=[f"{s}-{c.__name__}" for s, _, c in STATUS_CASES]
)
def test_status_and_code_map_to_a_typed_error(client, telnyx_api, status, body, cls):
    assert ERRORS_SCHEMA.is_valid(body)  # the stub answers in Telnyx's own error format
    telnyx_api.enqueue(status=status, body=body)
    error = fail(client)
    assert type(error) is cls
    assert isinstance(error, TelnyxAPIError)
    assert error.status_code == status
    assert error.action == "gather"
    assert error.command_id == "cmd-err"
    assert error.attempts == 1
    expected = [
        TelnyxErrorDetail(
            code=item["code"],
            title=item["title"],
            detail=item.get("detail", ""),
            pointer=item.get("source", {}).get("pointer"),
        )
        for item in body["errors"]
    ]
    assert error.errors == expected
    assert error.codes == [item["code"] for item in body["errors"]]
    assert error.retryable is (status == 429 or status >= 500)
    assert str(status) in str(error)
    assert body["errors"][0]["title"] in str(error)


def test_pointer_and_detail_are_kept(client, telnyx_api):
    telnyx_api.enqueue(status=422, body=EXAMPLES["missing_required_parameter"])
    error = fail(client)
    [detail] = error.errors
    assert detail.code == "10004"
    assert detail.pointer == "/to"
    assert detail.detail == "The 'to' parameter is required and cannot be blank."
    assert "(at /to)" in str(error)


def test_every_code_of_a_422_is_kept_and_the_specific_one_picks_the_class(client, telnyx_api):
    body = {
        "errors": [
            *EXAMPLES["invalid_enumerated_value"]["errors"],
            *EXAMPLES["call_already_ended"]["errors"],
        ]
    }
    telnyx_api.enqueue(status=422, body=body)
    error = fail(client)
    assert isinstance(error, CallAlreadyEndedError)
    assert error.codes == ["10032", "90018"]
    assert error.errors[0].pointer == "/record_channels"


def test_numeric_codes_and_missing_fields_are_tolerated(client, telnyx_api):
    telnyx_api.enqueue(status=422, body={"errors": [{"code": 90034}, "junk", {"title": "t"}]})
    error = fail(client)
    assert isinstance(error, CallNotAnsweredError)
    assert error.errors == [
        TelnyxErrorDetail("90034", "", "", None),
        TelnyxErrorDetail("", "t", "", None),
    ]
    assert error.codes == ["90034"]


def test_json_without_errors_list_still_maps_by_status(client, telnyx_api):
    telnyx_api.enqueue(status=404, body={"message": "no route"})
    error = fail(client)
    assert type(error) is TelnyxNotFoundError
    assert error.errors == []
    assert "no route" in error.body_snippet


NON_JSON = [
    (502, "<html><body><h1>502 Bad Gateway</h1></body></html>", True, "502 Bad Gateway"),
    (503, "", True, "empty body"),
    (401, "Unauthorized", False, "Unauthorized"),
    (500, "[1, 2]", True, "[1, 2]"),
    (200, "<html>ok?</html>", False, "ok?"),
]


@pytest.mark.parametrize(("status", "text", "retryable", "shown"), NON_JSON)
def test_a_body_that_is_not_json_gives_a_typed_error_with_status_and_snippet(
    client, telnyx_api, status, text, retryable, shown
):
    telnyx_api.enqueue(status=status, body=text)
    error = fail(client)
    assert type(error) is TelnyxResponseError
    assert error.status_code == status
    assert error.body_snippet == text
    assert error.retryable is retryable
    assert error.errors == []
    assert shown in str(error)


def test_a_success_without_data_object_is_a_response_error(client, telnyx_api):
    telnyx_api.enqueue(status=200, body={"result": "ok"})
    error = fail(client)
    assert type(error) is TelnyxResponseError
    assert error.status_code == 200
    assert not error.retryable


def test_snippet_is_short_and_never_holds_the_api_key(client, telnyx_api):
    telnyx_api.enqueue(status=500, body=f"<pre>Authorization: Bearer {API_KEY}</pre>" + "x" * 500)
    error = fail(client)
    assert len(error.body_snippet) <= 200
    assert API_KEY not in error.body_snippet
    assert API_KEY not in str(error)
    assert "[REDACTED]" in error.body_snippet


def test_rate_limit_carries_the_reset_time(client, telnyx_api):
    telnyx_api.enqueue(
        status=429,
        body=error_body("10011", "Too many requests"),
        headers={"x-ratelimit-limit": "10", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "7"},
    )
    error = fail(client)
    assert isinstance(error, TelnyxRateLimitError)
    assert error.retry_after == 7.0
    assert error.codes == ["10011"]
    assert "retry after 7s" in str(error)


def test_rate_limit_without_headers_has_no_retry_after(client, telnyx_api):
    telnyx_api.enqueue(status=429, body=error_body("10011", "Too many requests"))
    assert fail(client).retry_after is None


def test_read_timeout_is_a_timeout_error(client, telnyx_api):
    telnyx_api.enqueue(delay=1.0)
    error = fail(client)
    assert type(error) is TelnyxTimeoutError
    assert isinstance(error, TelnyxNetworkError)
    assert error.retryable
    assert error.status_code is None
    assert error.command_id == "cmd-err"
    assert "0.3s read" in str(error)
    assert len(telnyx_api.requests) == 1


def test_dropped_connection_is_a_network_error(client, telnyx_api):
    telnyx_api.enqueue(close=True)
    error = fail(client)
    assert type(error) is TelnyxNetworkError
    assert error.retryable
    assert error.status_code is None


def test_refused_connection_is_a_network_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = TelnyxClient(API_KEY, f"http://127.0.0.1:{port}/v2", connect_timeout=1)
    with pytest.raises(TelnyxNetworkError) as caught:
        client.hangup(CALL, retry=False)
    assert type(caught.value) is TelnyxNetworkError
    assert caught.value.retryable
    assert caught.value.attempts == 1
    assert API_KEY not in str(caught.value)


class TestParseRetryAfter:
    NOW = 1_700_000_000.0

    def parse(self, headers):
        return parse_retry_after(headers, now=lambda: self.NOW)

    def test_seconds(self):
        assert self.parse({"x-ratelimit-reset": "3"}) == 3.0
        assert self.parse({"Retry-After": "2"}) == 2.0

    def test_reset_as_unix_time(self):
        assert self.parse({"X-RateLimit-Reset": str(int(self.NOW) + 12)}) == 12.0

    def test_retry_after_as_http_date(self):
        assert self.parse({"Retry-After": "Tue, 14 Nov 2023 22:13:40 GMT"}) == 20.0

    def test_longest_wait_wins(self):
        assert self.parse({"x-ratelimit-reset": "3", "retry-after": "9"}) == 9.0

    def test_past_and_unreadable(self):
        assert self.parse({"x-ratelimit-reset": str(int(self.NOW) - 50)}) == 0.0
        assert self.parse({"retry-after": "soon"}) is None
        assert self.parse({"x-ratelimit-reset": "nan"}) is None
        assert self.parse({}) is None


def test_errors_survive_pickling(client, telnyx_api):
    """Celery pickles exceptions it stores or retries with."""
    telnyx_api.enqueue(
        status=422, body=EXAMPLES["call_already_ended"], headers={"Retry-After": "3"}
    )
    error = fail(client)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own object, round trip)
    assert type(copy) is CallAlreadyEndedError
    assert (copy.status_code, copy.codes, copy.errors, copy.retry_after, copy.command_id) == (
        422,
        ["90018"],
        error.errors,
        3.0,
        "cmd-err",
    )
    assert str(copy) == str(error)
    invalid = CommandValidationError("gather", "x", "is bad", "enum")
    invalid = pickle.loads(pickle.dumps(invalid))  # noqa: S301 (our own object, round trip)
    assert (invalid.action, invalid.parameter, invalid.rule, invalid.code) == (
        "gather",
        "x",
        "is bad",
        "enum",
    )
