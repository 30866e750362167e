import html
import json

import pytest
from django.urls import reverse

from telnyx_ivr.testing import event_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(client, signed):
    envelope = event_body(
        "call.gather.ended", {"call_control_id": "v3:find-me", "call_session_id": "sess-9"}
    )
    signed.post(client, "/telnyx/webhook/", envelope)
    from telnyx_ivr.models import WebhookEvent

    return WebhookEvent.objects.get()


def test_list_search_and_filters(admin_client, stored):
    url = reverse("admin:telnyx_ivr_webhookevent_changelist")
    page = admin_client.get(url).content.decode()
    assert "call.gather.ended" in page
    assert "Pending" in page
    assert "v3:find-me" in admin_client.get(url, {"q": "v3:find-me"}).content.decode()
    assert "0 webhook events" in admin_client.get(url, {"q": "nothing"}).content.decode()
    assert "v3:find-me" in admin_client.get(url, {"q": "sess-9"}).content.decode()
    filtered = admin_client.get(url, {"status__exact": "processed"}).content.decode()
    assert "0 webhook events" in filtered
    by_type = admin_client.get(url, {"event_type__exact": "call.gather.ended"})
    assert "v3:find-me" in by_type.content.decode()


def test_detail_is_read_only_and_pretty_prints_payload(admin_client, stored):
    url = reverse("admin:telnyx_ivr_webhookevent_change", args=[stored.pk])
    page = admin_client.get(url).content.decode()
    pretty = json.dumps(stored.payload, indent=2, sort_keys=True)
    assert html.escape(pretty) in page
    assert 'class="telnyx-ivr-json"' in page
    assert 'name="event_type"' not in page  # no editable inputs
    response = admin_client.post(url, {"event_type": "forged"})
    assert response.status_code == 403
    stored.refresh_from_db()
    assert stored.event_type == "call.gather.ended"


def test_no_add(admin_client):
    response = admin_client.get(reverse("admin:telnyx_ivr_webhookevent_add"))
    assert response.status_code == 403
