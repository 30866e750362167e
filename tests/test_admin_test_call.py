"""The menu admin's Test call page and its JSON views, against a real simulator on loopback.

No worker runs here: where a test needs the call to wait for the caller, it sends the
simulator the command the app would (answer, then a gather) over HTTP, as the app does.
"""

import json
import socket
from html import unescape
from pathlib import Path

import pytest
import requests
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from telnyx_ivr.menus.io import import_definition
from telnyx_ivr.menus.publishing import deactivate_menu
from telnyx_ivr.simulator import TelnyxSimulator

from .urls_other_mount import OTHER_WEBHOOK_PATH

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "telnyx_ivr" / "examples"

pytestmark = pytest.mark.django_db


def closed_port():
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def sim(ivr_settings_for):
    # Webhooks go nowhere: these tests play the app's side themselves.
    with TelnyxSimulator(
        webhook_url=f"http://127.0.0.1:{closed_port()}/telnyx/webhook/", retry_delays=(0.01,)
    ) as simulator:
        ivr_settings_for(
            API_BASE_URL=simulator.api_base_url,
            API_KEY=simulator.api_key,
            PUBLIC_KEYS=[simulator.public_key],
        )
        yield simulator


@pytest.fixture
def admin_user(django_user_model):
    # No password: hashing one takes most of a test's time, and force_login needs none.
    return django_user_model.objects.create_superuser("admin", "admin@example.com", None)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def load(name):
    document = json.loads((EXAMPLES / f"{name}.json").read_text())
    return import_definition(document, publish=True).menu


@pytest.fixture
def classic():
    return load("classic_tree")


@pytest.fixture
def intake():
    return load("ai_intake")


def page_url(menu):
    return reverse("admin:telnyx_ivr_menu_test_call", args=[menu.pk])


def start_url(menu):
    return reverse("admin:telnyx_ivr_menu_test_call_start", args=[menu.pk])


def post_json(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def start(client, menu, **data):
    response = post_json(client, start_url(menu), data)
    assert response.status_code == 201, response.content
    return response.json()


def command(sim, call_id, action, **body):
    """Send the simulator a command as the app would."""
    response = requests.post(
        f"{sim.api_base_url}/calls/{call_id}/actions/{action}",
        json=body,
        headers={"Authorization": f"Bearer {sim.api_key}"},
        timeout=5,
    )
    assert response.status_code == 200, response.text


def waiting_call(client, sim, menu, action, **body):
    """A call answered and waiting for the caller at ``action``."""
    call = start(client, menu)
    command(sim, call["id"], "answer")
    command(sim, call["id"], action, **body)
    return call


SPEAK = {"payload": "Press 1 for sales.", "voice": "female", "valid_digits": "12"}
AI_GATHER = {"parameters": {"type": "object", "properties": {"name": {"type": "string"}}}}


# --- the page ----------------------------------------------------------------------------


def test_page_for_the_default_menu_takes_any_number(admin_client, sim, classic):
    response = admin_client.get(page_url(classic))
    assert response.status_code == 200
    html = response.content.decode()
    assert "It is the default menu (live version 1)" in html
    assert 'name="to" value="+15550000000"' in html
    assert 'id="ivr-tc-call">Call</button>' in html  # enabled
    assert "not available" not in html
    assert "telnyx_ivr/test_call.js" in html
    assert sim.api_key not in html


def test_page_for_a_menu_with_numbers_offers_them(admin_client, sim, intake):
    html = admin_client.get(page_url(intake)).content.decode()
    assert "Its live version 1 claims +15550100200." in html
    assert '<select name="to">' in html
    assert '<option value="+15550100200">' in html
    # The AI form starts from the AI gather's schema.
    assert "&quot;age&quot;: 1" in html
    assert "&quot;city&quot;: &quot;example&quot;" in html


def test_page_says_an_inactive_menu_answers_no_calls(admin_client, sim, classic):
    deactivate_menu(classic)
    html = admin_client.get(page_url(classic)).content.decode()
    assert "This menu is not active" in html
    assert 'id="ivr-tc-call" disabled>' in html


def test_page_says_an_unpublished_menu_must_be_published(admin_client, sim):
    document = json.loads((EXAMPLES / "classic_tree.json").read_text())
    menu = import_definition(document).menu
    html = admin_client.get(page_url(menu)).content.decode()
    assert "never been published" in html
    assert "Calls are matched by the live version" in html
    assert 'id="ivr-tc-call" disabled>' in html


def test_change_form_links_to_the_test_call_page(admin_client, classic):
    html = admin_client.get(reverse("admin:telnyx_ivr_menu_change", args=[classic.pk])).content
    assert f'href="{page_url(classic)}"'.encode() in html


def test_unknown_menu_is_404(admin_client, sim):
    assert (
        admin_client.get(reverse("admin:telnyx_ivr_menu_test_call", args=[999])).status_code == 404
    )
    response = post_json(
        admin_client, reverse("admin:telnyx_ivr_menu_test_call_start", args=[999]), {}
    )
    assert (response.status_code, response.json()["error"]) == (404, "No menu with the id '999'.")


# --- the simulator missing ----------------------------------------------------------------


def test_simulator_not_running_says_what_to_run(admin_client, classic, ivr_settings_for):
    ivr_settings_for(
        API_BASE_URL=f"http://127.0.0.1:{closed_port()}/v2", API_KEY="KEY_x", PUBLIC_KEYS=[]
    )
    response = admin_client.get(page_url(classic))
    assert response.status_code == 200
    html = response.content.decode()
    assert "The call simulator is not running" in html
    assert "<code>python manage.py ivr_simulator</code>" in html
    assert "<code>python3 dev.py run</code>" in html
    assert 'id="ivr-tc-call" disabled>' in html
    started = post_json(admin_client, start_url(classic), {})
    assert started.status_code == 503
    assert "not running" in started.json()["error"]
    assert "python manage.py ivr_simulator" in started.json()["fix"]


def test_a_simulator_started_with_another_key_says_so(admin_client, sim, classic, ivr_settings_for):
    ivr_settings_for(API_KEY="KEY_not_the_simulators")
    html = unescape(admin_client.get(page_url(classic)).content.decode())
    assert "it refused this site's API key" in html
    assert 'another TELNYX_IVR["API_KEY"]' in html
    started = post_json(admin_client, start_url(classic), {})
    assert started.status_code == 503
    assert "refused this site's API key" in started.json()["error"]
    assert sim.calls == []


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"API_BASE_URL": "https://api.telnyx.com/v2", "API_KEY": "KEY_x"}, '"API_BASE_URL"'),
        ({"API_BASE_URL": "http://127.0.0.1:8001/v1", "API_KEY": "KEY_x"}, '"API_BASE_URL"'),
        ({"API_BASE_URL": "http://127.0.0.1:8001/v2", "API_KEY": None}, "API_KEY"),
    ],
)
def test_simulator_not_configured_names_the_setting(
    admin_client, classic, ivr_settings_for, overrides, setting
):
    ivr_settings_for(**overrides)
    response = admin_client.get(page_url(classic))
    assert response.status_code == 200
    html = response.content.decode()
    assert "The call simulator is not configured" in html
    assert setting in html.replace("&quot;", '"')
    assert "<code>python3 dev.py run</code>" in html
    started = post_json(admin_client, start_url(classic), {})
    assert started.status_code == 503
    assert setting in started.json()["error"]


def app_templates_only(settings):
    """The site without the example project's templates/ folder: the app's own templates."""
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": []}]


def not_running(ivr_settings_for, sim):
    ivr_settings_for(API_BASE_URL=f"http://127.0.0.1:{closed_port()}/v2", API_KEY="KEY_x")


def wrong_key(ivr_settings_for, sim):
    ivr_settings_for(API_KEY="KEY_not_the_simulators")


def not_configured(ivr_settings_for, sim):
    ivr_settings_for(API_BASE_URL="https://api.telnyx.com/v2", API_KEY="KEY_x")


@pytest.mark.parametrize("problem", [not_running, wrong_key, not_configured])
def test_the_apps_own_simulator_help_is_host_neutral(
    admin_client, sim, classic, ivr_settings_for, settings, problem
):
    app_templates_only(settings)
    problem(ivr_settings_for, sim)
    html = unescape(admin_client.get(page_url(classic)).content.decode())
    assert "The call simulator is" in html
    assert "<code>python manage.py ivr_simulator</code>" in html
    started = post_json(admin_client, start_url(classic), {})
    assert started.status_code == 503
    for text in (html, started.json()["fix"]):
        for example_wording in ("dev.py", "example project", "TELNYX_API", "IVR_SIMULATOR"):
            assert example_wording not in text


@pytest.mark.parametrize("problem", [not_running, wrong_key, not_configured])
def test_the_example_project_shows_its_own_simulator_help(
    admin_client, sim, classic, ivr_settings_for, problem
):
    problem(ivr_settings_for, sim)
    response = admin_client.get(page_url(classic))
    help_template = next(
        t for t in response.templates if t.name.endswith("test_call_simulator_help.html")
    )
    assert Path(help_template.origin.name) == (
        ROOT / "templates" / "admin" / "telnyx_ivr" / "test_call_simulator_help.html"
    )
    assert "<code>python3 dev.py run</code>" in response.content.decode()


@pytest.mark.urls("tests.urls_other_mount")
def test_page_warns_when_the_simulator_delivers_to_another_path(admin_client, sim, classic):
    # The simulator was started for a site mounted at /telnyx/; this one mounts the app at
    # /phone/ivr/, so every webhook it sends would get 404.
    html = unescape(admin_client.get(page_url(classic)).content.decode())
    assert f"delivers its webhooks to {sim.webhook_url}" in html
    assert f"this site's webhook is at {OTHER_WEBHOOK_PATH}" in html
    assert 'TELNYX_IVR["SIMULATOR_WEBHOOK_URL"]' in html


def test_page_does_not_warn_when_the_simulator_delivers_to_this_sites_path(
    admin_client, sim, classic
):
    assert "delivers its webhooks to" not in admin_client.get(page_url(classic)).content.decode()


def test_page_warns_when_this_site_would_reject_the_simulators_webhooks(
    admin_client, sim, classic, ivr_settings_for
):
    ivr_settings_for(PUBLIC_KEYS=["c29tZSBvdGhlciBrZXkgb2YgMzIgYnl0ZXMgbG9uZyE="])
    html = admin_client.get(page_url(classic)).content.decode()
    assert f"public key {sim.public_key}" in html
    assert "will reject its calls" in html


# --- starting a call -------------------------------------------------------------------------


def test_start_and_poll_a_call(admin_client, sim, classic):
    call = start(admin_client, classic, **{"from": "+15550001111", "to": "+15557654321"})
    assert (call["from"], call["to"], call["ended"], call["waits_for"]) == (
        "+15550001111",
        "+15557654321",
        False,
        None,
    )
    assert sim.call(call["id"]).to == "+15557654321"
    assert call["call_log_url"].endswith("?" + "q=" + call["id"].replace(":", "%3A"))
    polled = admin_client.get(call["poll_url"])
    assert polled.status_code == 200
    assert polled.json()["id"] == call["id"]
    assert "incoming call from +15550001111 to +15557654321" in polled.json()["transcript_text"]
    assert sim.api_key not in polled.content.decode()


def test_start_defaults_to_the_menus_first_number(admin_client, sim, intake):
    call = start(admin_client, intake)
    assert (call["from"], call["to"]) == ("+15550009999", "+15550100200")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"from": "15550001111"}, '"from" must be an E.164 number'),
        ({"to": "+1555abc"}, '"to" must be an E.164 number'),
        ({"from": 5}, '"from" must be text'),
    ],
)
def test_start_rejects_bad_numbers(admin_client, sim, classic, data, message):
    response = post_json(admin_client, start_url(classic), data)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert sim.calls == []


def test_start_refuses_a_number_the_menu_does_not_claim(admin_client, sim, intake):
    response = post_json(admin_client, start_url(intake), {"to": "+15550000001"})
    assert response.status_code == 400
    assert response.json()["error"].startswith("This menu answers only +15550100200")


def test_start_says_when_another_menu_would_answer(admin_client, sim, classic, intake):
    response = post_json(admin_client, start_url(classic), {"to": "+15550100200"})
    assert response.status_code == 409
    assert "answered by the menu 'AI intake" in response.json()["error"]
    assert sim.calls == []


def test_start_refuses_an_inactive_menu(admin_client, sim, classic):
    deactivate_menu(classic)
    response = post_json(admin_client, start_url(classic), {})
    assert response.status_code == 409
    assert "not active" in response.json()["error"]


def test_start_accepts_a_form_too(admin_client, sim, classic):
    response = admin_client.post(start_url(classic), {"from": "+15550002222"})
    assert response.status_code == 201
    assert response.json()["from"] == "+15550002222"


def test_start_needs_post_and_json_object(admin_client, sim, classic):
    assert admin_client.get(start_url(classic)).status_code == 405
    response = admin_client.post(start_url(classic), "[1]", content_type="application/json")
    assert (response.status_code, response.json()["error"]) == (
        400,
        "The body must be a JSON object.",
    )
    response = admin_client.post(start_url(classic), "{", content_type="application/json")
    assert (response.status_code, response.json()["error"]) == (
        400,
        "The body is not valid JSON.",
    )


# --- steps -----------------------------------------------------------------------------------


def test_keys_when_the_menu_waits_for_keys(admin_client, sim, classic):
    call = waiting_call(admin_client, sim, classic, "gather_using_speak", **SPEAK)
    assert admin_client.get(call["poll_url"]).json()["waits_for"] == "keys"
    response = post_json(admin_client, call["step_url"], {"press": "2"})
    assert response.status_code == 200
    assert "pressed 2" in response.json()["transcript_text"]
    assert response.json()["waits_for"] is None  # the gather ended
    wrong = post_json(admin_client, call["step_url"], {"end_conversation": True})
    assert wrong.status_code == 200  # no prompt open: it waits for the next one


def test_a_step_that_does_not_fit_the_prompt_is_refused(admin_client, sim, classic):
    call = waiting_call(admin_client, sim, classic, "gather_using_speak", **SPEAK)
    response = post_json(admin_client, call["step_url"], {"ai_result": {}, "status": "valid"})
    assert response.status_code == 409
    assert response.json()["error"] == (
        "The call waits for keys (a DTMF gather) (gather_using_speak), not for ai_result."
    )
    assert not sim.call(call["id"]).ended


def test_ai_result_for_an_ai_gather(admin_client, sim, intake):
    call = waiting_call(admin_client, sim, intake, "gather_using_ai", **AI_GATHER)
    assert admin_client.get(call["poll_url"]).json()["waits_for"] == "ai_result"
    keys = post_json(admin_client, call["step_url"], {"press": "1"})
    assert keys.status_code == 409
    assert "an AI gather's result" in keys.json()["error"]
    response = post_json(
        admin_client, call["step_url"], {"ai_result": '{"name": "Ada"}', "status": "invalid"}
    )
    assert response.status_code == 200
    assert 'AI result invalid: {"name": "Ada"}' in response.json()["transcript_text"]


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"ai_result": "{nope"}, "ai_result: not valid JSON"),
        ({"ai_result": "[1, 2]"}, "ai_result: give a JSON object"),
        ({"ai_result": {}, "status": "maybe"}, 'status: "valid" or "invalid", not \'maybe\'.'),
    ],
)
def test_bad_ai_results_are_refused(admin_client, sim, intake, step, message):
    call = waiting_call(admin_client, sim, intake, "gather_using_ai", **AI_GATHER)
    response = post_json(admin_client, call["step_url"], step)
    assert response.status_code == 400
    assert response.json()["error"].startswith(message)
    assert admin_client.get(call["poll_url"]).json()["waits_for"] == "ai_result"


def test_end_conversation_for_an_ai_assistant(admin_client, sim, classic):
    call = waiting_call(admin_client, sim, classic, "ai_assistant_start", greeting="Hi")
    assert admin_client.get(call["poll_url"]).json()["waits_for"] == "assistant"
    response = post_json(admin_client, call["step_url"], {"end_conversation": True})
    assert response.status_code == 200
    assert "ends the AI conversation" in response.json()["transcript_text"]


def test_stay_silent(admin_client, sim, classic):
    call = waiting_call(admin_client, sim, classic, "gather_using_speak", **SPEAK)
    response = post_json(admin_client, call["step_url"], {"silent": True})
    assert response.status_code == 200
    assert "stays silent" in response.json()["transcript_text"]


def test_hang_up_ends_the_call_and_later_steps_are_refused(admin_client, sim, classic):
    call = start(admin_client, classic)
    response = post_json(admin_client, call["step_url"], {"hangup": True})
    assert response.status_code == 200
    assert response.json()["ended"] is True
    assert response.json()["outcome"]["ended_by"] == "caller"
    again = post_json(admin_client, call["step_url"], {"press": "1"})
    assert (again.status_code, again.json()["error"]) == (409, "The call has ended.")


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"press": "5x"}, "press: 'x' is not a keypad key (0-9, * and #)."),
        ({"press": "A"}, "press: 'A' is not a keypad key"),
        ({"press": ""}, "press: give the keys to press"),
        ({"press": 1}, "press: give the keys to press"),
        ({"press": "1" * 33}, "press: at most 32 keys at a time."),
        ({"press": "1", "silent": True}, "Give exactly one of press, silent, hangup"),
        ({"jump": "main"}, "Give exactly one of press, silent, hangup"),
        ({"press": "1", "gap": 2}, "Unexpected field(s) for press: gap."),
        ({"silent": "yes"}, "silent: send true."),
    ],
)
def test_bad_steps_are_refused(admin_client, sim, classic, step, message):
    call = waiting_call(admin_client, sim, classic, "gather_using_speak", **SPEAK)
    response = post_json(admin_client, call["step_url"], step)
    assert response.status_code == 400
    assert response.json()["error"].startswith(message)
    assert "caller" not in [entry["kind"] for entry in sim.call(call["id"]).transcript]


def test_unknown_calls_are_404(admin_client, sim, classic):
    for call_id in ("v3:no-such-call", "not.a.call.id"):
        poll = admin_client.get(
            reverse("admin:telnyx_ivr_menu_test_call_poll", args=[classic.pk, call_id])
        )
        assert poll.status_code == 404
        assert call_id in poll.json()["error"]
        step = post_json(
            admin_client,
            reverse("admin:telnyx_ivr_menu_test_call_step", args=[classic.pk, call_id]),
            {"press": "1"},
        )
        assert step.status_code == 404


def test_poll_needs_get_and_step_needs_post(admin_client, sim, classic):
    call = start(admin_client, classic)
    assert admin_client.post(call["poll_url"]).status_code == 405
    assert admin_client.get(call["step_url"]).status_code == 405


# --- who may use it ------------------------------------------------------------------------


def test_non_staff_are_sent_to_the_login_page(client, sim, classic, django_user_model):
    user = django_user_model.objects.create_user("visitor")
    client.force_login(user)
    for response in (client.get(page_url(classic)), post_json(client, start_url(classic), {})):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    assert sim.calls == []


def test_staff_need_view_permission_on_menus(client, sim, classic, django_user_model):
    user = django_user_model.objects.create_user("staff", is_staff=True)
    client.force_login(user)
    page = client.get(page_url(classic))
    assert (page.status_code, page["Location"]) == (302, reverse("admin:index"))
    started = post_json(client, start_url(classic), {})
    assert started.status_code == 403
    assert sim.calls == []

    user.user_permissions.add(Permission.objects.get(codename="view_menu"))
    client.force_login(user)
    assert client.get(page_url(classic)).status_code == 200
    assert post_json(client, start_url(classic), {}).status_code == 201


def test_posts_need_the_csrf_token(sim, classic, admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    refused = post_json(client, start_url(classic), {})
    assert refused.status_code == 403
    assert sim.calls == []
    client.get(page_url(classic))  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post(
        start_url(classic), "{}", content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 201
    step_url = response.json()["step_url"]
    assert post_json(client, step_url, {"hangup": True}).status_code == 403
    assert not sim.call(response.json()["id"]).ended
