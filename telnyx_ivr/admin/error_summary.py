"""What stops a menu page's save, listed at the top of the page, each linked to its row.

Django's admin says only "Please correct the errors below." above a page that is thousands
of pixels long, and an inline row's error sits inside that row. Here each problem reads as
"Option of 'Main menu' (press 3), Keys: Use only the DTMF keys 0-9, *, #." and links to the
row's anchor (the admin's own row ids, ``routes-2``), which menu_admin.css highlights.
"""

from dataclasses import dataclass

from django.forms.utils import pretty_name

from .issue_words import route_summary


@dataclass(frozen=True)
class Problem:
    text: str
    anchor: str = ""  # an element id on the page; "" when there is nothing to point at


def problems(adminform, inline_admin_formsets):
    """Every error of the page's form and of its inline rows, in page order."""
    found = []
    form = adminform.form
    for message in form.non_field_errors():
        found.append(Problem(str(message)))
    for name, errors in form.errors.items():
        if name == "__all__":
            continue
        label, anchor = _label(form, name), f"id_{name}" if name in form.fields else ""
        found.extend(Problem(f"{label}: {message}", anchor) for message in errors)
    for inline in inline_admin_formsets:
        formset = inline.formset
        for message in formset.non_form_errors():
            found.append(Problem(str(message), f"{formset.prefix}-group"))
        for index, row in enumerate(formset.forms):
            if not row.errors:
                continue
            place = row_name(row, index, inline.opts.verbose_name)
            anchor = f"{formset.prefix}-{index}"
            for name, errors in row.errors.items():
                where = place if name == "__all__" else f"{place}, {_label(row, name)}"
                found.extend(Problem(f"{where}: {message}", anchor) for message in errors)
    return found


def row_name(row, index, verbose_name):
    """An inline row as the page shows it: a step by its name, a prompt by its key, an option
    by its step and keys; a row not saved yet by what was typed in it, or its place."""
    data = getattr(row, "cleaned_data", None) or {}
    instance = row.instance
    model = type(instance).__name__
    if model == "Route":
        node = data.get("node") or (instance.node if instance.node_id else None)
        # As typed, even when refused: the keys are often what is wrong.
        when = row["when"].value() or instance.when
        digits = row["digits"].value() or instance.digits
        summary = (
            ""
            if when == "digits" and not digits
            else route_summary({"when": when, "digits": digits})
        )
        if node is not None:
            return f"Option of '{node.name or node.key}'" + (f" ({summary})" if summary else "")
    elif model == "Node":
        name = data.get("name") or instance.name or data.get("key") or instance.key
        if name:
            return f"Step '{name}'"
    else:
        key = data.get("key") or getattr(instance, "key", "")
        if key:
            return f"{str(verbose_name).capitalize()} '{key}'"
    return f"New {verbose_name} (row {index + 1})"


def _label(form, name):
    field = form.fields.get(name)
    if field is not None and field.label:
        return str(field.label)
    return pretty_name(name)
