"""The menu admin's "Test call" page: start a simulated call to a menu and play the caller
from the browser, step by step, while its transcript grows.

The views proxy the simulator's control API (telnyx_ivr.simulator.control), so the browser
never sees the API key. When the simulator is not configured or not running, the page and the
JSON views say what to do instead of failing.
"""

import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.contrib.admin.utils import unquote
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode

from ..conf import SETTINGS_NAME, ivr_settings
from ..menus.matching import find_menu_version
from ..models import Menu
from ..simulator.control import ControlError, SimulatorUnavailable
from ..simulator.service import configured_client, webhook_path

E164 = re.compile(r"^\+[1-9][0-9]{1,14}\Z")
# Simulated call_control_ids are "v3:" + url-safe base64; anything else never reaches the
# simulator's URL.
CALL_ID = re.compile(r"^[A-Za-z0-9:_-]{1,200}\Z")
KEYPAD = "0123456789*#"
MAX_KEYS = 32
DEFAULT_FROM = "+15550009999"
# Any number reaches the default menu when no other active menu claims it.
ANY_NUMBER_EXAMPLE = "+15550000000"
# What the simulator's "prompt" (the command waiting for the caller) accepts.
DTMF_PROMPTS = frozenset({"gather", "gather_using_speak", "gather_using_audio"})
AI_GATHER_PROMPT = "gather_using_ai"
ASSISTANT_PROMPT = "ai_assistant_start"
START_SIMULATOR = (
    "Start the simulator in another terminal with `python manage.py ivr_simulator`, next to "
    "the web server and a Celery worker, then reload this page."
)


def call_page_urls(model_admin):
    """URL patterns of the Test call page and its JSON views, for ``MenuAdmin.get_urls``."""
    views = CallPageViews(model_admin)
    wrap = model_admin.admin_site.admin_view
    prefix = "<path:object_id>/test-call/"
    return [
        path(
            prefix + "calls/<str:call_id>/steps/",
            wrap(views.step),
            name="telnyx_ivr_menu_test_call_step",
        ),
        path(
            prefix + "calls/<str:call_id>/", wrap(views.call), name="telnyx_ivr_menu_test_call_poll"
        ),
        path(prefix + "calls/", wrap(views.start), name="telnyx_ivr_menu_test_call_start"),
        path(prefix, wrap(views.page), name="telnyx_ivr_menu_test_call"),
    ]


# --- which number reaches the menu --------------------------------------------------------


@dataclass
class CallTarget:
    """How a test call reaches ``menu``: by the claims of its live version."""

    numbers: list = field(default_factory=list)  # numbers the live version claims
    any_number: bool = False  # whether any number may be dialled
    connection_id: str | None = None  # the connection the call arrives on, when it matters
    default_to: str = ""
    explanation: str = ""
    problems: list = field(default_factory=list)  # why no test call can reach the menu


def call_target(menu):
    """Where a test call must go to be answered by ``menu``, and why it cannot, if it cannot."""
    target = CallTarget()
    version = menu.live_version if menu.live_version_id else None
    if version is None:
        target.problems.append(
            "This menu has never been published. Calls are matched by the live version, so "
            "publish the draft first (Save and publish on the menu's page)."
        )
    if not menu.is_active:
        target.problems.append(
            "This menu is not active, so it answers no calls. Tick Active on the menu's page "
            "(or use the Activate action in the menu list)."
        )
    if version is None:
        return target
    claims = version.definition["menu"]
    target.numbers = list(claims.get("numbers") or [])
    connection_ids = list(claims.get("connection_ids") or [])
    is_default = bool(claims.get("is_default"))
    live = f"live version {version.number}"
    if target.numbers:
        target.default_to = target.numbers[0]
        target.any_number = is_default
        target.explanation = f"Its {live} claims {', '.join(target.numbers)}" + (
            "; as the default menu it also answers any number no other active menu claims."
            if is_default
            else "."
        )
    elif connection_ids:
        target.connection_id = connection_ids[0]
        target.any_number = True
        target.default_to = ANY_NUMBER_EXAMPLE
        target.explanation = (
            f"Its {live} claims the connection {target.connection_id}: the test call arrives "
            "on it, to any number no other active menu claims."
        )
    elif is_default:
        target.any_number = True
        target.default_to = ANY_NUMBER_EXAMPLE
        target.explanation = (
            f"It is the default menu ({live}): it answers calls to any number no other active "
            "menu claims."
        )
    else:
        target.problems.append(
            f"The {live} claims no number or connection and is not the default menu, so no "
            "call reaches it. Add a number, then publish."
        )
    return target


def ai_result_example(definition):
    """A result object shaped like the first AI gather's schema, to start the AI form from."""
    for node in definition.get("nodes", {}).values():
        if node.get("kind") != "ai_gather":
            continue
        schema = (definition.get("ai_schemas", {}).get(node.get("ai_schema")) or {}).get(
            "schema", {}
        )
        return {
            name: EXAMPLE_VALUES.get(spec.get("type") if isinstance(spec, dict) else None, "")
            for name, spec in (schema.get("properties") or {}).items()
        }
    return {}


EXAMPLE_VALUES = {"string": "example", "integer": 1, "number": 1.5, "boolean": True}


def answering_problem(menu, to, connection_id):
    """Why a call to ``to`` would not be answered by ``menu`` (None when it would)."""
    version = find_menu_version(to=to, connection_id=connection_id)
    if version is None:
        return f"No active, published menu answers calls to {to}."
    if version.menu_id != menu.pk:
        return (
            f"A call to {to} would be answered by the menu '{version.menu}', which claims that "
            "number, not by this one."
        )
    return None


# --- the simulator --------------------------------------------------------------------------


@dataclass
class SimulatorState:
    ready: bool
    problem: str = ""
    fix: str = ""
    kind: str = ""  # what is wrong: not_configured, not_running, wrong_key, error
    detail: str = ""  # the client's own words, for whoever debugs it
    warnings: list = field(default_factory=list)
    webhook_url: str | None = None


def simulator_state(client_or_problem):
    """Whether the simulator answers, and what to do when it does not."""
    if isinstance(client_or_problem, SimulatorState):
        return client_or_problem
    try:
        status = client_or_problem.status()
    except SimulatorUnavailable as exc:
        return unavailable(exc)
    except ControlError as exc:
        return SimulatorState(
            False,
            "The call simulator answered an error.",
            START_SIMULATOR,
            "error",
            detail=str(exc),
        )
    state = SimulatorState(True, webhook_url=status.get("webhook_url"))
    if status.get("public_key") not in ivr_settings.PUBLIC_KEYS:
        state.warnings.append(
            f"The simulator signs its webhooks with the public key {status.get('public_key')}, "
            f'which is not in {SETTINGS_NAME}["PUBLIC_KEYS"]: this site will reject its calls. '
            "Give the simulator the SIMULATOR_SIGNING_KEY whose public key is configured."
        )
    webhook_url, site_path = status.get("webhook_url"), webhook_path()
    if not webhook_url:
        state.warnings.append(
            "The simulator has no webhook URL, so this site never hears of its calls: set "
            f'{SETTINGS_NAME}["SIMULATOR_WEBHOOK_URL"] and restart it.'
        )
    elif site_path and urlsplit(webhook_url).path != site_path:
        state.warnings.append(
            f"The simulator delivers its webhooks to {webhook_url}, but this site's webhook is "
            f"at {site_path}: its calls would get 404. Set "
            f'{SETTINGS_NAME}["SIMULATOR_WEBHOOK_URL"] to this site\'s webhook URL (or leave '
            "it unset to use this path) and restart the simulator."
        )
    return state


def unavailable(exc):
    """What to tell the user when no simulator (or another one) answers."""
    detail = str(exc)
    if "refused the API key" in detail:
        return SimulatorState(
            False,
            "A call simulator runs, but it refused this site's API key: it was started with "
            f'another {SETTINGS_NAME}["API_KEY"].',
            "Restart it with this site's settings: `python manage.py ivr_simulator`.",
            "wrong_key",
            detail=detail,
        )
    return SimulatorState(
        False, "The call simulator is not running.", START_SIMULATOR, "not_running", detail=detail
    )


def simulator_client():
    """The configured client, or a SimulatorState saying which setting is wrong."""
    try:
        return configured_client(timeout=5.0)
    except ImproperlyConfigured as exc:
        return SimulatorState(
            False,
            f"The call simulator is not configured: {exc}",
            "Point the app at the simulator: fix the setting named above, then run "
            "`python manage.py ivr_simulator` next to the web server and a Celery worker.",
            "not_configured",
        )


# --- views ----------------------------------------------------------------------------------


class BadRequest(Exception):
    """A JSON view's client error: its status and message reach the browser as JSON."""

    def __init__(self, status, message, **extra):
        super().__init__(message)
        self.status = status
        self.extra = extra


class CallPageViews:
    """The page and the JSON views behind it; every view needs view permission on the menu."""

    def __init__(self, model_admin):
        self.model_admin = model_admin

    # --- the page ---

    def page(self, request, object_id):
        menu = self.model_admin.get_object(request, unquote(object_id))
        if menu is None:
            raise Http404(f"No menu with the id {object_id!r}.")
        if not self.model_admin.has_view_permission(request, menu):
            return HttpResponseRedirect(reverse("admin:index"))
        target = call_target(menu)
        simulator = simulator_state(simulator_client())
        context = {
            **self.model_admin.admin_site.each_context(request),
            "opts": Menu._meta,
            "title": f"Test call: {menu}",
            "menu": menu,
            "live_version": menu.live_version if menu.live_version_id else None,
            "target": target,
            "simulator": simulator,
            "can_start": simulator.ready and not target.problems,
            "default_from": DEFAULT_FROM,
            "ai_example": json.dumps(
                ai_result_example(menu.live_version.definition) if menu.live_version_id else {}
            ),
            "keypad": [KEYPAD[i : i + 3] for i in (1, 4, 7)] + ["*0#"],
            "start_url": reverse("admin:telnyx_ivr_menu_test_call_start", args=[menu.pk]),
            "change_url": reverse("admin:telnyx_ivr_menu_change", args=[menu.pk]),
        }
        return TemplateResponse(request, "admin/telnyx_ivr/test_call.html", context)

    # --- JSON ---

    def start(self, request, object_id):
        return self._json_view(request, object_id, "POST", self._start)

    def call(self, request, object_id, call_id):
        return self._json_view(request, object_id, "GET", self._poll, call_id)

    def step(self, request, object_id, call_id):
        return self._json_view(request, object_id, "POST", self._step, call_id)

    def _json_view(self, request, object_id, method, handler, *args):
        if request.method != method:
            return _error(405, f"Use {method}.")
        menu = self.model_admin.get_object(request, unquote(object_id))
        if menu is None:
            return _error(404, f"No menu with the id {object_id!r}.")
        if not self.model_admin.has_view_permission(request, menu):
            return _error(403, "You may not view this menu.")
        client = simulator_client()
        if isinstance(client, SimulatorState):
            return _error(503, client.problem, fix=client.fix)
        try:
            status, data = handler(request, menu, client, *args)
        except BadRequest as exc:
            return _error(exc.status, str(exc), **exc.extra)
        except SimulatorUnavailable as exc:
            state = unavailable(exc)
            return _error(503, state.problem, fix=state.fix, detail=state.detail)
        except ControlError as exc:
            # The simulator's 4xx (unknown call, call ended) are the browser's to read; its
            # 5xx are a failure on the way, not the browser's fault.
            return _error(exc.status if 400 <= exc.status < 500 else 502, f"Simulator: {exc}")
        return JsonResponse(data, status=status)

    def _start(self, request, menu, client):
        data = _payload(request)
        from_ = _text(data, "from") or DEFAULT_FROM
        target = call_target(menu)
        if target.problems:
            raise BadRequest(409, " ".join(target.problems))
        to = _text(data, "to") or target.default_to
        for name, value in (("from", from_), ("to", to)):
            if not E164.match(value):
                raise BadRequest(
                    400, f'"{name}" must be an E.164 number such as +15550001111, not {value!r}.'
                )
        if not target.any_number and to not in target.numbers:
            raise BadRequest(
                400,
                f"This menu answers only {', '.join(target.numbers)}; a call to {to} would not "
                "reach it.",
            )
        problem = answering_problem(menu, to, target.connection_id)
        if problem:
            raise BadRequest(409, problem)
        call = client.start_call(from_, to, connection_id=target.connection_id)
        return 201, self._describe(menu, call)

    def _poll(self, request, menu, client, call_id):
        return 200, self._describe(menu, client.call(_call_id(call_id)))

    def _step(self, request, menu, client, call_id):
        call_id = _call_id(call_id)
        step = parse_step(_payload(request))
        call = client.call(call_id)
        if call["ended"]:
            raise BadRequest(409, "The call has ended.")
        refusal = step_refusal(step, call.get("prompt"))
        if refusal:
            raise BadRequest(409, refusal)
        return 200, self._describe(menu, client.step(call_id, step))

    def _describe(self, menu, call):
        """The simulator's call, plus what the page needs to enable its controls."""
        prompt = call.get("prompt")
        waiting = bool(call.get("waiting_for_caller")) and not call.get("ended")
        log = reverse("admin:telnyx_ivr_call_changelist") + "?" + urlencode({"q": call["id"]})
        return {
            **call,
            "waits_for": waits_for(prompt) if waiting else None,
            "call_log_url": log,
            "poll_url": reverse("admin:telnyx_ivr_menu_test_call_poll", args=[menu.pk, call["id"]]),
            "step_url": reverse("admin:telnyx_ivr_menu_test_call_step", args=[menu.pk, call["id"]]),
        }


def waits_for(prompt):
    """What a prompt waits for: "keys", "ai_result", "assistant", or None."""
    if prompt in DTMF_PROMPTS:
        return "keys"
    if prompt == AI_GATHER_PROMPT:
        return "ai_result"
    if prompt == ASSISTANT_PROMPT:
        return "assistant"
    return None


def parse_step(data):
    """One caller step from the browser, checked: the simulator's step object.

    ``{"press": "12#"}``, ``{"silent": true}``, ``{"hangup": true}``, ``{"ai_result": {...} or
    its JSON text, "status": "valid"|"invalid"}``, ``{"end_conversation": true}``.
    """
    actions = [name for name in STEP_ACTIONS if name in data]
    if len(actions) != 1:
        raise BadRequest(400, f"Give exactly one of {', '.join(STEP_ACTIONS)}.")
    (action,) = actions
    allowed = {action, "status"} if action == "ai_result" else {action}
    extra = sorted(set(data) - allowed)
    if extra:
        raise BadRequest(400, f"Unexpected field(s) for {action}: {', '.join(extra)}.")
    if action == "press":
        keys = data["press"]
        if not isinstance(keys, str) or not keys:
            raise BadRequest(400, 'press: give the keys to press, e.g. "1".')
        bad = sorted(set(keys) - set(KEYPAD))
        if bad:
            raise BadRequest(400, f"press: {''.join(bad)!r} is not a keypad key (0-9, * and #).")
        if len(keys) > MAX_KEYS:
            raise BadRequest(400, f"press: at most {MAX_KEYS} keys at a time.")
        return {"press": keys}
    if action == "ai_result":
        return {"ai_result": _ai_result(data["ai_result"]), "status": _ai_status(data)}
    if data[action] is not True:
        raise BadRequest(400, f"{action}: send true.")
    return {action: True}


STEP_ACTIONS = ("press", "silent", "hangup", "ai_result", "end_conversation")
# Which prompt each step is for (silence and hanging up fit any prompt).
STEP_FITS = {"press": "keys", "ai_result": "ai_result", "end_conversation": "assistant"}
WAITS_FOR_TEXT = {
    "keys": "keys (a DTMF gather)",
    "ai_result": "an AI gather's result",
    "assistant": "the end of an AI assistant's conversation",
    None: "nothing from the caller",
}


def step_refusal(step, prompt):
    """Why ``step`` does not fit the prompt open on the call (None when it fits or none is
    open: a step given between prompts waits for the next one)."""
    (action,) = [name for name in step if name != "status"]
    wanted = STEP_FITS.get(action)
    if wanted is None or prompt is None:
        return None
    current = waits_for(prompt)
    if current == wanted:
        return None
    return f"The call waits for {WAITS_FOR_TEXT[current]} ({prompt}), not for {action}."


def _ai_result(value):
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise BadRequest(400, f"ai_result: not valid JSON ({exc}).") from None
    if not isinstance(value, dict):
        raise BadRequest(400, 'ai_result: give a JSON object, e.g. {"name": "Ada", "age": 36}.')
    return value


def _ai_status(data):
    status = data.get("status", "valid")
    if status not in ("valid", "invalid"):
        raise BadRequest(400, f'status: "valid" or "invalid", not {status!r}.')
    return status


def _payload(request):
    """The POST body: a JSON object, or a form."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            raise BadRequest(400, "The body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise BadRequest(400, "The body must be a JSON object.")
        return data
    return request.POST.dict()


def _text(data, name):
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(400, f'"{name}" must be text.')
    return value.strip()


def _call_id(value):
    if not CALL_ID.match(value):
        raise BadRequest(404, f"No simulated call {value!r}.")
    return value


def _error(status, message, **extra):
    return JsonResponse({"error": message, **extra}, status=status)
