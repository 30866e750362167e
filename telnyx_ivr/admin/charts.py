"""The dashboards' charts: pygal SVG drawn on the server and put into the page as it is.

Every bar links (``xlink``) to the calls behind it. Nothing reaches the browser that loads or
runs anything: pygal's tooltip script from its CDN is switched off (``js=[]``), and its inline
config script and its comments (which name its web site) are taken out of the tree before it is
written. Colours and fonts are the admin's own CSS variables, so the charts follow its theme,
dark mode included.
"""

import math
from dataclasses import dataclass

import pygal
from django.utils.safestring import mark_safe
from pygal.etree import etree
from pygal.style import Style

# Outcome colours, the same in every chart and in the page's legend (dashboard.css).
OUTCOME_COLOURS = {
    "completed": "#2e7d32",
    "transferred": "#417690",
    "abandoned": "#e08a00",
    "failed": "#ba2121",
    "in_progress": "#9e9e9e",
}
BAR_COLOUR = "#417690"
FONT = 'var(--font-family-primary, "Segoe UI", system-ui, Roboto, Arial, sans-serif)'

STYLE = dict(
    background="transparent",
    plot_background="transparent",
    foreground="var(--body-fg, #333)",
    foreground_strong="var(--body-fg, #333)",
    foreground_subtle="var(--hairline-color, #ccc)",
    guide_stroke_color="var(--hairline-color, #ccc)",
    major_guide_stroke_color="var(--hairline-color, #ccc)",
    guide_stroke_dasharray="2,3",
    major_guide_stroke_dasharray="2,3",
    font_family=FONT,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    value_font_size=12,
    no_data_font_size=16,
    opacity="0.9",
    opacity_hover="1",
    transition="0ms",
    colors=(BAR_COLOUR,),
)


@dataclass(frozen=True)
class Point:
    """One bar: its value, where it leads, and what hovering it says."""

    value: int
    url: str = ""
    tooltip: str = ""
    colour: str = ""


def stacked_bars(title, labels, series, *, width=1100, height=320, horizontal=False):
    """One stack of bars per label (over time, or per node when ``horizontal``).
    ``series``: ``[(name, colour, [Point])]``."""
    chart = _chart(
        pygal.HorizontalStackedBar if horizontal else pygal.StackedBar,
        title,
        width=width,
        height=height,
        colours=[colour for _, colour, _ in series],
        show_legend=True,
        legend_at_bottom=True,
        legend_at_bottom_columns=len(series),
        x_label_rotation=0 if horizontal or len(labels) <= 10 else 30,
    )
    if horizontal:  # pygal draws them from the bottom up: reversed, they read top-down
        labels = labels[::-1]
        series = [(name, colour, points[::-1]) for name, colour, points in series]
    chart.x_labels = labels
    if len(labels) > 14:
        chart.x_labels_major_every = math.ceil(len(labels) / 12)
        chart.show_minor_x_labels = False
    totals = [sum(points[i].value for _, _, points in series) for i in range(len(labels))]
    chart.y_labels = _ticks(max(totals, default=0))
    for name, _, points in series:
        chart.add(name, [_value(point) for point in points])
    return _render(chart, title)


def bars(title, labels, points, *, width=540, height=None):
    """One horizontal bar per label, each in its own colour when it has one."""
    height = height or 70 + 34 * max(len(points), 1)
    chart = _chart(
        pygal.HorizontalBar,
        title,
        width=width,
        height=height,
        colours=[BAR_COLOUR],
        show_legend=False,
    )
    # pygal stacks horizontal bars from the bottom up: reversed, they read top-down.
    chart.x_labels = labels[::-1]
    chart.y_labels = _ticks(max((point.value for point in points), default=0))
    chart.add(title, [_value(point) for point in points[::-1]])
    return _render(chart, title)


def _chart(kind, title, *, width, height, colours, **config):
    style = Style(**{**STYLE, "colors": tuple(colours)})
    return kind(
        style=style,
        width=width,
        height=height,
        js=[],  # pygal's tooltips come from its CDN: none here
        disable_xml_declaration=True,
        show_y_guides=True,
        show_x_guides=False,
        margin=8,
        spacing=12,
        print_values=False,
        no_data_text="No calls",
        truncate_label=-1,
        truncate_legend=-1,
        classes=["pygal-chart", "ivr-chart-svg"],
        **config,
    )


def _value(point):
    value = {"value": point.value}
    if point.url:
        value["xlink"] = {"href": point.url}  # the same tab: it is a page of the admin
    if point.tooltip:
        value["tooltip"] = point.tooltip
    if point.colour:
        value["color"] = point.colour
    return value


def _ticks(top):
    """Whole-number guide lines (calls are counted, never halved): about five of them."""
    if top <= 0:
        return [0, 1]
    step = max(1, math.ceil(top / 5))
    magnitude = 10 ** (len(str(step)) - 1)
    step = next(nice * magnitude for nice in (1, 2, 5, 10) if nice * magnitude >= step)
    return list(range(0, top + step, step))


def _render(chart, title):
    def clean(root):
        # No script reaches the page (pygal's config), and no comment naming pygal's site.
        for parent in root.iter():
            for child in list(parent):
                if child.tag is etree.Comment or str(child.tag).rsplit("}", 1)[-1] == "script":
                    parent.remove(child)
        root.set("role", "img")
        root.set("aria-label", title)
        for child in root:
            if str(child.tag).rsplit("}", 1)[-1] == "title":
                child.text = title
        return root

    chart.add_xml_filter(clean)
    return mark_safe(chart.render(is_unicode=True))  # noqa: S308 - pygal escapes what it writes
