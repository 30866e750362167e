"""Choosing a node's route: the first route whose ``when`` (and digits or conditions)
matches wins; ``default`` catches what no other route took."""

import math

_MISSING = object()


def find_route(node, when, *, digits=None, result=None):
    """The first route of ``node`` for ``when`` (digits must be equal; a ``valid`` route's
    conditions must all hold on ``result``), or None."""
    for route in node.get("routes") or []:
        if not isinstance(route, dict) or route.get("when") != when:
            continue
        if when == "digits" and str(route.get("digits")) != (digits or ""):
            continue
        if when == "valid" and not conditions_hold(route.get("conditions") or [], result):
            continue
        return route
    return None


def route_or_default(node, when, **match):
    """``find_route`` for ``when``, falling back to the node's ``default`` route."""
    return find_route(node, when, **match) or find_route(node, "default")


def schedule_route(node, status):
    """The route of an office-hours node for ``status`` (open, closed or holiday): its own
    route, then for a holiday the closed route, then the default."""
    route = find_route(node, status)
    if route is None and status == "holiday":
        route = find_route(node, "closed")
    return route or find_route(node, "default")


def condition_route(node, values, *, previous_call_age=None):
    """``(exit, route)`` of a check: the first ``match`` route whose conditions all hold on
    ``values`` (exit ``option_N``, N counted from 1 over all its routes), else the default
    (exit ``default``; route None when it has none)."""
    routes = node.get("routes") or []
    for index, route in enumerate(routes):
        if not isinstance(route, dict) or route.get("when") != "match":
            continue
        conditions = route.get("conditions") or []
        if conditions and conditions_hold(conditions, values, previous_call_age=previous_call_age):
            return f"option_{index + 1}", route
    return "default", find_route(node, "default")


def option_index(exit):
    """The route index of a check's ``option_N`` exit, or None."""
    prefix, _, number = str(exit).partition("_")
    return int(number) - 1 if prefix == "option" and number.isdigit() and number != "0" else None


def conditions_hold(conditions, values, *, previous_call_age=None):
    """Every condition holds on ``values`` (an AI answer, or a call's variables). A missing
    field fails every operator but ``is_set``, and an unknown ``op`` fails.
    ``previous_call_age`` is how long ago the caller's previous call started (a timedelta;
    None: no earlier call), for ``called_within_days``."""
    return all(_holds(c, values, previous_call_age) for c in conditions)


def _holds(condition, values, previous_call_age):
    op, expected = condition.get("op"), condition.get("value")
    if op == "called_within_days":
        return (
            previous_call_age is not None
            and previous_call_age.total_seconds() <= (_number(expected) or 0) * 86400
        )
    value = lookup(values, condition.get("field", ""))
    if op == "is_set":
        is_set = value is not _MISSING and value not in (None, "", [], {})
        return is_set is (expected is not False)
    if value is _MISSING:
        return False
    if op == "equals":
        return _equal(value, expected)
    if op == "one_of":
        return isinstance(expected, list) and any(_equal(value, e) for e in expected)
    if op == "starts_with":
        prefixes = expected if isinstance(expected, list) else [expected]
        return isinstance(value, str) and any(
            isinstance(p, str) and p and value.startswith(p) for p in prefixes
        )
    if op in _COMPARISONS:
        number, bound = _number(value), _number(expected)
        return number is not None and bound is not None and _COMPARISONS[op](number, bound)
    return False


_COMPARISONS = {
    "less_than": lambda a, b: a < b,
    "at_most": lambda a, b: a <= b,
    "greater_than": lambda a, b: a > b,
    "at_least": lambda a, b: a >= b,
}


def _number(value):
    """A number from a number or from text such as "42" (keys pressed are text); None
    otherwise. True and False are not numbers here."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _equal(a, b):
    # True == 1 in Python; an AI result of true must not match a condition value of 1.
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def lookup(data, dotted):
    """``data["a"]["b"]`` for ``"a.b"``; list items by index (``"items.0"``)."""
    current = data
    for part in str(dotted).split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current
