"""System checks. IDs are stable: telnyx_ivr.E001 and so on; never renumber them."""

from ipaddress import ip_address
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from .broker import broker_problem
from .conf import SETTINGS_NAME, ivr_settings
from .telnyx.signature import InvalidPublicKey, load_public_key


@register(Tags.security, deploy=False)
def check_webhook_verification(app_configs=None, **kwargs):
    messages = []
    try:
        keys = ivr_settings.PUBLIC_KEYS
        skip = ivr_settings.INSECURE_SKIP_SIGNATURE_VERIFICATION
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="telnyx_ivr.E003")]
    if skip:
        messages.append(
            Warning(
                "Webhook signature verification is switched off: anyone who can reach the "
                "webhook URL can drive your calls.",
                hint=f'Remove {SETTINGS_NAME}["INSECURE_SKIP_SIGNATURE_VERIFICATION"].',
                id="telnyx_ivr.W002",
            )
        )
    elif not keys:
        hint = (
            f'Set {SETTINGS_NAME}["PUBLIC_KEYS"] to the base64 public key from the Telnyx '
            "portal (Account Settings > Keys & Credentials > Public Key). Until then every "
            "webhook is rejected with 403."
        )
        text = "No Telnyx public key is configured, so no webhook can be verified."
        if settings.DEBUG:
            messages.append(Warning(text, hint=hint, id="telnyx_ivr.W001"))
        else:
            messages.append(Error(text, hint=hint, id="telnyx_ivr.E001"))
    for index, key in enumerate(keys):
        try:
            load_public_key(key)
        except InvalidPublicKey as exc:
            messages.append(
                Error(
                    f'{SETTINGS_NAME}["PUBLIC_KEYS"][{index}] is not an Ed25519 public key: {exc}.',
                    hint="Copy the public key from the Telnyx portal: base64 of 32 bytes.",
                    id="telnyx_ivr.E002",
                )
            )
    return messages


@register()
def check_call_control_api(app_configs=None, **kwargs):
    """Without DEBUG this is a live site: its commands must be able to reach Telnyx."""
    if settings.DEBUG:
        return []
    try:
        configured = ivr_settings.user_settings
        base_url = ivr_settings.API_BASE_URL
    except ImproperlyConfigured:
        return []  # reported by check_webhook_verification as E003
    messages = []
    if not configured.get("API_KEY"):
        messages.append(
            Error(
                f'{SETTINGS_NAME}["API_KEY"] is not set, so no call can be answered: every '
                "command to Telnyx would fail in the worker and callers would hear nothing.",
                hint=f'Set {SETTINGS_NAME}["API_KEY"] to your Telnyx API v2 key, read from the '
                "environment (never commit it).",
                id="telnyx_ivr.E004",
            )
        )
    if _is_loopback(urlsplit(base_url).hostname):
        messages.append(
            Warning(
                f'{SETTINGS_NAME}["API_BASE_URL"] is {base_url!r}, an address on this machine, '
                "while DEBUG is off: commands go to a local stand-in, not to Telnyx.",
                hint=f'Remove {SETTINGS_NAME}["API_BASE_URL"] (the default is Telnyx\'s '
                "https://api.telnyx.com/v2) unless this is a test environment.",
                id="telnyx_ivr.W003",
            )
        )
    return messages


@register()
def check_celery_broker(app_configs=None, **kwargs):
    found = broker_problem()
    if found is None:
        return []
    problem, hint = found
    if settings.DEBUG:
        return [Warning(problem, hint=hint, id="telnyx_ivr.W004")]
    return [Error(problem, hint=hint, id="telnyx_ivr.E005")]


def _is_loopback(host):
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


# What each app the read API leans on gives it; without one, that part fails with a 500.
READ_API_APPS = {
    "django_filters": "the filter form of DRF's browsable pages",
    "drf_spectacular": "the template of its docs page",
    "drf_spectacular_sidecar": "the Swagger UI files of its docs page",
}


@register()
def check_read_api_apps(app_configs=None, **kwargs):
    missing = [name for name in READ_API_APPS if not apps.is_installed(name)]
    if not missing:
        return []
    needs = "; ".join(f'"{name}" for {READ_API_APPS[name]}' for name in missing)
    return [
        Warning(
            f"The read API (api/ under telnyx_ivr.urls) is missing apps it needs: {needs}.",
            hint=f"Add {', '.join(repr(name) for name in missing)} to INSTALLED_APPS.",
            id="telnyx_ivr.W005",
        )
    ]
