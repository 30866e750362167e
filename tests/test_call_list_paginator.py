"""The call list counts a long list by PostgreSQL's estimate, a short one exactly."""

import pytest

from telnyx_ivr.admin import paginators
from telnyx_ivr.admin.paginators import EstimatedCountPaginator
from telnyx_ivr.models import Call

from . import services

pytestmark = pytest.mark.django_db


def make_calls(count):
    Call.objects.bulk_create(
        Call(call_control_id=f"v3:p{index}", direction="incoming") for index in range(count)
    )


def test_a_short_list_is_counted_exactly():
    make_calls(7)
    assert EstimatedCountPaginator(Call.objects.all(), 100).count == 7
    assert EstimatedCountPaginator(Call.objects.none(), 100).count == 0


def test_a_long_list_is_counted_by_the_estimate(monkeypatch):
    services.require_postgres()
    make_calls(300)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE telnyx_ivr_call")
    monkeypatch.setattr(paginators, "ESTIMATE_ABOVE", 100)
    estimated = EstimatedCountPaginator(Call.objects.all(), 100).count
    assert 200 <= estimated <= 400  # the planner's figure, close to the 300 rows
    assert EstimatedCountPaginator(Call.objects.filter(pk__lt=0), 100).count == 0
