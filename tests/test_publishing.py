"""How a stored event reaches the broker from the web process: one statement to store it, the
request's own thread to publish it once the answer is out, the publishing thread when the
broker does not answer, and one task for the events that waited together."""

import json
import logging
import socket
import threading
import time

import pytest
import requests
from celery.signals import after_task_publish

from telnyx_ivr import dispatch
from telnyx_ivr.dispatch import Publisher, after_response
from telnyx_ivr.ingest import store_event
from telnyx_ivr.models import WebhookEvent
from telnyx_ivr.telnyx.webhooks import parse_event
from telnyx_ivr.testing import event_body

from .test_system_checks import celery_conf

MANY = "telnyx_ivr.tasks.process_events"


@pytest.fixture
def tasks():
    """``[(thread name, [event pk, ...]), ...]`` for every process_events task published."""
    seen = []

    def record(sender=None, body=None, **kwargs):
        if sender == MANY:
            seen.append((threading.current_thread().name, [pk for pk, _ in body[0][0]]))

    dispatch.publisher.wait_until_sent()  # what earlier tests queued is not this test's
    after_task_publish.connect(record, weak=False)
    yield seen
    after_task_publish.disconnect(record)


@pytest.mark.django_db(transaction=True)
def test_a_new_event_is_stored_with_one_statement_and_a_redelivery_with_one_more(
    django_assert_num_queries,
):
    body = json.dumps(event_body("call.initiated")).encode()
    with django_assert_num_queries(1):  # in autocommit: the INSERT is its own transaction
        first = store_event(parse_event(body))
    with django_assert_num_queries(1):
        again = store_event(parse_event(body))
    assert (first.created, again.created) == (True, False)
    assert WebhookEvent.objects.get().deliveries == 2


@pytest.mark.django_db(transaction=True)
def test_the_thread_that_answered_publishes_the_event_once_it_has_answered(client, signed, tasks):
    with celery_conf(broker_url="memory://", task_always_eager=False):
        answer = signed.post(client, "/telnyx/webhook/", event_body("call.initiated"))
    assert answer.status_code == 200
    event = WebhookEvent.objects.get()
    # The test client closes the response (request_finished) before it returns.
    assert tasks == [(threading.current_thread().name, [event.pk])]
    assert not after_response.collecting()


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_does_not_answer_delays_no_answer_and_the_thread_takes_over(
    live_server, signed, monkeypatch, caplog
):
    """A broker that accepts connections and answers nothing (a hung Redis)."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # the kernel accepts; nobody ever reads or answers
    handed = []

    class Recording(Publisher):
        def submit(self, event_pk, queued_at):
            handed.append(event_pk)

    monkeypatch.setattr(after_response, "publisher", Recording())
    monkeypatch.setattr(after_response, "_away_until", 0.0)
    caplog.set_level(logging.WARNING, logger="telnyx_ivr.dispatch")
    url = f"{live_server.url}/telnyx/webhook/"

    def deliver():
        body = json.dumps(event_body("call.initiated")).encode()
        began = time.perf_counter()
        answer = requests.post(url, data=body, headers=signed.sign(body), timeout=10)
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "stored"
        return time.perf_counter() - began

    try:
        with celery_conf(
            broker_url=f"redis://127.0.0.1:{silent.getsockname()[1]}/0",
            task_always_eager=False,
        ):
            first = deliver()
            deadline = time.monotonic() + 5
            while not handed and time.monotonic() < deadline:
                time.sleep(0.02)
            second = deliver()
            deadline = time.monotonic() + 5
            while len(handed) < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
    finally:
        silent.close()
    stored = list(WebhookEvent.objects.order_by("pk").values_list("pk", flat=True))
    assert first < dispatch.QUICK_PUBLISH_SECONDS  # answered before the publish was tried
    assert second < dispatch.QUICK_PUBLISH_SECONDS  # not tried at all: the broker is away
    assert handed == stored
    assert "the publishing thread takes them" in caplog.text
    assert caplog.text.count("quickly") == 1


def test_events_waiting_together_go_in_one_task_in_their_order(tasks):
    release = threading.Event()

    class HeldBack(Publisher):
        def _run(self):
            release.wait(10)  # the broker is slow: events pile up meanwhile
            super()._run()

    publisher = HeldBack()
    with celery_conf(broker_url="memory://", task_always_eager=False):
        now = time.time()
        for pk in [5, 3, 8, 1]:
            publisher.submit(pk, now)
        release.set()
        publisher.wait_until_sent()
    assert [pks for _, pks in tasks] == [[5, 3, 8, 1]]
    assert tasks[0][0] == "telnyx-ivr-publish"
