"""Playing simulated calls through this site inside one process: no runserver, worker or broker.

The pieces the pytest plugin (telnyx_ivr.pytest_plugin) and ``manage.py ivr_seed_calls``
share: the app's Celery tasks run eagerly, the app is pointed at a simulator, the webhook's
path is spared an https redirect, and (``site_server``) the site's own WSGI application is
served on a loopback port from a thread, so the simulator's signed webhooks reach the real
webhook view.

Eager tasks: each webhook's processing runs inside the webhook request, right after the event
is stored; its commands are sent before the webhook is answered. What is not exercised is the
queue itself: retry countdowns are not waited for, and one call's events never race in
several workers.
"""

import re
import threading
from contextlib import contextmanager

# Eager processing answers the webhook only once the engine has run and its commands are
# sent, so the simulator waits longer than Telnyx's 2 s before it would redeliver.
DELIVERY_TIMEOUT = 10.0


@contextmanager
def eager_celery_tasks():
    """Run tasks of the current Celery app (the host's) synchronously where they are queued,
    propagating their exceptions; restore the app's configuration afterwards."""
    from celery import current_app

    from ..broker import set_celery_setting

    conf = current_app.conf
    saved = {name: conf[name] for name in ("task_always_eager", "task_eager_propagates")}
    for name in saved:
        set_celery_setting(current_app, name, True)
    try:
        yield current_app
    finally:
        for name, value in saved.items():
            set_celery_setting(current_app, name, value)


@contextmanager
def app_pointed_at(simulator):
    """``override_settings`` of ``TELNYX_IVR`` with the simulator's API URL, key and public key
    (the host's other ``TELNYX_IVR`` keys are kept)."""
    from django.conf import settings
    from django.test import override_settings

    ivr = {
        **getattr(settings, "TELNYX_IVR", {}),
        "API_BASE_URL": simulator.api_base_url,
        "API_KEY": simulator.api_key,
        "PUBLIC_KEYS": [simulator.public_key],
    }
    with override_settings(TELNYX_IVR=ivr):
        yield


@contextmanager
def webhook_not_redirected():
    """The webhook's path in ``SECURE_REDIRECT_EXEMPT`` while inside: the simulator, like
    Telnyx, follows no redirect. ``SecurityMiddleware`` reads the setting when it is built,
    so enter this before the server that serves the webhook starts."""
    from django.conf import settings
    from django.test import override_settings

    from .service import webhook_path

    path = webhook_path() if settings.configured else None
    if path is None:
        yield
        return
    exempt = [*settings.SECURE_REDIRECT_EXEMPT, f"^{re.escape(path.lstrip('/'))}$"]
    with override_settings(SECURE_REDIRECT_EXEMPT=exempt):
        yield


@contextmanager
def site_server(host="127.0.0.1"):
    """Serve this site's WSGI application on ``host`` (a free port) from a thread; yields its
    base URL (``http://127.0.0.1:PORT``).

    Requests run in threads of their own, each with its own database connections, closed when
    the request ends; an in-memory SQLite database (a test's) is shared with them instead, as
    Django's LiveServerTestCase does. The host is added to ``ALLOWED_HOSTS`` while serving.
    """
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.db import connections
    from django.test import modify_settings

    class QuietHandler(WSGIRequestHandler):
        # Headers and body go out in two writes; without TCP_NODELAY the simulator's delayed
        # ACK holds every webhook's answer ~40 ms (it keeps its connection alive).
        disable_nagle_algorithm = True

        def log_message(self, format, *args):
            pass  # no access log line per webhook: a seeding run would print thousands

    shared = {
        conn.alias: conn
        for conn in connections.all()
        if conn.vendor == "sqlite" and conn.is_in_memory_db()
    }
    for conn in shared.values():
        conn.inc_thread_sharing()
    try:
        with modify_settings(ALLOWED_HOSTS={"append": host}):
            httpd = ThreadedWSGIServer(
                (host, 0),
                QuietHandler,
                allow_reuse_address=False,
                connections_override=shared,
            )
            httpd.set_app(WSGIHandler())
            thread = threading.Thread(
                target=httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="site-server",
                daemon=True,
            )
            thread.start()
            try:
                yield f"http://{host}:{httpd.server_address[1]}"
            finally:
                httpd.shutdown()
                httpd.server_close()
                thread.join(5)
    finally:
        for conn in shared.values():
            conn.dec_thread_sharing()


@contextmanager
def simulated_site(**simulator_options):
    """This site served in-process, a started ``TelnyxSimulator`` delivering to its webhook,
    the app pointed at the simulator and tasks run eagerly: yields the simulator.

    Raises ImproperlyConfigured when the site's URLconf does not mount telnyx_ivr.urls.
    """
    from django.core.exceptions import ImproperlyConfigured

    from .server import TelnyxSimulator
    from .service import WEBHOOK_URL_NAME, webhook_path

    path = webhook_path()
    if path is None:
        raise ImproperlyConfigured(
            f'This site\'s URLconf has no "{WEBHOOK_URL_NAME}" URL: include telnyx_ivr.urls '
            "(with namespace telnyx_ivr) so simulated calls can reach the webhook."
        )
    simulator_options.setdefault("delivery_timeout", DELIVERY_TIMEOUT)
    with (
        webhook_not_redirected(),
        site_server() as base_url,
        TelnyxSimulator(webhook_url=base_url + path, **simulator_options) as simulator,
        app_pointed_at(simulator),
        eager_celery_tasks(),
    ):
        yield simulator
