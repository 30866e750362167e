"""System checks. IDs are stable: telnyx_ivr.E001 and so on; never renumber them."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

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
