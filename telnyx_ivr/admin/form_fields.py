"""Form fields of the admin's editing pages."""

from decimal import Decimal

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


class SecondsField(forms.DecimalField):
    """A time stored in milliseconds (as Telnyx takes it), typed and shown in seconds: the
    box says 5 or 2.5, the model gets 5000 or 2500."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", Decimal("0.001"))
        kwargs.setdefault("max_digits", 9)
        kwargs.setdefault("decimal_places", 3)
        super().__init__(**kwargs)
        self.error_messages["min_value"] = "Must be more than 0 seconds."
        self.error_messages["max_decimal_places"] = "At most 3 decimals (milliseconds)."
        self.widget.attrs.update(step="any", inputmode="decimal")
        self.widget.attrs.pop("min", None)

    def prepare_value(self, value):
        if isinstance(value, int):  # the stored milliseconds; typed text is shown as typed
            return seconds_text(value)
        return value

    def clean(self, value):
        seconds = super().clean(value)
        return None if seconds is None else int(seconds * 1000)

    def has_changed(self, initial, data):
        try:
            return initial != self.clean(data)
        except forms.ValidationError:
            return True


def seconds_text(milliseconds):
    """5000 -> "5", 2500 -> "2.5", 60000 -> "60"."""
    text = f"{Decimal(milliseconds) / 1000:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# Node fields kept in milliseconds, as the page names them in seconds.
SECONDS_LABELS = {
    "timeout_millis": "Time for all the keys (seconds)",
    "inter_digit_timeout_millis": "Time between keys (seconds)",
    "initial_timeout_millis": "Time to the first key (seconds)",
    "user_response_timeout_ms": "Time to answer (seconds)",
}
# Every node field the page labels otherwise than the model does.
NODE_LABELS = {
    **SECONDS_LABELS,
    "timeout_secs": "Ring for at most (seconds)",
    "schedule": "Opening hours",
}
