"""Whether this process's Celery app can queue the app's tasks anywhere.

The tasks are ``@shared_task``s: they go to whichever Celery app is current. A host that never
imports its own app (the ``from .celery import app as celery_app`` line in its package's
``__init__.py``), or whose app has no broker URL, gets Celery's fallback, which publishes to
``amqp://guest@localhost//``: webhooks are answered "stored" and never processed, with no error
anywhere. The system checks ask ``broker_problem()``, and so does queueing events.
"""

import logging

logger = logging.getLogger("telnyx_ivr.broker")

_WIRING = (
    "Load your Celery app in every process: in yourproject/__init__.py add "
    "`from .celery import app as celery_app` (docs/integration.md, section 3)."
)
_BROKER = (
    "Set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0) in your settings or environment, "
    "and read it with app.config_from_object('django.conf:settings', namespace='CELERY')."
)


def broker_problem():
    """``(problem, hint)`` when tasks would silently go nowhere useful, else None."""
    from celery import _state, current_app

    app = current_app._get_current_object()
    conf = app.conf
    if conf.task_always_eager:
        return None  # tasks run where they are queued; no broker is involved
    if conf.broker_url or conf.broker_write_url:
        return None
    if app is _state.default_app and app.main == "default":
        problem = "No Celery app of your project is loaded in this process"
        return problem + ", so the IVR's tasks would go to amqp://guest@localhost//.", _WIRING
    problem = f"The Celery app {app.main!r} has no broker configured"
    return problem + ", so the IVR's tasks would go to amqp://guest@localhost//.", _BROKER


def log_problem():
    """Log ``broker_problem()`` as an error, for processes that run no system checks
    (gunicorn, the worker): called as events are queued (dispatch.enqueue, at most every
    BROKER_CHECK_SECONDS)."""
    found = broker_problem()
    if found:
        logger.error("%s %s", *found)


def set_celery_setting(app, name, value):
    """Set one of ``app``'s settings in this process. An app configured from Django's
    settings with a namespace reads the Django name (``CELERY_TASK_ALWAYS_EAGER``) before
    its own (``task_always_eager``) in celery 5.6, so a plain assignment is ignored when
    the site's settings name it: both are set."""
    app.conf[name] = value
    if getattr(app, "namespace", None):
        app.conf[f"{app.namespace}_{name.upper()}"] = value
