"""The server-drawn SVG diagram of both example menus."""

import json
import xml.etree.ElementTree as ET
from itertools import pairwise
from pathlib import Path

import pytest
from django.utils.html import escape

from telnyx_ivr.menus.diagram import render_menu_diagram
from telnyx_ivr.menus.kinds import KIND_NAMES

EXAMPLES = Path(__file__).resolve().parent.parent / "telnyx_ivr" / "examples"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize("name", ["classic_tree", "ai_intake"])
def test_diagram_draws_every_node_and_one_edge_per_route(name):
    definition = json.loads((EXAMPLES / f"{name}.json").read_text())
    svg = str(render_menu_diagram(definition))
    root = ET.fromstring(svg)  # noqa: S314 - our own output: well-formed, no script
    assert root.tag == f"{SVG}svg"
    assert "<script" not in svg
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")

    boxes = {g.get("data-key"): g for g in root.iter(f"{SVG}g") if g.get("class") == "ivr-node"}
    assert set(boxes) == set(definition["nodes"])
    for key, node in definition["nodes"].items():
        assert escape(node["name"]) in svg
        words = "".join(boxes[key].itertext())
        assert node["name"] in words
        assert f"{KIND_NAMES[node['kind']]} · {key}" in words  # the kind in words, not the API's

    edges = [g for g in root.iter(f"{SVG}g") if g.get("class") == "ivr-edge"]
    expected = {
        (key, str(index), route["when"], route.get("node") or route["target"])
        for key, node in definition["nodes"].items()
        for index, route in enumerate(node["routes"])
    }
    drawn = {
        (g.get("data-from"), g.get("data-route"), g.get("data-when"), g.get("data-target"))
        for g in edges
    }
    assert len(edges) == len(expected)
    assert drawn == expected


def test_diagram_escapes_names():
    definition = json.loads((EXAMPLES / "classic_tree.json").read_text())
    definition["nodes"]["goodbye"]["name"] = "<script>alert(1)</script> & bye"
    svg = str(render_menu_diagram(definition))
    assert "<script>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; bye" in svg
    ET.fromstring(svg)  # noqa: S314 - our own output


# --- with traffic ---------------------------------------------------------------------------


def _classic_traffic():
    from telnyx_ivr.analytics.traffic import menu_traffic

    definition = json.loads((EXAMPLES / "classic_tree.json").read_text())
    nodes = [
        {"key": "main", "visits": 10, "exits": {"1": 6, "2": 3, "hangup": 1}},
        {"key": "sales", "visits": 6, "exits": {"transferred": 6}},
        {"key": "support", "visits": 3, "exits": {"1": 1, "hangup": 2}},
        {"key": "billing", "visits": 1, "exits": {"transferred": 1}},
    ]
    traffic = menu_traffic(definition, nodes)
    for key, node in traffic.nodes.items():
        node.label = f"{node.visits} visits"
        node.url = f"/calls/?node={key}&x=<1>"
    for (key, index), edge in traffic.edges.items():
        edge.label = f"{round(100 * edge.share)} %" if edge.count else ""
        edge.url = f"/calls/?node={key}&route={index}" if edge.count else ""
    return definition, traffic


def test_traffic_is_drawn_on_the_same_diagram():
    definition, traffic = _classic_traffic()
    plain = ET.fromstring(str(render_menu_diagram(definition)))  # noqa: S314 - our own output
    svg = str(render_menu_diagram(definition, traffic))
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    assert "<script" not in svg
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")

    def nodes(tree):
        return {g.get("data-key"): g for g in tree.iter(f"{SVG}g") if g.get("class") == "ivr-node"}

    def edges(tree):
        return {
            (g.get("data-from"), g.get("data-route")): g
            for g in tree.iter(f"{SVG}g")
            if g.get("class") == "ivr-edge"
        }

    assert set(nodes(root)) == set(nodes(plain))  # the same boxes and arrows, plus traffic
    assert set(edges(root)) == set(edges(plain))
    boxes = nodes(root)
    assert "10 visits" in "".join(boxes["main"].itertext())
    assert "0 visits" in "".join(boxes["technical"].itertext())
    [link] = boxes["main"].iter(f"{SVG}a")
    assert link.get("href") == "/calls/?node=main&x=<1>"  # escaped in the markup, read back
    assert "&amp;x=&lt;1&gt;" in svg

    # Support loses 2 of its 3 visits: the worst drop-off, drawn in red.
    assert boxes["support"].get("data-worst") == "true"
    assert [k for k, g in boxes.items() if g.get("data-worst")] == ["support"]
    # The busiest path: main -> sales (6 of 10), and it stops at the transfer.
    drawn = edges(root)
    assert [k for k, g in drawn.items() if g.get("data-busiest")] == [("main", "0")]

    def width(key):
        return float(next(drawn[key].iter(f"{SVG}path")).get("stroke-width"))

    # Wider the more visits took it; a route no call took is thin and has no link.
    assert width(("main", "0")) > width(("main", "1")) > width(("main", "2"))
    assert not list(drawn[("main", "2")].iter(f"{SVG}a"))
    assert "60 %" in "".join(drawn[("main", "0")].itertext())


def _starts(root, key):
    """The y where each route of ``key`` leaves its box, by route index."""
    starts = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "ivr-edge" and g.get("data-from") == key:
            path = g.find(f"{SVG}path").get("d")
            starts[int(g.get("data-route"))] = float(path[1:].split(" ")[0].split(",")[1])
    return [starts[i] for i in sorted(starts)]


def test_labels_do_not_sit_on_each_other_and_long_ones_wrap():
    """Seen on the menu page: 'invalid' over 'no input', '9 → repeat' over '* → back', and
    long conditions and names cut off at the next box."""
    from telnyx_ivr.menus.diagram import LINE_CHARS, NAME_CHARS, ROUTE_SPACING

    definition = json.loads((EXAMPLES / "classic_tree.json").read_text())
    definition["nodes"]["sales"]["name"] = "Transfer to the sales team of the north office"
    root = ET.fromstring(str(render_menu_diagram(definition)))  # noqa: S314

    for key in ("main", "support"):  # seven routes each
        starts = _starts(root, key)
        gaps = [b - a for a, b in pairwise(starts)]
        assert min(gaps) >= ROUTE_SPACING - 0.5, (key, starts)
    boxes = {g.get("data-key"): g for g in root.iter(f"{SVG}g") if g.get("class") == "ivr-node"}
    name = boxes["sales"].find(f"{SVG}text")
    lines = [span.text for span in name.iter(f"{SVG}tspan")]
    assert len(lines) == 2, lines
    assert all(len(line) <= NAME_CHARS for line in lines), lines
    assert lines[-1].endswith("…") or " ".join(lines) == definition["nodes"]["sales"]["name"]

    intake = json.loads((EXAMPLES / "ai_intake.json").read_text())
    root = ET.fromstring(str(render_menu_diagram(intake)))  # noqa: S314
    [local] = [
        g for g in root.iter(f"{SVG}g")
        if g.get("class") == "ivr-edge" and g.get("data-from") == "intake"
        and g.get("data-route") == "0"
    ]  # fmt: skip
    lines = [span.text for span in local.iter(f"{SVG}tspan")]
    assert len(lines) > 1, lines  # "valid: city in ['Chicago', 'New York']" wraps
    assert all(len(line) <= LINE_CHARS for line in lines), lines
    assert " ".join(lines).replace("  ", " ") == local.find(f"{SVG}title").text


def test_office_hours_and_check_routes_are_labelled_in_words():
    definition = json.loads((EXAMPLES / "classic_tree.json").read_text())
    root = ET.fromstring(str(render_menu_diagram(definition)))  # noqa: S314 - our own output
    labels = {
        # a long label wraps: one tspan per line
        (g.get("data-from"), g.get("data-when")): " ".join(
            " ".join(t.itertext()) for t in g.iter(f"{SVG}text")
        )
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "ivr-edge"
    }
    assert labels["office_hours", "open"] == "open"
    assert labels["office_hours", "holiday"] == "holiday"
    assert " ".join(labels["which_operator", "match"].split()) == (
        "if caller's number starts with +44"
    )
