"""Getting stored events to a worker without the webhook ever waiting on the broker, and
rescuing whatever the queue lost.

**In the web process**, ``enqueue(event_pk)`` never publishes on the spot. An event stored
while a request is being answered is published by the request's own thread once the answer
has gone out (``request_finished``), over a connection that gives up within
``QUICK_PUBLISH_SECONDS``; other events, and all of them for a while after the broker failed
that test, go to a thread of the process (``Publisher``). So a broker that is down, slow or
hung never holds up a webhook's answer; what cannot be published (or what a crash loses) is
still in the database, pending. The request's thread publishes because handing each event to
another thread cost more than the publish itself: the two fight over the GIL across every
database round trip of the next request (docs/benchmarks.md has the figures).

**In every worker**, ``Rescuer`` (started when the worker is ready, see apps.py) looks every
``DISPATCH_INTERVAL_SECONDS`` for events still pending ``STALE_EVENT_SECONDS`` after they
arrived, and for commands stored as pending that long after they were due (a worker died
before sending them), and processes them itself, straight from the database: the broker's
health does not matter, so an outage delays a caller's next step by seconds. Events and
commands are claimed (``requeued_at``), so several workers' rescuers share the work. The beat
task ``requeue_stale_events`` runs the same rescue once, for sites that turn the thread off.

The task module is imported inside functions: it imports this one (``enqueue``).

Processing is idempotent (the call's row is locked, events are applied once, commands keep
their ``command_id``), so an event both queued and rescued is still acted on once.
"""

import contextlib
import logging
import os
import queue
import threading
import time
from datetime import timedelta

from django.db import close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone

from .broker import log_problem
from .conf import ivr_settings
from .models import Command, WebhookEvent

logger = logging.getLogger("telnyx_ivr.dispatch")

QUEUE_SIZE = 10_000  # events waiting for the publisher; beyond it they wait for a rescue
PUBLISH_BATCH = 20  # events one task carries at most
RESCUE_BATCH = 100
# An event or command rescued once is not claimed again this soon (it may just be slow).
RECLAIM_AFTER = timedelta(seconds=30)


# --- the web process: publishing off the request's path -------------------------------------

# A broker that answers at all answers within milliseconds; one that takes longer than this
# is treated as away, and the request's thread stops waiting for it.
QUICK_PUBLISH_SECONDS = 0.5
# After a quick publish failed, events go to the Publisher thread for this long.
BROKER_AWAY_SECONDS = 10.0


class Publisher:
    """One daemon thread per process that publishes queued tasks, in the order given."""

    def __init__(self):
        self._queue = queue.Queue(maxsize=QUEUE_SIZE)
        self._pid = None
        self._lock = threading.Lock()

    def submit(self, event_pk, queued_at):
        self._ensure_thread()
        try:
            self._queue.put_nowait((event_pk, queued_at))
        except queue.Full:
            logger.warning("Publish queue full: event %s waits for a rescue", event_pk)

    def _ensure_thread(self):
        # A forked process (a gunicorn worker) has the queue but not the thread.
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                self._queue = queue.Queue(maxsize=QUEUE_SIZE)
                threading.Thread(target=self._run, name="telnyx-ivr-publish", daemon=True).start()
                self._pid = os.getpid()

    def _run(self):
        from .tasks import process_events

        late = 0
        while True:
            batch = self._take()
            try:
                # Held up by a broker outage: a rescue loop has the event by now or soon. A
                # task for it would only queue up ahead of the events arriving now, and make
                # their callers wait once the broker is back.
                now = time.time()
                fresh = [
                    (pk, at) for pk, at in batch if now - at <= ivr_settings.STALE_EVENT_SECONDS
                ]
                late += len(batch) - len(fresh)
                if not fresh:
                    continue
                if late:
                    logger.warning(
                        "Did not queue %d event(s) that waited over %s s for the broker: "
                        "the workers' rescue loops process them",
                        late,
                        ivr_settings.STALE_EVENT_SECONDS,
                    )
                    late = 0
                process_events.apply_async((fresh,), retry=False, **_shown(fresh))
            except Exception as exc:  # the broker is down: the rescuer has the events
                logger.warning(
                    "Could not queue event(s) %s (%s: %s); a worker will rescue them",
                    ", ".join(str(pk) for pk, _ in batch),
                    type(exc).__name__,
                    exc,
                )
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _take(self):
        """The next event, and every other already waiting (up to PUBLISH_BATCH): when
        webhooks come faster than tasks are published, one task carries several, and a
        publish (the most a webhook costs the web process) is paid once for them. An event
        never waits for others to arrive."""
        batch = [self._queue.get()]
        while len(batch) < PUBLISH_BATCH:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def wait_until_sent(self, timeout=5.0):
        """For tests and shutdown: wait until everything submitted has been tried."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)


publisher = Publisher()


# Asking Celery's configuration costs a webhook more than its signature check, and a missing
# broker does not come and go: the error is logged at most this often per process.
BROKER_CHECK_SECONDS = 10.0
_next_broker_check = 0.0


def _check_broker():
    global _next_broker_check
    now = time.monotonic()
    if now >= _next_broker_check:
        _next_broker_check = now + BROKER_CHECK_SECONDS
        log_problem()


class AfterResponse:
    """The events stored while this thread answers a request, published when it has answered.

    ``request_started`` opens the list and ``request_finished`` (sent once the server has
    written the response) publishes it. A thread that is not answering a request (a
    management command, a worker) has no list, and its events go to the Publisher thread.
    """

    def __init__(self, publisher):
        self.publisher = publisher
        self._local = threading.local()
        self._away_until = 0.0

    def collecting(self):
        return getattr(self._local, "events", None) is not None

    def add(self, event_pk):
        self._local.events.append((event_pk, time.time()))

    def request_started(self, **kwargs):
        # Under ASGI several requests share the thread: a list already open stays as it is.
        if not self.collecting():
            self._local.events = []

    def request_finished(self, **kwargs):
        events, self._local.events = getattr(self._local, "events", None), None
        if events:
            self.publish(events)

    def publish(self, events):
        if time.monotonic() < self._away_until:
            self._hand_over(events)
            return
        from .tasks import process_events

        try:
            process_events.apply_async(
                (events,), producer=self._producer(), retry=False, **_shown(events)
            )
        except Exception as exc:
            self._away_until = time.monotonic() + BROKER_AWAY_SECONDS
            self._drop_producer()
            logger.warning(
                "Could not queue event(s) %s quickly (%s: %s); the publishing thread takes "
                "them, and the next %s s of events",
                ", ".join(str(pk) for pk, _ in events),
                type(exc).__name__,
                exc,
                BROKER_AWAY_SECONDS,
            )
            self._hand_over(events)

    def _hand_over(self, events):
        for event_pk, queued_at in events:
            self.publisher.submit(event_pk, queued_at)

    def _producer(self):
        from celery import current_app

        app = current_app._get_current_object()
        # Kept per thread; made anew in a forked process or for another broker (tests).
        key = (os.getpid(), app, app.conf.broker_write_url or app.conf.broker_url)
        local = self._local
        if getattr(local, "key", None) != key or local.producer is None:
            connection = app.connection_for_write(
                connect_timeout=QUICK_PUBLISH_SECONDS,
                transport_options={
                    "socket_timeout": QUICK_PUBLISH_SECONDS,
                    "socket_connect_timeout": QUICK_PUBLISH_SECONDS,
                },
            )
            local.key, local.producer = key, app.amqp.Producer(connection)
        return local.producer

    def _drop_producer(self):
        producer, self._local.producer = getattr(self._local, "producer", None), None
        if producer is not None:
            with contextlib.suppress(Exception):
                producer.connection.release()


after_response = AfterResponse(publisher)


def _shown(events):
    # Celery would otherwise write a repr of the arguments into every message.
    return {"argsrepr": repr([pk for pk, _ in events]), "kwargsrepr": ""}


def enqueue(event_pk):
    """Have a worker process the stored event ``event_pk``; returns at once."""
    from celery import current_app

    from .tasks import process_event

    _check_broker()
    if current_app.conf.task_always_eager:  # tests and the pytest plugin: process it here
        process_event.delay(event_pk, time.time())
    elif after_response.collecting():
        after_response.add(event_pk)
    else:
        publisher.submit(event_pk, time.time())


# --- the workers: rescuing what waited too long ---------------------------------------------


def stale_events(now):
    cutoff = now - timedelta(seconds=ivr_settings.STALE_EVENT_SECONDS)
    return WebhookEvent.objects.filter(
        Q(requeued_at__isnull=True) | Q(requeued_at__lt=now - RECLAIM_AFTER),
        status=WebhookEvent.Status.PENDING,
        received_at__lt=cutoff,
    )


def stranded_commands(now):
    """Pending commands that should have been sent by now: never tried, or due for a retry."""
    cutoff = now - timedelta(seconds=ivr_settings.STALE_EVENT_SECONDS)
    due = Q(retry_at__isnull=True, created_at__lt=cutoff) | Q(retry_at__lt=cutoff)
    return Command.objects.filter(
        due,
        Q(requeued_at__isnull=True) | Q(requeued_at__lt=now - RECLAIM_AFTER),
        status=Command.Status.PENDING,
    )


def _claim(queryset, now):
    with transaction.atomic():
        ids = list(
            queryset.select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:RESCUE_BATCH]
        )
        queryset.model.objects.filter(pk__in=ids).update(requeued_at=now)
    return ids


def rescue(now=None):
    """Process stale events and send stranded commands here and now; returns how many."""
    from .calls.runner import RetryLater, process_stored_event, send_pending_commands

    now = now or timezone.now()
    done = 0
    for event_pk in _claim(stale_events(now), now):
        try:
            process_stored_event(event_pk)
        except RetryLater as later:
            _schedule_retry(later)
        except Exception:
            logger.exception("Rescuing event %s failed; it stays pending", event_pk)
            continue
        done += 1
    calls = set(
        Command.objects.filter(pk__in=_claim(stranded_commands(now), now)).values_list(
            "call_id", flat=True
        )
    )
    for call_pk in calls:
        try:
            send_pending_commands(call_pk)
        except RetryLater as later:
            _schedule_retry(later)
        except Exception:
            logger.exception("Sending the stranded commands of call %s failed", call_pk)
            continue
        done += 1
    if done:
        logger.warning("Rescued %d event(s) or call(s) the queue had not delivered", done)
    return done


def _schedule_retry(later):
    from .tasks import schedule_retry  # tasks imports this module

    schedule_retry(later)


class Rescuer(threading.Thread):
    """The worker's rescue loop (a daemon thread)."""

    def __init__(self, interval):
        super().__init__(name="telnyx-ivr-rescue", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.wait(self.interval):
            try:
                rescue()
            except Exception:  # the database is away: try again next time
                logger.exception("The rescue loop failed; trying again in %s s", self.interval)
            finally:
                close_old_connections()


def start_rescuer(**kwargs):
    """Celery's ``worker_ready``: start the rescue loop unless the site turned it off."""
    interval = ivr_settings.DISPATCH_INTERVAL_SECONDS
    if not interval:
        return None
    rescuer = Rescuer(interval)
    rescuer.start()
    logger.info(
        "Rescuing events pending over %s s, every %s s", ivr_settings.STALE_EVENT_SECONDS, interval
    )
    return rescuer
