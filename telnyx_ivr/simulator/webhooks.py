"""Webhooks as Telnyx sends them: full envelopes, Ed25519-signed, delivered in order by one
thread, retried on 408/429/5xx and timeouts, with faults (duplicate, reorder, delay) applied.
A redirect is the app's answer, as it is to Telnyx: it is recorded, never followed."""

import json
import queue
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from ..testing import WebhookSigner, envelope

RETRIED_STATUSES = frozenset({408, 429}) | frozenset(range(500, 600))
# Enough of a refusal's body to say why (the app's JSON error is far shorter).
ANSWER_CHARS = 300


def iso_now():
    """The current time as Telnyx writes it: ISO 8601, microseconds, ``Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Outgoing:
    """A webhook waiting to go: built by a call, given its id and time when its turn comes."""

    call: Any  # SimulatedCall
    event_type: str
    payload: dict
    delay: float = 0.0  # seconds to wait after the previous webhook (key gaps, timers)
    data_extra: dict = field(default_factory=dict)
    event_id: str | None = None
    occurred_at: str | None = None


class DeliveryWorker:
    """Delivers ``Outgoing`` webhooks one at a time, in submission order (faults aside).

    ``recorder`` is the simulator: ``recorder.webhook_attempt(outgoing, attempt, body, fault)``
    returns a WebhookRecord before each POST, ``recorder.webhook_answered(record, status,
    error, answer=..., location=...)`` completes it, ``recorder.webhook_done(outgoing)`` says
    the webhook is finished.
    """

    def __init__(
        self, *, signer, faults, recorder, timeout, max_attempts, retry_delays, reorder_wait=1.0
    ):
        self.signer = signer or WebhookSigner()
        self.faults = faults
        self.recorder = recorder
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.retry_delays = tuple(retry_delays)
        self.reorder_wait = reorder_wait
        self._queue = queue.Queue()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="telnyx-sim-webhooks", daemon=True)
        self._session = None

    def start(self):
        self._thread.start()

    def stop(self, timeout=5.0):
        self._stopping.set()
        self._queue.put(None)
        self._thread.join(timeout)

    def submit(self, items):
        for item in items:
            self._queue.put(item)

    def _run(self):
        self._session = requests.Session()
        held = None  # a webhook a reorder fault holds back until the next one has gone
        try:
            while not self._stopping.is_set():
                try:
                    item = self._queue.get(timeout=self.reorder_wait if held else None)
                except queue.Empty:
                    self._deliver(*held)
                    held = None
                    continue
                if item is None:
                    break
                if item.delay and self._stopping.wait(item.delay):
                    break
                self._prepare(item)
                if held is None:
                    fault = self.faults.take("reorder", item.event_type, item.call.call_control_id)
                    if fault is not None:
                        held = (item, fault.describe())
                        continue
                self._deliver(item)
                if held is not None:
                    self._deliver(*held)
                    held = None
        finally:
            self._session.close()

    def _prepare(self, item):
        if item.event_id is None:
            item.event_id = str(uuid.uuid4())
            item.occurred_at = iso_now()
            if "created_at" in item.data_extra:
                item.data_extra["created_at"] = item.occurred_at

    def _deliver(self, item, reorder_note=None):
        call_id = item.call.call_control_id
        delay = self.faults.take("delay", item.event_type, call_id)
        if delay is not None and self._stopping.wait(delay.seconds):
            return
        notes = [n for n in (reorder_note, delay and delay.describe()) if n]
        attempt = 1
        while True:
            status = self._post(item, attempt, "; ".join(notes) or None)
            if status is not None and (200 <= status < 300 or status not in RETRIED_STATUSES):
                break
            if attempt >= self.max_attempts or item.call.webhook_url is None:
                break
            wait = self.retry_delays[min(attempt - 1, len(self.retry_delays) - 1)]
            if self._stopping.wait(wait):
                break
            attempt += 1
        duplicate = self.faults.take("duplicate", item.event_type, call_id)
        if duplicate is not None:
            for extra in range(1, duplicate.copies + 1):
                self._post(item, attempt + extra, duplicate.describe())
        self.recorder.webhook_done(item)

    def _post(self, item, attempt, fault):
        url = item.call.webhook_url
        body = envelope(
            item.event_type,
            item.payload,
            event_id=item.event_id,
            occurred_at=item.occurred_at,
            attempt=attempt,
            delivered_to=url,
            data_extra=item.data_extra,
        )
        record = self.recorder.webhook_attempt(item, attempt, body, fault)
        if url is None:
            self.recorder.webhook_answered(record, None, "no webhook URL is configured")
            return None
        raw = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json", "User-Agent": "telnyx-webhooks"}
        headers.update(self.signer.sign(raw))
        try:
            response = self._session.post(
                url, data=raw, headers=headers, timeout=self.timeout, allow_redirects=False
            )
        except requests.RequestException as exc:
            self.recorder.webhook_answered(record, None, f"{type(exc).__name__}: {exc}")
            return None
        refused = response.status_code >= 300
        self.recorder.webhook_answered(
            record,
            response.status_code,
            None,
            answer=answer_text(response) if refused else None,
            location=response.headers.get("Location") if refused else None,
        )
        return response.status_code


def answer_text(response):
    """What a refusal's body says: the app's ``{"error", "detail"}``, DRF's ``{"detail"}``,
    or a short plain-text body; None for anything else (an HTML error page)."""
    content_type = response.headers.get("Content-Type", "")
    if content_type.startswith("application/json"):
        try:
            data = response.json()
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        parts = [str(data[key]) for key in ("error", "detail") if data.get(key)]
        return ": ".join(parts)[:ANSWER_CHARS] or None
    if content_type.startswith("text/plain"):
        return response.text.strip()[:ANSWER_CHARS] or None
    return None
