"""Pages of the call list: a cursor, so a page never repeats or skips a call that came in
while a client was paging, and the thousandth page costs what the first does.

The cursor is a position in (started_at, id), newest first: DRF's own CursorPagination keeps
only the first field and an offset among equal ones, which skips rows when paging back over
calls that started in the same microsecond (calls moved in time, seeded or imported do)."""

import base64
import binascii

from django.db.models import Q
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.utils.urls import replace_query_param

NEWEST_FIRST = ("-started_at", "-id")
OLDEST_FIRST = ("started_at", "id")


class CallCursorPagination(CursorPagination):
    ordering = NEWEST_FIRST
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    page_size_query_description = f"Calls per page, 1 to {max_page_size}; default {page_size}."
    cursor_query_description = "The `next` or `previous` link's cursor, as given."

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.base_url = request.build_absolute_uri()
        self.page_size = self.get_page_size(request)
        self.cursor = self.decode_cursor(request)  # (backwards, started_at, id) or None
        if self.cursor is None:
            rows = list(queryset.order_by(*NEWEST_FIRST)[: self.page_size + 1])
            self.has_next, self.has_previous = len(rows) > self.page_size, False
            self.page = rows[: self.page_size]
        elif not self.cursor[0]:
            _, started_at, pk = self.cursor
            older = Q(started_at__lt=started_at) | Q(started_at=started_at, id__lt=pk)
            rows = list(queryset.filter(older).order_by(*NEWEST_FIRST)[: self.page_size + 1])
            self.has_next, self.has_previous = len(rows) > self.page_size, True
            self.page = rows[: self.page_size]
        else:
            _, started_at, pk = self.cursor
            newer = Q(started_at__gt=started_at) | Q(started_at=started_at, id__gt=pk)
            rows = list(queryset.filter(newer).order_by(*OLDEST_FIRST)[: self.page_size + 1])
            self.has_next, self.has_previous = True, len(rows) > self.page_size
            self.page = rows[: self.page_size][::-1]
        return self.page

    def get_next_link(self):
        if not self.has_next:
            return None
        edge = self.page[-1] if self.page else None
        return self._link(False, edge)

    def get_previous_link(self):
        if not self.has_previous:
            return None
        edge = self.page[0] if self.page else None
        return self._link(True, edge)

    def _link(self, backwards, call):
        # An empty page (the calls beyond a cursor are gone) pages on from the cursor itself.
        started_at, pk = (call.started_at, call.pk) if call else self.cursor[1:]
        text = f"{'b' if backwards else 'f'}|{started_at.isoformat()}|{pk}"
        token = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
        return replace_query_param(self.base_url, self.cursor_query_param, token)

    def decode_cursor(self, request):
        token = request.query_params.get(self.cursor_query_param)
        if not token:
            return None
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            direction, moment, pk = text.split("|")
            started_at = parse_datetime(moment)
            if direction not in ("f", "b") or started_at is None or not pk.isdigit():
                raise ValueError(text)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise ValidationError(
                {self.cursor_query_param: ["is not a cursor of this list: use a next link"]}
            ) from None
        return direction == "b", started_at, int(pk)

    def get_page_size(self, request):
        text = request.query_params.get(self.page_size_query_param)
        if text is None or text == "":
            return self.page_size
        if not text.isdigit() or not 1 <= int(text) <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        f"{text!r} is not a whole number from 1 to {self.max_page_size}"
                    ]
                }
            )
        return int(text)
