"""What the admin pages of records (webhook events, the call log) share."""

import json

from django.contrib import admin
from django.utils.html import format_html


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
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return format_html('<pre class="telnyx-ivr-json">{}</pre>', text)
