"""A host's routing code that is slow in one worker (tests/test_broker_outage.py): while the
file named by IVR_TEST_SLOW_ROUTE_FILE exists, it sleeps, so that worker can be killed
in the middle of a task."""

import os
import sys
import time


def slow_then_sales(variables):
    marker = os.environ.get("IVR_TEST_SLOW_ROUTE_FILE")
    if marker and os.path.exists(marker):
        print("slow route entered", file=sys.stderr, flush=True)
        time.sleep(120)
    return "sales"
