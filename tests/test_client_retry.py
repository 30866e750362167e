"""The retry schedule, inside the client and handed to the caller: which outcomes are resent,
how often, after how long, always with the same command_id; 422 never."""

import time

import pytest

from telnyx_ivr.telnyx.client import TelnyxClient, get_client
from telnyx_ivr.telnyx.errors import (
    TelnyxError,
    TelnyxNetworkError,
    TelnyxRateLimitError,
    TelnyxServerError,
    TelnyxTimeoutError,
    TelnyxUnprocessableError,
)
from telnyx_ivr.telnyx.retry import RetryPolicy

API_KEY = "KEY01RETRY_secret"
CALL = "v3:call-retry"
SERVER_ERROR = {"errors": [{"code": "10007", "title": "Unexpected error"}]}
RATE_LIMITED = {"errors": [{"code": "10011", "title": "Too many requests"}]}
ENDED = {"errors": [{"code": "90018", "title": "Call has already ended"}]}


class Sleeps(list):
    """Records the waits instead of sleeping them."""

    def __call__(self, seconds):
        self.append(seconds)


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def make_client(telnyx_api, sleeps):
    def make(base_url=None, **policy):
        options = {"max_retries": 2, "backoff_seconds": 0.5, "backoff_max_seconds": 8.0}
        options.update(policy)
        options.setdefault("random", lambda: 0.0)  # no jitter: exact delays
        return TelnyxClient(
            API_KEY,
            base_url or telnyx_api.base_url,
            read_timeout=0.25,
            retry_policy=RetryPolicy(**options),
            sleep=sleeps,
        )

    return make


def command_ids(telnyx_api):
    return [request.json["command_id"] for request in telnyx_api.requests]


def test_5xx_is_resent_with_the_same_command_id_until_it_succeeds(make_client, telnyx_api, sleeps):
    telnyx_api.enqueue(status=503, body=SERVER_ERROR)
    telnyx_api.enqueue(status=500, body=SERVER_ERROR)
    result = make_client().gather(CALL, maximum_digits=3)
    assert result.attempts == 3
    assert result.data == {"result": "ok"}
    assert sleeps == [0.5, 1.0]
    assert command_ids(telnyx_api) == [result.command_id] * 3
    assert [request.json for request in telnyx_api.requests] == [
        {"maximum_digits": 3, "command_id": result.command_id}
    ] * 3
    assert result.elapsed_ms >= result.latency_ms


def test_retries_stop_after_max_retries(make_client, telnyx_api, sleeps):
    telnyx_api.set_default(status=503, body=SERVER_ERROR)
    with pytest.raises(TelnyxServerError) as caught:
        make_client().hangup(CALL, command_id="cmd-hangup")
    assert caught.value.attempts == 3
    assert len(telnyx_api.requests) == 3
    assert command_ids(telnyx_api) == ["cmd-hangup"] * 3
    assert sleeps == [0.5, 1.0]


@pytest.mark.parametrize("max_retries", [0, 1, 4])
def test_max_retries_sets_the_number_of_resends(make_client, telnyx_api, sleeps, max_retries):
    telnyx_api.set_default(status=502, body=SERVER_ERROR)
    with pytest.raises(TelnyxServerError):
        make_client(max_retries=max_retries).hangup(CALL)
    assert len(telnyx_api.requests) == max_retries + 1
    assert sleeps == [0.5 * 2**n for n in range(max_retries)]


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_statuses_that_are_retried(make_client, telnyx_api, sleeps, status):
    telnyx_api.enqueue(status=status, body=SERVER_ERROR)
    result = make_client().hangup(CALL)
    assert result.attempts == 2
    assert len(telnyx_api.requests) == 2
    assert len(sleeps) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 422])
def test_other_4xx_are_never_retried(make_client, telnyx_api, sleeps, status):
    telnyx_api.set_default(status=status, body=ENDED)
    with pytest.raises(TelnyxError) as caught:
        make_client(max_retries=5).hangup(CALL)
    assert caught.value.attempts == 1
    assert not caught.value.retryable
    assert len(telnyx_api.requests) == 1
    assert sleeps == []


def test_422_is_never_retried(make_client, telnyx_api, sleeps):
    telnyx_api.set_default(status=422, body=ENDED)
    with pytest.raises(TelnyxUnprocessableError):
        make_client(max_retries=10).gather(CALL)
    assert len(telnyx_api.requests) == 1
    assert sleeps == []


def test_non_json_5xx_is_retried_but_non_json_4xx_is_not(make_client, telnyx_api, sleeps):
    telnyx_api.enqueue(status=502, body="<html>Bad Gateway</html>")
    assert make_client().hangup(CALL).attempts == 2
    telnyx_api.clear()
    telnyx_api.enqueue(status=400, body="<html>Bad Request</html>")
    with pytest.raises(TelnyxError):
        make_client().hangup(CALL)
    assert len(telnyx_api.requests) == 1


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"x-ratelimit-reset": "3"}, 3.0),
        ({"Retry-After": "2"}, 2.0),
        ({"x-ratelimit-reset": "0"}, 0.5),  # a reset already due: the backoff still applies
    ],
)
def test_rate_limit_reset_is_honoured(make_client, telnyx_api, sleeps, headers, wait):
    telnyx_api.enqueue(status=429, body=RATE_LIMITED, headers=headers)
    result = make_client().gather(CALL, command_id="cmd-429")
    assert result.attempts == 2
    assert sleeps == [wait]
    assert command_ids(telnyx_api) == ["cmd-429", "cmd-429"]


def test_rate_limit_reset_as_unix_time_is_honoured(make_client, telnyx_api, sleeps):
    telnyx_api.enqueue(
        status=429, body=RATE_LIMITED, headers={"x-ratelimit-reset": str(int(time.time()) + 5)}
    )
    make_client().gather(CALL)
    [wait] = sleeps
    assert 3.5 < wait <= 5.0


def test_a_reset_too_far_off_is_left_to_the_caller(make_client, telnyx_api, sleeps):
    telnyx_api.enqueue(status=429, body=RATE_LIMITED, headers={"x-ratelimit-reset": "30"})
    client = make_client()
    with pytest.raises(TelnyxRateLimitError) as caught:
        client.gather(CALL)
    assert caught.value.retry_after == 30.0
    assert caught.value.attempts == 1
    assert sleeps == []
    assert client.retry_policy.delay_for(1, caught.value) == 30.0


def test_timeouts_are_resent_with_the_same_command_id(make_client, telnyx_api, sleeps):
    telnyx_api.enqueue(delay=1.0)  # answered after the 0.25 s read timeout
    result = make_client().speak(CALL, payload="Hi", voice="female")
    assert result.attempts == 2
    assert sleeps == [0.5]
    [first, second] = telnyx_api.requests
    assert first.json == second.json
    assert first.json["command_id"] == result.command_id


def test_timeouts_every_time_raise_a_timeout_error(make_client, telnyx_api, sleeps):
    telnyx_api.set_default(delay=0.6)
    with pytest.raises(TelnyxTimeoutError) as caught:
        make_client(max_retries=1).gather_stop(CALL)
    assert caught.value.attempts == 2
    assert len(telnyx_api.requests) == 2


def test_dropped_connections_are_resent(make_client, telnyx_api, sleeps):
    telnyx_api.enqueue(close=True)
    result = make_client().hangup(CALL)
    assert result.attempts == 2
    assert len(set(command_ids(telnyx_api))) == 1


def test_refused_connections_are_resent_then_raised(make_client, telnyx_api, sleeps):
    telnyx_api.stop()
    with pytest.raises(TelnyxNetworkError) as caught:
        make_client().hangup(CALL)
    assert caught.value.attempts == 3
    assert sleeps == [0.5, 1.0]


def test_retry_false_hands_the_policy_to_the_caller(make_client, telnyx_api, sleeps):
    """The Celery layer's way: one attempt per task run, countdown from the policy, same id."""
    telnyx_api.enqueue(status=503, body=SERVER_ERROR)
    telnyx_api.enqueue(status=429, body=RATE_LIMITED, headers={"x-ratelimit-reset": "20"})
    client = make_client()
    policy = client.retry_policy
    failures, countdowns = [], []
    attempt = 0
    while attempt < 5:
        attempt += 1
        try:
            result = client.transfer(CALL, to="+18005550100", command_id="derived-1", retry=False)
            break
        except TelnyxError as error:
            failures.append(error)
            if not policy.should_retry(attempt, error):
                raise
            countdowns.append(policy.delay_for(attempt, error))
    assert result.data == {"result": "ok"}
    assert [(type(e), e.attempts, e.command_id) for e in failures] == [
        (TelnyxServerError, 1, "derived-1"),  # one request per call: the client did not retry
        (TelnyxRateLimitError, 1, "derived-1"),
    ]
    assert countdowns == [0.5, 20.0]
    assert sleeps == []  # the client never slept
    assert command_ids(telnyx_api) == ["derived-1"] * 3


def test_retry_false_with_a_final_error(make_client, telnyx_api, sleeps):
    telnyx_api.set_default(status=422, body=ENDED)
    with pytest.raises(TelnyxUnprocessableError) as caught:
        make_client().hangup(CALL, retry=False)
    assert not make_client().retry_policy.should_retry(1, caught.value)


class TestPolicy:
    def test_capped_exponential_backoff(self):
        policy = RetryPolicy(backoff_seconds=0.5, backoff_max_seconds=8.0, random=lambda: 0.0)
        assert [policy.delay_for(n) for n in range(1, 8)] == [0.5, 1, 2, 4, 8, 8, 8]

    def test_jitter_takes_up_to_a_quarter_off(self):
        almost_one = 0.999999
        policy = RetryPolicy(backoff_seconds=1.0, random=lambda: almost_one)
        assert policy.delay_for(1) == pytest.approx(0.75, abs=1e-5)
        assert policy.delay_for(3) == pytest.approx(3.0, abs=1e-5)
        half = RetryPolicy(backoff_seconds=1.0, random=lambda: 0.5)
        assert half.delay_for(2) == 1.75

    def test_real_jitter_stays_in_range(self):
        policy = RetryPolicy(backoff_seconds=1.0)
        delays = {policy.delay_for(2) for _ in range(50)}
        assert all(1.5 <= delay <= 2.0 for delay in delays)
        assert len(delays) > 1

    def test_retry_after_wins_when_longer(self):
        policy = RetryPolicy(random=lambda: 0.0)
        error = TelnyxRateLimitError("x", status_code=429, retry_after=6.0)
        assert policy.delay_for(1, error) == 6.0
        error.retry_after = 0.1
        assert policy.delay_for(1, error) == 0.5

    def test_should_retry_counts_attempts(self):
        policy = RetryPolicy(max_retries=2)
        error = TelnyxServerError("x", status_code=503)
        assert [policy.should_retry(n, error) for n in (1, 2, 3)] == [True, True, False]
        assert not policy.should_retry(1, TelnyxUnprocessableError("x", status_code=422))
        assert not policy.should_retry(1, ValueError("not ours"))

    def test_inline_limit_defaults_to_the_backoff_cap(self):
        assert RetryPolicy(backoff_max_seconds=4).inline_limit == 4
        assert RetryPolicy(backoff_max_seconds=4, max_inline_delay=60).inline_limit == 60

    def test_retry_delay_gives_up_on_a_wait_longer_than_a_caller_would_stand(self):
        policy = RetryPolicy(max_retries=2, give_up_seconds=5, random=lambda: 0.0)
        far = TelnyxRateLimitError("x", status_code=429, retry_after=30.0)
        near = TelnyxRateLimitError("x", status_code=429, retry_after=5.0)
        assert policy.retry_delay(1, far) is None
        assert policy.retry_delay(1, near) == 5.0
        assert policy.retry_delay(1, TelnyxServerError("x", status_code=503)) == 0.5
        assert policy.retry_delay(3, near) is None  # out of retries
        assert policy.retry_delay(1, TelnyxUnprocessableError("x", status_code=422)) is None
        assert RetryPolicy(random=lambda: 0.0).retry_delay(1, far) == 30.0  # no limit

    def test_the_backoff_counts_towards_the_give_up_wait(self):
        policy = RetryPolicy(max_retries=9, give_up_seconds=3, random=lambda: 0.0)
        error = TelnyxServerError("x", status_code=503)
        assert [policy.retry_delay(n, error) for n in range(1, 5)] == [0.5, 1, 2, None]

    def test_from_settings(self, ivr_settings_for):
        ivr_settings_for(MAX_RETRIES=5, RETRY_BACKOFF_SECONDS=0.1, RETRY_BACKOFF_MAX_SECONDS=2)
        policy = RetryPolicy.from_settings()
        assert (policy.max_retries, policy.backoff_seconds, policy.backoff_max_seconds) == (
            5,
            0.1,
            2.0,
        )
        assert policy.give_up_seconds == 5.0  # the default
        ivr_settings_for(RETRY_GIVE_UP_SECONDS=None)
        assert RetryPolicy.from_settings().give_up_seconds is None


def test_get_client_follows_the_retry_settings(telnyx_api, ivr_settings_for):
    ivr_settings_for(
        API_KEY=API_KEY,
        API_BASE_URL=telnyx_api.base_url,
        MAX_RETRIES=0,
    )
    telnyx_api.set_default(status=503, body=SERVER_ERROR)
    with pytest.raises(TelnyxServerError) as caught:
        get_client().hangup(CALL)
    assert caught.value.attempts == 1
    assert len(telnyx_api.requests) == 1


def test_get_client_retries_with_the_default_settings(telnyx_api, ivr_settings_for):
    ivr_settings_for(
        API_KEY=API_KEY,
        API_BASE_URL=telnyx_api.base_url,
        RETRY_BACKOFF_SECONDS=0.01,
        RETRY_BACKOFF_MAX_SECONDS=0.02,
    )
    telnyx_api.enqueue(status=500, body=SERVER_ERROR)
    telnyx_api.enqueue(status=500, body=SERVER_ERROR)
    assert get_client().hangup(CALL).attempts == 3  # MAX_RETRIES defaults to 2
