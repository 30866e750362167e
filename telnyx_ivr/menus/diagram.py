"""A server-drawn SVG diagram of a menu definition: nodes in columns by distance from the
entry node, one arrow per route. No JavaScript and nothing loaded from elsewhere.

With ``traffic`` (telnyx_ivr.analytics.traffic.Traffic, its labels and links filled in by the
page) the same diagram carries the calls: each box its visits and drop-off, each arrow its
share of the node's visits as its width, the busiest path in blue and the node where the most
callers hang up in red; boxes and arrows link to the calls behind them."""

from collections import deque

from django.utils.html import escape
from django.utils.safestring import mark_safe

from .conditions import describe_conditions
from .kinds import KIND_NAMES

BOX_WIDTH = 200
BOX_HEIGHT = 56
TRAFFIC_BOX_HEIGHT = 84  # room for the visits line and its bar
COLUMN_GAP = 170
ROW_GAP = 44
MARGIN = 40
# A white halo keeps labels readable where they cross arrows.
LABEL_STYLE = 'stroke="#fff" stroke-width="3" paint-order="stroke" fill="#0f172a"'
EDGE_COLOUR = "#475569"
QUIET_COLOUR = "#cbd5e1"  # a route no call took
BUSY_COLOUR = "#417690"  # the busiest path: the admin's own blue
DROP_COLOUR = "#ba2121"  # where callers give up: the admin's error red
MAX_EDGE_WIDTH = 9
LABEL_LIMIT = 15  # characters of a route's label on an arrow with traffic
# A box is tall enough for its routes to leave it this far apart, so that the labels of
# arrows drawn side by side (repeat, back) do not sit on each other.
ROUTE_SPACING = 17
LINE_CHARS = 14  # a label's line on an arrow (it starts halfway between two columns); longer wrap
LABEL_LINES = 4
NAME_CHARS = 26  # a box's name on one line; longer names take two

KIND_COLOURS = {
    "speak_menu": "#dbeafe",
    "audio_menu": "#dbeafe",
    "gather": "#e0e7ff",
    "ai_gather": "#ede9fe",
    "ai_assistant": "#ede9fe",
    "announcement": "#fef9c3",
    "transfer": "#dcfce7",
    "hangup": "#fee2e2",
}


def render_menu_diagram(definition, traffic=None):
    """Return the SVG markup (safe to embed in HTML) drawing ``definition``'s nodes and routes,
    with ``traffic`` on them when it is given."""
    nodes = definition.get("nodes") or {}
    base = TRAFFIC_BOX_HEIGHT if traffic is not None else BOX_HEIGHT
    heights = {
        key: max(base, ROUTE_SPACING * (len(node.get("routes") or []) + 1))
        for key, node in nodes.items()
    }
    positions = _layout(definition, heights)
    width = max((x for x, _ in positions.values()), default=0) + BOX_WIDTH + 2 * MARGIN + 80
    # Room below the lowest box for arrows that loop back to an earlier column.
    bottom = max((y + heights[key] for key, (_, y) in positions.items()), default=0)
    height = bottom + 2 * MARGIN + 140
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="ivr-diagram" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Diagram of menu {escape(definition.get("menu", {}).get("name", ""))}">',
        "<defs>",
        _marker("ivr-arrow", EDGE_COLOUR, fixed=traffic is not None),
    ]
    if traffic is not None:
        parts += [
            _marker("ivr-arrow-busy", BUSY_COLOUR, fixed=True),
            _marker("ivr-arrow-quiet", QUIET_COLOUR, fixed=True),
        ]
    parts += [
        "</defs>",
        f'<g class="ivr-edges" fill="none" stroke="{EDGE_COLOUR}" stroke-width="1.4" '
        'font-family="sans-serif" font-size="11">',
    ]
    busiest = set(traffic.busiest_path) if traffic is not None else set()
    top = max((edge.count for edge in traffic.edges.values()), default=0) if traffic else 0
    for key, node in nodes.items():
        routes = node.get("routes") or []
        for index, route in enumerate(routes):
            flow = None
            if traffic is not None:
                flow = _Flow(traffic.edges.get((key, index)), (key, index) in busiest, top)
            siblings = _siblings(routes, index)
            parts.append(_edge(key, index, len(routes), route, positions, heights, flow, siblings))
    parts.append("</g>")
    entry = definition.get("menu", {}).get("entry_node")
    on_path = {key for key, _ in busiest} | {
        (nodes[key].get("routes") or [])[index].get("node") for key, index in busiest
    }
    most_visits = max((t.visits for t in traffic.nodes.values()), default=0) if traffic else 0
    for key, node in nodes.items():
        visit = None
        if traffic is not None:
            visit = _Visit(
                traffic.nodes.get(key), key in on_path, key == traffic.worst_node, most_visits
            )
        parts.append(
            _box(key, node, positions[key], heights[key], is_entry=key == entry, visit=visit)
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above went through escape()


class _Flow:
    """What an arrow draws of its traffic."""

    def __init__(self, edge, busy, top):
        self.edge, self.busy, self.top = edge, busy, top

    @property
    def count(self):
        return self.edge.count if self.edge is not None else 0

    def width(self):
        if not self.count or not self.top:
            return 1.2
        return 1.5 + (MAX_EDGE_WIDTH - 1.5) * self.count / self.top

    def colour(self):
        if self.busy:
            return BUSY_COLOUR
        return EDGE_COLOUR if self.count else QUIET_COLOUR


class _Visit:
    """What a box draws of its traffic."""

    def __init__(self, node, on_path, worst, most):
        self.node, self.on_path, self.worst, self.most = node, on_path, worst, most


def _marker(marker_id, colour, *, fixed=False):
    # With traffic, arrows of every width get heads of one size.
    size = (
        'markerWidth="12" markerHeight="12" markerUnits="userSpaceOnUse"'
        if fixed
        else ('markerWidth="7" markerHeight="7"')
    )
    return (
        f'<marker id="{marker_id}" viewBox="0 0 10 10" refX="10" refY="5" {size} '
        f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
    )


def _layout(definition, heights):
    """``{key: (x, y)}``: a column per distance from the entry node, boxes stacked in it,
    each as tall as ``heights`` says."""
    nodes = definition.get("nodes") or {}
    entry = definition.get("menu", {}).get("entry_node")
    column = {}  # insertion order = the order a caller meets the nodes
    queue = deque([entry] if entry in nodes else [])
    if queue:
        column[entry] = 0
    while queue:
        key = queue.popleft()
        for route in nodes[key].get("routes") or []:
            target = route.get("node")
            if route.get("target") == "node" and target in nodes and target not in column:
                column[target] = column[key] + 1
                queue.append(target)
    last = max(column.values(), default=-1) + 1
    for key in sorted(nodes):
        column.setdefault(key, last)
    tops = {}  # column -> where its next box goes
    positions = {}
    met = list(column)
    for key in sorted(nodes, key=lambda k: (column[k], met.index(k))):
        top = tops.get(column[key], MARGIN)
        tops[column[key]] = top + heights[key] + ROW_GAP
        positions[key] = (MARGIN + column[key] * (BOX_WIDTH + COLUMN_GAP), top)
    return positions


def _box(key, node, position, box_height=BOX_HEIGHT, *, is_entry, visit=None):
    x, y = position
    name = str(node.get("name") or key)
    lines = _wrap(name, NAME_CHARS, 2)
    fill = KIND_COLOURS.get(node.get("kind"), "#f1f5f9")
    stroke, stroke_width = "#1e293b", 3 if is_entry else 1.2
    extra, link = "", ""
    if visit is not None:
        traffic = visit.node
        if visit.worst:
            stroke, stroke_width = DROP_COLOUR, 3.5
        elif visit.on_path:
            stroke, stroke_width = BUSY_COLOUR, 3
        extra = _traffic_lines(x, y, box_height, visit)
        link = traffic.url if traffic is not None else ""
    box = (
        f"<title>{escape(name)} ({escape(key)}, {escape(_kind_name(node))})</title>"
        f'<rect x="{x}" y="{y}" width="{BOX_WIDTH}" height="{box_height}" rx="8" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="{stroke_width}"/>'
        f"{_name_text(x, y, lines)}"
        f'<text x="{x + 10}" y="{y + (42 if len(lines) == 1 else 48)}" font-size="11" '
        f'fill="#475569">{escape(_kind_name(node))} · {escape(key)}</text>{extra}'
    )
    if link:
        box = f'<a href="{escape(link)}">{box}</a>'
    worst = ' data-worst="true"' if visit is not None and visit.worst else ""
    busy = ' data-busiest="true"' if visit is not None and visit.on_path else ""
    return (
        f'<g class="ivr-node" data-key="{escape(key)}"{worst}{busy} '
        f'font-family="sans-serif">{box}</g>'
    )


def _name_text(x, y, lines):
    if len(lines) == 1:
        return (
            f'<text x="{x + 10}" y="{y + 22}" font-size="13" font-weight="bold">'
            f"{escape(lines[0])}</text>"
        )
    spans = "".join(
        f'<tspan x="{x + 10}" dy="{0 if i == 0 else 14}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return f'<text x="{x + 10}" y="{y + 17}" font-size="12" font-weight="bold">{spans}</text>'


def _wrap(text, width, most):
    """``text`` in lines of at most about ``width`` characters, broken at spaces, at most
    ``most`` lines (the last one cut with "…" when there is more)."""
    lines, line = [], ""
    for word in text.split(" "):
        while len(word) > width:  # a word longer than a line is cut into lines
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:width])
            word = word[width:]
        candidate = f"{line} {word}" if line else word
        if len(candidate) > width and line:
            lines.append(line)
            line = word
        else:
            line = candidate
    if line or not lines:
        lines.append(line)
    if len(lines) > most:
        last = lines[most - 1]
        lines = [*lines[: most - 1], (last if len(last) < width else last[: width - 1]) + "…"]
    return lines


def _traffic_lines(x, y, box_height, visit):
    traffic = visit.node
    visits = traffic.visits if traffic is not None else 0
    colour = DROP_COLOUR if visit.worst else "#0f172a"
    parts = [
        f'<text class="ivr-node-traffic" x="{x + 10}" y="{y + 62}" font-size="12" '
        f'fill="{colour}" font-weight="bold">{escape(traffic.label if traffic else "")}</text>'
    ]
    bar = (BOX_WIDTH - 20) * visits / visit.most if visit.most else 0
    parts.append(
        f'<rect x="{x + 10}" y="{y + box_height - 14}" width="{BOX_WIDTH - 20}" height="6" '
        'rx="3" fill="#fff" opacity="0.7"/>'
    )
    if bar:
        parts.append(
            f'<rect class="ivr-node-bar" x="{x + 10}" y="{y + box_height - 14}" '
            f'width="{bar:.1f}" height="6" rx="3" fill="{BUSY_COLOUR}"/>'
        )
    return "".join(parts)


def route_label(route):
    """Short text for a route's outcome, e.g. ``1``, ``invalid``, ``valid: city one of …``."""
    when = route.get("when")
    if when == "digits":
        label = f"“{route.get('digits', '')}”"
    elif when == "no_input":
        label = "no input"
    elif when == "match":
        label = "if"
    else:
        label = str(when)
    conditions = route.get("conditions") or []
    if conditions:
        label += (" " if when == "match" else ": ") + describe_conditions(conditions)
    target = route.get("target")
    if target == "repeat":
        label += " → repeat"
    elif target == "back":
        label += " → back"
    elif target == "callable":
        label += f" → {route.get('callable', '')}()"
    return label


def _siblings(routes, index):
    """``(rank, count)`` of route ``index`` among the routes to the same node, whose labels
    would otherwise be written on top of each other."""
    target = routes[index].get("node")
    if routes[index].get("target") != "node":
        return 0, 1
    same = [
        i for i, r in enumerate(routes) if r.get("target") == "node" and r.get("node") == target
    ]
    return same.index(index), len(same)


def _edge(key, index, count, route, positions, heights, flow=None, siblings=(0, 1)):
    sx, sy = positions[key]
    box_height = heights[key]
    # Spread a node's routes down its right edge so parallel arrows stay apart.
    start_y = sy + box_height * (index + 1) / (count + 1)
    start_x = sx + BOX_WIDTH
    target = route.get("node")
    attrs = (
        f'class="ivr-edge" data-from="{escape(key)}" data-route="{index}" '
        f'data-when="{escape(route.get("when", ""))}" '
        f'data-target="{escape(target if route.get("target") == "node" else route.get("target"))}"'
    )
    label = route_label(route)
    if route.get("target") == "node" and target in positions:
        tx, ty = positions[target]
        end_x, end_y = tx, ty + heights[target] / 2
        if tx > sx:
            bend = (end_x - start_x) / 2
            path = (
                f"M{start_x:.0f},{start_y:.0f} C{start_x + bend:.0f},{start_y:.0f} "
                f"{end_x - bend:.0f},{end_y:.0f} {end_x:.0f},{end_y:.0f}"
            )
            # Halfway along the curve; labels of arrows to the same node are spread along it.
            rank, same = siblings
            t = 0.5 + (rank - (same - 1) / 2) * 0.2
            label_x = _bezier(t, start_x, start_x + bend, end_x - bend, end_x)
            label_y = _bezier(t, start_y, start_y, end_y, end_y) - 3
        else:
            # Backwards or sideways: loop out to the right and come back in from the left.
            reach = 60 + 12 * index
            path = (
                f"M{start_x:.0f},{start_y:.0f} C{start_x + reach:.0f},{start_y:.0f} "
                f"{start_x + reach:.0f},{max(start_y, end_y) + box_height + reach:.0f} "
                f"{(start_x + end_x) / 2:.0f},{max(start_y, end_y) + box_height / 2 + reach:.0f} "
                f"S{end_x - reach:.0f},{end_y:.0f} {end_x:.0f},{end_y:.0f}"
            )
            label_x = (start_x + end_x) / 2
            label_y = max(start_y, end_y) + box_height / 2 + reach - 3
        return _edge_group(attrs, label, path, label_x, label_y, flow=flow)
    # repeat, back, callable, or a missing node: a short stub arrow with its label.
    end_x, end_y = start_x + 40, start_y
    path = f"M{start_x:.0f},{start_y:.0f} L{end_x:.0f},{end_y:.0f}"
    label_x, label_y = end_x + 4, end_y + 4
    return _edge_group(attrs, label, path, label_x, label_y, dashed=True, flow=flow)


def _bezier(t, p0, p1, p2, p3):
    u = 1 - t
    return u**3 * p0 + 3 * u**2 * t * p1 + 3 * u * t**2 * p2 + t**3 * p3


def _edge_group(attrs, label, path, label_x, label_y, *, dashed=False, flow=None):
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    stroke, marker, link, share = "", "ivr-arrow", "", ""
    if flow is not None:
        edge = flow.edge
        marker = "ivr-arrow-busy" if flow.busy else "ivr-arrow" if flow.count else "ivr-arrow-quiet"
        stroke = f' stroke="{flow.colour()}" stroke-width="{flow.width():.1f}"'
        if edge is not None and edge.label:
            share = edge.label
        link = edge.url if edge is not None else ""
        if flow.busy:
            attrs += ' data-busiest="true"'
    text = label + (f" · {share}" if share else "")
    shown = "".join(
        f'<tspan x="{label_x:.0f}" dy="{0 if i == 0 else 12}">{escape(line)}</tspan>'
        for i, line in enumerate(_wrap(label, LINE_CHARS, LABEL_LINES))
    )
    if flow is not None:
        # The share first, where the arrow leaves its node: long conditions would run under
        # the next box (the whole label is the arrow's title).
        short = label if len(label) <= LABEL_LIMIT else label[: LABEL_LIMIT - 1] + "…"
        shown = (
            f'<tspan class="ivr-edge-share" font-weight="bold">{escape(share)}</tspan> '
            if share
            else ""
        ) + escape(short)
    group = (
        f"<title>{escape(text)}</title>"
        f'<path d="{path}" marker-end="url(#{marker})"{dash}{stroke}/>'
        f'<text x="{label_x:.0f}" y="{label_y:.0f}" {LABEL_STYLE}>{shown}</text>'
    )
    if link:
        group = f'<a href="{escape(link)}">{group}</a>'
    return f"<g {attrs}>{group}</g>"


def _kind_name(node):
    kind = node.get("kind", "")
    return KIND_NAMES.get(kind, kind)
