"""The call log: every call, each visit to a node, and every command sent."""

from django.db import models

from ..analytics import outcomes
from .events import WebhookEvent
from .menus import Menu, MenuVersion


class CallQuerySet(models.QuerySet):
    def counted(self):
        """The calls the figures count: incoming, claimed by a menu, not a transfer's leg."""
        return self.filter(direction="incoming", menu_version__isnull=False, parent__isnull=True)


class Call(models.Model):
    """One call leg we received events for. ``state`` is the engine's ``CallState``; the
    other columns copy what admins filter and search on, and what the call counts as
    (``outcome`` and the columns after it, from telnyx_ivr.analytics.outcomes)."""

    class Outcome(models.TextChoices):
        COMPLETED = outcomes.COMPLETED, outcomes.LABELS[outcomes.COMPLETED]
        TRANSFERRED = outcomes.TRANSFERRED, outcomes.LABELS[outcomes.TRANSFERRED]
        ABANDONED = outcomes.ABANDONED, outcomes.LABELS[outcomes.ABANDONED]
        FAILED = outcomes.FAILED, outcomes.LABELS[outcomes.FAILED]
        IN_PROGRESS = outcomes.IN_PROGRESS, outcomes.LABELS[outcomes.IN_PROGRESS]

    class EndedBy(models.TextChoices):
        APP = outcomes.BY_APP, outcomes.ENDED_BY_LABELS[outcomes.BY_APP]
        CALLER = outcomes.BY_CALLER, outcomes.ENDED_BY_LABELS[outcomes.BY_CALLER]
        TRANSFER = outcomes.BY_TRANSFER, outcomes.ENDED_BY_LABELS[outcomes.BY_TRANSFER]
        NETWORK = outcomes.BY_NETWORK, outcomes.ENDED_BY_LABELS[outcomes.BY_NETWORK]

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
    # What the call counts as; blank for calls that are not counted (see CallQuerySet).
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    outcome_node = models.CharField(
        "at node",
        max_length=64,
        blank=True,
        help_text="Where the caller was when they hung up or the call failed.",
    )
    transferred_to = models.CharField(max_length=255, blank=True)
    transferred_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.CharField(max_length=16, choices=EndedBy.choices, blank=True)
    menu_seconds = models.FloatField(
        "time in menu",
        null=True,
        blank=True,
        help_text="Seconds from the answer to the end of the call or to the transfer.",
    )
    failure = models.TextField(blank=True, help_text="The error that ended the call.")
    is_test = models.BooleanField(
        "test call", default=False, help_text="Placed by the call simulator, not a real caller."
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="legs",
        help_text="The call whose transfer made this leg.",
    )
    # Summed into the roll-ups the dashboards read (telnyx_ivr.analytics.rollups).
    rolled_up = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CallQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["status"],
                name="telnyx_ivr_call_to_roll_up",
                condition=models.Q(rolled_up=False),
            ),
            models.Index(fields=["started_at", "outcome"], name="telnyx_ivr_call_started"),
            # The call list: the newest counted calls first, read a page at a time.
            models.Index(
                fields=["-created_at"],
                name="telnyx_ivr_call_listed",
                condition=models.Q(
                    direction="incoming", menu_version__isnull=False, parent__isnull=True
                ),
            ),
            # The figures' live part: counted calls not rolled up yet, by start. Transfer legs
            # are never rolled up, so in the index above they outnumber these by far.
            models.Index(
                fields=["started_at"],
                name="telnyx_ivr_call_live",
                condition=models.Q(rolled_up=False, direction="incoming", parent__isnull=True),
            ),
        ]

    def __str__(self):
        return f"{self.from_number or '?'} → {self.to_number or '?'} ({self.call_control_id})"

    @property
    def variables(self):
        return (self.state or {}).get("variables") or {}

    @property
    def duration_seconds(self):
        """From the first event to the end (None while the call goes on)."""
        if self.started_at is None or self.ended_at is None:
            return None
        return max(0.0, (self.ended_at - self.started_at).total_seconds())


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
    exit = models.CharField(
        max_length=128,
        blank=True,
        help_text="How the caller left the node: the keys pressed, invalid, no_input, hangup...",
    )

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
    note = models.TextField(
        blank=True,
        help_text="What the engine did when it failed for good, or why it was sent (a fallback).",
    )
    response = models.JSONField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    latency_ms = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(
        null=True, blank=True, help_text="When a refused or unanswered command is due again."
    )
    requeued_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker's rescue loop last took it up."
    )
    rolled_up = models.BooleanField(default=False)

    class Meta:
        ordering = ["call", "id"]
        indexes = [
            models.Index(
                fields=["status"],
                name="telnyx_ivr_command_to_roll_up",
                condition=models.Q(rolled_up=False),
            ),
            # A call's next command to send, and the rescue loop's question: only pending
            # commands are in it, so neither reads more as a call's history grows.
            models.Index(
                fields=["call", "created_at"],
                name="telnyx_ivr_command_pending",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self):
        return f"{self.action} ({self.status})"
