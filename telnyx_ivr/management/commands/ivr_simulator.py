import signal
import threading

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from ...conf import SETTINGS_NAME
from ...simulator.service import configured_simulator, new_signing_seed


class Command(BaseCommand):
    help = (
        "Run the local Telnyx stand-in: the Call Control command API at TELNYX_IVR "
        '["API_BASE_URL"] (a loopback address) and the control API that ivr_simulate and the '
        'admin\'s Test call page use. Webhooks go to TELNYX_IVR["SIMULATOR_WEBHOOK_URL"] (by '
        "default this site's webhook on http://127.0.0.1:8000), signed with "
        'TELNYX_IVR["SIMULATOR_SIGNING_KEY"]. Runs until interrupted. With --new-key, print a '
        "fresh signing seed and its public key instead."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--new-key",
            action="store_true",
            help=(
                "print a new SIMULATOR_SIGNING_KEY seed and the public key to add to "
                "PUBLIC_KEYS, then exit"
            ),
        )

    def handle(self, **options):
        if options["new_key"]:
            self._new_key()
            return
        try:
            simulator = configured_simulator()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        try:
            simulator.start()
        except OSError as exc:
            raise CommandError(f"cannot listen for commands: {exc}") from None
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        self.stdout.write(
            f"Telnyx simulator: commands at {simulator.api_base_url}, "
            f"webhooks to {simulator.webhook_url}"
        )
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            simulator.stop()

    def _new_key(self):
        seed, public_key = new_signing_seed()
        self.stdout.write(f'{SETTINGS_NAME}["SIMULATOR_SIGNING_KEY"]: {seed}')
        self.stdout.write(f'add to {SETTINGS_NAME}["PUBLIC_KEYS"]: {public_key}')
        self.stderr.write(
            "For development and test settings only: whoever holds the seed can sign webhooks "
            "that a site trusting its public key accepts. Keep the seed out of version control "
            "and never add its public key to a production site."
        )
