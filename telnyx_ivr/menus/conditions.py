"""Reading a definition's route conditions (docs/menu-format.md, *Conditions*)."""

from .kinds import FIELDLESS_OPS


def conditions_of(definition):
    """Every condition of every route of ``definition``."""
    for node in (definition.get("nodes") or {}).values():
        yield from node_conditions(node)


def node_conditions(node):
    """Every condition of every route of one node."""
    for route in node.get("routes") or []:
        yield from route.get("conditions") or []


def asks_for_earlier_calls(definition):
    """Whether a check of the menu asks if the caller called before."""
    return reads_earlier_calls(conditions_of(definition))


def reads_earlier_calls(conditions):
    """Whether one of ``conditions`` asks if the caller called before."""
    return any(c.get("op") in FIELDLESS_OPS for c in conditions if isinstance(c, dict))


# How each operator reads in a sentence, after the field's name.
OP_WORDS = {
    "equals": "is",
    "one_of": "is one of",
    "starts_with": "starts with",
    "less_than": "is less than",
    "at_most": "is at most",
    "greater_than": "is more than",
    "at_least": "is at least",
}
FIELD_WORDS = {"caller_number": "caller's number", "called_number": "number dialled"}


def describe_condition(condition):
    """One condition in words: "caller's number starts with +44", "called in the last 7
    days", "age is at least 18", "pin is set"."""
    op, value = condition.get("op"), condition.get("value")
    if op == "called_within_days":
        return f"called in the last {value} day{'' if value == 1 else 's'}"
    field = str(condition.get("field", ""))
    field = FIELD_WORDS.get(field, field)
    if op == "is_set":
        return f"{field} is {'set' if value is not False else 'not set'}"
    if isinstance(value, list):
        value = " or ".join(str(item) for item in value)
    return f"{field} {OP_WORDS.get(op, op)} {value}"


def describe_conditions(conditions):
    return " and ".join(describe_condition(c) for c in conditions)
