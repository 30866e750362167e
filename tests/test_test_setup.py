"""The suite's own wiring: what it sets up must be what the code under test reads."""

from project.celery import app as celery_app
from telnyx_ivr.tasks import process_event

from .conftest import TEST_QUEUE


def test_this_process_queues_tasks_where_the_test_workers_read():
    """Under celery 5.6 a plain ``conf.task_default_queue = ...`` was ignored (the Django
    settings' CELERY_TASK_DEFAULT_QUEUE wins): every task went to "celery", and the e2e tests
    passed only through the rescue loops, 3 s a step, or timed out."""
    assert celery_app.conf.task_default_queue == TEST_QUEUE
    assert celery_app.amqp.router.route({}, process_event.name)["queue"].name == TEST_QUEUE


def test_simulated_calls_run_tasks_eagerly_even_where_the_site_names_the_setting():
    """A host whose settings say CELERY_TASK_ALWAYS_EAGER = False: celery 5.6 reads that
    name first, so setting ``task_always_eager`` alone would not make tasks eager."""
    from telnyx_ivr.simulator.in_process import eager_celery_tasks

    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = False
    try:
        with eager_celery_tasks():
            assert celery_app.conf.task_always_eager is True
        assert celery_app.conf.task_always_eager is False
    finally:
        celery_app.conf.pop("CELERY_TASK_ALWAYS_EAGER", None)
        celery_app.conf.pop("task_always_eager", None)
    assert celery_app.conf.task_always_eager is False  # Celery's default again
