from django.apps import AppConfig


class TelnyxIvrConfig(AppConfig):
    name = "telnyx_ivr"
    verbose_name = "Telnyx IVR"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)
