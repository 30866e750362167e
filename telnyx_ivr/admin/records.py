"""What the admin pages of records (webhook events, the call log) share."""

import json

from django.contrib import admin
from django.utils.html import format_html

from ..calls.retention import pruned_info
from .display import local_time


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record of what happened: viewable, never edited or deleted by hand (not even by a
    superuser): old records are removed by pruning (``ivr_prune``), never one by one here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def pretty_json(value):
    """A stored JSON value for people: indented, or what pruning left of it in words."""
    pruned = pruned_info(value)
    if pruned is not None:
        return format_html(
            '<p class="telnyx-ivr-pruned">Removed on {} by the retention rule (kept {} days; '
            'TELNYX_IVR["RETENTION_DAYS"]). The figures it counted in stay as they were.</p>',
            local_time(pruned.at),
            pruned.after_days,
        )
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return format_html('<pre class="telnyx-ivr-json">{}</pre>', text)
