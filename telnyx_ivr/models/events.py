from django.db import models


class WebhookEvent(models.Model):
    """One Telnyx webhook event, stored verbatim once its signature has been verified.

    ``event_id`` (Telnyx's ``data.id``) is unique, so a redelivery (same id, higher
    ``meta.attempt``) only bumps the counters and never creates a second row or task.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    # Every index is paid for on each webhook's insert, the hottest write there is: only those
    # a query needs are kept (Meta), and none of PostgreSQL's LIKE-pattern twins that
    # ``unique``/``db_index`` on a CharField add. docs/benchmarks.md has the measurement.
    event_id = models.CharField("event id", max_length=255)
    event_type = models.CharField(max_length=100)
    occurred_at = models.DateTimeField(null=True, blank=True)
    call_control_id = models.CharField(max_length=255, blank=True)
    call_session_id = models.CharField(max_length=255, blank=True)
    call_leg_id = models.CharField(max_length=255, blank=True)
    client_state = models.JSONField(
        null=True, blank=True, help_text="Decoded client_state (JSON, or text when not JSON)."
    )
    client_state_raw = models.TextField(
        blank=True, help_text="client_state exactly as received, kept when it is not base64."
    )
    attempt = models.PositiveIntegerField(default=1, help_text="Highest meta.attempt received.")
    deliveries = models.PositiveIntegerField(default=1, help_text="Deliveries received.")
    raw_body = models.TextField(help_text="The request body exactly as signed by Telnyx.")
    payload = models.JSONField(help_text="The parsed body.")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    note = models.TextField(
        blank=True, help_text="What the call engine made of the event (or why it ignored it)."
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    queue_wait_ms = models.FloatField(
        null=True, blank=True, help_text="Time between queueing the task and a worker starting it."
    )
    rolled_up = models.BooleanField(default=False)
    requeued_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker's rescue loop last took it up."
    )

    class Meta:
        ordering = ["-received_at"]
        verbose_name = "webhook event"
        constraints = [
            # Redeliveries are harmless because of it; the webhook's insert names it.
            models.UniqueConstraint(fields=["event_id"], name="telnyx_ivr_event_id_unique"),
        ]
        indexes = [
            models.Index(fields=["call_control_id"], name="telnyx_ivr_event_call"),
            # The admin's filter by type lists the types stored.
            models.Index(fields=["event_type"], name="telnyx_ivr_event_type"),
            models.Index(
                fields=["status"],
                name="telnyx_ivr_event_to_roll_up",
                condition=models.Q(rolled_up=False),
            ),
            # A call's events to apply, and the rescue loop's question asked every second:
            # small, as few events wait, so neither reads more as a call's history grows.
            models.Index(
                fields=["call_control_id", "received_at"],
                name="telnyx_ivr_event_pending",
                condition=models.Q(status="pending"),
            ),
            # Failed events, for the admin's filter and ivr_reprocess: few, so free on insert.
            models.Index(
                fields=["received_at"],
                name="telnyx_ivr_event_failed",
                condition=models.Q(status="failed"),
            ),
        ]

    def __str__(self):
        return f"{self.event_type} {self.event_id}"

    @property
    def data(self):
        data = self.payload.get("data") if isinstance(self.payload, dict) else None
        return data if isinstance(data, dict) else {}

    @property
    def event_payload(self):
        payload = self.data.get("payload")
        return payload if isinstance(payload, dict) else {}
