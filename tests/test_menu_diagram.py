"""The server-drawn SVG diagram of both example menus."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.utils.html import escape

from telnyx_ivr.menus.diagram import render_menu_diagram

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
        assert node["name"] in "".join(boxes[key].itertext())

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
