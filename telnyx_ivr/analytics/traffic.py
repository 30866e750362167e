"""Which route of a menu version each visit left by: the traffic drawn on the menu's diagram.

The figures count how visits left each node (its *exits*: ``1``, ``invalid``, ``valid``, ...);
here each exit is put on the route the engine followed for it, with the engine's own route
choice (telnyx_ivr.engine.routing), so an edge's count is the visits that took it. An AI
gather with several ``valid`` routes (told apart by conditions on the result) is split by the
route each answer took, which is counted when the visits are summed (``valid_routes``), while
the results are still there to match.
"""

from collections import Counter
from dataclasses import dataclass, field

from ..engine.routing import find_route, option_index, route_or_default, schedule_route
from ..menus.kinds import DTMF_KINDS
from . import outcomes

_NAMED_EXITS = {
    outcomes.EXIT_INVALID,
    outcomes.EXIT_NO_INPUT,
    outcomes.EXIT_VALID,
    outcomes.EXIT_HANGUP,
    outcomes.EXIT_ERROR,
    outcomes.EXIT_COMPLETED,
    outcomes.EXIT_TRANSFERRED,
    outcomes.EXIT_ENDED,
}


@dataclass
class NodeTraffic:
    visits: int = 0
    hangups: int = 0
    drop_off: float | None = None
    label: str = ""  # what the diagram writes in the box, worded by the page
    url: str = ""  # the calls that visited the node


@dataclass
class EdgeTraffic:
    count: int = 0
    share: float | None = None  # of the node's visits
    exits: list = field(default_factory=list)  # the exits that took this route
    label: str = ""
    url: str = ""


@dataclass
class Traffic:
    """Visits per node and visits per route (``(node key, route index)``) of one version."""

    nodes: dict = field(default_factory=dict)
    edges: dict = field(default_factory=dict)
    busiest_path: list = field(default_factory=list)  # edges from the entry, busiest first
    worst_node: str | None = None  # the highest drop-off (hung up here / visits)
    unsplit: int = 0  # valid AI answers summed without their route (see menu_traffic)


def route_of_exit(node, exit, *, result=None):
    """The index of the route ``node`` followed for a visit that left by ``exit`` (None for
    hang-ups, errors, terminal nodes, and ``valid`` with no result to match)."""
    kind = node.get("kind")
    if exit in (outcomes.EXIT_HANGUP, outcomes.EXIT_TRANSFERRED, outcomes.EXIT_ENDED):
        return None
    route = None
    if kind in DTMF_KINDS:
        if exit in (outcomes.EXIT_INVALID, outcomes.EXIT_NO_INPUT):
            route = route_or_default(node, exit)
        elif exit not in _NAMED_EXITS or exit == outcomes.EXIT_VALID:
            digits = "" if exit == outcomes.EXIT_VALID else exit
            route = find_route(node, "digits", digits=digits) or find_route(node, "default")
    elif kind == "ai_gather":
        if exit == outcomes.EXIT_INVALID:
            route = route_or_default(node, "invalid")
        elif exit == outcomes.EXIT_VALID and result is not None:
            route = route_or_default(node, "valid", result=result)
    elif kind == "schedule":
        if exit in ("open", "closed", "holiday"):
            route = schedule_route(node, exit)
    elif kind == "condition":
        index = option_index(exit)
        routes = node.get("routes") or []
        if index is not None and index < len(routes):
            route = routes[index]
        elif exit == "default":
            route = find_route(node, "default")
    elif kind == "announcement":
        if exit == outcomes.EXIT_COMPLETED:
            route = find_route(node, "default")
        elif exit == outcomes.EXIT_ERROR:
            route = route_or_default(node, "error")
    elif exit == outcomes.EXIT_COMPLETED:
        route = find_route(node, "default")
    if route is None:
        return None
    return next(i for i, r in enumerate(node.get("routes") or []) if r is route)


def needs_results(node):
    """Whether ``valid`` exits of ``node`` must be split by their results (two or more
    ``valid`` routes)."""
    if node.get("kind") != "ai_gather":
        return False
    return sum(1 for r in node.get("routes") or [] if r.get("when") == "valid") > 1


def menu_traffic(definition, node_figures):
    """``Traffic`` of a version's ``definition`` from the figures' ``nodes`` rows. The valid
    answers of a node ``needs_results`` names are put on routes by the row's
    ``valid_routes``; any not in it (an answer whose result matched no route, or summed
    before routes were counted) are ``unsplit``."""
    nodes = definition.get("nodes") or {}
    figures = {row["key"]: row for row in node_figures}
    traffic = Traffic()
    for key, node in nodes.items():
        row = figures.get(key, {})
        visits = row.get("visits", 0)
        exits = row.get("exits", {})
        hangups = exits.get(outcomes.EXIT_HANGUP, 0)
        traffic.nodes[key] = NodeTraffic(
            visits=visits, hangups=hangups, drop_off=hangups / visits if visits else None
        )
        counts, taken = Counter(), {}
        for exit, n in exits.items():
            if exit == outcomes.EXIT_VALID and needs_results(node):
                continue
            index = route_of_exit(node, exit)
            if index is not None:
                counts[index] += n
                taken.setdefault(index, []).append(exit)
        if needs_results(node) and exits.get(outcomes.EXIT_VALID):
            matched = 0
            for index, n in (row.get("valid_routes") or {}).items():
                index = int(index)
                if index >= len(node.get("routes") or []):
                    continue
                matched += n
                counts[index] += n
                if outcomes.EXIT_VALID not in taken.setdefault(index, []):
                    taken[index].append(outcomes.EXIT_VALID)
            traffic.unsplit += max(exits[outcomes.EXIT_VALID] - matched, 0)
        for index, _ in enumerate(node.get("routes") or []):
            n = counts.get(index, 0)
            traffic.edges[(key, index)] = EdgeTraffic(
                count=n, share=n / visits if visits else None, exits=taken.get(index, [])
            )
    traffic.busiest_path = _busiest_path(definition, traffic)
    dropping = [(t.drop_off, t.hangups, key) for key, t in traffic.nodes.items() if t.hangups]
    traffic.worst_node = max(dropping)[2] if dropping else None
    return traffic


def _busiest_path(definition, traffic):
    """From the entry node, the busiest route out of each node to a node not met yet."""
    nodes = definition.get("nodes") or {}
    key = definition.get("menu", {}).get("entry_node")
    path, seen = [], {key}
    while key in nodes:
        candidates = [
            (traffic.edges[(key, index)].count, -index, index, route.get("node"))
            for index, route in enumerate(nodes[key].get("routes") or [])
            if route.get("target") == "node" and route.get("node") in nodes
        ]
        candidates = [c for c in candidates if c[0] > 0 and c[3] not in seen]
        if not candidates:
            break
        _, _, index, target = max(candidates)
        path.append((key, index))
        seen.add(target)
        key = target
    return path
