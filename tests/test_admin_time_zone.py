"""Every time the admin shows is in the site's time zone, never UTC (unless the site's is UTC).

One known UTC instant, 2026-12-01 19:16:50.730932 UTC, is stored in every time column, and
each page is read under zones an hour and five and a half hours from UTC (the latter also
moving the date). The site's locale is en-us, so Django formats "Dec. 1, 2026, 8:16 p.m."; the
call log shows seconds too: "Dec. 1, 2026, 8:16:50 p.m.".
"""

import json
import re
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.urls import reverse

from telnyx_ivr.menus.io import import_definition
from telnyx_ivr.models import Call, CallStep, Command, Menu, MenuVersion, WebhookEvent
from telnyx_ivr.simulator import TelnyxSimulator

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parent.parent / "telnyx_ivr" / "examples"
AT = datetime(2026, 12, 1, 19, 16, 50, 730932, tzinfo=UTC)
UTC_TEXTS = ["19:16", "7:16 p.m.", "+00:00", "(UTC)"]


class Zone:
    def __init__(self, name, date_time, seconds, clock, clock_later):
        self.name = name
        self.date_time = date_time  # AT as Django's admin shows a datetime
        self.seconds = seconds  # AT as the call log shows it
        self.clock = clock  # AT on a timeline, to the millisecond
        self.clock_later = clock_later  # AT + 2 s on a timeline


ZONES = [
    Zone(
        "Europe/Berlin",
        "Dec. 1, 2026, 8:16 p.m.",
        "Dec. 1, 2026, 8:16:50 p.m.",
        "20:16:50.730",
        "20:16:52.730",
    ),
    Zone(
        "Asia/Kolkata",
        "Dec. 2, 2026, 12:46 a.m.",
        "Dec. 2, 2026, 12:46:50 a.m.",
        "00:46:50.730",
        "00:46:52.730",
    ),
]


@pytest.fixture(params=ZONES, ids=[zone.name for zone in ZONES])
def zone(request, settings):
    settings.TIME_ZONE = request.param.name
    return request.param


@pytest.fixture
def menu():
    document = json.loads((EXAMPLES / "classic_tree.json").read_text())
    menu = import_definition(document, publish=True).menu
    # Versions refuse save(); the stored time is set the way a past publish left it.
    MenuVersion.objects.filter(menu=menu).update(published_at=AT)
    Menu.objects.filter(pk=menu.pk).update(updated_at=AT)
    return Menu.objects.get(pk=menu.pk)


@pytest.fixture
def call(menu):
    call = Call.objects.create(
        call_control_id="v3:time-zone",
        from_number="+15550001111",
        to_number="+15550002222",
        direction="incoming",
        menu=menu,
        menu_version=menu.live_version,
        status=Call.Status.ENDED,
        started_at=AT,
        answered_at=AT,
        ended_at=AT,
    )
    event = WebhookEvent.objects.create(
        event_id="evt-time-zone",
        event_type="call.initiated",
        occurred_at=AT,
        call_control_id=call.call_control_id,
        raw_body="{}",
        payload={"data": {"payload": {"call_control_id": call.call_control_id}}},
        status=WebhookEvent.Status.PROCESSED,
        processed_at=AT,
    )
    step = CallStep.objects.create(
        call=call, step=1, node_key="main", node_kind="menu", started_at=AT, ended_at=AT
    )
    command = Command.objects.create(
        call=call,
        event=event,
        action="answer",
        body={},
        command_id="cmd-time-zone",
        status=Command.Status.SENT,
        http_status=200,
        sent_at=AT + timedelta(seconds=2),
    )
    # auto_now_add columns take the real clock on create.
    Call.objects.filter(pk=call.pk).update(created_at=AT)
    WebhookEvent.objects.filter(pk=event.pk).update(received_at=AT)
    Command.objects.filter(pk=command.pk).update(created_at=AT)
    return {"call": call, "event": event, "step": step, "command": command}


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def without_json(html):
    """The page without its pretty-printed JSON: a payload is shown exactly as Telnyx sent
    it, its times included."""
    return re.sub(r'<pre class="telnyx-ivr-json">.*?</pre>', "", html, flags=re.S)


def readonly(html, field):
    """The value an admin change page shows for a read-only field."""
    match = re.search(
        rf'class="form-row[^"]*field-{field}\b.*?<div class="readonly">(.*?)</div>', html, re.S
    )
    assert match, f"no read-only field {field}"
    return match[1].strip()


def assert_no_utc(html):
    shown = [text for text in UTC_TEXTS if text in html]
    assert not shown, f"UTC shown: {shown}"


# --- menus ---------------------------------------------------------------------------------


def test_menu_page_shows_when_versions_were_published_in_the_site_zone(admin_client, zone, menu):
    html = page(admin_client, reverse("admin:telnyx_ivr_menu_change", args=[menu.pk]))
    assert f"</a>, published {zone.date_time}" in readonly(html, "live_version_link")
    assert f"v1</a> {zone.date_time}" in readonly(html, "versions_list")
    assert_no_utc(html)


def test_version_page_and_lists_show_the_site_zone(admin_client, zone, menu):
    version = menu.live_version
    html = page(admin_client, reverse("admin:telnyx_ivr_menuversion_change", args=[version.pk]))
    assert readonly(html, "published_at") == zone.date_time
    assert_no_utc(html)
    for name in ("menuversion", "menu"):
        html = page(admin_client, reverse(f"admin:telnyx_ivr_{name}_changelist"))
        assert zone.date_time in html
        assert_no_utc(html)


# --- the call log --------------------------------------------------------------------------


def timeline_times(html):
    body = html.split('class="telnyx-ivr-timeline"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr class="telnyx-ivr-\w+">\s*<td>([^<]*)</td>', body)


def test_call_page_and_its_timeline_show_the_site_zone(admin_client, zone, call):
    html = page(admin_client, reverse("admin:telnyx_ivr_call_change", args=[call["call"].pk]))
    for field in ("started", "answered", "ended"):
        assert readonly(html, field) == zone.seconds
    assert f"<th>time ({zone.name})</th>" in html
    assert timeline_times(html) == [zone.clock, zone.clock_later]
    assert_no_utc(without_json(html))


def test_step_page_and_its_timeline_show_the_site_zone(admin_client, zone, call):
    html = page(admin_client, reverse("admin:telnyx_ivr_callstep_change", args=[call["step"].pk]))
    for field in ("started", "ended"):
        assert readonly(html, field) == zone.seconds
    assert f"<th>time ({zone.name})</th>" in html
    assert_no_utc(without_json(html))


def test_command_and_event_pages_show_the_site_zone(admin_client, zone, call):
    html = page(admin_client, reverse("admin:telnyx_ivr_command_change", args=[call["command"].pk]))
    assert readonly(html, "created") == zone.seconds
    assert readonly(html, "sent") == zone.seconds.replace(":50 ", ":52 ")  # sent 2 s later
    assert_no_utc(without_json(html))
    html = page(
        admin_client, reverse("admin:telnyx_ivr_webhookevent_change", args=[call["event"].pk])
    )
    for field in ("occurred", "received", "processed"):
        assert readonly(html, field) == zone.seconds
    assert_no_utc(without_json(html))


def test_call_log_lists_show_the_site_zone(admin_client, zone, call):
    for name in ("call", "callstep", "command", "webhookevent"):
        html = page(admin_client, reverse(f"admin:telnyx_ivr_{name}_changelist"))
        assert zone.seconds in html, name
        assert_no_utc(html)


# --- the Test call page ----------------------------------------------------------------------


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def sim(ivr_settings_for):
    with TelnyxSimulator(
        webhook_url=f"http://127.0.0.1:{closed_port()}/telnyx/webhook/", retry_delays=(0.01,)
    ) as simulator:
        ivr_settings_for(
            API_BASE_URL=simulator.api_base_url,
            API_KEY=simulator.api_key,
            PUBLIC_KEYS=[simulator.public_key],
        )
        yield simulator


def test_test_call_page_shows_the_site_zone(admin_client, zone, menu, sim):
    html = page(admin_client, reverse("admin:telnyx_ivr_menu_test_call", args=[menu.pk]))
    assert f"published {zone.date_time})" in html
    assert_no_utc(html)


ISO_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d")


def test_test_call_data_holds_no_clock_time_for_the_browser_to_convert(
    admin_client, zone, menu, sim
):
    """The page's script shows seconds since the call started; a clock time in this data
    would reach the browser in UTC, to be shown in the browser's zone instead of the site's."""
    url = reverse("admin:telnyx_ivr_menu_test_call_start", args=[menu.pk])
    started = admin_client.post(url, "{}", content_type="application/json")
    assert started.status_code == 201, started.content
    polled = admin_client.get(started.json()["poll_url"])
    assert polled.status_code == 200
    for response in (started, polled):
        assert response.json()["transcript"], "no transcript to check"
        assert not ISO_TIME.search(response.content.decode())
        assert all(isinstance(entry["t"], float) for entry in response.json()["transcript"])
