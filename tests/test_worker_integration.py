"""A real Celery worker on real Redis processes what the real endpoint stored."""

import pytest
import requests

from telnyx_ivr.models import WebhookEvent
from telnyx_ivr.testing import event_body

from .conftest import wait_for

pytestmark = pytest.mark.redis


def test_worker_marks_stored_event_processed(live_server, start_worker, signed):
    start_worker(env={"TELNYX_PUBLIC_KEY": signed.public_key})
    body = event_body("call.initiated", {"call_control_id": "v3:abc"})
    raw = __import__("json").dumps(body).encode()

    response = requests.post(
        f"{live_server.url}/telnyx/webhook/", data=raw, headers=signed.sign(raw), timeout=5
    )

    assert response.status_code == 200, response.text
    event = wait_for(
        lambda: WebhookEvent.objects.filter(
            event_id=body["data"]["id"], status=WebhookEvent.Status.PROCESSED
        ).first(),
        message="the worker to process the event",
    )
    assert event.processed_at is not None
    assert event.queue_wait_ms is not None
    assert event.queue_wait_ms >= 0
