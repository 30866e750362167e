"""What the read API says about a call, its visits, commands and events, and the shape of
``stats`` (the figures themselves come from telnyx_ivr.analytics.figures as they are).

Times are ISO 8601 in the site's time zone, whatever the host's DATETIME_FORMAT: a CSV export,
a JSON page and ``stats`` show the same text for the same moment.
"""

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..analytics import outcomes
from ..models import Call, CallStep, Command, WebhookEvent


class Moment(serializers.DateTimeField):
    """``isoformat()`` in the current time zone: ``+00:00`` rather than DRF's ``Z``, as the
    figures write the times of ``stats``."""

    def to_representation(self, value):
        return self.enforce_timezone(value).isoformat() if value else None


class Seconds(serializers.FloatField):
    """Seconds to the millisecond: a float's last digits are noise, not precision."""

    def to_representation(self, value):
        return round(float(value), 3)


class RecordSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: Moment,
    }


class CallSerializer(RecordSerializer):
    """One call, as the list gives it (and the CSV export, column by column)."""

    menu = serializers.CharField(
        source="menu.slug", read_only=True, allow_null=True, help_text="The menu's slug."
    )
    menu_version = serializers.IntegerField(
        source="menu_version.number",
        read_only=True,
        allow_null=True,
        help_text="The number of the menu version the call ran on.",
    )
    duration_seconds = Seconds(
        read_only=True,
        allow_null=True,
        help_text="From the first event to the end; null while the call goes on.",
    )
    time_in_menu_seconds = Seconds(
        source="menu_seconds",
        read_only=True,
        allow_null=True,
        help_text="From the answer to the end of the call or to the transfer.",
    )
    outcome = serializers.ChoiceField(
        choices=Call.Outcome.choices,
        read_only=True,
        help_text="; ".join(f"`{key}`: {text}" for key, text in outcomes.DESCRIPTIONS.items()),
    )
    ended_at_node = serializers.CharField(
        source="outcome_node",
        read_only=True,
        help_text=(
            "The node the caller was at when they hung up or the call failed, or the hangup "
            "node that completed it; blank otherwise."
        ),
    )

    class Meta:
        model = Call
        fields = [
            "id",
            "call_control_id",
            "from_number",
            "to_number",
            "menu",
            "menu_version",
            "started_at",
            "answered_at",
            "ended_at",
            "duration_seconds",
            "outcome",
            "ended_at_node",
            "transferred_to",
            "transferred_at",
            "ended_by",
            "time_in_menu_seconds",
            "is_test",
        ]
        read_only_fields = fields


class StepSerializer(RecordSerializer):
    kind = serializers.CharField(source="node_kind", read_only=True)
    ai_result = serializers.JSONField(
        source="result", read_only=True, help_text="An AI gather's result; null elsewhere."
    )

    class Meta:
        model = CallStep
        fields = [
            "step",
            "node_key",
            "kind",
            "outcome",
            "exit",
            "digits",
            "ai_result",
            "tries",
            "started_at",
            "ended_at",
        ]
        read_only_fields = fields


class CommandSerializer(RecordSerializer):
    body = serializers.JSONField(read_only=True, help_text="The request body, secrets removed.")

    class Meta:
        model = Command
        # Never ``params``: the body as it must be sent, kept only until the command is final.
        fields = [
            "id",
            "command_id",
            "action",
            "status",
            "http_status",
            "error_code",
            "error",
            "attempts",
            "latency_ms",
            "event",
            "created_at",
            "sent_at",
            "body",
        ]
        read_only_fields = fields


class EventSerializer(RecordSerializer):
    type = serializers.CharField(source="event_type", read_only=True)

    class Meta:
        model = WebhookEvent
        fields = [
            "id",
            "event_id",
            "type",
            "occurred_at",
            "received_at",
            "processed_at",
            "status",
            "attempt",
            "deliveries",
            "queue_wait_ms",
            "note",
            "error",
        ]
        read_only_fields = fields


def _events_of(call):
    events = WebhookEvent.objects.filter(call_control_id=call.call_control_id)
    return EventSerializer(events.order_by("received_at", "id"), many=True).data


class LegSerializer(RecordSerializer):
    """A transfer's new leg: part of the call that made it, never a call of its own."""

    duration_seconds = Seconds(read_only=True, allow_null=True)
    events = serializers.SerializerMethodField()

    class Meta:
        model = Call
        fields = [
            "id",
            "call_control_id",
            "from_number",
            "to_number",
            "started_at",
            "answered_at",
            "ended_at",
            "duration_seconds",
            "hangup_cause",
            "events",
        ]
        read_only_fields = fields

    @extend_schema_field(EventSerializer(many=True))
    def get_events(self, leg):
        return _events_of(leg)


class CallDetailSerializer(CallSerializer):
    steps = StepSerializer(many=True, read_only=True, help_text="Each visit to a node.")
    commands = CommandSerializer(many=True, read_only=True)
    events = serializers.SerializerMethodField(help_text="The call's webhook events.")
    legs = LegSerializer(many=True, read_only=True, help_text="The transfers' new legs.")

    class Meta(CallSerializer.Meta):
        fields = [*CallSerializer.Meta.fields, "failure", "steps", "commands", "events", "legs"]
        read_only_fields = fields

    @extend_schema_field(EventSerializer(many=True))
    def get_events(self, call):
        return _events_of(call)


# --- the shape of ``stats`` (documentation: the view serves figures.dashboard() as it is) ----


def _number(**kwargs):
    return serializers.FloatField(allow_null=True, **kwargs)


def _counts(**kwargs):
    return serializers.DictField(child=serializers.IntegerField(), **kwargs)


class ByOutcomeSerializer(serializers.Serializer):
    completed = serializers.IntegerField()
    transferred = serializers.IntegerField()
    abandoned = serializers.IntegerField()
    failed = serializers.IntegerField()
    in_progress = serializers.IntegerField()


class CallCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_outcome = ByOutcomeSerializer()


class RatesSerializer(serializers.Serializer):
    """Shares of the ended calls (0 to 1); null when no call has ended."""

    containment = _number(help_text="completed / ended")
    abandonment = _number(help_text="abandoned / ended")
    transfer = _number(help_text="transferred / ended")


class SeriesSerializer(ByOutcomeSerializer):
    start = serializers.CharField(help_text="The bucket's start, in the site's time zone.")
    total = serializers.IntegerField()


class TransferSerializer(serializers.Serializer):
    to = serializers.CharField()
    calls = serializers.IntegerField()


class TimeInMenuSerializer(serializers.Serializer):
    p50 = _number()
    p90 = _number()
    p95 = _number()


class AIGatherSerializer(serializers.Serializer):
    menu = serializers.CharField()
    node = serializers.CharField()
    gathers = serializers.IntegerField()
    valid = serializers.IntegerField()
    invalid = serializers.IntegerField()
    valid_rate = _number()
    median_seconds = _number()
    fields_filled = _counts(help_text="How many gathers filled each field of the schema.")


class NodeSerializer(serializers.Serializer):
    key = serializers.CharField()
    kind = serializers.CharField()
    visits = serializers.IntegerField()
    calls = serializers.IntegerField(help_text="Distinct calls that visited.")
    exits = _counts(
        help_text=(
            "How the visits left the node: each digit string pressed, invalid, no_input, "
            "valid, hangup, error, completed, transferred, ended."
        )
    )
    mean_tries = _number()
    drop_off = _number(help_text="Hung up here / visits.")
    valid_routes = _counts(
        help_text=(
            "AI gathers with several valid routes: the valid answers by the route they took, "
            "keyed by the route's position in the node's routes (from 0)."
        )
    )


class LatencySerializer(serializers.Serializer):
    p50 = _number()
    p95 = _number()
    p99 = _number()


class QueueWaitSerializer(serializers.Serializer):
    p50 = _number()
    p95 = _number()


class EventCountsSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    processed = serializers.IntegerField()
    failed = serializers.IntegerField()
    pending = serializers.IntegerField()


class CommandErrorSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="HTTP status and Telnyx code, e.g. 422 90018.")
    commands = serializers.IntegerField()


class PipelineSerializer(serializers.Serializer):
    events = EventCountsSerializer()
    queue_wait_ms = QueueWaitSerializer()
    latency_ms = LatencySerializer()
    commands = serializers.IntegerField()
    command_failures = serializers.IntegerField()
    command_errors = CommandErrorSerializer(many=True)
    retries = serializers.IntegerField()


class PeriodSerializer(serializers.Serializer):
    since = serializers.CharField()
    until = serializers.CharField(help_text="Exclusive.")
    time_zone = serializers.CharField()
    bucket = serializers.CharField()


class NotSummedSerializer(serializers.Serializer):
    calls = serializers.IntegerField()
    events = serializers.IntegerField()
    commands = serializers.IntegerField()


class StatsSerializer(serializers.Serializer):
    period = PeriodSerializer()
    calls = CallCountsSerializer()
    rates = RatesSerializer()
    series = SeriesSerializer(many=True, help_text="Calls per bucket, by outcome.")
    transfers = TransferSerializer(many=True, help_text="Transferred calls by destination.")
    time_in_menu_seconds = TimeInMenuSerializer()
    ai_gathers = AIGatherSerializer(many=True)
    nodes = NodeSerializer(many=True, help_text="Per node of `menu`; empty without a menu.")
    latency_ms = LatencySerializer(
        help_text="Webhook to command: an event's arrival to the sending of its command."
    )
    pipeline = PipelineSerializer(help_text="Site-wide: the menu and number filters do not apply.")
    test_calls_hidden = serializers.IntegerField(
        help_text="Test calls left out, when they are all the period has."
    )
    not_summed = NotSummedSerializer(
        help_text="Rows of the period the figures leave out because the roll-up (Celery "
        "beat's roll_up_call_log) is behind or not running; all 0 normally."
    )
