from django.apps import AppConfig


class TelnyxIvrConfig(AppConfig):
    name = "telnyx_ivr"
    verbose_name = "Telnyx IVR"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from celery.signals import worker_ready

        from . import checks  # noqa: F401  (registers the system checks)
        from .dispatch import start_rescuer

        # Every worker rescues what the queue did not deliver (telnyx_ivr.dispatch).
        worker_ready.connect(start_rescuer, weak=False, dispatch_uid="telnyx_ivr.rescuer")
