"""Fixtures for tests that drive calls: the example menus, the loopback Telnyx API configured
as the app's, and ``Caller``, which posts a call's signed events and processes them."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from telnyx_ivr.calls.runner import process_stored_event
from telnyx_ivr.menus.io import import_definition
from telnyx_ivr.models import WebhookEvent
from telnyx_ivr.testing import event_body

EXAMPLES = Path(__file__).resolve().parent.parent / "telnyx_ivr" / "examples"
CCID = "v3:runner-call"
T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.fixture
def classic():
    document = json.loads((EXAMPLES / "classic_tree.json").read_text())
    return import_definition(document, publish=True).menu


@pytest.fixture
def api(telnyx_api, ivr_settings_for, signed):
    ivr_settings_for(API_KEY="KEY_runner_test", API_BASE_URL=telnyx_api.base_url)
    return telnyx_api


class Caller:
    """Delivers events of one call through the signed endpoint, then processes them."""

    def __init__(self, client, signer, ccid=CCID):
        self.client, self.signer, self.ccid = client, signer, ccid
        self.clock = T0

    def deliver(self, event_type, process=True, **payload):
        self.clock += timedelta(seconds=1)
        body = event_body(
            event_type,
            {
                "call_control_id": self.ccid,
                "call_session_id": "sess-1",
                "call_leg_id": "leg-1",
                "connection_id": "conn-1",
                "from": "+15550001111",
                "to": "+15550002222",
                **payload,
            },
            occurred_at=self.clock,
        )
        response = self.signer.post(self.client, "/telnyx/webhook/", body)
        assert response.status_code == 200
        event = WebhookEvent.objects.get(event_id=body["data"]["id"])
        if process:
            process_stored_event(event.pk)
            event.refresh_from_db()
        return event

    def reply_to(self, command, event_type, **payload):
        """An event caused by ``command``: it echoes the command's client_state."""
        return self.deliver(event_type, client_state=command["client_state"], **payload)


@pytest.fixture
def caller(client, signed):
    return Caller(client, signed)
