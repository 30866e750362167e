"""The JSON Schema shipped for menu files, and the meta-schema check of AI parameter schemas."""

import json
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.validators import validator_for

MENU_SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "menu.schema.json"


@cache
def menu_schema():
    """The parsed ``telnyx_ivr/schemas/menu.schema.json``."""
    return json.loads(MENU_SCHEMA_PATH.read_text(encoding="utf-8"))


@cache
def _menu_validator():
    return Draft202012Validator(menu_schema())


def schema_errors(document):
    """Every way ``document`` breaks the menu file schema, in document order.

    Errors from an ``if``/``then`` branch are reported at their own path, so each one names
    the exact place (``$.nodes.main.digits.maximum_digits``) and the problem.
    """
    errors = _leaf_errors(_menu_validator().iter_errors(document))
    return sorted(errors, key=lambda error: [str(part) for part in error.absolute_path])


def _leaf_errors(errors):
    for error in errors:
        # anyOf/oneOf wrappers (e.g. "x or null") say only "is not valid under any of the
        # given schemas"; the most specific sub-error says what is actually wrong.
        if error.validator in ("anyOf", "oneOf") and error.context:
            non_null = [e for e in error.context if e.validator_value != "null"]
            yield from _leaf_errors([min(non_null or error.context, key=_depth)])
        else:
            yield error


def _depth(error):
    return -len(error.absolute_path)


def format_schema_error(error):
    """``$.path.to.field: message`` for one jsonschema error."""
    return f"{error.json_path}: {error.message}"


def ai_schema_errors(schema):
    """Problems with a ``gather_using_ai`` ``parameters`` schema, as ``path: message`` texts.

    The schema is checked against its JSON Schema meta-schema (2020-12 unless it names
    another with ``$schema``), and must describe an object, as the API expects.
    """
    if not isinstance(schema, dict):
        return ['$: must be a JSON object (a JSON Schema with "type": "object")']
    cls = validator_for(schema, default=Draft202012Validator)
    problems = [
        format_schema_error(error)
        for error in sorted(
            _leaf_errors(cls(cls.META_SCHEMA).iter_errors(schema)),
            key=lambda error: [str(part) for part in error.absolute_path],
        )
    ]
    if not problems and schema.get("type") != "object":
        problems.append('$.type: must be "object": the API gathers an object of parameters')
    return problems
