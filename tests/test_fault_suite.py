"""The fault run of ``bench/faults.py``, small: a few simulated calls through gunicorn, two
Celery workers, a Redis of the test's own and PostgreSQL, with each fault once (duplicates,
shuffled order, refused and unanswered commands, a worker SIGKILLed mid-task, the database's
connections killed, Redis stopped), and the goal asserted: nothing lost, nothing done twice,
no slow or 5xx answer, every call ended, no worker died."""

import json

import pytest

from telnyx_ivr import examples
from telnyx_ivr.menus.io import import_definition

from . import services
from .fault_run import FaultPlan, run

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def menus(transactional_db):
    services.require_postgres()  # pg_terminate_backend
    services.require_redis_server()
    for name in examples.names():
        import_definition(json.loads(examples.read(name)), publish=True)


def test_a_few_calls_come_through_every_fault_at_once(menus, tmp_path):
    plan = FaultPlan(
        calls=8,
        spread_seconds=6,
        command_share=0.25,
        kill_worker_at=1.5,
        terminate_db_at=2.5,
        redis_down_at=3.5,
        redis_down_for=3,
        seed=11,
    )
    report = run(plan, tmp_path, say=lambda text: None)
    print("\n" + "\n".join(report.lines()))

    assert report.goal_missed() == []
    assert report.calls_ended == report.calls_ended_in_log == 8
    assert report.events_sent > 8 * 4  # each call more than its start and end
    assert report.events_stored == report.events_accepted == report.events_processed
    assert report.answers == {200: report.deliveries}
    # Every fault fired, or the run proves nothing.
    assert report.deliveries >= 2 * report.events_sent
    assert {"no answer", "refused at random with 429", "refused at random with 500"} <= set(
        report.commands_refused
    ), report.commands_refused
    assert report.worker_kills == 1
    assert report.broker_back_at is not None
