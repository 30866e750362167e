"""The call list's filters. Each takes a query parameter of the figures' links
(telnyx_ivr.admin.links), so the sidebar and a figure's link are one and the same filter."""

from django.contrib import admin

from ..models import Call, Menu
from . import drill_down

# The drill-down parameters the sidebar's filters take; the rest are DrillDownFilter's.
SIDEBAR_PARAMS = ("show", "outcome", "include_test", "menu")
DRILL_DOWN_ONLY = tuple(name for name in drill_down.DRILL_DOWN_PARAMS if name not in SIDEBAR_PARAMS)


def drill_down_of(request):
    """The request's DrillDown, read once (the filters are built again for each facet)."""
    if not hasattr(request, "_telnyx_ivr_drill_down"):
        request._telnyx_ivr_drill_down = drill_down.read(request.GET)
    return request._telnyx_ivr_drill_down


class DrillDownFilter(admin.ListFilter):
    """The period, menu version, numbers, destination and node exit of a figure's link. Not
    drawn in the sidebar: the list's top says what it filters, in words, with a link to clear
    it (templates/admin/telnyx_ivr/call/change_list.html). It also turns any bad parameter,
    the sidebar's included, into no calls and a message."""

    title = "figure"
    template = "admin/telnyx_ivr/call/no_sidebar_entry.html"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.drill = drill_down_of(request)
        for name in DRILL_DOWN_ONLY:
            params.pop(name, None)

    def has_output(self):
        return bool(self.drill.given)  # otherwise there is nothing to apply

    def queryset(self, request, queryset):
        return drill_down.apply(queryset, self.drill)

    def expected_parameters(self):
        return list(DRILL_DOWN_ONLY)

    def choices(self, changelist):
        return []


class RenamedAllFilter(admin.SimpleListFilter):
    """A SimpleListFilter whose "All" choice has a name of its own."""

    all_label = "All"

    def choices(self, changelist):
        for index, choice in enumerate(super().choices(changelist)):
            yield {**choice, "display": self.all_label} if index == 0 else choice


class ShowFilter(RenamedAllFilter):
    title = "type"
    parameter_name = "show"
    all_label = "Calls (as the dashboards count them)"

    def lookups(self, request, model_admin):
        return list(drill_down.SHOW.items())

    def queryset(self, request, queryset):
        return drill_down.shown(queryset, self.value() or "")


class OutcomeFilter(admin.SimpleListFilter):
    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return Call.Outcome.choices

    def queryset(self, request, queryset):
        if self.value() in Call.Outcome.values:
            return queryset.filter(outcome=self.value())
        return queryset  # a bad value: DrillDownFilter shows the message and no calls


class MenuFilter(admin.SimpleListFilter):
    """By slug, as the figures' ``menu`` parameter."""

    title = "menu"
    parameter_name = "menu"

    def lookups(self, request, model_admin):
        return list(Menu.objects.order_by("name").values_list("slug", "name"))

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(menu__slug=self.value())
        return queryset


class TestCallsFilter(admin.SimpleListFilter):
    """Test calls are shown unless ``include_test=0``: the log hides nothing unasked."""

    title = "test calls"
    parameter_name = "include_test"

    def lookups(self, request, model_admin):
        return [("0", "Hidden")]

    def queryset(self, request, queryset):
        if drill_down.keeps_test_calls(self.value()):
            return queryset
        return queryset.filter(is_test=False)

    def choices(self, changelist):
        shown = drill_down.keeps_test_calls(self.value())
        yield {
            "selected": shown,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Shown, marked “test call”",
        }
        yield {
            "selected": not shown,
            "query_string": changelist.get_query_string({self.parameter_name: "0"}),
            "display": "Hidden",
        }


class StatusFilter(admin.SimpleListFilter):
    """The engine's own status, secondary to the outcome; "Not ours" said as what it means."""

    title = "engine status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [(value, STATUS_WORDS.get(value, label)) for value, label in Call.Status.choices]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(status=self.value())
        return queryset


STATUS_WORDS = {Call.Status.UNMANAGED: "Not run by a menu"}
