"""A worker keeps its database connection between the IVR's tasks (the example project sets
CELERY_DB_REUSE_MAX, or Celery would close it around every task), and checks it before each
of them as Django checks a request's: a broken one is replaced, a sound one kept."""

import pytest
from celery.signals import task_prerun
from django.db import connection

from project.celery import app
from telnyx_ivr.tasks import process_events


def run_prerun_of(task):
    task_prerun.send(sender=task, task_id="t", task=task, args=(), kwargs={})


@pytest.mark.django_db(transaction=True)
def test_a_sound_connection_is_kept_for_the_next_task_and_a_broken_one_replaced(monkeypatch):
    connection.ensure_connection()
    monkeypatch.setattr(connection, "close_at", None)  # as CONN_MAX_AGE=None leaves it
    kept = connection.connection
    run_prerun_of(process_events)
    assert connection.connection is kept  # not reconnected: the next task's queries reuse it

    connection.errors_occurred = True
    monkeypatch.setattr(connection, "is_usable", lambda: False)
    run_prerun_of(process_events)
    assert connection.connection is None  # closed; the task's first query opens a new one


def test_the_example_project_lets_celery_keep_the_connections():
    assert app.conf.get("CELERY_DB_REUSE_MAX", None)
