"""Checks of a menu definition (pure) and of a menu's rows (plus database-wide rules).

Every issue names the node (or None for menu-level problems) and the field, e.g.
``node 'main', field 'routes[2].digits': '7' is not in valid digits '0123'``.
"""

from collections import deque
from dataclasses import dataclass

from django.template import TemplateSyntaxError

from ..engine.schedule import ScheduleError, parse_schedule
from .kinds import (
    BUILTIN_VARIABLES,
    DTMF_KINDS,
    FIELDLESS_OPS,
    NON_STOPPING_KINDS,
    PROMPT_KIND,
    PROMPT_REQUIRED,
    ROUTE_WHENS,
    SAVING_KINDS,
    TERMINAL_KINDS,
)
from .schema import ai_schema_errors, schema_errors
from .variables import template_variables


@dataclass(frozen=True)
class ValidationIssue:
    """One problem: ``node`` is a node key (None for the menu itself), ``field`` a path."""

    node: str | None
    field: str
    message: str

    def __str__(self):
        if self.node is None:
            return f"field '{self.field}': {self.message}"
        return f"node '{self.node}', field '{self.field}': {self.message}"


class MenuValidationError(Exception):
    """Raised when an operation needs a valid menu; ``issues`` says what is wrong."""

    def __init__(self, issues):
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


def validate_definition(definition):
    """Return every problem of a definition document (an empty list when it is valid).

    The document is first checked against the shipped JSON Schema; only a document of the
    right shape gets the semantic checks (references, routes, reachability, loops, variables).
    """
    structural = [_schema_issue(error) for error in schema_errors(definition)]
    if structural:
        return structural
    return semantic_issues(definition)


def semantic_issues(definition):
    """The problems of a definition already known to match the JSON Schema."""
    return _DefinitionChecker(definition).run()


def _schema_issue(error):
    parts = list(error.absolute_path)
    if len(parts) >= 2 and parts[0] == "nodes":
        return ValidationIssue(str(parts[1]), format_path(parts[2:]) or "(node)", error.message)
    return ValidationIssue(None, format_path(parts) or "(document)", error.message)


def format_path(parts):
    """``['routes', 2, 'digits']`` -> ``'routes[2].digits'``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class _DefinitionChecker:
    def __init__(self, definition):
        self.menu = definition["menu"]
        self.prompts = definition["prompts"]
        self.schemas = definition["ai_schemas"]
        self.nodes = definition["nodes"]
        self.schedules = definition.get("schedules") or {}
        self.issues = []
        self.variables = set(BUILTIN_VARIABLES)
        for node in self.nodes.values():
            if node["save_as"]:
                self.variables.add(node["save_as"])
                if node["kind"] == "ai_gather":
                    self.variables.add(f"{node['save_as']}_messages")

    def add(self, node, field, message):
        self.issues.append(ValidationIssue(node, field, message))

    def run(self):
        self.check_entry_node()
        self.check_command_failure()
        self.check_prompts()
        self.check_ai_schemas()
        self.check_schedules()
        for key, node in self.nodes.items():
            self.check_node(key, node)
        self.check_reachable()
        self.check_loops_without_input()
        return self.issues

    # --- menu-level ------------------------------------------------------------------------

    def check_entry_node(self):
        entry = self.menu["entry_node"]
        if not entry:
            self.add(None, "menu.entry_node", "the menu has no entry node")
        elif entry not in self.nodes:
            self.add(None, "menu.entry_node", f"'{entry}' is not a node of this menu")

    def check_command_failure(self):
        plan = self.menu.get("on_command_failure")
        if plan is None:
            return
        where = "menu.on_command_failure"
        prompt_key, text = plan["prompt"], plan["text"]
        if prompt_key is not None and text is not None:
            self.add(None, f"{where}.text", "the apology is a prompt or a text, not both")
        if prompt_key is not None:
            prompt = self.prompts.get(prompt_key)
            if prompt is None:
                self.add(
                    None,
                    f"{where}.prompt",
                    f"the apology '{prompt_key}' is not a prompt of this menu",
                )
            elif prompt["kind"] == "tts":
                self.check_template(
                    None, f"{where}.prompt", prompt["text"], f"prompt '{prompt_key}'"
                )
        if text is not None:
            self.check_template(None, f"{where}.text", text, "the apology")
        if plan["then"] == "transfer" and not plan["to"]:
            self.add(
                None,
                f"{where}.to",
                "then is 'transfer' but no number or SIP address says where to transfer to",
            )
        elif plan["then"] == "hangup" and plan["to"]:
            self.add(
                None,
                f"{where}.to",
                "only a transfer has a destination: with 'hangup' leave it null",
            )

    def check_prompts(self):
        for key, prompt in self.prompts.items():
            if prompt["kind"] == "audio" and bool(prompt["audio_url"]) == bool(
                prompt["media_name"]
            ):
                self.add(
                    None,
                    f"prompts.{key}.audio_url",
                    "an audio prompt needs exactly one of audio_url and media_name",
                )

    def check_ai_schemas(self):
        for key, schema in self.schemas.items():
            for problem in ai_schema_errors(schema["schema"]):
                self.add(None, f"ai_schemas.{key}.schema", f"not a valid JSON Schema: {problem}")

    def check_schedules(self):
        for key, schedule in self.schedules.items():
            try:
                parse_schedule(schedule)
            except ScheduleError as exc:
                self.add(None, f"schedules.{key}", str(exc))

    # --- one node --------------------------------------------------------------------------

    def check_node(self, key, node):
        kind = node["kind"]
        if node["save_as"]:
            if kind not in SAVING_KINDS:
                self.add(key, "save_as", f"a {kind} node gathers nothing to save")
            elif node["save_as"] in BUILTIN_VARIABLES:
                self.add(key, "save_as", f"'{node['save_as']}' is a built-in variable")
        for field in ("prompt", "invalid_prompt", "no_input_prompt"):
            if field in node:
                self.check_prompt_reference(key, node, field)
        for field in ("greeting", "gather_ended_speech"):
            if node.get(field):
                self.check_template(key, field, node[field], "it")
        if kind == "ai_gather":
            if not node["ai_schema"]:
                self.add(key, "ai_schema", "an AI gather needs a parameter schema")
            elif node["ai_schema"] not in self.schemas:
                self.add(key, "ai_schema", f"'{node['ai_schema']}' is not a schema of this menu")
        if kind == "schedule":
            if not node["schedule"]:
                self.add(key, "schedule", "an office-hours check needs a schedule")
            elif node["schedule"] not in self.schedules:
                self.add(
                    key,
                    "schedule",
                    f"'{node['schedule']}' is not one of the schedules in the menu's 'schedules'",
                )
        if kind in DTMF_KINDS:
            digits = node["digits"]
            if digits["minimum_digits"] > digits["maximum_digits"]:
                self.add(
                    key,
                    "digits.minimum_digits",
                    f"minimum_digits {digits['minimum_digits']} is more than "
                    f"maximum_digits {digits['maximum_digits']}",
                )
        self.check_routes(key, node)

    def check_prompt_reference(self, key, node, field):
        prompt_key = node[field]
        kind = node["kind"]
        if prompt_key is None:
            if field == "prompt" and kind in PROMPT_REQUIRED:
                self.add(key, field, f"a {kind} node needs a prompt")
            return
        prompt = self.prompts.get(prompt_key)
        if prompt is None:
            self.add(key, field, f"'{prompt_key}' is not a prompt of this menu")
            return
        wanted = PROMPT_KIND.get(kind) if field == "prompt" else None
        if wanted and prompt["kind"] != wanted:
            self.add(
                key,
                field,
                f"a {kind} node needs a {wanted} prompt; '{prompt_key}' is {prompt['kind']}",
            )
        if prompt["kind"] == "tts":
            self.check_template(key, field, prompt["text"], f"prompt '{prompt_key}'")

    def check_template(self, key, field, text, what):
        try:
            used = template_variables(text)
        except TemplateSyntaxError as exc:
            self.add(key, field, f"{what} is not a valid template: {exc}")
            return
        for name in sorted(used - self.variables):
            self.add(key, field, f"{what} uses unknown variable '{name}'")

    def check_routes(self, key, node):
        kind = node["kind"]
        routes = node["routes"]
        allowed = ROUTE_WHENS[kind]
        if kind in TERMINAL_KINDS:
            if routes:
                self.add(key, "routes", f"a {kind} node ends the menu and takes no routes")
            return
        whens = {route["when"] for route in routes}
        if kind == "schedule":
            for status in ("open", "closed"):
                if status not in whens and "default" not in whens:
                    self.add(
                        key,
                        "routes",
                        f"nowhere to go when the office is {status}: add a route for "
                        f"'{status}', or a default route",
                    )
        elif "default" not in whens:
            self.add(key, "routes", "no default route: add one with when 'default'")
        if kind == "condition" and "match" not in whens:
            self.add(key, "routes", "a check needs at least one 'match' route with its conditions")
        taken_digits = {}
        for index, route in enumerate(routes):
            where = f"routes[{index}]"
            when = route["when"]
            if when not in allowed:
                self.add(
                    key,
                    f"{where}.when",
                    f"a {kind} node has no '{when}' outcome (it has {', '.join(allowed)})",
                )
            self.check_route_digits(key, node, route, where, taken_digits, index)
            self.check_route_conditions(key, node, route, where)
            self.check_route_target(key, route, where)

    def check_route_digits(self, key, node, route, where, taken, index):
        if route["when"] != "digits":
            if "digits" in route:
                self.add(key, f"{where}.digits", "only a 'digits' route has digits")
            return
        digits = route.get("digits")
        if not digits:
            self.add(key, f"{where}.digits", "a 'digits' route needs the digits it matches")
            return
        rules = node.get("digits")
        if rules is None:
            return
        outside = sorted(set(digits) - set(rules["valid_digits"]), key=digits.index)
        if outside:
            self.add(
                key,
                f"{where}.digits",
                f"'{''.join(outside)}' of '{digits}' is not in valid digits "
                f"'{rules['valid_digits']}'",
            )
        if rules["terminating_digit"] in digits:
            self.add(
                key,
                f"{where}.digits",
                f"'{digits}' contains the terminating digit '{rules['terminating_digit']}', "
                "which ends input instead of being gathered",
            )
        if not rules["minimum_digits"] <= len(digits) <= rules["maximum_digits"]:
            self.add(
                key,
                f"{where}.digits",
                f"'{digits}' has {len(digits)} digit(s); this node accepts "
                f"{rules['minimum_digits']} to {rules['maximum_digits']}",
            )
        if digits in taken:
            self.add(
                key,
                f"{where}.digits",
                f"'{digits}' is already routed by routes[{taken[digits]}]; this route is "
                "never taken",
            )
        taken.setdefault(digits, index)

    def check_route_conditions(self, key, node, route, where):
        when = route["when"]
        if "conditions" not in route:
            if when == "match":
                self.add(key, f"{where}.conditions", "a 'match' route needs its conditions")
            return
        if when not in ("valid", "match"):
            self.add(
                key,
                f"{where}.conditions",
                "only a 'valid' route (an AI answer) or a 'match' route (a check) has conditions",
            )
            return
        for index, condition in enumerate(route["conditions"]):
            at = f"{where}.conditions[{index}]"
            if condition["op"] in FIELDLESS_OPS:
                if when != "match":
                    self.add(key, f"{at}.op", "'called_within_days' is for checks only")
                continue
            first = condition["field"].split(".")[0]
            if when == "match":
                if first not in self.variables:
                    self.add(
                        key,
                        f"{at}.field",
                        f"'{first}' is not a variable of this menu "
                        f"({', '.join(sorted(self.variables))})",
                    )
                continue
            schema = self.schemas.get(node.get("ai_schema") or "")
            properties = (schema or {}).get("schema", {}).get("properties")
            if isinstance(properties, dict) and first not in properties:
                self.add(
                    key,
                    f"{at}.field",
                    f"'{first}' is not a property of schema '{node['ai_schema']}' "
                    f"({', '.join(sorted(properties))})",
                )

    def check_route_target(self, key, route, where):
        target = route["target"]
        if target == "node":
            target_key = route.get("node")
            if not target_key:
                self.add(key, f"{where}.node", "a route to a node needs the node")
            elif target_key not in self.nodes:
                self.add(
                    key,
                    f"{where}.node",
                    f"'{target_key}' is not a node of this menu (routes cannot lead into "
                    "another menu)",
                )
        elif "node" in route:
            self.add(key, f"{where}.node", f"a '{target}' route has no target node")
        if target == "callable":
            if not route.get("callable"):
                self.add(key, f"{where}.callable", "a 'callable' route needs a dotted path")
        elif "callable" in route:
            self.add(key, f"{where}.callable", f"a '{target}' route has no callable")

    # --- the graph -------------------------------------------------------------------------

    def successors(self, key):
        """Nodes a call can go to from ``key``; a callable may pick any node."""
        for route in self.nodes[key]["routes"]:
            if route["target"] == "node" and route.get("node") in self.nodes:
                yield route["node"]
            elif route["target"] == "callable":
                yield from self.nodes
            elif route["target"] == "repeat":
                yield key

    def check_reachable(self):
        entry = self.menu["entry_node"]
        if entry not in self.nodes:
            return
        seen = {entry}
        queue = deque([entry])
        while queue:
            for nxt in self.successors(queue.popleft()):
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        for key in self.nodes:
            if key not in seen:
                self.add(
                    key, "key", f"unreachable: no route from the entry node '{entry}' leads here"
                )

    def check_loops_without_input(self):
        # Edges between nodes that never wait for the caller; a cycle among them spins forever.
        # "back" returns to a menu node (which waits), and a callable's choice is unknown.
        edges = {}
        for key, node in self.nodes.items():
            if node["kind"] not in NON_STOPPING_KINDS:
                continue
            for index, route in enumerate(node["routes"]):
                target = key if route["target"] == "repeat" else route.get("node")
                if (
                    route["target"] in ("node", "repeat")
                    and target in self.nodes
                    and self.nodes[target]["kind"] in NON_STOPPING_KINDS
                ):
                    edges.setdefault(key, []).append((target, index))
        reported = set()
        for start in sorted(edges):
            cycle = _find_cycle(start, edges)
            if cycle and frozenset(cycle) not in reported:
                reported.add(frozenset(cycle))
                loop = " -> ".join([*(node for node, _ in cycle), cycle[0][0]])
                node, index = cycle[0]
                self.add(
                    node,
                    f"routes[{index}]",
                    f"the loop {loop} never stops for input, so a call would spin in it forever",
                )


def _find_cycle(start, edges):
    """A cycle through ``start`` as [(node, route index leaving it), ...], or None."""
    stack = [(start, iter(edges.get(start, ())))]
    path = []
    visited = set()
    while stack:
        node, children = stack[-1]
        for target, index in children:
            if target == start:
                return [*path, (node, index)]
            if target not in visited:
                visited.add(target)
                path.append((node, index))
                stack.append((target, iter(edges.get(target, ()))))
                break
        else:
            stack.pop()
            if path:
                path.pop()
    return None


# --- rows and database-wide rules ----------------------------------------------------------


def validate_menu(menu, definition=None):
    """Return every problem of ``menu``'s draft rows, including database-wide rules.

    Builds the definition (unless the caller already has it) and validates it, then adds what
    only the rows can show: references to prompts, schemas or nodes of another menu, and (for
    an active menu) a called number, connection id or default that another active menu also
    claims.
    """
    from .definition import build_definition

    row_issues = _foreign_reference_issues(menu)
    taken = {(issue.node, issue.field) for issue in row_issues}
    issues = [
        issue
        for issue in validate_definition(definition or build_definition(menu))
        if (issue.node, issue.field) not in taken
    ]
    issues = row_issues + issues
    if menu.is_active:
        issues += claim_conflicts(menu)
    return issues


def _foreign_reference_issues(menu):
    from ..models import Node, Route

    issues = []
    if menu.entry_node_id is not None and menu.entry_node.menu_id != menu.pk:
        issues.append(
            ValidationIssue(
                None,
                "menu.entry_node",
                f"'{menu.entry_node.key}' belongs to another menu ('{menu.entry_node.menu}')",
            )
        )
    if menu.failure_prompt_id is not None and menu.failure_prompt.menu_id != menu.pk:
        issues.append(
            ValidationIssue(
                None,
                "menu.on_command_failure.prompt",
                f"the apology '{menu.failure_prompt.key}' belongs to another menu "
                f"('{menu.failure_prompt.menu}')",
            )
        )
    nodes = Node.objects.filter(menu=menu).select_related(
        "prompt__menu", "invalid_prompt__menu", "no_input_prompt__menu", "ai_schema__menu"
    )
    routes_of = {}
    all_routes = Route.objects.filter(node__menu=menu).select_related("target_node__menu")
    for route in all_routes.order_by("position", "id"):
        routes_of.setdefault(route.node_id, []).append(route)
    for node in nodes:
        for field in ("prompt", "invalid_prompt", "no_input_prompt", "ai_schema"):
            row = getattr(node, field)
            if row is not None and row.menu_id != menu.pk:
                issues.append(
                    ValidationIssue(
                        node.key, field, f"'{row.key}' belongs to another menu ('{row.menu}')"
                    )
                )
        for index, route in enumerate(routes_of.get(node.pk, [])):
            target = route.target_node
            if target is not None and target.menu_id != menu.pk:
                issues.append(
                    ValidationIssue(
                        node.key,
                        f"routes[{index}].node",
                        f"routes into another menu: '{target.key}' belongs to '{target.menu}'",
                    )
                )
    return issues


def menu_claims(menu, *, numbers=None, connection_ids=None, is_default=None):
    """What calls ``menu`` answers now (live version) or once published (draft, or overrides).

    Returns ``(set of numbers, set of connection ids, is_default)``.
    """
    claimed_numbers = set(menu.numbers if numbers is None else numbers)
    claimed_connections = set(menu.connection_ids if connection_ids is None else connection_ids)
    default = menu.is_default if is_default is None else is_default
    if menu.live_version_id is not None:
        live = menu.live_version.definition["menu"]
        claimed_numbers.update(live["numbers"])
        claimed_connections.update(live["connection_ids"])
        default = default or live["is_default"]
    return claimed_numbers, claimed_connections, default


def claim_conflicts(menu, *, numbers=None, connection_ids=None, is_default=None):
    """Issues for each number, connection id or default that another active menu claims too."""
    from ..models import Menu

    mine = menu_claims(menu, numbers=numbers, connection_ids=connection_ids, is_default=is_default)
    issues = []
    others = Menu.objects.filter(is_active=True).select_related("live_version")
    if menu.pk is not None:
        others = others.exclude(pk=menu.pk)
    for other in others.order_by("pk"):
        theirs = menu_claims(other)
        for number in sorted(mine[0] & theirs[0]):
            issues.append(
                ValidationIssue(
                    None, "menu.numbers", f"{number} is also claimed by active menu '{other}'"
                )
            )
        for connection in sorted(mine[1] & theirs[1]):
            issues.append(
                ValidationIssue(
                    None,
                    "menu.connection_ids",
                    f"connection {connection} is also claimed by active menu '{other}'",
                )
            )
        if mine[2] and theirs[2]:
            issues.append(
                ValidationIssue(
                    None, "menu.is_default", f"active menu '{other}' is already the default"
                )
            )
    return issues
