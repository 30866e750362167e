"""The webhook's one write: insert an event, or count a redelivery of it, in one statement.

The ORM has no "insert, or else increment" (``bulk_create(update_conflicts=...)`` can only copy
the new row's values), and the webhook is the hottest path there is: the statement is written
here, from the model's own fields, so a field added to ``WebhookEvent`` is written too. It is
plain SQL both PostgreSQL and SQLite (3.35 and newer) run.
"""

from functools import cache

from django.db import connection

from .events import WebhookEvent

_RETURNED = ("id", "deliveries", "status", "received_at")


def insert_or_count(event):
    """Insert ``event`` (an unsaved WebhookEvent) unless its ``event_id`` is stored already,
    in which case count one more delivery and keep the highest attempt. Returns the row's
    ``(pk, deliveries, status, received_at)``: ``deliveries`` is 1 exactly when this call
    inserted it. Runs in the caller's transaction, or as its own in autocommit."""
    fields, sql = _statement(connection.vendor)
    values = [f.get_db_prep_save(f.pre_save(event, add=True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        pk, count, status, received_at = cursor.fetchone()
    received = WebhookEvent._meta.get_field("received_at").get_col(WebhookEvent._meta.db_table)
    for converter in connection.ops.get_db_converters(received):  # SQLite returns text
        received_at = converter(received_at, received, connection)
    return pk, count, status, received_at


@cache
def _statement(vendor):
    meta = WebhookEvent._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    deliveries, attempt = quote("deliveries"), quote("attempt")
    # Every name comes from the model's metadata; the values go as parameters.
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({quote(meta.get_field('event_id').column)}) DO UPDATE SET "
        f"{deliveries} = {table}.{deliveries} + 1, "
        f"{attempt} = CASE WHEN EXCLUDED.{attempt} > {table}.{attempt} "
        f"THEN EXCLUDED.{attempt} ELSE {table}.{attempt} END "
        f"RETURNING {', '.join(quote(name) for name in _RETURNED)}"
    )
    return fields, sql
