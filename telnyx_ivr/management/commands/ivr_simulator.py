import signal
import threading

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from ...simulator.service import configured_simulator


class Command(BaseCommand):
    help = (
        "Run the local Telnyx stand-in: the Call Control command API at TELNYX_IVR "
        '["API_BASE_URL"] (a loopback address) and the control API that ivr_simulate and the '
        "admin's Test call page use. Webhooks go to SIMULATOR_WEBHOOK_URL, signed with "
        "SIMULATOR_SIGNING_KEY. Runs until interrupted."
    )

    def handle(self, **options):
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
