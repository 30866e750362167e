"""pytest fixtures for host projects: play simulated calls through your menus in your suite.

Enable it in your ``conftest.py``::

    pytest_plugins = ["telnyx_ivr.pytest_plugin"]

``ivr_simulator`` starts a ``TelnyxSimulator`` for one test, points the app at it (API base
URL, API key and public key through ``override_settings``) and the simulator at
``live_server``'s webhook URL, and runs the app's Celery tasks eagerly, so no broker and no
worker are needed. ``simulate_call(to=..., script=[...])`` plays one call and returns the
finished ``SimulatedCall``; it raises AssertionError with the transcript when an expectation
fails, the call does not end in time, or the app failed to process one of its events.

Eager tasks, and what they do not test: each webhook's processing runs inside the webhook
request (in the live server's thread), synchronously, right after the event is stored.
Menus, prompts, routes, callables and signals behave as in production; what is not
exercised is the queue itself: retry countdowns are not waited for (a 429 is resent at
once), and one call's events never race in several workers. The project's own suite covers
those with real workers on Redis. See docs/testing.md.

A site with ``SECURE_SSL_REDIRECT = True`` would redirect the simulator's plain-http webhooks
to https, which Telnyx never follows and the simulator does not either: so while the plugin
is enabled, the webhook's path (and only it) is in ``SECURE_REDIRECT_EXEMPT`` for the whole
test session. Per test would be too late: ``SecurityMiddleware`` reads its settings once, when
the session's ``live_server`` starts. A call whose first webhook the app refuses for good (a
redirect, a 404, a bad signature) fails at once, saying why, instead of timing out.
"""

import pytest

# Shared with manage.py ivr_seed_calls; imported here too so the plugin's names keep working.
from .simulator.in_process import (
    DELIVERY_TIMEOUT,
    app_pointed_at,
    eager_celery_tasks,
    webhook_not_redirected,
)

DEFAULT_FROM = "+15550001234"


@pytest.fixture(scope="session", autouse=True)
def _ivr_webhook_not_redirected():
    """The webhook's path in ``SECURE_REDIRECT_EXEMPT`` from before ``live_server`` starts."""
    with webhook_not_redirected():
        yield


@pytest.fixture
def ivr_simulator(live_server, transactional_db):
    """A started ``TelnyxSimulator`` the app is pointed at for this test; tasks run eagerly."""
    from django.urls import reverse

    from telnyx_ivr.simulator import TelnyxSimulator

    webhook_url = live_server.url + reverse("telnyx_ivr:webhook")
    with (
        TelnyxSimulator(webhook_url=webhook_url, delivery_timeout=DELIVERY_TIMEOUT) as simulator,
        app_pointed_at(simulator),
        eager_celery_tasks(),
    ):
        yield simulator


@pytest.fixture
def simulate_call(ivr_simulator):
    """``simulate_call(to=..., script=[...], timeout=20, from_=..., **caller_options)``:
    play one call through the app and return the finished ``SimulatedCall``."""

    def simulate(to, script=(), *, timeout=20.0, from_=DEFAULT_FROM, **caller_options):
        return run_simulated_call(
            ivr_simulator, to=to, script=script, timeout=timeout, from_=from_, **caller_options
        )

    return simulate


@pytest.fixture
def telnyx_webhook(client, db):
    """``telnyx_webhook.post(body)``: POST a webhook signed with a throwaway key, which the site
    trusts for this test, to the site's webhook URL (``telnyx_webhook.url``). A ``SignedWebhooks``
    (telnyx_ivr.testing). With pytest-django's ``db`` the test's transaction never commits, so
    nothing is queued: no broker or worker is involved."""
    from django.conf import settings
    from django.test import override_settings

    from telnyx_ivr.testing import SignedWebhooks

    webhooks = SignedWebhooks(client)
    ivr = {**getattr(settings, "TELNYX_IVR", {}), "PUBLIC_KEYS": [webhooks.signer.public_key]}
    with override_settings(TELNYX_IVR=ivr):
        yield webhooks


def run_simulated_call(simulator, *, to, script=(), timeout=20.0, from_=DEFAULT_FROM, **options):
    """Play a call to ``to`` on ``simulator`` with ``script`` and wait for its end.

    ``options`` go to ``ScriptedCaller`` (``transfer_outcome``, ``hang_up_after_transfer``,
    ``announcement_seconds``, ``when_script_ends``). Returns the ``SimulatedCall``; raises
    AssertionError, with the transcript, when the call does not end within ``timeout``
    seconds, when the app failed to process an event of it or to send a command, or when
    an expectation of the script did not hold; at once when the app refuses the call's first
    webhook for good.
    """
    from telnyx_ivr.simulator import ScriptedCaller, SimulatorTimeout
    from telnyx_ivr.simulator.refusals import refused_start, refused_start_problem

    call = simulator.start_call(from_=from_, to=to, caller=ScriptedCaller(script, **options))
    try:
        simulator.wait_until(
            lambda: call.settled or refused_start(call.transcript),
            timeout,
            message=f"call {call.call_control_id} to end",
            call=call,
        )
    except SimulatorTimeout as exc:  # its message ends with the transcript
        raise AssertionError(_listed(str(exc), _app_problems(call))) from None
    refused = None if call.settled else refused_start(call.transcript)
    if refused is not None:
        call.hang_up()  # nothing would ever answer it
        raise AssertionError(
            refused_start_problem(refused, call.webhook_url) + "\n\n" + call.transcript_text()
        )
    problems = _app_problems(call)
    if problems:
        raise AssertionError(
            _listed("the app did not handle the simulated call cleanly", problems)
            + "\n\n"
            + call.transcript_text()
        )
    call.assert_expectations()
    return call


def _listed(message, problems):
    if not problems:
        return message
    return message + "\n\nThe app:\n  - " + "\n  - ".join(problems)


def _app_problems(call):
    """What went wrong on the app's side: refused webhooks, failed events and commands."""
    from telnyx_ivr.models import Command, WebhookEvent

    problems = [
        f"answered {hook.event_type} with {hook.status or hook.error}"
        for hook in call.webhooks
        if hook.status is None or not 200 <= hook.status < 300
    ]
    events = WebhookEvent.objects.filter(call_control_id=call.call_control_id)
    problems += [
        f"could not process {event_type}: {error}"
        for event_type, error in events.filter(status=WebhookEvent.Status.FAILED).values_list(
            "event_type", "error"
        )
    ]
    problems += [
        f"left {event_type} unprocessed"
        for event_type in events.filter(status=WebhookEvent.Status.PENDING).values_list(
            "event_type", flat=True
        )
    ]
    problems += [
        f"could not send {action}: {error}"
        for action, error in Command.objects.filter(
            call__call_control_id=call.call_control_id, status=Command.Status.FAILED
        ).values_list("action", "error")
    ]
    return problems
