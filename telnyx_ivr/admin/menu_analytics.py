"""A menu's analytics page, linked from its change page: for one version (the live one unless
another is chosen), the funnel of every node, the keys pressed at each key menu, and the
menu's diagram with the traffic drawn on it. Every figure links to the calls behind it."""

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode

from ..analytics import figures as figures_module
from ..analytics import outcomes, traffic
from ..analytics.filters import FilterError, parse_filters
from ..menus.diagram import render_menu_diagram
from ..menus.kinds import DTMF_KINDS
from ..models import Dashboard, Menu
from . import charts, figure_tables
from . import figure_text as text
from .dashboard import (
    bad_filters_response,
    behind_message,
    csv_filename,
    csv_url,
    empty_message,
    rate_tiles,
)
from .filter_form import filter_fields, page_params, shown_period
from .links import call_list_url

HANG_UP_WORDS = {text.exit_label(outcomes.EXIT_HANGUP), text.exit_label(outcomes.EXIT_ERROR)}


def menu_analytics_urls(model_admin):
    """URL patterns of the page and its CSV downloads, for ``MenuAdmin.get_urls``."""
    views = MenuAnalyticsViews(model_admin)
    wrap = model_admin.admin_site.admin_view
    return [
        path(
            "<path:object_id>/analytics/csv/<slug:table>/",
            wrap(views.csv),
            name="telnyx_ivr_menu_analytics_csv",
        ),
        path("<path:object_id>/analytics/", wrap(views.page), name="telnyx_ivr_menu_analytics"),
    ]


class MenuAnalyticsViews:
    """Needs view permission on the menu and on the dashboard (the figures are the call
    log's)."""

    def __init__(self, model_admin):
        self.model_admin = model_admin

    def _menu(self, request, object_id):
        menu = self.model_admin.get_object(request, unquote(object_id))
        if menu is None:
            raise Http404(f"No menu with the id {object_id!r}.")
        dashboard = self.model_admin.admin_site._registry.get(Dashboard)
        allowed = self.model_admin.has_view_permission(request, menu) and (
            dashboard is None or dashboard.has_view_permission(request)
        )
        if not allowed:
            raise PermissionDenied
        return menu

    def page(self, request, object_id):
        menu = self._menu(request, object_id)
        page = MenuPage(request, menu)
        context = {
            **self.model_admin.admin_site.each_context(request),
            "opts": Menu._meta,
            "title": f"Analytics: {menu}",
            "menu": menu,
            "change_url": reverse("admin:telnyx_ivr_menu_change", args=[menu.pk]),
            **page.context(),
        }
        return TemplateResponse(
            request,
            "admin/telnyx_ivr/dashboard/menu.html",
            context,
            status=400 if page.errors else 200,
        )

    def csv(self, request, object_id, table):
        menu = self._menu(request, object_id)
        page = MenuPage(request, menu)
        if page.errors:
            return bad_filters_response(page.errors)
        found = {t.name: t for t in page.tables()}.get(table)
        if found is None:
            raise Http404(f"The menu's page has no table {table!r}.")
        return figure_tables.csv_response(found, csv_filename(f"{menu.slug}-{table}", page.filters))


class MenuPage:
    def __init__(self, request, menu):
        self.menu = menu
        self.params = request.GET
        params = {name: value for name, value in request.GET.items() if name != "menu"}
        self.errors, self.filters = {}, None
        try:
            self.filters = parse_filters({**params, "menu": menu.slug}, default_version=True)
        except FilterError as exc:
            self.errors = exc.errors
        self._figures = None

    @property
    def version(self):
        return self.filters.version

    @property
    def definition(self):
        return self.version.definition if self.version else {}

    @property
    def figures(self):
        if self._figures is None:
            self._figures = figures_module.menu_figures(self.filters)
        return self._figures

    def key_nodes(self):
        nodes = self.definition.get("nodes") or {}
        return [(key, node) for key, node in nodes.items() if node.get("kind") in DTMF_KINDS]

    def tables(self):
        figures, filters = self.figures, self.filters
        rows = {row["key"]: row for row in figures["nodes"]}
        tables = [figure_tables.funnel(figures, filters, self.definition)]
        tables += [
            figure_tables.key_presses(key, node, rows.get(key), filters)
            for key, node in self.key_nodes()
        ]
        for table in tables:
            table.csv_url = csv_url(
                "admin:telnyx_ivr_menu_analytics_csv", table.name, filters, self.menu.pk
            )
        return tables

    def context(self):
        context = {
            "filter_fields": filter_fields(self.params, self.filters, self.errors, menu=self.menu),
            "errors": self.errors,
            "reset_url": reverse("admin:telnyx_ivr_menu_analytics", args=[self.menu.pk]),
        }
        if self.errors:
            return context
        filters, figures = self.filters, self.figures
        context.update(
            {
                "filters": filters,
                "version": self.version,
                "period": text.period(*shown_period(filters, self.params), filters.tz),
                "time_zone": str(filters.tz),
                "tiles": rate_tiles(figures, filters),
                "dashboard_url": reverse("admin:telnyx_ivr_dashboard_changelist")
                + "?"
                + urlencode(page_params(filters, self.params)),
                "calls_url": call_list_url(filters),
            }
        )
        if self.version is None:
            context["unpublished"] = True
            return context
        context["behind"] = behind_message(figures)
        context["empty"] = empty_message(
            figures,
            filters,
            self.params,
            subject=f"version {self.version.number} of this menu",
            menu="",
        )
        tables = self.tables()
        context["funnel"] = tables[0]
        context["key_tables"] = [
            {"table": table, "chart": self.key_chart(table)} for table in tables[1:]
        ]
        context["funnel_chart"] = self.funnel_chart(tables[0])
        drawn = self.traffic()
        context["diagram"] = render_menu_diagram(self.definition, drawn)
        context["traffic"] = drawn
        nodes = self.definition.get("nodes") or {}
        if drawn.worst_node:
            worst = drawn.nodes[drawn.worst_node]
            context["worst"] = {
                "name": nodes[drawn.worst_node].get("name") or drawn.worst_node,
                "drop_off": text.percent(worst.drop_off),
                "hangups": text.count(worst.hangups),
                "url": worst.url,
            }
        context["busiest"] = [
            nodes[key].get("name") or key for key in _path_nodes(drawn.busiest_path, nodes)
        ]
        return context

    def traffic(self):
        definition, filters = self.definition, self.filters
        drawn = traffic.menu_traffic(definition, self.figures["nodes"])
        for key, node_traffic in drawn.nodes.items():
            if node_traffic.visits:
                node_traffic.label = text.plural(node_traffic.visits, "visit")
                if node_traffic.hangups:
                    node_traffic.label += f" · {text.percent(node_traffic.drop_off)} hung up"
                node_traffic.url = call_list_url(filters, node=key)
            else:
                node_traffic.label = "no visits"
        for (key, _), edge in drawn.edges.items():
            if edge.count:
                edge.label = text.percent(edge.share)
                exit = edge.exits[0] if len(edge.exits) == 1 else None
                edge.url = call_list_url(filters, node=key, exit=exit)
        return drawn

    def funnel_chart(self, table):
        rows = [row for row in table.rows if row[2].value]
        labels = [row[0].text for row in rows]
        moved, hung_up = [], []
        for row in rows:
            visits, hangups = row[2].value, row[6].value
            moved.append(
                charts.Point(
                    visits - hangups, row[2].url, f"{row[0].text}: {visits - hangups:,} went on"
                )
            )
            hung_up.append(
                charts.Point(hangups, row[6].url, f"{row[0].text}: {hangups:,} hung up here")
            )
        return charts.stacked_bars(
            "Visits per node",
            labels,
            [
                ("Went on", charts.BAR_COLOUR, moved),
                ("Hung up here", charts.OUTCOME_COLOURS[outcomes.ABANDONED], hung_up),
            ],
            horizontal=True,
            width=780,
            height=90 + 34 * max(len(rows), 1),
        )

    def key_chart(self, table):
        return charts.bars(
            table.title,
            [row[0].text for row in table.rows],
            [
                charts.Point(
                    row[1].value,
                    row[1].url,
                    f"{row[0].text}: {row[1].text} visits ({row[2].text})",
                    charts.OUTCOME_COLOURS[outcomes.ABANDONED]
                    if row[0].text in HANG_UP_WORDS
                    else "",
                )
                for row in table.rows
            ],
            width=460,
        )


def _path_nodes(path_edges, nodes):
    if not path_edges:
        return []
    keys = [path_edges[0][0]]
    for key, index in path_edges:
        keys.append((nodes[key].get("routes") or [])[index].get("node"))
    return keys
