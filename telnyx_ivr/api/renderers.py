"""CSV for the call list: rows are written as they are read, so an export of 100,000 calls
holds one chunk of them in memory, never all of them."""

import csv
import io
import re

from django.utils import timezone
from rest_framework.renderers import BaseRenderer

from .serializers import CallSerializer

CHUNK_CHARS = 64 * 1024
# A spreadsheet runs a cell that starts with one of these as a formula. Caller numbers come
# from the network (a SIP From header can say anything), so such a cell gets a leading
# quote; a plain number such as +15550001111 or -3.5 is left as it is.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def cell(value):
    """How one value is written: blank for none, true/false, ISO text as given."""
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    text = str(value)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_chunks(header, rows):
    """The CSV text of ``header`` and then each row (an iterable of values), in chunks of
    about 64 KB: a chunk a row would be one write, and one packet, per call."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(value) for value in row])
        if buffer.tell() >= CHUNK_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def calls_csv(calls):
    """The CSV text of queryset ``calls`` (ordered as wanted), a chunk at a time: a call's
    fields as the list gives them (CallSerializer), read with ``.iterator()``."""
    serializer = CallSerializer()
    names = list(serializer.fields)
    # Rows are written after the view has returned, when a time zone activated for the
    # request (by a middleware, for its user) is no longer the current one.
    tz = timezone.get_current_timezone()

    def rows():
        for call in calls.iterator(chunk_size=1000):
            with timezone.override(tz):
                values = serializer.to_representation(call)
            yield [values[name] for name in names]

    return csv_chunks(names, rows())


class CSVRenderer(BaseRenderer):
    """``?format=csv`` (or ``Accept: text/csv``). The list view streams the rows itself with
    ``csv_chunks``; this renders a list of dicts given whole, for anything else."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        rows = data if isinstance(data, list) else [data]
        header = list(rows[0]) if rows else []
        return "".join(csv_chunks(header, ([row.get(k) for k in header] for row in rows)))
