"""The call log: every call, each visit to a node, and every command sent."""

from django.db import models

from .events import WebhookEvent
from .menus import Menu, MenuVersion


class Call(models.Model):
    """One call leg we received events for. ``state`` is the engine's ``CallState``; the
    other columns copy what admins filter and search on."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        ANSWERING = "answering", "Answering"
        ACTIVE = "active", "In menu"
        TRANSFERRING = "transferring", "Transferred"
        ENDED = "ended", "Ended"
        UNMANAGED = "unmanaged", "Not ours"

    call_control_id = models.CharField(max_length=255, unique=True)
    call_session_id = models.CharField(max_length=255, blank=True, db_index=True)
    call_leg_id = models.CharField(max_length=255, blank=True)
    connection_id = models.CharField(max_length=255, blank=True)
    from_number = models.CharField("from", max_length=255, blank=True, db_index=True)
    to_number = models.CharField("to", max_length=255, blank=True, db_index=True)
    direction = models.CharField(max_length=16, blank=True)
    menu = models.ForeignKey(
        Menu, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    menu_version = models.ForeignKey(
        MenuVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="calls",
        help_text="The published version this call runs on, whatever is published later.",
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.NEW, db_index=True
    )
    current_node = models.CharField(max_length=64, blank=True)
    state = models.JSONField(default=dict, help_text="The engine's state between events.")
    started_at = models.DateTimeField(null=True, blank=True, db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    hangup_cause = models.CharField(max_length=64, blank=True)
    hangup_source = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.from_number or '?'} → {self.to_number or '?'} ({self.call_control_id})"

    @property
    def variables(self):
        return (self.state or {}).get("variables") or {}


class CallStep(models.Model):
    """One visit to one node; re-asks within the visit only raise ``tries``."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="steps")
    step = models.PositiveIntegerField(help_text="The step number the visit opened with.")
    node_key = models.CharField(max_length=64)
    node_kind = models.CharField(max_length=20)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=32, blank=True)
    digits = models.CharField(max_length=128, blank=True)
    result = models.JSONField(null=True, blank=True, help_text="The AI gather's result.")
    tries = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["call", "step"]
        constraints = [
            models.UniqueConstraint(fields=["call", "step"], name="telnyx_ivr_callstep_per_call")
        ]

    def __str__(self):
        return f"step {self.step}: {self.node_key}"


class Command(models.Model):
    """A Call Control command: stored before it is sent, updated with what Telnyx answered."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="commands")
    event = models.ForeignKey(
        WebhookEvent,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="commands",
        help_text="The event whose processing produced this command.",
    )
    position = models.PositiveSmallIntegerField(default=0)
    action = models.CharField(max_length=40)
    body = models.JSONField(help_text="The request body, secrets removed.")
    # The body as it must be sent (a retry resends it), kept only until the command is
    # final. It holds menu configuration, never the API key, which travels in a header.
    params = models.JSONField(null=True, blank=True, editable=False)
    command_id = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    error = models.TextField(blank=True)
    response = models.JSONField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    latency_ms = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["call", "id"]

    def __str__(self):
        return f"{self.action} ({self.status})"
