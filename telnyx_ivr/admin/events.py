from django.contrib import admin

from ..models import WebhookEvent
from .records import ReadOnlyAdmin, pretty_json


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    """Read-only: events are evidence of what Telnyx sent, never edited by hand."""

    list_display = [
        "received_at",
        "event_type",
        "status",
        "attempt",
        "deliveries",
        "call_control_id",
    ]
    list_filter = ["event_type", "status", "received_at"]
    search_fields = ["=event_id", "call_control_id", "call_session_id"]
    date_hierarchy = "received_at"
    ordering = ["-received_at"]
    fields = [
        "event_id",
        "event_type",
        "status",
        "note",
        "error",
        "occurred_at",
        "received_at",
        "processed_at",
        "queue_wait_ms",
        "attempt",
        "deliveries",
        "call_control_id",
        "call_session_id",
        "call_leg_id",
        "client_state_pretty",
        "client_state_raw",
        "payload_pretty",
    ]
    readonly_fields = fields

    @admin.display(description="payload")
    def payload_pretty(self, obj):
        return pretty_json(obj.payload)

    @admin.display(description="client state (decoded)")
    def client_state_pretty(self, obj):
        return pretty_json(obj.client_state)
