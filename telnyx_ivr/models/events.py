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

    event_id = models.CharField("event id", max_length=255, unique=True)
    event_type = models.CharField(max_length=100, db_index=True)
    occurred_at = models.DateTimeField(null=True, blank=True, db_index=True)
    call_control_id = models.CharField(max_length=255, blank=True, db_index=True)
    call_session_id = models.CharField(max_length=255, blank=True, db_index=True)
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
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
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
        indexes = [
            models.Index(
                fields=["status"],
                name="telnyx_ivr_event_to_roll_up",
                condition=models.Q(rolled_up=False),
            ),
            # The rescue loop's question, asked every second: small, as few events wait.
            models.Index(
                fields=["received_at"],
                name="telnyx_ivr_event_pending",
                condition=models.Q(status="pending"),
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
