"""Links from a figure to the calls behind it: the admin's call list, filtered the same way.

The call list reads the figures' own query parameters (telnyx_ivr.analytics.filters.PARAMS)
plus ``outcome``, ``transferred_to`` (calls that ended transferred there), ``node`` (calls
that went through it) and ``exit`` (calls that left ``node`` that way: CallStep.exit); see
telnyx_ivr.admin.drill_down. A link always says ``include_test``: the list, a log, shows test
calls when not told, where the figures leave them out.
"""

from urllib.parse import urlencode

from django.urls import reverse

# What the call list takes besides the figures' filters.
CALL_LIST_PARAMS = ("outcome", "transferred_to", "node", "exit")


def call_list_url(filters, **extra):
    """The admin's call list with ``filters`` (a Filters) and ``extra`` parameters applied."""
    unknown = sorted(set(extra) - set(CALL_LIST_PARAMS))
    if unknown:
        raise TypeError(f"call_list_url() takes no parameter {', '.join(unknown)}")
    params = filters.params()
    params.pop("bucket", None)  # a figure's bucketing does not filter calls
    params["include_test"] = "1" if filters.include_test else "0"
    params.update({name: str(value) for name, value in extra.items() if value not in (None, "")})
    return f"{reverse('admin:telnyx_ivr_call_changelist')}?{urlencode(params)}"
