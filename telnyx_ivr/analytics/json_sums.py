"""Summing the roll-ups' JSON count maps (histograms, exits, destinations...) in the database.

A month of roll-ups is tens of thousands of rows; decoding each row's maps in Python costs
more than the page may take. The database adds them up instead (``json_each`` in SQLite,
``jsonb_each_text`` in PostgreSQL) and returns one small map per group.
"""

from collections import defaultdict
from contextlib import contextmanager

from django.db import connections, transaction

_EACH = {
    "postgresql": ("jsonb_each_text(r.{column})", "CAST(e.value AS bigint)"),
    "sqlite": ("json_each(r.{column})", "e.value"),
}


def summed_maps(queryset, columns, group_by=()):
    """``{column: {group: {key: total}}}`` over the rows of ``queryset``: each JSON column in
    ``columns`` (objects of counts) summed key by key per value of the ``group_by`` fields
    (``group`` is a tuple of them; ``()`` without ``group_by``)."""
    connection = connections[queryset.db]
    each, value = _EACH[connection.vendor]
    inner, params = queryset.values(*group_by, *columns).query.sql_with_params()
    groups = [f"r.{connection.ops.quote_name(name)}" for name in group_by]
    selects = []
    for index, column in enumerate(columns):
        source = each.format(column=connection.ops.quote_name(column))
        grouped = ", ".join([*groups, "e.key"])
        selects.append(
            f"SELECT {index} AS col, {grouped}, SUM({value}) "  # noqa: S608 (quoted names only)
            f"FROM r, {source} AS e GROUP BY {grouped}"
        )
    # Only quoted column names and Django's own SQL are put together; values are parameters.
    sql = f"WITH r AS ({inner}) " + " UNION ALL ".join(selects)
    result = {column: defaultdict(dict) for column in columns}
    with without_jit(queryset.db), connection.cursor() as cursor:
        cursor.execute(sql, params)
        for index, *group, key, total in cursor.fetchall():
            result[columns[index]][tuple(group)][key] = int(total)
    return {column: dict(maps) for column, maps in result.items()}


@contextmanager
def without_jit(using="default"):
    """Run the block in a transaction whose PostgreSQL queries are not JIT-compiled.

    The planner takes each row's JSON map for 100 keys, so a month of sums looks costly
    enough to compile: 350 ms of compiling for a 40 ms query. Re-entrant: a page computing
    several figures sets it once (one query), in the outermost block; SET LOCAL ends with the
    transaction (or with the request's, under ATOMIC_REQUESTS)."""
    connection = connections[using]
    if connection.vendor != "postgresql" or getattr(connection, "_telnyx_ivr_without_jit", False):
        yield
        return
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        connection._telnyx_ivr_without_jit = True
        try:
            yield
        finally:
            connection._telnyx_ivr_without_jit = False
