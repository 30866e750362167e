from django.contrib import admin
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html

from ..calls.timeline import call_timeline, step_numbers
from ..models import Call, CallStep, Command
from .records import ReadOnlyAdmin, pretty_json


class CallStepInline(admin.TabularInline):
    model = CallStep
    fields = [
        "step_link",
        "node_key",
        "node_kind",
        "started_at",
        "ended_at",
        "outcome",
        "digits",
        "tries",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="step")
    def step_link(self, step):
        url = reverse("admin:telnyx_ivr_callstep_change", args=[step.pk])
        return format_html('<a href="{}">{}</a>', url, step.step)


def render_timeline(call, **window):
    entries = []
    for entry in call_timeline(call, **window):
        model = "webhookevent" if entry.kind == "event" else "command"
        url = reverse(f"admin:telnyx_ivr_{model}_change", args=[entry.obj.pk])
        entries.append({**entry.__dict__, "url": url})
    return render_to_string("admin/telnyx_ivr/timeline.html", {"entries": entries})


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "from_number",
        "to_number",
        "direction",
        "menu",
        "status",
        "current_node",
        "hangup_cause",
    ]
    list_filter = ["status", "direction", "menu", "created_at"]
    search_fields = ["=call_control_id", "call_session_id", "from_number", "to_number"]
    date_hierarchy = "created_at"
    list_select_related = ["menu"]
    inlines = [CallStepInline]
    fieldsets = [
        (None, {"fields": ["from_number", "to_number", "direction", "status", "current_node"]}),
        ("Menu", {"fields": ["menu", "menu_version"]}),
        (
            "Times",
            {"fields": ["started_at", "answered_at", "ended_at", "hangup_cause", "hangup_source"]},
        ),
        (
            "Telnyx ids",
            {"fields": ["call_control_id", "call_session_id", "call_leg_id", "connection_id"]},
        ),
        ("Gathered", {"fields": ["variables_pretty"]}),
        ("Timeline", {"fields": ["timeline"]}),
    ]
    readonly_fields = [
        "from_number", "to_number", "direction", "status", "current_node", "menu", "menu_version",
        "started_at", "answered_at", "ended_at", "hangup_cause", "hangup_source",
        "call_control_id", "call_session_id", "call_leg_id", "connection_id",
        "variables_pretty", "timeline",
    ]  # fmt: skip

    @admin.display(description="variables")
    def variables_pretty(self, call):
        return pretty_json(call.variables)

    @admin.display(description="events and commands")
    def timeline(self, call):
        return render_timeline(call)


@admin.register(CallStep)
class CallStepAdmin(ReadOnlyAdmin):
    list_display = [
        "call",
        "step",
        "node_key",
        "node_kind",
        "outcome",
        "digits",
        "tries",
        "started_at",
    ]
    list_filter = ["node_kind", "outcome"]
    search_fields = ["=call__call_control_id", "node_key"]
    list_select_related = ["call"]
    fields = [
        "call",
        "step",
        "node_key",
        "node_kind",
        "started_at",
        "ended_at",
        "outcome",
        "digits",
        "tries",
        "result_pretty",
        "timeline",
    ]
    readonly_fields = fields

    @admin.display(description="AI result")
    def result_pretty(self, step):
        return pretty_json(step.result)

    @admin.display(description="events and commands during this step")
    def timeline(self, step):
        return render_timeline(step.call, steps=step_numbers(step))


@admin.register(Command)
class CommandAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "call",
        "action",
        "status",
        "http_status",
        "error_code",
        "attempts",
        "latency_ms",
    ]
    list_filter = ["action", "status", "created_at"]
    search_fields = ["=command_id", "=call__call_control_id"]
    list_select_related = ["call"]
    fields = [
        "call", "event", "action", "status", "command_id", "http_status", "error_code", "error",
        "attempts", "latency_ms", "created_at", "sent_at", "body_pretty", "response_pretty",
    ]  # fmt: skip
    readonly_fields = fields

    @admin.display(description="body (secrets removed)")
    def body_pretty(self, command):
        return pretty_json(command.body)

    @admin.display(description="response")
    def response_pretty(self, command):
        return pretty_json(command.response)
