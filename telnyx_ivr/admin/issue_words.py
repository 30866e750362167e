"""A menu's validation problems in the admin's words.

The validator names places as paths of the menu file (``node 'main', field 'routes[1].node'``),
which is right for a file and means nothing on the menu's page. Here they read as the page
shows them: "Option 2 of 'Main menu' (press 2), goes to: 'elsewhere' is not a node of this
menu". Options are counted from 1, in the order the node tries them.
"""

import re

from django.core.exceptions import FieldDoesNotExist

from ..menus.conditions import describe_conditions
from ..menus.kinds import KIND_NAMES, a_kind
from ..models import Node
from .form_fields import NODE_LABELS

ROUTE_PATH = re.compile(r"routes\[(\d+)\](?:\.(\w+))?")
CONDITION_PATH = re.compile(r"conditions\[(\d+)\](?:\.(\w+))?")
CONDITION_FIELDS = {"field": "what it checks", "op": "test", "value": "value"}
KIND_IN_TEXT = re.compile(r"\b([Aa]n?) (" + "|".join(KIND_NAMES) + r") node\b")
ROUTE_FIELDS = {
    "node": "goes to",
    "digits": "keys",
    "when": "when",
    "conditions": "conditions",
    "callable": "callable",
    "target": "where it goes",
}
MENU_FIELDS = {
    "menu.entry_node": "The menu's entry node",
    "menu.numbers": "The menu's phone numbers",
    "menu.connection_ids": "The menu's connection ids",
    "menu.is_default": "The menu's 'default menu' box",
    "menu.on_command_failure.prompt": "When Telnyx keeps refusing a command, the apology prompt",
    "menu.on_command_failure.text": "When Telnyx keeps refusing a command, the apology text",
    "menu.on_command_failure.to": "When Telnyx keeps refusing a command, transfer to",
}
WHEN_WORDS = {
    "invalid": "invalid key",
    "no_input": "no key pressed",
    "valid": "AI result valid",
    "open": "office open",
    "closed": "office closed",
    "holiday": "holiday",
    "match": "conditions hold",
}


def describe(issue, definition):
    """The whole problem as one line: where, then what."""
    return f"{where(issue, definition)}: {message(issue.message)}"


def where(issue, definition):
    node = (definition.get("nodes") or {}).get(issue.node) if issue.node else None
    if issue.node is None:
        if issue.field.startswith("ai_schemas."):
            return f"AI parameter schema '{issue.field.split('.')[1]}'"
        if issue.field.startswith("schedules."):
            return f"Schedule '{issue.field.split('.')[1]}'"
        return MENU_FIELDS.get(issue.field, f"The menu, {issue.field}")
    name = f"'{(node or {}).get('name') or issue.node}'"
    route = ROUTE_PATH.match(issue.field)
    rest = issue.field[route.end() :] if route is not None else ""
    condition = None
    if route is not None and rest:
        # routes[1].conditions[0].field: ROUTE_PATH stops at "conditions"
        if route[2] == "conditions":
            condition = CONDITION_PATH.fullmatch(f"conditions{rest}")
        if condition is None:
            route = None
    if route is None:
        if issue.field == "routes":
            return f"The options of {name}"
        return f"{name}, {field_label(issue.field)}"
    index, field = int(route[1]), route[2]
    routes = (node or {}).get("routes") or []
    summary = f" ({route_summary(routes[index])})" if index < len(routes) else ""
    place = f"Option {index + 1} of {name}{summary}"
    if condition is not None:
        number, part = int(condition[1]) + 1, condition[2]
        return f"{place}, condition {number}" + (
            f" ({CONDITION_FIELDS.get(part, part)})" if part else ""
        )
    return f"{place}, {ROUTE_FIELDS.get(field, field)}" if field else place


def route_summary(route):
    if route.get("when") == "digits":
        return f"press {route.get('digits')}"
    if route.get("when") == "match" and route.get("conditions"):
        return f"if {describe_conditions(route['conditions'])}"
    return WHEN_WORDS.get(route.get("when"), route.get("when") or "")


def field_label(name):
    """A node field as its box is labelled on the page."""
    if name in NODE_LABELS:
        return NODE_LABELS[name]
    try:
        return str(Node._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:  # a path that is not one of the node's own fields
        return name.replace("_", " ")


def message(text):
    """The validator's sentence with file paths and API kind names in the page's words."""
    text = ROUTE_PATH.sub(lambda m: f"option {int(m[1]) + 1}", text)
    return KIND_IN_TEXT.sub(lambda m: f"{a_kind(m[2], start=m[1][0] == 'A')} node", text)
