import json

from django.contrib import admin
from django.utils.html import format_html

from ..models import WebhookEvent


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description="payload")
    def payload_pretty(self, obj):
        return _pretty_json(obj.payload)

    @admin.display(description="client state (decoded)")
    def client_state_pretty(self, obj):
        return _pretty_json(obj.client_state)


def _pretty_json(value):
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return format_html('<pre class="telnyx-ivr-json">{}</pre>', text)
