"""The call list's query parameters, as a django-filter FilterSet.

The period, menu, version, numbers and test-call switch are read by
``telnyx_ivr.analytics.filters.parse_filters``, the reader the dashboard and ``stats`` use, and
the calls they keep are ``figures``' counted calls: a list and a figure given the same
parameters are about the same calls. The FilterSet adds ``outcome`` and gives django-filter
(and so the OpenAPI schema) each parameter's name and description.
"""

import django_filters
from django import forms

from ..analytics import figures, outcomes
from ..analytics.filters import FilterError, parse_filters
from ..models import Call

# What each filter means, for the FilterSet and for ``stats``' schema alike.
HELP = {
    "since": (
        "Start of the period (ISO 8601 date or date and time; without an offset, in the "
        "site's time zone). A date starts at its midnight. Default: 6 days before today's "
        "midnight (the last 7 days)."
    ),
    "until": (
        "End of the period, exclusive (ISO 8601). A date ends at the midnight after it, so "
        "the day itself is included. Default: now. The period is widened to whole quarters "
        "of an hour."
    ),
    "menu": "Only calls of the menu with this slug.",
    "version": "Only calls of this version number of `menu` (needs `menu`).",
    "from_number": "Only calls from this number (exact, e.g. +15550001111).",
    "to_number": "Only calls to this number (exact).",
    "include_test": (
        "1 to include test calls (placed by the call simulator); left out by default."
    ),
    "bucket": "Bucket of `series`: hour or day. Default: hour for up to 2 days, else day.",
    "outcome": "Only calls with this outcome.",
}
# The parameters parse_filters reads for a list of calls (a bucket only shapes a series).
PERIOD_PARAMS = ("since", "until", "menu", "version", "from_number", "to_number", "include_test")


def filters_from(params):
    """``Filters`` of a list of calls from query parameters; FilterError names the bad ones."""
    return parse_filters({name: params.get(name) for name in PERIOD_PARAMS})


def error_lists(exc):
    """A FilterError's messages the way DRF and forms give them: ``{param: [message]}``."""
    return {name: [text] for name, text in exc.errors.items()}


class CallFilterForm(forms.Form):
    """Reads the shared parameters with parse_filters: its messages are the field errors."""

    def clean(self):
        cleaned = super().clean()
        self.period = None
        try:
            self.period = filters_from(self.data)
        except FilterError as exc:
            for name, text in exc.errors.items():
                self.add_error(name, text)
        return cleaned


def _text_filter(name, **extra):
    return django_filters.CharFilter(label=name, help_text=HELP[name], **extra)


class CallFilterSet(django_filters.FilterSet):
    since = _text_filter("since")
    until = _text_filter("until")
    menu = _text_filter("menu")
    version = _text_filter("version")
    from_number = _text_filter("from_number")
    to_number = _text_filter("to_number")
    include_test = _text_filter("include_test")
    outcome = django_filters.ChoiceFilter(
        label="outcome",
        help_text=HELP["outcome"],
        choices=Call.Outcome.choices,
        error_messages={
            "invalid_choice": (
                f"%(value)r is not an outcome; one of: {', '.join(outcomes.OUTCOMES)}"
            )
        },
    )

    class Meta:
        model = Call
        fields = []
        form = CallFilterForm

    def filter_queryset(self, queryset):
        # The rule for which calls a period, menu and numbers keep lives in figures: a
        # queryset of exactly those calls, narrowed by the view's own (select_related...).
        kept = queryset & figures.kept_calls(self.form.period)
        outcome = self.form.cleaned_data.get("outcome")
        return kept.filter(outcome=outcome) if outcome else kept
