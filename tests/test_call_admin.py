import re

import pytest
from django.urls import reverse

from telnyx_ivr.models import Call, CallStep, Command

from .call_fixtures import Caller

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished_call(api, classic, client, signed):
    caller = Caller(client, signed)
    caller.deliver("call.initiated", direction="incoming")
    caller.reply_to(api.requests[-1].json, "call.answered")
    caller.reply_to(api.requests[-1].json, "call.gather.ended", digits="2", status="valid")
    caller.deliver("call.hangup", hangup_cause="normal_clearing", hangup_source="caller")
    return Call.objects.get()


def timeline_rows(page):
    body = page.split('class="telnyx-ivr-timeline"', 1)[1].split("</table>", 1)[0]
    return re.findall(
        r'<tr class="telnyx-ivr-(event|command)">.*?<a href="[^"]+">([^<]+)</a>', body, re.S
    )


def test_call_page_shows_the_timeline_in_order(admin_client, finished_call):
    url = reverse("admin:telnyx_ivr_call_change", args=[finished_call.pk])
    page = admin_client.get(url).content.decode()
    rows = timeline_rows(page)
    assert rows[:4] == [
        ("event", "call.initiated"),
        ("command", "answer"),
        ("event", "call.answered"),
        ("command", "gather_using_speak"),
    ]
    assert rows[-1] == ("event", "call.hangup")
    assert len(rows) == 4 + 2 + Command.objects.count() - 2  # 4 events + every command
    assert "main_choice" in page  # gathered variables
    assert "call.gather.ended; " not in page  # the engine's note, without the repeated type
    assert "normal_clearing" in page


def test_step_page_shows_its_part_of_the_timeline(admin_client, finished_call):
    step = CallStep.objects.get(call=finished_call, node_key="main")
    page = admin_client.get(reverse("admin:telnyx_ivr_callstep_change", args=[step.pk]))
    rows = timeline_rows(page.content.decode())
    assert rows[0] == ("command", "gather_using_speak")
    assert ("event", "call.gather.ended") in rows
    assert ("event", "call.initiated") not in rows
    assert ("command", "answer") not in rows


def test_call_log_is_read_only_and_hides_params(admin_client, finished_call):
    command = Command.objects.filter(call=finished_call).first()
    url = reverse("admin:telnyx_ivr_command_change", args=[command.pk])
    page = admin_client.get(url).content.decode()
    assert "body (secrets removed)" in page.lower()
    assert 'name="params"' not in page
    assert admin_client.post(url, {"action": "hangup"}).status_code == 403
    assert admin_client.get(reverse("admin:telnyx_ivr_call_add")).status_code == 403


def test_lists_and_search(admin_client, finished_call):
    url = reverse("admin:telnyx_ivr_call_changelist")
    assert finished_call.from_number in admin_client.get(url).content.decode()
    found = admin_client.get(url, {"q": finished_call.call_control_id}).content.decode()
    assert "1 call" in found
    for name in ("callstep", "command"):
        response = admin_client.get(reverse(f"admin:telnyx_ivr_{name}_changelist"))
        assert response.status_code == 200
