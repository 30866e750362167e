"""How fast does the webhook endpoint answer? Telnyx wants an answer within 2 seconds.

Over a throwaway test database it measures two things, one delivery after another:
- in-process: Django's test client straight into the handler (verify, parse, insert, commit,
  queue), i.e. the time the app itself spends;
- over HTTP: a real socket to Django's LiveServerThread. That server writes headers and body
  in separate packets, and with Nagle's algorithm on, the second waits for the client's
  delayed ACK (about 40 ms on Linux loopback);
- over HTTP, no Nagle: the same server with TCP_NODELAY on its connections, as production
  servers set it, which removes that wait.
Prints latency percentiles and throughput. The database and broker are whatever
DATABASE_URL / CELERY_BROKER_URL say (a file SQLite and an in-memory broker by default).

    .venv/bin/python bench/webhook_ingest.py [--events 500] [--duplicates 0.2]
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--duplicates", type=float, default=0.2, help="share of redeliveries")
    args = parser.parse_args()

    import django

    django.setup()
    import socket

    import requests
    from django.conf import settings
    from django.core.servers.basehttp import WSGIRequestHandler
    from django.db import connection
    from django.test import Client
    from django.test.testcases import LiveServerThread, _StaticFilesHandler
    from django.test.utils import setup_test_environment

    from project.celery import app as celery_app
    from telnyx_ivr.models import WebhookEvent
    from telnyx_ivr.testing import WebhookSigner, event_body

    if not os.environ.get("CELERY_BROKER_URL"):
        celery_app.conf.broker_url = celery_app.conf.CELERY_BROKER_URL = "memory://"
    # Both names: Celery 5.6 reads the Django settings' CELERY_* names first.
    queue = f"telnyx-ivr-bench-{os.getpid()}"
    celery_app.conf.task_default_queue = celery_app.conf.CELERY_TASK_DEFAULT_QUEUE = queue
    signer = WebhookSigner()
    settings.TELNYX_IVR = {**settings.TELNYX_IVR, "PUBLIC_KEYS": [signer.public_key]}

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    server = LiveServerThread("127.0.0.1", _StaticFilesHandler, connections_override={})
    server.daemon = True
    server.start()
    server.is_ready.wait()
    url = f"http://127.0.0.1:{server.port}/telnyx/webhook/"
    session = requests.Session()
    try:
        bodies = []
        for index in range(args.events):
            if bodies and index % max(1, round(1 / args.duplicates or 1e9)) == 0:
                bodies.append(bodies[-1])  # a redelivery of the previous event
            else:
                envelope = event_body("call.gather.ended", {"call_control_id": f"v3:{index}"})
                bodies.append(json.dumps(envelope).encode())
        client = Client()

        def in_process(body):
            return signer.post(client, "/telnyx/webhook/", body)

        def over_http(body):
            return session.post(url, data=body, headers=signer.sign(body), timeout=10)

        plain_setup = WSGIRequestHandler.setup

        def no_nagle_setup(handler):
            handler.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            plain_setup(handler)

        def over_http_no_nagle(body):
            WSGIRequestHandler.setup = no_nagle_setup
            return over_http(body)

        results = {}
        modes = (
            ("in-process", in_process),
            ("over HTTP", over_http),
            ("no Nagle", over_http_no_nagle),
        )
        for label, send in modes:
            session.close()  # new connections, so the server's socket option applies
            WebhookEvent.objects.all().delete()
            for body in bodies[:20]:  # warm up connections and caches
                send(body)
            WebhookEvent.objects.all().delete()
            latencies = []
            started = time.perf_counter()
            for body in bodies:
                t0 = time.perf_counter()
                response = send(body)
                latencies.append((time.perf_counter() - t0) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"unexpected {response.status_code}: {response.content}")
            elapsed = time.perf_counter() - started
            results[label] = (latencies, elapsed, WebhookEvent.objects.count())
    finally:
        # Close keep-alive sockets first: the server thread serving one holds a DB connection
        # that would stop the test database from being dropped.
        session.close()
        server.terminate()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # server threads keep persistent connections
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
        connection.creation.destroy_test_db(old_name, verbosity=0)

    print(f"database: {connection.vendor}, broker: {celery_app.conf.broker_url.split('://')[0]}")
    for label, (latencies, elapsed, stored) in results.items():
        q = statistics.quantiles(latencies, n=100)
        print(
            f"{label:>10}: {len(latencies)} deliveries ({stored} distinct stored)  "
            f"p50 {q[49]:.1f} ms  p95 {q[94]:.1f} ms  p99 {q[98]:.1f} ms  "
            f"max {max(latencies):.1f} ms  {len(latencies) / elapsed:.0f}/s sequential"
        )


if __name__ == "__main__":
    main()
