"""The rescue loop (telnyx_ivr.dispatch): events left pending and commands left unsent are
taken up from the database within seconds, whatever became of their task; and the webhook
hands the task to a thread instead of waiting on the broker."""

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from telnyx_ivr import dispatch
from telnyx_ivr.calls.runner import RetryLater, process_stored_event
from telnyx_ivr.dispatch import Publisher, rescue
from telnyx_ivr.models import Command, WebhookEvent

pytestmark = pytest.mark.django_db

LONG_AGO = timedelta(seconds=10)


def age(queryset, by=LONG_AGO, field="received_at"):
    for row in queryset:
        type(row).objects.filter(pk=row.pk).update(**{field: getattr(row, field) - by})


def test_an_event_whose_task_was_lost_is_processed_by_the_rescue(api, classic, caller):
    lost = caller.deliver("call.initiated", direction="incoming", process=False)
    assert rescue() == 0  # just arrived: its task may be on its way
    assert api.requests == []

    age(WebhookEvent.objects.filter(pk=lost.pk))
    assert rescue() == 1

    lost.refresh_from_db()
    assert lost.status == "processed"
    assert lost.requeued_at is not None
    assert [r.action for r in api.requests] == ["answer"]


def test_a_rescued_event_is_not_claimed_again_at_once(api, classic, caller, ivr_settings_for):
    api.set_default(status=500, body={"errors": [{"code": "1", "title": "down"}]})
    stuck = caller.deliver("call.initiated", direction="incoming", process=False)
    age(WebhookEvent.objects.filter(pk=stuck.pk))
    WebhookEvent.objects.filter(pk=stuck.pk).update(requeued_at=timezone.now())
    assert rescue() == 0  # another worker's rescue took it a moment ago
    assert api.requests == []


def test_a_command_a_dead_worker_left_unsent_is_sent_with_its_own_command_id(api, classic, caller):
    caller.deliver("call.initiated", direction="incoming")
    command = Command.objects.get()
    # As if the worker had died after storing the decision, before Telnyx answered.
    Command.objects.filter(pk=command.pk).update(status="pending", params={}, sent_at=None)
    assert rescue() == 0  # not overdue yet
    age(Command.objects.filter(pk=command.pk), field="created_at")

    assert rescue() == 1

    assert [r.action for r in api.requests] == ["answer", "answer"]
    assert api.requests[0].json["command_id"] == api.requests[1].json["command_id"]
    assert Command.objects.get().status == "sent"


def test_a_command_waiting_for_its_retry_is_left_until_it_is_due(api, classic, caller):
    api.enqueue(status=503, action="answer", body={"errors": [{"code": "1", "title": "busy"}]})
    caller.deliver("call.initiated", direction="incoming", process=False)
    event = WebhookEvent.objects.get()
    with pytest.raises(RetryLater):
        process_stored_event(event.pk)
    command = Command.objects.get()
    assert command.retry_at is not None
    age(Command.objects.filter(pk=command.pk), field="created_at")  # old, but not yet due
    assert rescue(now=command.retry_at - timedelta(seconds=1)) == 0

    assert rescue(now=command.retry_at + timedelta(seconds=10)) == 1

    assert Command.objects.get().status == "sent"
    assert len(api.requests) == 2


def test_a_command_the_rescue_sent_and_telnyx_refused_again_is_rescued_when_due_again(
    api, classic, caller
):
    """Seen in the fault run: a retry sent by a rescue was refused again (429) while Redis
    was down, so its next retry could not be queued; the rescue would not claim it again for
    RECLAIM_AFTER (30 s), and the caller heard nothing for that long."""
    busy = {"errors": [{"code": "1", "title": "busy"}]}
    api.enqueue(status=503, action="answer", body=busy)
    api.enqueue(status=429, action="answer", body=busy)
    caller.deliver("call.initiated", direction="incoming", process=False)
    with pytest.raises(RetryLater):
        process_stored_event(WebhookEvent.objects.get().pk)

    overdue = Command.objects.filter(status="pending")
    age(overdue, field="retry_at")
    assert rescue() == 1  # sent by the rescue, and refused again
    command = Command.objects.get()
    assert (command.status, command.attempts) == ("pending", 2)

    age(overdue, field="retry_at")  # due again, within RECLAIM_AFTER of the first claim
    assert rescue() == 1
    assert Command.objects.get().status == "sent"
    assert len(api.requests) == 3


def test_the_beat_task_rescues_the_same_way(api, classic, caller):
    from telnyx_ivr.tasks import requeue_stale_events

    lost = caller.deliver("call.initiated", direction="incoming", process=False)
    age(WebhookEvent.objects.filter(pk=lost.pk))
    assert requeue_stale_events.apply().get() == 1
    assert [r.action for r in api.requests] == ["answer"]


def test_publishing_never_holds_up_the_caller_of_enqueue():
    """A broker that does not answer holds the publishing thread, not the webhook."""
    release, published = threading.Event(), []

    class HungBroker(Publisher):
        def _run(self):
            while True:
                pk, _ = self._queue.get()
                release.wait(10)
                published.append(pk)
                self._queue.task_done()

    publisher = HungBroker()
    began = time.perf_counter()
    for pk in range(50):
        publisher.submit(pk, time.time())
    assert time.perf_counter() - began < 0.1
    release.set()
    publisher.wait_until_sent()
    assert published == list(range(50))


def test_a_full_publish_queue_leaves_events_to_the_rescue(monkeypatch, caplog):
    monkeypatch.setattr(dispatch, "QUEUE_SIZE", 2)
    blocked = threading.Event()

    class Stuck(Publisher):
        def _run(self):
            blocked.wait(5)

    publisher = Stuck()
    for pk in range(4):
        publisher.submit(pk, time.time())
    blocked.set()
    assert "Publish queue full: event 3 waits for a rescue" in caplog.text


def test_events_that_waited_out_a_broker_outage_are_left_to_the_rescue_not_queued(caplog):
    """After an outage the publisher had a backlog of events the rescue loops had processed
    meanwhile; queued anyway, their tasks stood ahead of the new events', and callers waited
    ~2 s for every step for 15 s after Redis was back (found by bench/faults.py)."""
    from celery.signals import after_task_publish

    seen = []

    def record(sender=None, body=None, **kwargs):
        if sender == "telnyx_ivr.tasks.process_events":
            seen.extend(pk for pk, _ in body[0][0])

    after_task_publish.connect(record, weak=False)
    try:
        publisher = Publisher()
        publisher.submit(1, time.time() - 10)  # waited 10 s for the broker
        publisher.submit(2, time.time() - 4)
        publisher.submit(3, time.time())
        publisher.wait_until_sent()
    finally:
        after_task_publish.disconnect(record)
    assert seen == [3]
    assert "Did not queue 2 event(s) that waited over 3 s for the broker" in caplog.text
