"""Which variables a prompt's Django template reads, found without rendering it."""

from django.template import Engine
from django.template.base import FilterExpression, Node, NodeList, Variable, VariableNode
from django.template.defaulttags import ForNode, IfNode, WithNode

_engine = None


def prompt_engine():
    """The template engine prompts are parsed (and may be rendered) with: built-in tags only."""
    global _engine
    if _engine is None:
        _engine = Engine(autoescape=False)
    return _engine


def template_variables(text):
    """Return the top-level names ``text`` reads (``details.name`` gives ``details``).

    Raises ``django.template.TemplateSyntaxError`` if ``text`` is not a valid template.
    Names bound inside the template itself (``{% for %}``, ``{% with %}``) are left out.
    """
    template = prompt_engine().from_string(text)
    return set(_nodelist_variables(template.nodelist, frozenset()))


def _nodelist_variables(nodelist, bound):
    for node in nodelist or ():
        yield from _node_variables(node, bound)


def _node_variables(node, bound):
    if isinstance(node, VariableNode):
        yield from _expression_variables(node.filter_expression, bound)
    elif isinstance(node, IfNode):
        for condition, nodelist in node.conditions_nodelists:
            if condition is not None:
                yield from _condition_variables(condition, bound)
            yield from _nodelist_variables(nodelist, bound)
    elif isinstance(node, ForNode):
        yield from _expression_variables(node.sequence, bound)
        inner = bound | set(node.loopvars) | {"forloop"}
        yield from _nodelist_variables(node.nodelist_loop, inner)
        yield from _nodelist_variables(node.nodelist_empty, bound)
    elif isinstance(node, WithNode):
        for expression in node.extra_context.values():
            yield from _expression_variables(expression, bound)
        yield from _nodelist_variables(node.nodelist, bound | set(node.extra_context))
    elif isinstance(node, Node):
        for attr in node.child_nodelists:
            child = getattr(node, attr, None)
            if isinstance(child, NodeList):
                yield from _nodelist_variables(child, bound)


def _expression_variables(expression, bound):
    if not isinstance(expression, FilterExpression):
        return
    yield from _variable_name(expression.var, bound)
    for _func, args in expression.filters:
        for is_variable, arg in args:
            if is_variable:
                yield from _variable_name(arg, bound)


def _variable_name(variable, bound):
    if isinstance(variable, Variable) and variable.lookups:
        name = variable.lookups[0]
        if name not in bound:
            yield name


def _condition_variables(condition, bound):
    # smartif's parse tree: operators hold ``first``/``second``, literals hold ``value``.
    value = getattr(condition, "value", None)
    if isinstance(value, FilterExpression):
        yield from _expression_variables(value, bound)
    for side in ("first", "second"):
        child = getattr(condition, side, None)
        if child is not None:
            yield from _condition_variables(child, bound)
