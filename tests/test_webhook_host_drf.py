"""The host's REST_FRAMEWORK settings must never refuse a Telnyx delivery. Telnyx does not retry
a 4xx, so a 406 for its Accept header, a 401 from the host's authentication or a 429 from its
throttles would lose the event for good. Each case runs in a fresh process: DRF fixes some of
its defaults when it is first imported, as it does in the host's own processes."""

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from telnyx_ivr.models import WebhookEvent

from .celery_worker import database_url

ROOT = Path(__file__).resolve().parent.parent

HOSTILE = {
    "json only (renders nothing a browser asks for)": {
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    },
    "browsable API only": {
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.BrowsableAPIRenderer"],
        "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.FormParser"],
    },
    "a negotiation class that refuses everything": {
        "DEFAULT_CONTENT_NEGOTIATION_CLASS": "tests.hostile_drf.RefuseEverything",
    },
    "staff-only, session and basic authentication, strict throttles": {
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "rest_framework.authentication.SessionAuthentication",
            "rest_framework.authentication.BasicAuthentication",
        ],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
        "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
        "DEFAULT_THROTTLE_RATES": {"anon": "1/day"},
    },
    "URL path versioning that allows no default version": {
        "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.URLPathVersioning",
        "DEFAULT_VERSION": "v0",
        "ALLOWED_VERSIONS": ["v1"],
    },
    "an exception handler that handles nothing": {
        "EXCEPTION_HANDLER": "tests.hostile_drf.no_handler",
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.TemplateHTMLRenderer"],
    },
}

# Runs in the fresh process: posts signed deliveries with the Django test client and prints
# what came back.
DELIVER = """
import base64, json, os, sys
import django
django.setup()
from django.test import Client
from django.urls import reverse
from nacl.signing import SigningKey
from telnyx_ivr.testing import WebhookSigner, event_body

signer = WebhookSigner(SigningKey(base64.b64decode(os.environ["IVR_TEST_SEED"])))
client = Client(raise_request_exception=False)
url = reverse("telnyx_ivr:webhook")
answers = []
for accept in ["text/html", "application/xml", "application/json", "*/*", ""]:
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    body = event_body("call.initiated", {"call_control_id": "v3:host-drf"})
    answer = signer.post(client, url + "?format=api", body, **headers)
    answers.append([accept, answer.status_code, answer["Content-Type"], answer.content.decode()])
bad = WebhookSigner().post(client, url, event_body("call.initiated"), HTTP_ACCEPT="text/html")
answers.append(["bad signature", bad.status_code, bad["Content-Type"], bad.content.decode()])
get = client.get(url, headers={"Accept": "text/html"})
answers.append(["GET", get.status_code, get["Content-Type"], get.content.decode()])
print(json.dumps(answers))
"""


def deliver_under(rest_framework):
    seed = bytes(SigningKey.generate())
    public = base64.b64encode(bytes(SigningKey(seed).verify_key)).decode()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings_hostile_drf",
        "IVR_TEST_REST_FRAMEWORK": json.dumps(rest_framework),
        "IVR_TEST_SEED": base64.b64encode(seed).decode(),
        "TELNYX_PUBLIC_KEY": public,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": "memory://",
    }
    done = subprocess.run(
        [sys.executable, "-c", DELIVER],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("rest_framework", HOSTILE.values(), ids=HOSTILE.keys())
def test_host_drf_settings_never_refuse_a_signed_delivery(rest_framework):
    answers = deliver_under(rest_framework)
    *deliveries, bad, get = answers
    for accept, status, content_type, body in deliveries:
        assert (accept, status) == (accept, 200), body
        assert content_type == "application/json"
        assert json.loads(body)["status"] == "stored"
    assert WebhookEvent.objects.filter(call_control_id="v3:host-drf").count() == len(deliveries)

    # Refusals keep the app's own JSON shape whatever the host renders or handles.
    assert bad[1:3] == [403, "application/json"]
    assert json.loads(bad[3])["error"] == "invalid_signature"
    assert get[1:3] == [405, "application/json"]
    assert "GET" in json.loads(get[3])["detail"]
