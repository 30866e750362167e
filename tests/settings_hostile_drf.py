"""The example project's settings with a host's REST_FRAMEWORK dict taken from the environment
(JSON in IVR_TEST_REST_FRAMEWORK), for tests/test_webhook_host_drf.py. DRF reads some of it when
it is first imported, so only a fresh process sees a host's settings as a host has them."""

import json
import os

from project.settings import *  # noqa: F403

REST_FRAMEWORK = json.loads(os.environ["IVR_TEST_REST_FRAMEWORK"])
