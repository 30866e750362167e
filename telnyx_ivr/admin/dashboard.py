"""The Dashboard page of the admin: the call log's figures for a period, with charts, the same
figures as tables (each a CSV download), and links from every figure to the calls behind it.

It is the changelist of the ``Dashboard`` proxy model, so it is listed in the app's section
of the admin index and needs the admin's "Can view dashboard" permission."""

from datetime import timedelta

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.http import urlencode

from ..analytics import figures as figures_module
from ..analytics import outcomes
from ..analytics.filters import FilterError, parse_filters
from ..models import Dashboard, Menu
from . import charts, figure_tables
from . import figure_text as text
from .filter_form import filter_fields, page_params, shown_period
from .links import call_list_url


@admin.register(Dashboard)
class DashboardAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        # Only the page and its downloads: the proxy's rows are the call log's, shown there.
        wrap = self.admin_site.admin_view
        return [
            path("", wrap(self.changelist_view), name="telnyx_ivr_dashboard_changelist"),
            path("csv/<slug:table>/", wrap(self.csv_view), name="telnyx_ivr_dashboard_csv"),
        ]

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        page = DashboardPage(request)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Dashboard",
            **page.context(),
        }
        status = 400 if page.errors else 200
        return TemplateResponse(
            request, "admin/telnyx_ivr/dashboard/dashboard.html", context, status=status
        )

    def csv_view(self, request, table):
        if not self.has_view_permission(request):
            raise PermissionDenied
        page = DashboardPage(request)
        if page.errors:
            return bad_filters_response(page.errors)
        found = {t.name: t for t in page.tables()}.get(table)
        if found is None:
            raise Http404(f"The dashboard has no table {table!r}.")
        return figure_tables.csv_response(found, csv_filename(table, page.filters))


def bad_filters_response(errors):
    """A CSV link with bad filters: 400, naming each parameter and what is wrong with it."""
    lines = "".join(f"{name}: {message}\n" for name, message in errors.items())
    return HttpResponseBadRequest(
        f"This table cannot be downloaded with these filters:\n{lines}",
        content_type="text/plain; charset=utf-8",
    )


def csv_filename(table, filters):
    since = filters.since.astimezone(filters.tz).date().isoformat()
    until = (filters.until - timedelta(microseconds=1)).astimezone(filters.tz).date().isoformat()
    return f"{table}-{since}-to-{until}.csv"


def csv_url(view_name, table, filters, *args):
    return f"{reverse(view_name, args=[*args, table])}?{urlencode(filters.params())}"


def calls_export_url(filters):
    """The call list's CSV of the same calls ("" while the call list offers none)."""
    try:
        base = reverse("admin:telnyx_ivr_call_csv")
    except NoReverseMatch:
        return ""
    # The same query as the call list's, whose export it is.
    return f"{base}?{call_list_url(filters).split('?', 1)[1]}"


def empty_message(figures, filters, given, *, subject="", **link_changes):
    """What to say instead of charts when the period has no call to count; with test calls
    left out, how many, and a link that includes them. ``subject``: "version 3 of this menu"."""
    if figures["calls"]["total"]:
        return None
    sentence = text.no_calls_sentence(*shown_period(filters, given), filters.tz)
    if subject:
        sentence = sentence.replace("No calls", f"No calls to {subject}", 1)
    hidden = figures.get("test_calls_hidden", 0)
    if not hidden:
        return {"sentence": sentence}
    return {
        "sentence": sentence,
        "test_calls": hidden,
        "test_calls_text": (
            f"There {'is' if hidden == 1 else 'are'} {hidden:,} test "
            f"call{'' if hidden == 1 else 's'} in this period (placed with the call "
            "simulator), which the figures leave out unless you ask for them."
        ),
        "include_url": "?" + urlencode(page_params(filters, given, include_test=1, **link_changes)),
    }


def behind_message(figures):
    """What the figures leave out while the roll-up is behind, in words, or "" (normally)."""
    left_out = figures.get("not_summed") or {}
    parts = [
        f"{count:,} {what if count != 1 else what[:-1]}"
        for what, count in left_out.items()
        if count
    ]
    if not parts:
        return ""
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return (
        f"Not in these figures yet: {listed} of this period. The roll-up that sums the call "
        "log (the roll_up_call_log task, run every minute by Celery beat) is behind or not "
        "running; the figures catch up once it has run."
    )


def rate_tiles(figures, filters):
    """The headline numbers: calls, then the three rates, each linked to its calls."""
    rates = figures["rates"]
    return [
        {
            "label": "Calls",
            "value": text.count(figures["calls"]["total"]),
            "url": call_list_url(filters),
            "hint": "answered by a menu",
        },
        {
            "label": "Containment",
            "value": text.percent(rates["containment"]),
            "url": call_list_url(filters, outcome=outcomes.COMPLETED),
            "hint": "served without a person",
        },
        {
            "label": "Transfer rate",
            "value": text.percent(rates["transfer"]),
            "url": call_list_url(filters, outcome=outcomes.TRANSFERRED),
            "hint": "handed to a person or number",
        },
        {
            "label": "Abandonment",
            "value": text.percent(rates["abandonment"]),
            "url": call_list_url(filters, outcome=outcomes.ABANDONED),
            "hint": "caller hung up in the menu",
        },
    ]


class DashboardPage:
    """The dashboard for one request: its filters (or their errors), figures, charts, tables."""

    def __init__(self, request):
        self.params = request.GET
        self.errors = {}
        self.filters = None
        try:
            self.filters = parse_filters(request.GET)
        except FilterError as exc:
            self.errors = exc.errors
        self._figures = None

    @property
    def figures(self):
        if self._figures is None:
            self._figures = figures_module.dashboard(self.filters)
        return self._figures

    def tables(self):
        figures, filters = self.figures, self.filters
        menus = {m.slug: m for m in Menu.objects.filter(slug__in=_gather_menus(figures))}
        tables = [
            figure_tables.calls_over_time(figures, filters),
            figure_tables.outcome_breakdown(figures, filters),
            figure_tables.transfers(figures, filters),
            figure_tables.time_in_menu(figures, filters),
            figure_tables.ai_gathers(figures, filters, menus),
            figure_tables.pipeline(figures, filters),
            figure_tables.command_errors(figures),
        ]
        for table in tables:
            table.csv_url = csv_url("admin:telnyx_ivr_dashboard_csv", table.name, filters)
        return tables

    def context(self):
        context = {
            "filter_fields": filter_fields(self.params, self.filters, self.errors),
            "errors": self.errors,
            "reset_url": reverse("admin:telnyx_ivr_dashboard_changelist"),
        }
        if self.errors:
            return context
        figures, filters = self.figures, self.filters
        # Keyed for templates, which cannot read "calls-over-time".
        tables = {table.name.replace("-", "_"): table for table in self.tables()}
        context.update(
            {
                "filters": filters,
                "period": text.period(*shown_period(filters, self.params), filters.tz),
                "time_zone": str(filters.tz),
                "empty": empty_message(figures, filters, self.params),
                "behind": behind_message(figures),
                "tiles": rate_tiles(figures, filters),
                "tables": tables,
                "charts": self.charts(tables),
                "outcome_colours": [
                    (text.outcome_label(o), charts.OUTCOME_COLOURS[o]) for o in outcomes.OUTCOMES
                ],
                "calls_url": call_list_url(filters),
                "calls_csv_url": calls_export_url(filters),
                "menu_page_url": (
                    reverse("admin:telnyx_ivr_menu_analytics", args=[filters.menu.pk])
                    + "?"
                    + urlencode(page_params(filters, self.params, menu=""))
                    if filters.menu
                    else ""
                ),
                "show_pipeline": bool(
                    figures["calls"]["total"] or figures["pipeline"]["events"]["received"]
                ),
            }
        )
        return context

    def charts(self, tables):
        figures, filters = self.figures, self.filters
        over_time = tables["calls_over_time"]
        labels = [row[0].text for row in over_time.rows]
        series = []
        for index, outcome in enumerate(outcomes.OUTCOMES, start=1):
            name = text.outcome_label(outcome)
            points = [
                charts.Point(
                    row[index].value,
                    row[index].url,
                    f"{row[0].text}: {row[index].text} {name.lower()}",
                )
                for row in over_time.rows
            ]
            series.append((name, charts.OUTCOME_COLOURS[outcome], points))
        by_outcome = figures["calls"]["by_outcome"]
        result = {
            "calls_over_time": charts.stacked_bars("Calls over time, by outcome", labels, series),
            "outcomes": charts.bars(
                "How calls ended",
                [text.outcome_label(o) for o in outcomes.OUTCOMES],
                [
                    charts.Point(
                        by_outcome[o],
                        call_list_url(filters, outcome=o) if by_outcome[o] else "",
                        f"{text.outcome_label(o)}: {text.count(by_outcome[o])} calls",
                        charts.OUTCOME_COLOURS[o],
                    )
                    for o in outcomes.OUTCOMES
                ],
            ),
        }
        if figures["transfers"]:
            result["transfers"] = charts.bars(
                "Transfers by destination",
                [row["to"] for row in figures["transfers"]],
                [
                    charts.Point(
                        row["calls"],
                        call_list_url(filters, transferred_to=row["to"]),
                        f"{row['to']}: {text.count(row['calls'])} calls",
                    )
                    for row in figures["transfers"]
                ],
            )
        return result


def _gather_menus(figures):
    return {row["menu"] for row in figures["ai_gathers"]}
