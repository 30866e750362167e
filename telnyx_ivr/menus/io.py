"""Menu files: export a definition as JSON text, import one (validated, all or nothing)."""

import json
from dataclasses import dataclass

from django.db import transaction

from ..models import Menu, MenuVersion
from .definition import apply_definition, build_definition
from .publishing import activate_menu, publish_menu
from .schema import format_schema_error, schema_errors
from .validation import MenuValidationError, semantic_issues, validate_menu


class MenuFileError(Exception):
    """A menu file that cannot be imported; ``errors`` lists every problem found."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


@dataclass
class ImportResult:
    menu: Menu
    created: bool
    version: MenuVersion | None = None


def dumps_definition(definition):
    """The file text of a definition: sorted keys, two-space indent, one trailing newline."""
    return json.dumps(definition, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def export_menu(menu):
    """The file text of ``menu``'s current draft."""
    return dumps_definition(build_definition(menu))


def parse_menu_file(data):
    """Parse a menu file's bytes or text into a dict; MenuFileError if it is not JSON."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise MenuFileError([f"$: not UTF-8 text ({exc})"]) from exc
    try:
        document = json.loads(data)
    except json.JSONDecodeError as exc:
        raise MenuFileError(
            [f"$: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"]
        ) from exc
    if not isinstance(document, dict):
        raise MenuFileError([f"$: {type(document).__name__} is not of type 'object'"])
    return document


def check_menu_document(document):
    """Every problem of a parsed menu file as text: schema errors with their JSON path first;
    when the shape is right, its semantic problems (the schema is not checked twice)."""
    structural = [format_schema_error(error) for error in schema_errors(document)]
    if structural:
        return structural
    return [str(issue) for issue in semantic_issues(document)]


def import_definition(document, *, publish=False, user=None, note="imported"):
    """Create the menu of ``document``, or replace the draft of the menu with its slug.

    With ``publish``, the draft is also published and the menu activated. Runs in one
    transaction: on any problem (raised as MenuFileError) the database is left unchanged.
    """
    errors = check_menu_document(document)
    if errors:
        raise MenuFileError(errors)
    try:
        with transaction.atomic():
            menu = Menu.objects.select_for_update().filter(slug=document["menu"]["slug"]).first()
            created = menu is None
            menu = apply_definition(document, menu=menu)
            version = None
            if not publish:  # publishing validates the same rows itself
                issues = validate_menu(menu)
                if issues:
                    raise MenuValidationError(issues)
            else:
                version = publish_menu(menu, user=user, note=note)
                activate_menu(menu)
                menu.refresh_from_db()
    except MenuValidationError as exc:
        raise MenuFileError([str(issue) for issue in exc.issues]) from exc
    return ImportResult(menu=menu, created=created, version=version)
