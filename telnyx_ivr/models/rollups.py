"""Roll-ups: the call log summed per 15 minutes, which the dashboards read instead of scanning
every call, step, event and command. telnyx_ivr.analytics.rollups writes them; they outlive
the rows they sum, so pruning old calls leaves past figures as they were.

A call is summed, once it has ended, into the bucket it *started* in, with everything about
it (its visits to nodes); events and commands into the bucket their event arrived in. Fifteen
minutes because every time zone's offset is a multiple of it, so local hours and days are
whole buckets. Histograms are telnyx_ivr.analytics.histograms' sparse dicts.
"""

from django.db import models

from .menus import Menu, MenuVersion


class CallRollup(models.Model):
    """The ended calls that started in one bucket, on one menu version and dialled number."""

    bucket = models.DateTimeField(help_text="Start of the 15 minutes (UTC).")
    menu = models.ForeignKey(Menu, on_delete=models.CASCADE, related_name="+")
    menu_version = models.ForeignKey(MenuVersion, on_delete=models.CASCADE, related_name="+")
    to_number = models.CharField(max_length=255, blank=True)
    is_test = models.BooleanField(default=False)
    completed = models.PositiveIntegerField(default=0)
    transferred = models.PositiveIntegerField(default=0)
    abandoned = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    menu_seconds = models.JSONField(default=dict, help_text="Histogram of the time in menu.")
    destinations = models.JSONField(default=dict, help_text="Transfers by destination.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["bucket", "menu_version", "to_number", "is_test"],
                name="telnyx_ivr_callrollup_key",
            )
        ]
        indexes = [models.Index(fields=["bucket", "is_test"], name="telnyx_ivr_callrollup_time")]

    def __str__(self):
        return f"calls from {self.bucket:%Y-%m-%d %H:%M} UTC to {self.to_number or 'any number'}"


class NodeRollup(models.Model):
    """Visits to one node of one menu version by the calls that started in one bucket."""

    bucket = models.DateTimeField()
    menu_version = models.ForeignKey(MenuVersion, on_delete=models.CASCADE, related_name="+")
    to_number = models.CharField(max_length=255, blank=True)
    is_test = models.BooleanField(default=False)
    node_key = models.CharField(max_length=64)
    node_kind = models.CharField(max_length=20)
    visits = models.PositiveIntegerField(default=0)
    calls = models.PositiveIntegerField(default=0, help_text="Distinct calls that visited.")
    tries = models.PositiveIntegerField(default=0, help_text="Tries summed over the visits.")
    exits = models.JSONField(default=dict, help_text="Visits by how they left the node.")
    seconds = models.JSONField(default=dict, help_text="Histogram of the visits' length.")
    filled = models.JSONField(default=dict, help_text="AI gathers: visits that filled each field.")
    valid_routes = models.JSONField(
        default=dict,
        help_text="AI gathers: valid answers by the route they took (its index in the routes).",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["bucket", "menu_version", "to_number", "is_test", "node_key"],
                name="telnyx_ivr_noderollup_key",
            )
        ]
        indexes = [
            models.Index(fields=["menu_version", "bucket"], name="telnyx_ivr_noderollup_time")
        ]

    def __str__(self):
        return f"visits to {self.node_key} from {self.bucket:%Y-%m-%d %H:%M} UTC"


class PipelineRollup(models.Model):
    """Webhook events that arrived in one bucket and the commands they caused."""

    bucket = models.DateTimeField()
    is_test = models.BooleanField(default=False)
    processed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    queue_wait_ms = models.JSONField(default=dict)
    commands = models.PositiveIntegerField(default=0)
    command_failures = models.PositiveIntegerField(default=0)
    retries = models.PositiveIntegerField(default=0, help_text="Attempts beyond the first.")
    latency_ms = models.JSONField(
        default=dict, help_text="Histogram: an event's arrival to the sending of its command."
    )
    errors = models.JSONField(default=dict, help_text='Failed attempts by "status code".')

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bucket", "is_test"], name="telnyx_ivr_pipeline_key")
        ]

    def __str__(self):
        return f"events from {self.bucket:%Y-%m-%d %H:%M} UTC"
