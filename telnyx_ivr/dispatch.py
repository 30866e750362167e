"""Getting stored events to a worker without the webhook ever waiting on the broker, and
rescuing whatever the queue lost.

**In the web process**, ``enqueue(event_pk)`` only puts the event on an in-memory queue; a
thread of that process publishes the Celery task. A broker that is down, slow or hung holds
up that thread, never a webhook's answer; what it cannot publish (or what a crash loses) is
still in the database, pending.

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
RESCUE_BATCH = 100
# An event or command rescued once is not claimed again this soon (it may just be slow).
RECLAIM_AFTER = timedelta(seconds=30)


# --- the web process: publishing off the request's path -------------------------------------


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
        from .tasks import process_event

        late = 0
        while True:
            event_pk, queued_at = self._queue.get()
            try:
                # Held up by a broker outage: a rescue loop has the event by now or soon. A
                # task for it would only queue up ahead of the events arriving now, and make
                # their callers wait once the broker is back.
                if time.time() - queued_at > ivr_settings.STALE_EVENT_SECONDS:
                    late += 1
                    continue
                if late:
                    logger.warning(
                        "Did not queue %d event(s) that waited over %s s for the broker: "
                        "the workers' rescue loops process them",
                        late,
                        ivr_settings.STALE_EVENT_SECONDS,
                    )
                    late = 0
                process_event.apply_async((event_pk, queued_at), retry=False)
            except Exception as exc:  # the broker is down: the rescuer has the event
                logger.warning(
                    "Could not queue event %s (%s: %s); a worker will rescue it",
                    event_pk,
                    type(exc).__name__,
                    exc,
                )
            finally:
                self._queue.task_done()

    def wait_until_sent(self, timeout=5.0):
        """For tests and shutdown: wait until everything submitted has been tried."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)


publisher = Publisher()


def enqueue(event_pk):
    """Have a worker process the stored event ``event_pk``; returns at once."""
    from celery import current_app

    from .tasks import process_event

    log_problem()
    if current_app.conf.task_always_eager:  # tests and the pytest plugin: process it here
        process_event.delay(event_pk, time.time())
        return
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
    from .processing import RetryLater, process_stored_event, send_pending_commands

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
    from .tasks import schedule_retry

    try:
        schedule_retry(later)
    except Exception as exc:  # no broker: the command's retry_at brings it back here
        logger.warning("Could not queue a retry of call %s: %s", later.call_pk, exc)


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
