from django.apps import AppConfig


class TelnyxIvrConfig(AppConfig):
    name = "telnyx_ivr"
    verbose_name = "Telnyx IVR"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from celery.signals import task_prerun, worker_ready
        from django.core.signals import request_finished, request_started

        from . import checks  # noqa: F401  (registers the system checks)
        from .dispatch import after_response, start_rescuer

        # Events stored while answering a request are published once it is answered.
        request_started.connect(
            after_response.request_started, weak=False, dispatch_uid="telnyx_ivr.collect"
        )
        request_finished.connect(
            after_response.request_finished, weak=False, dispatch_uid="telnyx_ivr.publish"
        )

        # A worker keeps its database connection between the app's tasks where the site lets
        # Celery keep it (CELERY_DB_REUSE_MAX): checked first, as Django checks it per request.
        task_prerun.connect(
            _check_connections, weak=False, dispatch_uid="telnyx_ivr.check_connections"
        )
        # Every worker rescues what the queue did not deliver (telnyx_ivr.dispatch).
        worker_ready.connect(start_rescuer, weak=False, dispatch_uid="telnyx_ivr.rescuer")


def _check_connections(sender=None, **kwargs):
    from django.db import close_old_connections

    if getattr(sender, "name", "").startswith("telnyx_ivr.") and not getattr(
        getattr(sender, "request", None), "is_eager", False
    ):
        close_old_connections()
