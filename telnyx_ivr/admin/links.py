"""Links from a figure to the calls behind it: the admin's call list, filtered the same way.

The call list reads the figures' own query parameters (telnyx_ivr.analytics.filters.PARAMS)
plus ``outcome``, ``transferred_to``, ``node`` and ``exit`` (calls that left ``node`` that way).
"""

from urllib.parse import urlencode

from django.urls import reverse

# What the call list takes besides the figures' filters.
CALL_LIST_PARAMS = ("outcome", "transferred_to", "node", "exit")


def call_list_url(filters, **extra):
    """The admin's call list with ``filters`` (a Filters) and ``extra`` parameters applied."""
    params = filters.params()
    params.pop("bucket", None)  # a figure's bucketing does not filter calls
    params.update({name: str(value) for name, value in extra.items() if value not in (None, "")})
    return f"{reverse('admin:telnyx_ivr_call_changelist')}?{urlencode(params)}"
