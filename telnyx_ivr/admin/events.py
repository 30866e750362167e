from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from ..models import Call, WebhookEvent
from ..reprocessing import queue_again
from .display import local_time_seconds, milliseconds
from .records import ReadOnlyAdmin, pretty_json


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    """Read-only: events are evidence of what Telnyx sent, never edited by hand. The one
    action, "Process again", hands failed events back to the workers."""

    actions = ["process_again"]

    list_display = [
        "received",
        "event_type",
        "status",
        "attempt",
        "deliveries",
        "call_control_id",
    ]
    list_filter = ["event_type", "status", "received_at"]
    search_fields = ["=event_id", "event_type", "call_control_id", "call_session_id"]
    date_hierarchy = "received_at"
    ordering = ["-received_at"]
    fields = [
        "event_id",
        "event_type",
        "call_link",
        "status",
        "note",
        "error",
        "occurred",
        "received",
        "processed",
        "queue_wait",
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

    def has_reprocess_permission(self, request):
        # Django's "change" permission on events, which the admin itself never grants.
        return request.user.has_perm("telnyx_ivr.change_webhookevent")

    @admin.action(description="Process again", permissions=["reprocess"])
    def process_again(self, request, queryset):
        # Queued, not processed in the request: a page must not wait on the engine or Telnyx.
        done = queue_again(queryset)
        if done.queued:
            self.message_user(
                request,
                f"{_events(done.queued)} set back to pending and queued: a worker processes "
                f"{'it' if len(done.queued) == 1 else 'them'} within seconds. Reload this page "
                "to see how it went.",
                messages.SUCCESS,
            )
        if done.waiting:
            self.message_user(
                request,
                f"{_events(done.waiting)} still waiting to be processed: queued again.",
                messages.INFO,
            )
        if done.processed:
            self.message_user(
                request,
                f"{_events(done.processed)} already processed: left as {_them(done.processed)}. "
                "To process one again anyway: manage.py ivr_reprocess --event "
                f"{done.processed[0].pk} --force (docs/operations.md).",
                messages.WARNING,
            )

    @admin.display(description="received", ordering="received_at")
    def received(self, event):
        return local_time_seconds(event.received_at)

    @admin.display(description="occurred (Telnyx's clock)")
    def occurred(self, event):
        return local_time_seconds(event.occurred_at) or "not given"

    @admin.display(description="processed")
    def processed(self, event):
        return local_time_seconds(event.processed_at) or "not yet"

    @admin.display(description="queue wait")
    def queue_wait(self, event):
        return milliseconds(event.queue_wait_ms) or "not processed yet"

    @admin.display(description="call")
    def call_link(self, event):
        call = (
            Call.objects.filter(call_control_id=event.call_control_id).first()
            if event.call_control_id
            else None
        )
        if call is None:
            return "no call recorded for this event"
        url = reverse("admin:telnyx_ivr_call_change", args=[call.pk])
        return format_html(
            '<a href="{}">{} → {}</a> ({})',
            url,
            call.from_number or "unknown number",
            call.to_number or "unknown number",
            local_time_seconds(call.started_at) or "not started",
        )

    @admin.display(description="payload")
    def payload_pretty(self, obj):
        return pretty_json(obj.payload)

    @admin.display(description="client state (decoded)")
    def client_state_pretty(self, obj):
        return pretty_json(obj.client_state)


def _events(events):
    return f"{len(events)} event{'' if len(events) == 1 else 's'}"


def _them(events):
    return "it was" if len(events) == 1 else "they were"
