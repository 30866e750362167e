"""A server-drawn SVG diagram of a menu definition: nodes in columns by distance from the
entry node, one arrow per route. No JavaScript and nothing loaded from elsewhere."""

from collections import deque

from django.utils.html import escape
from django.utils.safestring import mark_safe

BOX_WIDTH = 200
BOX_HEIGHT = 56
COLUMN_GAP = 170
ROW_GAP = 44
MARGIN = 40
# A white halo keeps labels readable where they cross arrows.
LABEL_STYLE = 'stroke="#fff" stroke-width="3" paint-order="stroke" fill="#0f172a"'

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


def render_menu_diagram(definition):
    """Return the SVG markup (safe to embed in HTML) drawing ``definition``'s nodes and routes."""
    nodes = definition.get("nodes") or {}
    positions = _layout(definition)
    width = max((x for x, _ in positions.values()), default=0) + BOX_WIDTH + 2 * MARGIN + 80
    # Room below the lowest box for arrows that loop back to an earlier column.
    height = max((y for _, y in positions.values()), default=0) + BOX_HEIGHT + 2 * MARGIN + 140
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="ivr-diagram" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Diagram of menu {escape(definition.get("menu", {}).get("name", ""))}">',
        "<defs>"
        '<marker id="ivr-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#475569"/></marker></defs>',
        '<g class="ivr-edges" fill="none" stroke="#475569" stroke-width="1.4" '
        'font-family="sans-serif" font-size="11">',
    ]
    for key, node in nodes.items():
        routes = node.get("routes") or []
        for index, route in enumerate(routes):
            parts.append(_edge(key, index, len(routes), route, positions))
    parts.append("</g>")
    entry = definition.get("menu", {}).get("entry_node")
    for key, node in nodes.items():
        parts.append(_box(key, node, positions[key], is_entry=key == entry))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above went through escape()


def _layout(definition):
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
    rows = {}
    positions = {}
    met = list(column)
    for key in sorted(nodes, key=lambda k: (column[k], met.index(k))):
        row = rows.get(column[key], 0)
        rows[column[key]] = row + 1
        positions[key] = (
            MARGIN + column[key] * (BOX_WIDTH + COLUMN_GAP),
            MARGIN + row * (BOX_HEIGHT + ROW_GAP),
        )
    return positions


def _box(key, node, position, *, is_entry):
    x, y = position
    name = str(node.get("name") or key)
    shown = name if len(name) <= 28 else name[:27] + "…"
    fill = KIND_COLOURS.get(node.get("kind"), "#f1f5f9")
    stroke = ' stroke-width="3"' if is_entry else ' stroke-width="1.2"'
    return (
        f'<g class="ivr-node" data-key="{escape(key)}" font-family="sans-serif">'
        f"<title>{escape(name)} ({escape(key)}, {escape(node.get('kind', ''))})</title>"
        f'<rect x="{x}" y="{y}" width="{BOX_WIDTH}" height="{BOX_HEIGHT}" rx="8" '
        f'fill="{fill}" stroke="#1e293b"{stroke}/>'
        f'<text x="{x + 10}" y="{y + 22}" font-size="13" font-weight="bold">{escape(shown)}</text>'
        f'<text x="{x + 10}" y="{y + 42}" font-size="11" fill="#475569">'
        f"{escape(node.get('kind', ''))} · {escape(key)}</text></g>"
    )


def route_label(route):
    """Short text for a route's outcome, e.g. ``1``, ``invalid``, ``valid: city one of …``."""
    when = route.get("when")
    if when == "digits":
        label = f"“{route.get('digits', '')}”"
    elif when == "no_input":
        label = "no input"
    else:
        label = str(when)
    conditions = route.get("conditions") or []
    if conditions:
        label += ": " + ", ".join(
            f"{c.get('field')} {'=' if c.get('op') == 'equals' else 'in'} {c.get('value')}"
            for c in conditions
        )
    target = route.get("target")
    if target == "repeat":
        label += " → repeat"
    elif target == "back":
        label += " → back"
    elif target == "callable":
        label += f" → {route.get('callable', '')}()"
    return label


def _edge(key, index, count, route, positions):
    sx, sy = positions[key]
    # Spread a node's routes down its right edge so parallel arrows stay apart.
    start_y = sy + BOX_HEIGHT * (index + 1) / (count + 1)
    start_x = sx + BOX_WIDTH
    target = route.get("node")
    attrs = (
        f'class="ivr-edge" data-from="{escape(key)}" data-route="{index}" '
        f'data-when="{escape(route.get("when", ""))}" '
        f'data-target="{escape(target if route.get("target") == "node" else route.get("target"))}"'
    )
    label = escape(route_label(route))
    if route.get("target") == "node" and target in positions:
        tx, ty = positions[target]
        end_x, end_y = tx, ty + BOX_HEIGHT / 2
        if tx > sx:
            bend = (end_x - start_x) / 2
            path = (
                f"M{start_x:.0f},{start_y:.0f} C{start_x + bend:.0f},{start_y:.0f} "
                f"{end_x - bend:.0f},{end_y:.0f} {end_x:.0f},{end_y:.0f}"
            )
            label_x = (start_x + 3 * (start_x + bend) + 3 * (end_x - bend) + end_x) / 8
            label_y = (start_y + 3 * start_y + 3 * end_y + end_y) / 8 - 3
        else:
            # Backwards or sideways: loop out to the right and come back in from the left.
            reach = 60 + 12 * index
            path = (
                f"M{start_x:.0f},{start_y:.0f} C{start_x + reach:.0f},{start_y:.0f} "
                f"{start_x + reach:.0f},{max(start_y, end_y) + BOX_HEIGHT + reach:.0f} "
                f"{(start_x + end_x) / 2:.0f},{max(start_y, end_y) + BOX_HEIGHT / 2 + reach:.0f} "
                f"S{end_x - reach:.0f},{end_y:.0f} {end_x:.0f},{end_y:.0f}"
            )
            label_x = (start_x + end_x) / 2
            label_y = max(start_y, end_y) + BOX_HEIGHT / 2 + reach - 3
    else:
        # repeat, back, callable, or a missing node: a short stub arrow with its label.
        end_x, end_y = start_x + 40, start_y
        path = f"M{start_x:.0f},{start_y:.0f} L{end_x:.0f},{end_y:.0f}"
        label_x, label_y = end_x + 4, end_y + 4
        return _edge_group(attrs, label, path, label_x, label_y, dashed=True)
    return _edge_group(attrs, label, path, label_x, label_y)


def _edge_group(attrs, label, path, label_x, label_y, *, dashed=False):
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    return (
        f"<g {attrs}><title>{label}</title>"
        f'<path d="{path}" marker-end="url(#ivr-arrow)"{dash}/>'
        f'<text x="{label_x:.0f}" y="{label_y:.0f}" {LABEL_STYLE}>{label}</text>'
        "</g>"
    )
