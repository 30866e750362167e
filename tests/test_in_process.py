"""telnyx_ivr.simulator.in_process.site_server: the site served from a thread of this process,
as ivr_seed_calls delivers its webhooks to it."""

import statistics
import time

import requests
from django.urls import reverse

from telnyx_ivr.simulator.in_process import site_server


def test_the_site_answers_a_kept_alive_connection_without_a_delayed_ack_stall():
    """Headers and body leave in two writes: without TCP_NODELAY the client's delayed ACK held
    each answer on a kept-alive connection ~40 ms, which was most of a seeded call's time."""
    with site_server() as base, requests.Session() as session:
        url = base + reverse("telnyx_ivr:webhook")
        times = []
        for _ in range(15):
            began = time.perf_counter()
            answer = session.get(url, timeout=5)
            times.append(time.perf_counter() - began)
    assert answer.status_code == 405  # the real webhook view: it takes POSTs only
    assert statistics.median(times[1:]) < 0.02, times
