"""Verified events are stored once, with the fields we index, and queued only after commit."""

import base64
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from celery.signals import after_task_publish
from django.db import transaction
from django.db.models import F

from telnyx_ivr.dispatch import publisher
from telnyx_ivr.ingest import store_event
from telnyx_ivr.models import WebhookEvent
from telnyx_ivr.telnyx.webhooks import parse_event
from telnyx_ivr.testing import WebhookSigner, event_body

URL = "/telnyx/webhook/"
PROCESS_TASK = "telnyx_ivr.tasks.process_event"
PROCESS_MANY_TASK = "telnyx_ivr.tasks.process_events"
# Telnyx's own webhook bodies, copied unedited (see the README beside them).
PAYLOADS = Path(__file__).parent / "fixtures" / "telnyx_payloads"


@pytest.fixture
def published():
    """Every event published to the broker for processing, by event pk, whether its task
    carries one event or several (a real Celery signal)."""
    seen = []
    lock = threading.Lock()

    def record(sender=None, headers=None, body=None, **kwargs):
        args = body[0] if isinstance(body, tuple | list) else []
        with lock:
            if sender == PROCESS_TASK:
                seen.append(args[0])
            elif sender == PROCESS_MANY_TASK:
                seen.extend(pk for pk, _ in args[0])

    publisher.wait_until_sent()  # what earlier tests queued is not this test's
    after_task_publish.connect(record, weak=False)
    yield seen
    after_task_publish.disconnect(record)


def state(value):
    return base64.b64encode(json.dumps(value).encode()).decode()


@pytest.mark.django_db
def test_stores_every_indexed_field(client, signed):
    occurred = datetime(2026, 11, 21, 12, 30, 5, 123000, tzinfo=UTC)
    envelope = event_body(
        "call.gather.ended",
        {
            "call_control_id": "v3:ctrl",
            "call_session_id": "sess-1",
            "call_leg_id": "leg-1",
            "client_state": state({"n": "main", "s": 3}),
            "digits": "1",
        },
        attempt=2,
        occurred_at=occurred,
    )
    body = json.dumps(envelope).encode()
    response = signed.post(client, URL, body)
    assert response.status_code == 200
    assert response.json() == {"status": "stored", "event_id": envelope["data"]["id"]}
    event = WebhookEvent.objects.get()
    assert event.event_id == envelope["data"]["id"]
    assert event.event_type == "call.gather.ended"
    assert event.occurred_at == occurred
    assert (event.call_control_id, event.call_session_id, event.call_leg_id) == (
        "v3:ctrl",
        "sess-1",
        "leg-1",
    )
    assert event.client_state == {"n": "main", "s": 3}
    assert event.attempt == 2
    assert event.deliveries == 1
    assert event.raw_body.encode() == body
    assert event.payload == envelope
    assert event.status == WebhookEvent.Status.PENDING
    assert event.received_at is not None


@pytest.mark.django_db
def test_client_state_that_is_not_base64_is_kept_raw(client, signed):
    signed.post(client, URL, event_body("call.answered", {"client_state": "%%%not-b64"}))
    event = WebhookEvent.objects.get()
    assert event.client_state is None
    assert event.client_state_raw == "%%%not-b64"


@pytest.mark.django_db
def test_client_state_base64_text_that_is_not_json(client, signed):
    plain = base64.b64encode(b"hello").decode()
    signed.post(client, URL, event_body("call.answered", {"client_state": plain}))
    event = WebhookEvent.objects.get()
    assert event.client_state == "hello"
    assert event.client_state_raw == plain


@pytest.mark.django_db
def test_redelivery_answers_200_and_creates_nothing(client, signed, published):
    envelope = event_body("call.initiated")
    first = signed.post(client, URL, envelope)
    envelope["meta"]["attempt"] = 3
    second = signed.post(client, URL, envelope)
    assert first.status_code == second.status_code == 200
    assert second.json()["status"] == "duplicate"
    event = WebhookEvent.objects.get()
    assert (event.deliveries, event.attempt) == (2, 3)


@pytest.mark.django_db
def test_unknown_event_type_is_stored_and_acknowledged(client, signed):
    response = signed.post(client, URL, event_body("call.something_new.happened", {"x": 1}))
    assert response.status_code == 200
    assert WebhookEvent.objects.get().event_type == "call.something_new.happened"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "real_call.initiated_JamesDeAngelo-clean-middleware-test.json",
        "real_call.hangup_JamesDeAngelo-clean-middleware-test.json",
        "docs_call.ai_gather.ended.full.json",
        "docs_call.initiated_full_envelope.json",
    ],
)
def test_reference_payloads_are_accepted_byte_for_byte(client, signed, name):
    body = (PAYLOADS / name).read_bytes()
    envelope = json.loads(body)
    response = signed.post(client, URL, body)
    assert response.status_code == 200, response.content
    event = WebhookEvent.objects.get()
    assert event.event_id == envelope["data"]["id"]
    assert event.raw_body.encode() == body


@pytest.mark.django_db
def test_key_rotation_accepts_either_configured_key(client, ivr_settings_for):
    old, new, other = WebhookSigner(), WebhookSigner(), WebhookSigner()
    ivr_settings_for(PUBLIC_KEYS=f"{old.public_key}, {new.public_key}")
    assert old.post(client, URL, event_body("call.initiated")).status_code == 200
    assert new.post(client, URL, event_body("call.initiated")).status_code == 200
    assert other.post(client, URL, event_body("call.initiated")).status_code == 403
    assert WebhookEvent.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_task_is_queued_after_commit_once(signed, published):
    envelope = event_body("call.initiated")
    body = json.dumps(envelope).encode()
    parsed = parse_event(body)
    with transaction.atomic():
        result = store_event(parsed)
        assert published == [], "queued before the transaction committed"
    publisher.wait_until_sent()
    assert published == [result.event.pk]
    WebhookEvent.objects.filter(pk=result.event.pk).update(status=WebhookEvent.Status.PROCESSED)
    store_event(parse_event(body))  # a redelivery of a processed event queues nothing more
    publisher.wait_until_sent()
    assert published == [result.event.pk]


@pytest.mark.django_db(transaction=True)
def test_a_redelivery_of_an_event_still_pending_queues_it_again(signed, published):
    """Its task may have been lost (a broker outage): Telnyx's retry is a chance to send it."""
    body = json.dumps(event_body("call.initiated")).encode()
    first = store_event(parse_event(body))
    publisher.wait_until_sent()
    store_event(parse_event(body))  # a moment later: racing deliveries queue nothing more
    publisher.wait_until_sent()
    assert published == [first.event.pk]
    WebhookEvent.objects.update(received_at=F("received_at") - timedelta(seconds=2))
    again = store_event(parse_event(body))
    publisher.wait_until_sent()
    assert again.created is False
    assert published == [first.event.pk, first.event.pk]
    assert WebhookEvent.objects.get().deliveries == 3


@pytest.mark.django_db(transaction=True)
def test_no_task_when_the_transaction_rolls_back(published):
    body = json.dumps(event_body("call.initiated")).encode()

    class Abort(Exception):
        pass

    def store_then_fail():
        with transaction.atomic():
            store_event(parse_event(body))
            raise Abort

    with pytest.raises(Abort):
        store_then_fail()
    publisher.wait_until_sent()
    assert published == []
    assert WebhookEvent.objects.count() == 0


def test_through_a_real_http_server(live_server, signed, published):
    envelope = event_body("call.initiated", {"call_control_id": "v3:live"})
    body = json.dumps(envelope).encode()
    response = requests.post(
        f"{live_server.url}{URL}", data=body, headers=signed.sign(body), timeout=5
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    event = WebhookEvent.objects.get()
    assert event.call_control_id == "v3:live"
    # The server's thread publishes once it has answered: a moment after the answer arrives.
    deadline = time.monotonic() + 5
    while not published and time.monotonic() < deadline:
        time.sleep(0.01)
    assert published == [event.pk]
    forged = requests.post(
        f"{live_server.url}{URL}", data=body, headers=WebhookSigner().sign(body), timeout=5
    )
    assert forged.status_code == 403


@pytest.mark.postgres
def test_ten_concurrent_deliveries_store_one_row_and_queue_one_task(
    postgres, live_server, signed, published
):
    envelope = event_body("call.gather.ended", {"call_control_id": "v3:race"})
    body = json.dumps(envelope).encode()
    headers = signed.sign(body)
    start = threading.Barrier(10)

    def deliver(_):
        start.wait()
        return requests.post(f"{live_server.url}{URL}", data=body, headers=headers, timeout=10)

    with ThreadPoolExecutor(10) as pool:
        responses = list(pool.map(deliver, range(10)))

    assert [r.status_code for r in responses] == [200] * 10
    statuses = sorted(r.json()["status"] for r in responses)
    assert statuses == ["duplicate"] * 9 + ["stored"]
    event = WebhookEvent.objects.get()
    assert event.deliveries == 10
    assert published == [event.pk]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_event_is_stored_on_a_new_connection_when_the_old_one_was_killed(
    postgres, signed, published, caplog
):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        before = cursor.fetchone()[0]
    import psycopg

    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname=settings["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [before])
    body = json.dumps(event_body("call.hangup", {"call_control_id": "v3:k"})).encode()
    parsed = parse_event(body)

    result = store_event(parsed)

    assert result.created
    assert WebhookEvent.objects.get().event_id == parsed.event_id
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != before
    assert "trying a new one" in caplog.text
    publisher.wait_until_sent()
    assert published == [result.event.pk]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_database_that_cannot_be_reached_is_a_503_that_says_so(postgres, client, signed):
    from django.db import connection

    from .stack import free_port

    envelope = event_body("call.hangup", {"call_control_id": "v3:gone"})
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = free_port()  # nothing listens there
    try:
        answer = signed.post(client, URL, envelope)
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port
    assert answer.status_code == 503
    assert answer.json()["error"] == "database_unavailable"
    assert "could not be reached" in answer.json()["detail"]
    assert not WebhookEvent.objects.exists()
