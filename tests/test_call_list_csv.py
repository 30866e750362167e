"""The call list downloads as CSV: exactly the calls it lists, in its order, streamed a chunk
at a time so a long export never holds every call in memory."""

import csv
import io
import json
import re
import tracemalloc
from datetime import datetime

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from telnyx_ivr import examples
from telnyx_ivr.admin.calls import for_export
from telnyx_ivr.api.serializers import CallSerializer
from telnyx_ivr.menus.io import import_definition
from telnyx_ivr.models import Call
from telnyx_ivr.simulator import HangUp, Press, Silence

from .admin_pages import listed_pks

pytest_plugins = ["telnyx_ivr.pytest_plugin"]

CLASSIC = "+15550000100"
CALL_LIST = "admin:telnyx_ivr_call_changelist"


def csv_link(page):
    match = re.search(r'<a href="([^"]+)" class="telnyx-ivr-csv">Download these calls', page)
    assert match, "no CSV link on the call list"
    return match[1].replace("&amp;", "&")


def download(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="calls.csv"'
    chunks = [chunk.decode() for chunk in response.streaming_content]
    return chunks, list(csv.DictReader(io.StringIO("".join(chunks))))


@pytest.fixture
def played(transactional_db, simulate_call):
    import_definition(json.loads(examples.read("classic_tree")), publish=True)
    for script in ([Press("1")], [Silence(), Silence(), Silence()], [Press("2"), HangUp()]):
        simulate_call(to=CLASSIC, script=script)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"outcome": "transferred"},
        {"show": "all", "o": "-1"},  # every row, the leg too, sorted by start, newest first
        {"since": "2000-01-01", "include_test": "1", "node": "main", "exit": "2"},
    ],
    ids=["calls", "an outcome", "everything sorted", "a node's exit"],
)
def test_the_csv_is_the_filtered_list(admin_client, played, params):
    page = admin_client.get(reverse(CALL_LIST), params).content.decode()
    shown = listed_pks(page)
    assert shown
    _, rows = download(admin_client, csv_link(page))
    assert [int(row["id"]) for row in rows] == shown
    assert list(rows[0]) == list(CallSerializer().fields)  # the read API's columns


def test_the_csv_says_what_each_call_did(admin_client, played):
    _, rows = download(admin_client, reverse("admin:telnyx_ivr_call_csv"))
    by_outcome = {row["outcome"]: row for row in rows}
    transferred = Call.objects.get(outcome="transferred")
    row = by_outcome["transferred"]
    assert (row["transferred_to"], row["ended_at_node"], row["ended_by"]) == (
        "+15550100001",
        "sales",
        "transfer",
    )
    assert datetime.fromisoformat(row["started_at"]) == transferred.started_at
    assert float(row["duration_seconds"]) == pytest.approx(transferred.duration_seconds, abs=1e-3)
    assert row["is_test"] == "true"
    assert by_outcome["abandoned"]["ended_at_node"] == "support"


def test_a_bad_parameter_is_a_400_naming_it(admin_client, played):
    response = admin_client.get(reverse("admin:telnyx_ivr_call_csv"), {"since": "soon"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "since: 'soon' is not a date" in response.content.decode()


def test_the_csv_is_for_staff_only(client, played):
    response = client.get(reverse("admin:telnyx_ivr_call_csv"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


ROWS = 6_000


def test_the_csv_streams_without_holding_every_call(admin_client, db):
    """6,000 calls: the export holds one chunk of them at a time (1,000), a small part of
    what all of them take at once, and it comes in many pieces."""
    Call.objects.bulk_create(
        Call(
            call_control_id=f"v3:bulk-{number}",
            direction="incoming",
            from_number="+15550001111",
            to_number=CLASSIC,
            status=Call.Status.ENDED,
            outcome=Call.Outcome.COMPLETED,
        )
        for number in range(ROWS)
    )
    # Calls are counted when a menu version claimed them.
    menu = import_definition(json.loads(examples.read("classic_tree")), publish=True).menu
    Call.objects.update(menu=menu, menu_version=menu.live_version)
    url = reverse("admin:telnyx_ivr_call_csv")

    tracemalloc.start()
    try:
        held = list(for_export(Call.objects.all()))  # what the export reads, all at once
        _, all_at_once = tracemalloc.get_traced_memory()
        del held
        tracemalloc.reset_peak()
        baseline, _ = tracemalloc.get_traced_memory()
        response = admin_client.get(url)
        lines = chunks = 0
        for chunk in response.streaming_content:
            chunks += 1
            lines += chunk.count(b"\n")
        _, streamed = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == ROWS + 1  # and a header
    assert chunks > 5
    assert streamed - baseline < all_at_once / 3, (streamed - baseline, all_at_once)
