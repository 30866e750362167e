"""Summing the roll-ups' JSON count maps in the database, and the JIT that made it slow."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from telnyx_ivr.analytics.json_sums import summed_maps, without_jit
from telnyx_ivr.models import PipelineRollup

from . import services

pytestmark = pytest.mark.django_db


def test_maps_are_summed_key_by_key():
    bucket = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    PipelineRollup.objects.create(bucket=bucket, errors={"503": 2, "422 90018": 1})
    PipelineRollup.objects.create(bucket=bucket, is_test=True, errors={"503": 5})
    PipelineRollup.objects.create(bucket=bucket.replace(hour=10), errors={})
    sums = summed_maps(PipelineRollup.objects.all(), ["errors", "latency_ms"])
    assert sums["errors"] == {(): {"503": 7, "422 90018": 1}}
    assert sums["latency_ms"] == {}
    by_test = summed_maps(PipelineRollup.objects.all(), ["errors"], group_by=("is_test",))
    assert by_test["errors"] == {(False,): {"503": 2, "422 90018": 1}, (True,): {"503": 5}}


def test_the_sums_are_planned_without_jit_once_per_page(transactional_db):
    """A month of node roll-ups took 450 ms, of which 350 ms were PostgreSQL compiling the
    query (its cost estimate passed jit_above_cost); without JIT, 40 ms."""
    services.require_postgres()

    def jit():
        with connection.cursor() as cursor:
            cursor.execute("SHOW jit")
            return cursor.fetchone()[0]

    before = jit()
    with CaptureQueriesContext(connection) as queries, without_jit():
        assert jit() == "off"
        with without_jit():  # nested, as the figures' parts are: set once
            summed_maps(PipelineRollup.objects.all(), ["errors"])
            summed_maps(PipelineRollup.objects.all(), ["latency_ms"])
    assert [q["sql"] for q in queries].count("SET LOCAL jit = off") == 1
    assert jit() == before  # only for that transaction
