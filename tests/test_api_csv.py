"""The call list's CSV export streams: each call is read, written and let go, so 100,000 calls
never sit in memory at once; and a cell a spreadsheet would run as a formula is written as text.

The many calls here are rows made in bulk (a size, not a behaviour, is under test); what each
row says is tested on played calls in tests/test_api.py.
"""

import csv
import io
import weakref
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models.signals import post_init
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from telnyx_ivr.api.renderers import cell
from telnyx_ivr.models import Call

CALLS = reverse("telnyx_ivr:api-calls")
BERLIN = ZoneInfo("Europe/Berlin")

pytestmark = pytest.mark.django_db


@pytest.fixture
def many_calls(classic):
    now = timezone.now()
    calls = [
        Call(
            call_control_id=f"v3:bulk-{index}",
            from_number="+15550001111",
            to_number="+15550000100",
            direction="incoming",
            menu=classic,
            menu_version=classic.live_version,
            status="ended",
            started_at=now - timedelta(seconds=index + 60),
            answered_at=now - timedelta(seconds=index + 59),
            ended_at=now - timedelta(seconds=index),
            outcome="completed",
            outcome_node="goodbye",
        )
        for index in range(3000)
    ]
    Call.objects.bulk_create(calls, batch_size=1000)
    return len(calls)


class LiveCalls:
    """How many Call instances exist at once, at most, while it is connected."""

    def __init__(self):
        self.created = self.live = self.most = 0

    def __call__(self, sender, instance, **kwargs):
        self.created += 1
        self.live += 1
        self.most = max(self.most, self.live)
        weakref.finalize(instance, self._gone)

    def _gone(self):
        self.live -= 1


def test_the_export_holds_one_call_at_a_time(admin_client, many_calls):
    counter = LiveCalls()
    post_init.connect(counter, sender=Call)
    try:
        response = admin_client.get(CALLS, {"format": "csv"})
        assert isinstance(response, StreamingHttpResponse)
        chunks = iter(response.streaming_content)
        first = next(chunks)
        assert first.startswith(b"id,call_control_id,from_number,")
        assert 0 < counter.created < many_calls  # the first chunk went out before the rest
        rest = b"".join(chunks)
    finally:
        post_init.disconnect(counter, sender=Call)
    rows = list(csv.DictReader(io.StringIO((first + rest).decode())))
    assert len(rows) == many_calls
    assert counter.created == many_calls
    assert counter.most <= 2  # not 3,000: a list of them all would be


def test_a_cell_a_spreadsheet_would_run_is_written_as_text():
    assert cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert cell("@SUM(A1)") == "'@SUM(A1)"
    assert cell("+1+cmd|' /C calc'!A0") == "'+1+cmd|' /C calc'!A0"
    assert cell("-2+3") == "'-2+3"
    assert cell("+15550001111") == "+15550001111"  # a phone number stays one
    assert cell("-3.5") == "-3.5"
    assert (cell(None), cell(True), cell(False), cell(0)) == ("", "true", "false", "0")


def test_a_caller_id_that_is_a_formula_is_exported_as_text(admin_client, api, classic, caller):
    caller.deliver("call.initiated", direction="incoming", **{"from": "=1+2"})
    response = admin_client.get(CALLS, {"format": "csv", "since": "2026-11-21"})
    [row] = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))
    assert row["from_number"] == "'=1+2"
    [listed] = admin_client.get(CALLS, {"since": "2026-11-21"}).json()["results"]
    assert listed["from_number"] == "=1+2"  # JSON is not a spreadsheet: as received


def test_times_are_in_the_zone_of_the_request_though_written_after_it(admin_client, many_calls):
    """The rows are written once the view has returned, when a time zone a middleware
    activated for the request (a user's own) is no longer active."""
    with timezone.override(BERLIN):
        response = admin_client.get(CALLS, {"format": "csv"})
    rows = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))
    first = next(rows)
    started = Call.objects.get(pk=first["id"]).started_at
    assert first["started_at"] == started.astimezone(BERLIN).isoformat()
