"""Choosing a node's route: the first route whose ``when`` (and digits or conditions)
matches wins; ``default`` catches what no other route took."""

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


def conditions_hold(conditions, result):
    """Every condition holds on ``result``. A missing field or an unknown ``op`` fails."""
    for condition in conditions:
        value = lookup(result, condition.get("field", ""))
        if value is _MISSING:
            return False
        op, expected = condition.get("op"), condition.get("value")
        if op == "equals":
            if not _equal(value, expected):
                return False
        elif op == "one_of":
            if not isinstance(expected, list) or not any(_equal(value, e) for e in expected):
                return False
        else:
            return False
    return True


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
