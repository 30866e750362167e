"""The read API refuses bad parameters with a 400 naming each one, and anyone but staff with a
401 or 403 that shows nothing of the call log."""

import base64

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from telnyx_ivr.analytics import outcomes
from telnyx_ivr.models import Call

CALLS = reverse("telnyx_ivr:api-calls")
STATS = reverse("telnyx_ivr:api-stats")
SCHEMA = reverse("telnyx_ivr:api-schema")
DOCS = reverse("telnyx_ivr:api-docs")
PASSWORD = "a-long-test-password"

pytestmark = pytest.mark.django_db


@pytest.fixture
def a_call(api, classic, caller):
    """A real call, Telnyx's events posted to the webhook: sales, transferred."""
    caller.deliver("call.initiated", direction="incoming", state="parked")
    caller.reply_to(api.requests[-1].json, "call.answered")
    caller.reply_to(api.requests[-1].json, "call.gather.ended", digits="1", status="valid")
    caller.deliver("call.hangup", hangup_cause="normal_clearing")
    return Call.objects.get(call_control_id=caller.ccid)


def user(is_staff, name=None):
    name = name or ("staff" if is_staff else "clerk")
    return get_user_model().objects.create_user(name, password=PASSWORD, is_staff=is_staff)


def basic(name):
    token = base64.b64encode(f"{name}:{PASSWORD}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def every_url(call):
    return [
        (CALLS, {"include_test": "1", "since": "2026-01-01"}),
        (CALLS, {"include_test": "1", "since": "2026-01-01", "format": "csv"}),
        (reverse("telnyx_ivr:api-call", args=[call.pk]), {}),
        (STATS, {"since": "2026-01-01"}),
        (SCHEMA, {}),
        (DOCS, {}),
        (DOCS, {"script": ""}),
    ]


def shows_nothing(response, call, url):
    text = response.content.decode()
    for secret in (call.call_control_id, call.from_number, call.to_number, "classic-tree"):
        assert secret not in text
    if url == DOCS:  # a page for people
        assert text == "403 Forbidden"
    else:  # the CSV export and the schema's refusals too
        assert response.json().keys() == {"detail"}


def test_anonymous_requests_are_refused_and_see_nothing(client, a_call):
    for url, params in every_url(a_call):
        response = client.get(url, params)
        assert response.status_code in (401, 403), (url, params)
        shows_nothing(response, a_call, url)


def test_logged_in_non_staff_are_refused_and_see_nothing(client, a_call):
    client.force_login(user(is_staff=False))
    for url, params in every_url(a_call):
        response = client.get(url, params)
        assert response.status_code == 403, (url, params)
        shows_nothing(response, a_call, url)


def test_staff_read_with_a_session_or_a_password(client, a_call):
    user(is_staff=True)
    user(is_staff=False)
    params = {"since": "2026-11-21", "until": "2026-11-21"}
    by_password = client.get(CALLS, params, **basic("staff"))
    assert [row["id"] for row in by_password.json()["results"]] == [a_call.pk]
    assert client.get(CALLS, params, **basic("clerk")).status_code == 403
    wrong = client.get(CALLS, params, HTTP_AUTHORIZATION="Basic " + "eDp5")  # x:y
    assert wrong.status_code in (401, 403)
    assert a_call.call_control_id not in wrong.content.decode()
    client.force_login(get_user_model().objects.get(username="staff"))
    for url, params in every_url(a_call):
        assert client.get(url, params).status_code == 200, (url, params)


def test_a_site_can_let_other_users_read(client, a_call, ivr_settings_for):
    ivr_settings_for(READ_API_PERMISSION_CLASSES=["rest_framework.permissions.IsAuthenticated"])
    client.force_login(user(is_staff=False))
    response = client.get(CALLS, {"since": "2026-11-21", "until": "2026-11-21"})
    assert [row["id"] for row in response.json()["results"]] == [a_call.pk]
    assert client.logout() is None
    assert client.get(CALLS).status_code in (401, 403)


def test_a_permission_setting_that_is_not_a_list_says_so(admin_client, ivr_settings_for):
    ivr_settings_for(READ_API_PERMISSION_CLASSES="rest_framework.permissions.IsAuthenticated")
    with pytest.raises(ImproperlyConfigured, match="READ_API_PERMISSION_CLASSES"):
        admin_client.get(CALLS)


def test_an_unknown_call_is_a_404(admin_client, db):
    response = admin_client.get(reverse("telnyx_ivr:api-call", args=[999999]))
    assert response.status_code == 404
    assert response.json() == {"detail": "No Call matches the given query."}


LONG = "1" * 300
BAD_CALL_LIST = [
    ({"since": "yesterday"}, "since", "'yesterday' is not a date"),
    ({"until": "2026-02-30"}, "until", "'2026-02-30' is not a date"),
    ({"since": "2026-12-05", "until": "2026-12-01"}, "until", "must be later than since"),
    ({"since": "2026-12-01T25:00"}, "since", "is not a date"),
    ({"menu": "no-such-menu"}, "menu", "no menu with the slug 'no-such-menu'"),
    ({"menu": "classic-tree", "version": "x"}, "version", "'x' is not a version number"),
    ({"menu": "classic-tree", "version": "9"}, "version", "has no version 9"),
    ({"version": "1"}, "version", "needs menu"),
    ({"include_test": "maybe"}, "include_test", "'maybe' is not yes or no"),
    ({"outcome": "won"}, "outcome", "'won' is not an outcome; one of: completed, transferred"),
    ({"from_number": LONG}, "from_number", "longer than 255"),
    ({"to_number": LONG}, "to_number", "longer than 255"),
    ({"page_size": "0"}, "page_size", "'0' is not a whole number from 1 to 500"),
    ({"page_size": "lots"}, "page_size", "is not a whole number"),
    ({"page_size": "501"}, "page_size", "from 1 to 500"),
    ({"cursor": "not-a-cursor"}, "cursor", "is not a cursor of this list"),
    ({"cursor": "Zm9v"}, "cursor", "is not a cursor of this list"),  # base64 of "foo"
    ({"format": "xml"}, "format", "'xml' is not one of: json,"),
    ({"format": "csv", "since": "yesterday"}, "since", "'yesterday' is not a date"),
]
BAD_STATS = [
    ({"since": "last week"}, "since", "'last week' is not a date"),
    ({"until": "2026-13-01"}, "until", "is not a date"),
    ({"menu": "no-such-menu"}, "menu", "no menu with the slug"),
    ({"menu": "classic-tree", "version": "2"}, "version", "has no version 2"),
    ({"include_test": "2"}, "include_test", "is not yes or no"),
    ({"bucket": "week"}, "bucket", "'week' is not one of: hour, day"),
    ({"bucket": "hour", "since": "2026-01-01", "until": "2026-03-01"}, "bucket", "at most 31"),
    ({"format": "csv"}, "format", "'csv' is not one of: json"),
]


@pytest.mark.parametrize(
    ("url", "params", "name", "text"),
    [(CALLS, *case) for case in BAD_CALL_LIST] + [(STATS, *case) for case in BAD_STATS],
    ids=[f"calls {case[0]}" for case in BAD_CALL_LIST] + [f"stats {c[0]}" for c in BAD_STATS],
)
def test_a_bad_parameter_is_a_400_naming_it(admin_client, classic, url, params, name, text):
    response = admin_client.get(url, params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    errors = response.json()
    assert list(errors) == [name]
    [message] = errors[name]
    assert text in message


def test_a_bad_outcome_lists_the_outcomes(admin_client, db):
    [message] = admin_client.get(CALLS, {"outcome": "done"}).json()["outcome"]
    assert all(outcome in message for outcome in outcomes.OUTCOMES)


def test_every_bad_parameter_is_named_at_once(admin_client, db):
    errors = admin_client.get(
        CALLS, {"since": "soon", "menu": "nope", "include_test": "perhaps", "outcome": "x"}
    ).json()
    assert set(errors) == {"since", "menu", "include_test", "outcome"}
