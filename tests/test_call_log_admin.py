"""The call log's admin pages say what happened to each call, in an office admin's words.

Each test here is one defect an admin met in a demo run (issue 10), on calls played through
the real stack (the simulator dials in, the engine answers): a transfer, a menu that says
goodbye, a caller who hangs up in a submenu.
"""

import json
import re

import pytest
from django.urls import reverse

from telnyx_ivr import examples
from telnyx_ivr.admin.display import duration, local_time_seconds, milliseconds
from telnyx_ivr.menus.io import import_definition
from telnyx_ivr.models import Call, CallStep, Command, WebhookEvent
from telnyx_ivr.simulator import HangUp, Press, Silence

from .admin_pages import fieldsets, listed, listed_pks, readonly, readonly_html, text

pytest_plugins = ["telnyx_ivr.pytest_plugin"]

CLASSIC = "+15550000100"
CALL_LIST = "admin:telnyx_ivr_call_changelist"


SCRIPTS = {
    "transferred": [Press("1")],
    "completed": [Silence(), Silence(), Silence()],
    "abandoned": [Press("2"), HangUp()],
}


@pytest.fixture
def play(transactional_db, simulate_call):
    import_definition(json.loads(examples.read("classic_tree")), publish=True)

    def play(*outcomes):
        calls = {}
        for outcome in outcomes:
            simulated = simulate_call(to=CLASSIC, script=SCRIPTS[outcome])
            calls[outcome] = Call.objects.get(call_control_id=simulated.call_control_id)
        return calls

    return play


@pytest.fixture
def played(play):
    return play(*SCRIPTS)


@pytest.fixture
def one_call(play):
    return play("transferred")["transferred"]


def get(client, url, params=None):
    response = client.get(url, params or {})
    assert response.status_code == 200, (response.status_code, response.get("Location"))
    return response.content.decode()


def call_page(client, call):
    return get(client, reverse("admin:telnyx_ivr_call_change", args=[call.pk]))


def test_a_transferred_call_shows_as_transferred_and_the_filter_counts_it(admin_client, played):
    """It showed as "Ended" (its status) and the "Transferred" status filter counted 0."""
    transferred = played["transferred"]
    rows = {row["pk"]: row for row in listed(get(admin_client, reverse(CALL_LIST)))}
    assert rows[transferred.pk]["outcome_shown"] == "Transferred"
    assert rows[played["completed"].pk]["outcome_shown"] == "Completed"
    assert rows[played["abandoned"].pk]["outcome_shown"] == "Abandoned"

    page = get(admin_client, reverse(CALL_LIST), {"outcome": "transferred"})
    assert listed_pks(page) == [transferred.pk]
    counted = get(admin_client, reverse(CALL_LIST), {"_facets": "1"})
    assert "Transferred (1)" in text(counted)
    assert "Abandoned (1)" in text(counted)

    assert readonly(call_page(admin_client, transferred), "outcome_shown").startswith("Transferred")


def test_a_transfer_leg_is_shown_inside_its_call_not_as_a_call(admin_client, play):
    """Each transfer's new leg was listed as its own outgoing call, "Not ours"."""
    played = play("transferred", "completed")
    transferred = played["transferred"]
    [leg] = transferred.legs.all()
    page = get(admin_client, reverse(CALL_LIST))
    assert sorted(listed_pks(page)) == sorted(call.pk for call in played.values())
    assert "Not ours" not in text(page)  # nor in the sidebar: the engine's status, reworded

    legs = get(admin_client, reverse(CALL_LIST), {"show": "legs"})
    assert listed_pks(legs) == [leg.pk]
    everything = get(admin_client, reverse(CALL_LIST), {"show": "all"})
    assert sorted(listed_pks(everything)) == sorted(Call.objects.values_list("pk", flat=True))

    html = call_page(admin_client, transferred)
    [section] = [block for name, (block, _) in fieldsets(html).items() if "leg" in name.lower()]
    assert reverse("admin:telnyx_ivr_call_change", args=[leg.pk]) in section
    assert leg.to_number in text(section)

    html = call_page(admin_client, leg)
    assert reverse("admin:telnyx_ivr_call_change", args=[transferred.pk]) in readonly_html(
        html, "part_of"
    )
    assert "Not ours" not in text(html)


def test_who_ended_the_call_is_said_in_plain_words(admin_client, played):
    """ "Hangup source: callee" was shown when the menu hung up (Telnyx's word for the far end
    of an incoming call, which is us)."""
    completed, abandoned = played["completed"], played["abandoned"]
    assert completed.hangup_source == "callee"  # what Telnyx says
    html = call_page(admin_client, completed)
    assert readonly(html, "who_ended") == "the menu"
    sections = fieldsets(html)
    [(details, collapsed)] = [sections[name] for name in sections if name == "Telnyx details"]
    assert collapsed
    # The timeline quotes the engine's notes on each event as they were written.
    outside = html.replace(details, "").replace(sections["Timeline"][0], "")
    assert "callee" not in text(outside)
    assert "hangup source" not in text(outside).lower()
    assert readonly(call_page(admin_client, abandoned), "who_ended") == "the caller"


def test_durations_and_times_to_the_second(admin_client, one_call):
    """The list had no durations, and times only to the minute."""
    call = one_call
    page = get(admin_client, reverse(CALL_LIST))
    [row] = [row for row in listed(page) if row["pk"] == call.pk]
    assert row["started"] == local_time_seconds(call.started_at)
    assert re.search(r"\d:\d\d:\d\d", row["started"])
    assert row["duration"] == duration(call.duration_seconds)
    assert row["time_in_menu"] == duration(call.menu_seconds)
    assert (row["outcome_node"], row["transferred_to"]) == ("sales", "+15550100001")

    html = call_page(admin_client, call)
    assert readonly(html, "started") == local_time_seconds(call.started_at)
    assert readonly(html, "duration") == duration(call.duration_seconds)
    assert readonly(html, "time_in_menu") == duration(call.menu_seconds)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0.4, "0 s"),
        (4.6, "5 s"),
        (59.4, "59 s"),
        (65, "1 min 05 s"),
        (600, "10 min 00 s"),
        (3725, "1 h 02 min"),
        (None, ""),
    ],
)
def test_durations_read_for_people(seconds, shown):
    assert duration(seconds) == shown


def test_milliseconds_are_whole_and_named(admin_client, played):
    """ "Queue wait ms: 97.71609306335449"."""
    event = WebhookEvent.objects.filter(call_control_id=played["completed"].call_control_id).first()
    WebhookEvent.objects.filter(pk=event.pk).update(queue_wait_ms=97.71609306335449)
    html = get(admin_client, reverse("admin:telnyx_ivr_webhookevent_change", args=[event.pk]))
    assert readonly(html, "queue_wait") == "98 ms"
    assert "97.71" not in html

    command = Command.objects.exclude(latency_ms=None).first()
    Command.objects.filter(pk=command.pk).update(latency_ms=2.54427200070495)
    html = get(admin_client, reverse("admin:telnyx_ivr_command_change", args=[command.pk]))
    assert readonly(html, "latency") == "3 ms"
    page = get(admin_client, reverse("admin:telnyx_ivr_command_changelist"))
    [row] = [row for row in listed(page) if row["pk"] == command.pk]
    assert row["latency"] == "3 ms"
    assert "2.544" not in page


@pytest.mark.parametrize(
    ("value", "shown"),
    [(97.71609306335449, "98 ms"), (0.2, "0 ms"), (1234.5, "1,235 ms"), (None, "")],
)
def test_milliseconds_read_for_people(value, shown):
    assert milliseconds(value) == shown


def test_webhook_events_are_found_by_event_type(admin_client, one_call):
    url = reverse("admin:telnyx_ivr_webhookevent_changelist")
    gathers = WebhookEvent.objects.filter(event_type="call.gather.ended")
    assert gathers.exists()
    for query in ("call.gather.ended", "gather.ended"):
        page = get(admin_client, url, {"q": query})
        assert sorted(listed_pks(page)) == sorted(gathers.values_list("pk", flat=True)), query


def test_an_event_page_links_to_its_call(admin_client, one_call):
    call = one_call
    event = WebhookEvent.objects.filter(call_control_id=call.call_control_id).first()
    html = get(admin_client, reverse("admin:telnyx_ivr_webhookevent_change", args=[event.pk]))
    link = readonly_html(html, "call_link")
    assert reverse("admin:telnyx_ivr_call_change", args=[call.pk]) in link
    assert call.from_number in text(link)


@pytest.mark.parametrize("model", [Call, CallStep, Command, WebhookEvent])
def test_the_call_log_offers_no_delete(admin_client, one_call, model):
    """Read-only logs still offered delete actions, even to superusers."""
    name = model._meta.model_name
    row = model.objects.first()
    before = model.objects.count()
    listing = reverse(f"admin:telnyx_ivr_{name}_changelist")
    page = get(admin_client, listing, {})
    assert "delete_selected" not in page
    html = get(admin_client, reverse(f"admin:telnyx_ivr_{name}_change", args=[row.pk]))
    assert "deletelink" not in html
    delete_url = reverse(f"admin:telnyx_ivr_{name}_delete", args=[row.pk])
    assert admin_client.get(delete_url).status_code == 403
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    admin_client.post(
        listing, {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
    )
    assert model.objects.count() == before
