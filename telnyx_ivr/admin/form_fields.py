"""Form fields of the admin's editing pages."""

from django import forms


class OptionalJSONField(forms.JSONField):
    """An optional JSON value shown as an empty box when there is none, not as ``null``
    (Django's JSONField writes the JSON of None); an empty box is None again."""

    def prepare_value(self, value):
        if value is None:
            return ""
        return super().prepare_value(value)


# For every admin that edits a model with JSON fields.
JSON_OVERRIDES = {"form_class": OptionalJSONField}
