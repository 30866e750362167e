"""Build the simulator the way this site is configured, for the ``ivr_simulator`` command and
for anything that drives it from another process."""

import base64
import binascii
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.urls import NoReverseMatch, reverse
from nacl.signing import SigningKey

from ..conf import SETTINGS_NAME, ivr_settings
from .control import SimulatorClient
from .server import TelnyxSimulator

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# Where SIMULATOR_WEBHOOK_URL's default finds the site: runserver's default address.
DEV_SERVER = "http://127.0.0.1:8000"
WEBHOOK_URL_NAME = "telnyx_ivr:webhook"


def webhook_path():
    """This site's webhook path (wherever it mounts telnyx_ivr.urls), or None if it does not."""
    try:
        return reverse(WEBHOOK_URL_NAME)
    except NoReverseMatch:
        return None


def simulator_webhook_url():
    """Where the simulator delivers webhooks: SIMULATOR_WEBHOOK_URL, or by default this
    site's webhook path on the development server (http://127.0.0.1:8000/.../webhook/)."""
    configured = ivr_settings.SIMULATOR_WEBHOOK_URL
    if configured:
        return configured
    path = webhook_path()
    if path is None:
        raise ImproperlyConfigured(
            f'This site\'s URLconf has no "{WEBHOOK_URL_NAME}" URL: include telnyx_ivr.urls '
            f'(with namespace telnyx_ivr), or set {SETTINGS_NAME}["SIMULATOR_WEBHOOK_URL"] to '
            "the URL the simulator should deliver webhooks to."
        )
    return DEV_SERVER + path


def simulator_address():
    """(host, port) the simulator must listen on: the host and port of API_BASE_URL."""
    parts = urlsplit(ivr_settings.API_BASE_URL)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        raise ImproperlyConfigured(
            f'{SETTINGS_NAME}["API_BASE_URL"] is {ivr_settings.API_BASE_URL!r}: the simulator '
            "stands in for Telnyx only when the app sends its commands to a loopback address, "
            "e.g. http://127.0.0.1:8001/v2."
        )
    if parts.path.rstrip("/") != "/v2":
        raise ImproperlyConfigured(
            f'{SETTINGS_NAME}["API_BASE_URL"] must end in /v2 to reach the simulator'
        )
    return parts.hostname, parts.port or 80


def signing_key():
    seed = ivr_settings.SIMULATOR_SIGNING_KEY
    if not seed:
        raise ImproperlyConfigured(
            f'{SETTINGS_NAME}["SIMULATOR_SIGNING_KEY"] is not set: give the simulator a base64 '
            "Ed25519 seed (`python manage.py ivr_simulator --new-key` makes one) and put its "
            f'public key in {SETTINGS_NAME}["PUBLIC_KEYS"].'
        )
    try:
        raw = base64.b64decode(seed, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ImproperlyConfigured(
            f'{SETTINGS_NAME}["SIMULATOR_SIGNING_KEY"] must be base64 of 32 bytes'
        )
    return SigningKey(raw)


def configured_simulator(**options):
    """A (not yet started) TelnyxSimulator with this site's address, key and webhook URL."""
    host, port = simulator_address()
    key = signing_key()
    simulator = TelnyxSimulator(
        simulator_webhook_url(),
        api_key=ivr_settings.API_KEY,
        signing_key=key,
        host=host,
        port=port,
        **options,
    )
    if simulator.public_key not in ivr_settings.PUBLIC_KEYS:
        raise ImproperlyConfigured(
            f"The simulator's public key {simulator.public_key} is not in "
            f'{SETTINGS_NAME}["PUBLIC_KEYS"], so this site would reject its webhooks.'
        )
    return simulator


def configured_client(timeout=5.0):
    """A client for the simulator this site is configured to use (it may not be running)."""
    simulator_address()
    return SimulatorClient(ivr_settings.API_BASE_URL, ivr_settings.API_KEY, timeout=timeout)


def new_signing_seed():
    """A fresh base64 seed for SIMULATOR_SIGNING_KEY, and its base64 public key."""
    key = SigningKey.generate()
    public = base64.b64encode(bytes(key.verify_key)).decode("ascii")
    return base64.b64encode(bytes(key)).decode("ascii"), public
