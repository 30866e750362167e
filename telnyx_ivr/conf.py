"""The app's settings: one ``TELNYX_IVR`` dict in the host's settings.

Read lazily and dropped on ``setting_changed`` (as DRF does), so that
``override_settings(TELNYX_IVR={...})`` works in tests and nothing is read at import time.

    from telnyx_ivr.conf import ivr_settings
    ivr_settings.API_KEY
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

SETTINGS_NAME = "TELNYX_IVR"

DEFAULTS = {
    # --- Webhook verification -------------------------------------------------------------
    # Base64 Ed25519 public key(s) from the Telnyx portal. A list, or one string with
    # comma-separated keys: during a key rotation both the old and the new key verify.
    "PUBLIC_KEYS": [],
    # How far (seconds) the telnyx-timestamp header may be from our clock, either way.
    "TIMESTAMP_TOLERANCE_SECONDS": 300,
    # Largest webhook body accepted; larger ones get 413 before they are read.
    "MAX_BODY_BYTES": 1024 * 1024,
    # Turns signature verification off. Only for local experiments: system check
    # telnyx_ivr.W002 warns for as long as it is on, and it never depends on DEBUG.
    "INSECURE_SKIP_SIGNATURE_VERIFICATION": False,
    # --- Call Control API -----------------------------------------------------------------
    # Read from the environment by the host's settings; never stored in the database.
    "API_KEY": None,
    "API_BASE_URL": "https://api.telnyx.com/v2",
    # Telnyx asks clients to resend (same command_id) a command unanswered after ~500 ms,
    # so the read timeout is short on purpose.
    "CONNECT_TIMEOUT": 3.05,
    "READ_TIMEOUT": 0.5,
    # Retries of 429, 5xx, connection errors and timeouts (same command_id each time).
    "MAX_RETRIES": 2,
    "RETRY_BACKOFF_SECONDS": 0.5,
    "RETRY_BACKOFF_MAX_SECONDS": 8.0,
    # A caller hears nothing while a command is retried: a retry that would wait longer than
    # this after a failure (a 429 whose reset is far off) is not made, and the menu's
    # on_command_failure fallback plays at once. None: no limit.
    "RETRY_GIVE_UP_SECONDS": 5.0,
    # --- Call simulator (python manage.py ivr_simulator) --------------------------------
    # Base64 of a 32-byte Ed25519 seed the simulator signs webhooks with; its public key
    # must be in PUBLIC_KEYS. Only for development and tests, never for real traffic.
    "SIMULATOR_SIGNING_KEY": None,
    # Where the simulator delivers webhooks. None: this site's webhook (the reversed
    # "telnyx_ivr:webhook") on the development server, telnyx_ivr.simulator.service.DEV_SERVER.
    "SIMULATOR_WEBHOOK_URL": None,
    # --- Processing -----------------------------------------------------------------------
    # Events still pending this long after they arrived, and commands still pending this
    # long after they were due, are processed by a worker's rescue loop (telnyx_ivr.dispatch)
    # straight from the database, whatever became of their task.
    "STALE_EVENT_SECONDS": 3,
    # How often each worker's rescue loop looks; 0 turns the loop off (then run
    # telnyx_ivr.tasks.requeue_stale_events from beat, which does the same once).
    "DISPATCH_INTERVAL_SECONDS": 1.0,
    # --- Retention ------------------------------------------------------------------------
    # Days the call log keeps webhook and command bodies (and whole calls, when asked to
    # prune those): manage.py ivr_prune and telnyx_ivr.tasks.prune_call_log. None keeps all.
    "RETENTION_DAYS": None,
    # --- Health (the health/ endpoint and manage.py ivr_health) -------------------------
    # A webhook event still pending, or a command still unsent, this long is reported.
    "HEALTH_EVENT_WAIT_SECONDS": 30,
    "HEALTH_COMMAND_WAIT_SECONDS": 30,
    # How long the broker may take to accept a connection before it counts as down.
    "HEALTH_BROKER_TIMEOUT_SECONDS": 0.5,
    # --- Read API (telnyx_ivr.api) --------------------------------------------------------
    # Who may read the call log over the API, as DRF permission classes (dotted paths).
    # Authentication is the host's REST_FRAMEWORK setting.
    "READ_API_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
}

# Settings that have no usable default: reading one that is unset raises an error naming it.
REQUIRED = frozenset({"API_KEY"})


class IVRSettings:
    def __init__(self, defaults=None):
        self.defaults = defaults or DEFAULTS
        self._cached = set()

    @property
    def user_settings(self):
        if not hasattr(self, "_user_settings"):
            value = getattr(settings, SETTINGS_NAME, {})
            if not isinstance(value, dict):
                raise ImproperlyConfigured(
                    f"settings.{SETTINGS_NAME} must be a dict, not {type(value).__name__}."
                )
            unknown = sorted(set(value) - set(self.defaults))
            if unknown:
                raise ImproperlyConfigured(
                    f"Unknown key(s) in settings.{SETTINGS_NAME}: {', '.join(unknown)}. "
                    f"Valid keys: {', '.join(sorted(self.defaults))}."
                )
            self._user_settings = value
        return self._user_settings

    def __getattr__(self, attr):
        if attr not in self.defaults:
            raise AttributeError(f"Invalid {SETTINGS_NAME} setting: {attr!r}")
        value = self.user_settings.get(attr, self.defaults[attr])
        if attr in REQUIRED and not value:
            raise ImproperlyConfigured(
                f'{SETTINGS_NAME}["{attr}"] is not set. Add it to settings.{SETTINGS_NAME}, '
                "read from the environment or a secret store rather than written in the code."
            )
        if attr == "PUBLIC_KEYS":
            value = parse_key_list(value)
        self._cached.add(attr)
        setattr(self, attr, value)
        return value

    def reload(self):
        for attr in self._cached:
            delattr(self, attr)
        self._cached.clear()
        if hasattr(self, "_user_settings"):
            delattr(self, "_user_settings")


def parse_key_list(value):
    """Accept a list of keys or one comma-separated string; drop blanks."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    return [key.strip() for key in value if key and key.strip()]


ivr_settings = IVRSettings(DEFAULTS)


@receiver(setting_changed)
def _reload_settings(*, setting, **kwargs):
    if setting == SETTINGS_NAME:
        ivr_settings.reload()
