"""The runner looks up schedules and earlier calls only for the steps that reach an
office-hours node or a check of earlier calls: the core, given NOT_LOOKED_UP, says when it
needs them (ContextNeeded), and the runner decides again with them."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from telnyx_ivr import examples
from telnyx_ivr.engine.core import ContextNeeded
from telnyx_ivr.engine.state import NOT_LOOKED_UP
from telnyx_ivr.models import Schedule

from .test_engine_support import CallDriver

TUESDAY_NOON_IN_NEW_YORK = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


def answered_classic_call():
    driver = CallDriver(
        json.loads(examples.read("classic_tree")),
        clock=TUESDAY_NOON_IN_NEW_YORK - timedelta(seconds=3),
        context=NOT_LOOKED_UP,
    )
    driver.feed(
        "call.initiated", {"direction": "incoming", "from": "+15551230000", "to": "+15559870000"}
    )
    driver.feed("call.answered")
    return driver


def test_a_step_that_reaches_no_check_is_decided_without_a_lookup():
    decision = answered_classic_call().gather_ended("valid", "1")  # sales: no check on the way
    assert [c.action for c in decision.commands]


def test_a_step_that_reaches_office_hours_asks_for_the_lookup():
    with pytest.raises(ContextNeeded):
        answered_classic_call().gather_ended("valid", "0")  # the operator: office hours first


def schedule_queries(queries):
    table = Schedule._meta.db_table
    return [q["sql"] for q in queries if table in q["sql"]]


@pytest.mark.django_db
def test_the_runner_reads_the_schedules_only_for_the_step_that_reaches_office_hours(
    api, classic, caller
):
    with CaptureQueriesContext(connection) as start:
        caller.deliver("call.initiated", direction="incoming")
        caller.reply_to(api.requests[-1].json, "call.answered")
    assert schedule_queries(start.captured_queries) == []
    with CaptureQueriesContext(connection) as press:
        caller.reply_to(api.requests[-1].json, "call.gather.ended", digits="0", status="valid")
    assert schedule_queries(press.captured_queries) != []
    # Decided with the office's hours as they are in the database: open or closed, the
    # operator step was passed through office hours (a transfer, or the closed message).
    assert api.requests[-1].action in {"transfer", "speak"}
