from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG, PAGE_VAR
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html

from ..analytics import outcomes
from ..api.renderers import calls_csv
from ..calls.timeline import call_timeline, step_numbers
from ..models import Call, CallStep, Command
from . import display, drill_down
from .call_filters import (
    STATUS_WORDS,
    DrillDownFilter,
    MenuFilter,
    OutcomeFilter,
    ShowFilter,
    StatusFilter,
    TestCallsFilter,
    drill_down_of,
)
from .display import local_time_seconds
from .paginators import EstimatedCountPaginator
from .records import ReadOnlyAdmin, pretty_json


def call_link(call, text=None):
    url = reverse("admin:telnyx_ivr_call_change", args=[call.pk])
    return format_html('<a href="{}">{}</a>', url, text or call_words(call))


def call_words(call):
    return (
        f"{call.from_number or 'unknown number'} → {call.to_number or 'unknown number'}"
        f", {local_time_seconds(call.started_at) or 'not started'}"
    )


def exit_words(exit):
    return outcomes.exit_label(exit) if exit else ""


def step_took(step):
    if step.ended_at is None:
        return "still there"
    return display.duration((step.ended_at - step.started_at).total_seconds())


def render_timeline(call, **window):
    entries = []
    for entry in call_timeline(call, **window):
        model = "webhookevent" if entry.kind == "event" else "command"
        url = reverse(f"admin:telnyx_ivr_{model}_change", args=[entry.obj.pk])
        entries.append({**entry.__dict__, "url": url})
    return render_to_string("admin/telnyx_ivr/timeline.html", {"entries": entries})


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    """The call log: the calls the dashboards count, each with its outcome, and the calls
    behind any figure (telnyx_ivr.admin.links: the same query parameters)."""

    change_list_template = "admin/telnyx_ivr/call/change_list.html"
    # What a call did first, so it shows without scrolling on a laptop; the menu (a long
    # name, and a filter of its own) last.
    list_display = [
        "started",
        "from_number",
        "to_number",
        "outcome_shown",
        "outcome_node",
        "transferred_to",
        "duration",
        "time_in_menu",
        "test_call",
        "menu",
    ]
    list_filter = [
        DrillDownFilter,
        ShowFilter,
        OutcomeFilter,
        TestCallsFilter,
        MenuFilter,
        StatusFilter,
        # Not a date hierarchy: its list of months reads every call (0.7 s for a million).
        ("started_at", admin.DateFieldListFilter),
    ]
    search_fields = ["=call_control_id", "call_session_id", "from_number", "to_number"]
    paginator = EstimatedCountPaginator
    list_select_related = ["menu"]
    # Counting every row a second time for "(N total)" is the slowest query of a long log.
    show_full_result_count = False
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "from_number",
                    "to_number",
                    "outcome_shown",
                    "who_ended",
                    "transferred",
                    "at_node",
                    "failure_shown",
                    "test_call_shown",
                    "part_of",
                ]
            },
        ),
        ("Menu", {"fields": ["menu", "menu_version"]}),
        ("Times", {"fields": ["started", "answered", "ended", "duration", "time_in_menu"]}),
        ("Transfer legs", {"fields": ["legs_table"]}),
        ("What the caller gave", {"fields": ["variables_pretty"]}),
        ("Visits to nodes", {"fields": ["steps_table"]}),
        ("Timeline", {"fields": ["timeline"]}),
        (
            "Telnyx details",
            {
                "classes": ["collapse"],
                "description": "What Telnyx reported, as it reported it.",
                "fields": [
                    "direction",
                    "engine_status",
                    "current_node",
                    "hangup_cause",
                    "hangup_source",
                    "call_control_id",
                    "call_session_id",
                    "call_leg_id",
                    "connection_id",
                ],
            },
        ),
    ]
    readonly_fields = [name for _, section in fieldsets for name in section["fields"]]

    def get_fieldsets(self, request, obj=None):
        """Sections and fields that would only say "none" are left out."""
        if obj is None:
            return self.fieldsets
        unused = set()
        if not obj.legs.exists():
            unused.add("legs_table")
        if not obj.steps.exists():
            unused.add("steps_table")
        if obj.parent_id is None:
            unused.add("part_of")
        if not obj.transferred_to:
            unused.add("transferred")
        if not obj.failure:
            unused.add("failure_shown")
        if not obj.is_test:
            unused.add("test_call_shown")
        if not obj.outcome:
            unused |= {"who_ended", "at_node", "time_in_menu"}
        sections = []
        for name, options in self.fieldsets:
            fields = [field for field in options["fields"] if field not in unused]
            if fields:
                sections.append((name, {**options, "fields": fields}))
        return sections

    # --- the list ---------------------------------------------------------------------------

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        changelist.drill_down = drill_down_of(request)
        return changelist

    def changelist_view(self, request, extra_context=None):
        drill = drill_down_of(request)
        params = {
            name: value
            for name, value in request.GET.items()
            if name not in (PAGE_VAR, ERROR_FLAG, "_facets")
        }
        context = {
            "drill_down_words": drill_down.describe(drill),
            "drill_down_errors": drill_down.error_lines(drill),
            "clear_url": reverse("admin:telnyx_ivr_call_changelist"),
            "csv_url": f"{reverse('admin:telnyx_ivr_call_csv')}?{urlencode(params)}",
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=context)

    def get_urls(self):
        csv_view = self.admin_site.admin_view(self.csv_view)
        return [path("csv/", csv_view, name="telnyx_ivr_call_csv"), *super().get_urls()]

    def csv_view(self, request):
        """The call list as it is filtered, searched and sorted, as a streamed CSV."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        drill = drill_down_of(request)
        if drill.errors:
            return cannot_export("; ".join(drill_down.error_lines(drill)))
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return cannot_export("the call list does not take one of these parameters")
        response = StreamingHttpResponse(
            calls_csv(for_export(changelist.queryset)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="calls.csv"'
        return response

    @admin.display(description="started", ordering="started_at")
    def started(self, call):
        return local_time_seconds(call.started_at) or "not started"

    @admin.display(description="duration")
    def duration(self, call):
        if call.duration_seconds is not None:
            return display.duration(call.duration_seconds)
        if call.outcome == Call.Outcome.IN_PROGRESS:
            return "still going on"
        return "not recorded"  # a leg or a call no menu answered: its end is not followed

    @admin.display(description="time in menu", ordering="menu_seconds", empty_value="")
    def time_in_menu(self, call):
        if call.menu_seconds is None:
            return "not answered" if call.outcome and call.answered_at is None else ""
        return display.duration(call.menu_seconds)

    @admin.display(description="outcome", ordering="outcome")
    def outcome_shown(self, call):
        if call.outcome:
            return call.get_outcome_display()
        if call.parent_id:
            return "Transfer leg"
        return "Not counted: no menu answered it"

    @admin.display(description="test call", empty_value="")
    def test_call(self, call):
        return "test call" if call.is_test else ""

    # --- a call's page --------------------------------------------------------------------

    @admin.display(description="test call")
    def test_call_shown(self, call):
        return "yes: placed by the call simulator, left out of the dashboards unless asked"

    @admin.display(description="ended by")
    def who_ended(self, call):
        if call.ended_by == Call.EndedBy.TRANSFER:
            return f"the transfer: the call went on with {call.transferred_to or 'another number'}"
        return call.get_ended_by_display() or "not ended yet"

    @admin.display(description="transferred to")
    def transferred(self, call):
        when = local_time_seconds(call.transferred_at)
        return f"{call.transferred_to}, at {when}" if when else call.transferred_to

    @admin.display(description="at node")
    def at_node(self, call):
        return call.outcome_node or "not at a node"

    @admin.display(description="error that ended it")
    def failure_shown(self, call):
        return call.failure

    @admin.display(description="part of call")
    def part_of(self, call):
        return call_link(call.parent)

    @admin.display(description="answered")
    def answered(self, call):
        return local_time_seconds(call.answered_at) or "not answered"

    @admin.display(description="ended")
    def ended(self, call):
        return local_time_seconds(call.ended_at) or "not ended yet"

    @admin.display(description="legs")
    def legs_table(self, call):
        legs = call.legs.order_by("pk")
        return render_to_string(
            "admin/telnyx_ivr/call/legs.html",
            {
                "legs": [
                    {
                        "link": call_link(leg, leg.to_number or "unknown number"),
                        "started": local_time_seconds(leg.started_at) or "not recorded",
                    }
                    for leg in legs
                ]
            },
        )

    @admin.display(description="visits")
    def steps_table(self, call):
        return render_to_string(
            "admin/telnyx_ivr/call/steps.html",
            {
                "steps": [
                    {
                        "link": format_html(
                            '<a href="{}">{}</a>',
                            reverse("admin:telnyx_ivr_callstep_change", args=[step.pk]),
                            step.step,
                        ),
                        "node": step.node_key,
                        "kind": step.node_kind,
                        "started": local_time_seconds(step.started_at),
                        "took": step_took(step),
                        "left_by": exit_words(step.exit) or "not left yet",
                        "tries": step.tries,
                    }
                    for step in call.steps.order_by("step")
                ]
            },
        )

    @admin.display(description="engine status")
    def engine_status(self, call):
        return STATUS_WORDS.get(call.status, call.get_status_display())

    @admin.display(description="variables")
    def variables_pretty(self, call):
        return pretty_json(call.variables)

    @admin.display(description="events and commands")
    def timeline(self, call):
        return render_timeline(call)


def for_export(calls):
    """``calls`` with what a row needs: the menu's slug and the version's number, not the
    version's whole definition (parsed for each row, it took twenty times the memory)."""
    return calls.select_related("menu", "menu_version").defer(
        "state", "failure", "menu_version__definition"
    )


def cannot_export(message):
    return HttpResponseBadRequest(
        f"These calls cannot be exported: {message}\n", content_type="text/plain; charset=utf-8"
    )


@admin.register(CallStep)
class CallStepAdmin(ReadOnlyAdmin):
    list_display = ["call", "step", "node_key", "node_kind", "left_by", "tries", "started"]
    list_filter = ["node_kind", "exit"]
    search_fields = ["=call__call_control_id", "node_key"]
    list_select_related = ["call"]
    fields = [
        "call_shown",
        "step",
        "node_key",
        "node_kind",
        "started",
        "ended",
        "left_by",
        "outcome",
        "digits",
        "tries",
        "result_pretty",
        "timeline",
    ]
    readonly_fields = fields

    @admin.display(description="call")
    def call_shown(self, step):
        return call_link(step.call)

    @admin.display(description="started", ordering="started_at")
    def started(self, step):
        return local_time_seconds(step.started_at)

    @admin.display(description="ended")
    def ended(self, step):
        return local_time_seconds(step.ended_at) or "not left yet"

    @admin.display(description="left by", ordering="exit")
    def left_by(self, step):
        return exit_words(step.exit) or "not left yet"

    @admin.display(description="AI result")
    def result_pretty(self, step):
        return pretty_json(step.result)

    @admin.display(description="events and commands during this step")
    def timeline(self, step):
        return render_timeline(step.call, steps=step_numbers(step))


@admin.register(Command)
class CommandAdmin(ReadOnlyAdmin):
    list_display = [
        "created",
        "call",
        "action",
        "status",
        "http_status",
        "error_code",
        "attempts",
        "latency",
    ]
    list_filter = ["action", "status", "created_at"]
    search_fields = ["=command_id", "=call__call_control_id"]
    list_select_related = ["call"]
    fields = [
        "call_shown", "event", "action", "status", "command_id", "http_status", "error_code",
        "error", "attempts", "latency", "created", "sent", "body_pretty", "response_pretty",
    ]  # fmt: skip
    readonly_fields = fields

    @admin.display(description="call")
    def call_shown(self, command):
        return call_link(command.call)

    @admin.display(description="created", ordering="created_at")
    def created(self, command):
        return local_time_seconds(command.created_at)

    @admin.display(description="sent")
    def sent(self, command):
        return local_time_seconds(command.sent_at) or "not sent"

    @admin.display(description="latency", ordering="latency_ms", empty_value="")
    def latency(self, command):
        return display.milliseconds(command.latency_ms)

    @admin.display(description="body (secrets removed)")
    def body_pretty(self, command):
        return pretty_json(command.body)

    @admin.display(description="response")
    def response_pretty(self, command):
        return pretty_json(command.response)
