"""A JSON control API on the simulator's own port, so other processes can drive its calls:
``ivr_simulate``, the admin's "Test call" page, a host project's tests.

All under ``/_simulator/`` and, like the command API, only with ``Authorization: Bearer
<the simulator's API key>``:

    GET  /_simulator/                      {"public_key", "api_base_url", "webhook_url", "calls"}
    POST /_simulator/calls                 {"from", "to", "connection_id"?, "script"?,
                                            "when_script_ends"? ("wait"|"hang_up")} -> 201 call
    GET  /_simulator/calls/<id>            call
    POST /_simulator/calls/<id>/steps      one script step, as parse_script reads it
                                           ({"press": "1"}, {"silent": true}, {"hangup": true},
                                            {"ai_result": {...}, "status": "valid"}, ...) -> call

A call is ``{"id", "from", "to", "state", "prompt", "waiting_for_caller", "ended",
"outcome", "passed", "failures", "transcript", "transcript_text", "pending_webhooks",
"commands", "checks"}``. ``checks`` lists every expectation checked so far as
``{"description", "held", "message"}``; ``commands`` the commands in arrival order as
``{"t", "action", "status", "client_state", "in_reply_to", "reply_seconds", "duplicate",
"fault"}``; ``pending_webhooks`` counts webhooks not yet delivered.
"""

import json
import re

import requests

from .script import HangUp, ScriptError, parse_script

PREFIX = "/_simulator"
_CALL = re.compile(rf"^{PREFIX}/calls/(?P<id>[^/]+)(?P<steps>/steps)?/?$")


class ControlError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def call_state(call):
    # One snapshot under the simulator's lock, so "pending_webhooks": 0 and the transcript
    # agree (the transcript then holds every webhook's answer).
    with call._sim.lock:
        return _call_state(call)


def _call_state(call):
    return {
        "id": call.call_control_id,
        "from": call.from_,
        "to": call.to,
        "state": call.state,
        "prompt": call.prompt.action if call.prompt else None,
        "waiting_for_caller": call.waiting_for_caller,
        "ended": call.ended,
        "outcome": call.outcome,
        "passed": call.passed,
        "failures": call.failures,
        "transcript": call.transcript,
        "transcript_text": call.transcript_text(),
        # Webhooks not yet delivered: a reader waits for 0 before taking the call as settled.
        "pending_webhooks": call.pending_webhooks,
        "commands": [_command_state(record) for record in list(call.commands)],
        "checks": [
            {"description": description, "held": held, "message": message}
            for description, held, message in call.checks()
        ],
    }


def _command_state(record):
    body = record.body if isinstance(record.body, dict) else {}
    return {
        "t": round(record.t, 4),
        "action": record.action,
        "status": record.status,
        "client_state": body.get("client_state"),
        "in_reply_to": record.in_reply_to,
        "reply_seconds": record.reply_seconds,
        "duplicate": record.duplicate,
        "fault": record.fault,
    }


def handle(simulator, method, path, body):
    """Answer one control request: returns (status, JSON body)."""
    try:
        return _route(simulator, method, path.split("?", 1)[0], body)
    except ControlError as exc:
        return exc.status, {"error": str(exc)}


def _route(simulator, method, path, body):
    if path.rstrip("/") == PREFIX:
        _method(method, "GET")
        return 200, {
            "public_key": simulator.public_key,
            "api_base_url": simulator.api_base_url,
            "webhook_url": simulator.webhook_url,
            "calls": [call.call_control_id for call in simulator.calls],
        }
    if path.rstrip("/") == f"{PREFIX}/calls":
        _method(method, "POST")
        data = _json(body)
        try:
            script = parse_script(data["script"]) if data.get("script") is not None else None
        except ScriptError as exc:
            raise ControlError(400, str(exc)) from None
        ends = data.get("when_script_ends")
        if ends not in (None, "wait", "hang_up"):
            raise ControlError(400, 'when_script_ends must be "wait" or "hang_up"')
        for name in ("from", "to"):
            if not isinstance(data.get(name), str) or not data[name]:
                raise ControlError(400, f'"{name}" (a phone number) is required')
        call = simulator.start_call(
            from_=data["from"],
            to=data["to"],
            connection_id=data.get("connection_id"),
            script=script,
            when_script_ends=ends,
        )
        return 201, call_state(call)
    match = _CALL.match(path)
    if match is None:
        raise ControlError(404, f"no such control resource: {path}")
    call = next((c for c in simulator.calls if c.call_control_id == match["id"]), None)
    if call is None:
        raise ControlError(404, f"no simulated call {match['id']}")
    if not match["steps"]:
        _method(method, "GET")
        return 200, call_state(call)
    _method(method, "POST")
    try:
        (step,) = parse_script([_json(body)])
    except ScriptError as exc:
        raise ControlError(400, str(exc).replace("script step 1: ", "")) from None
    if call.ended:
        raise ControlError(409, "the call has ended")
    if isinstance(step, HangUp) and not step.during_announcement:
        call.hang_up(step.cause)
    else:
        call.add_step(step)
    return 200, call_state(call)


def _method(method, allowed):
    if method != allowed:
        raise ControlError(405, f"use {allowed}")


def _json(body):
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise ControlError(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise ControlError(400, "the body must be a JSON object")
    return data


class SimulatorUnavailable(Exception):
    """No simulator answers at that address (or it refused our key)."""


class SimulatorClient:
    """Drives a simulator in another process through its control API."""

    def __init__(self, base_url, api_key, timeout=5.0):
        # base_url: the app's API base URL (http://127.0.0.1:8001/v2) or the server's root.
        root = base_url.rstrip("/")
        self.root = root[: -len("/v2")] if root.endswith("/v2") else root
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {api_key}"
        self.timeout = timeout

    def _request(self, method, path, payload=None):
        try:
            response = self.session.request(
                method, f"{self.root}{PREFIX}{path}", json=payload, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise SimulatorUnavailable(f"no simulator answers at {self.root}: {exc}") from None
        try:
            data = response.json()
        except ValueError:
            raise SimulatorUnavailable(
                f"{self.root} answered HTTP {response.status_code} with something that is not "
                "the simulator's JSON"
            ) from None
        if response.status_code == 401:
            raise SimulatorUnavailable(f"the simulator at {self.root} refused the API key")
        if response.status_code >= 400:
            raise ControlError(response.status_code, data.get("error") or str(data))
        return data

    def status(self):
        return self._request("GET", "/")

    def start_call(self, from_, to, *, script=None, when_script_ends=None, connection_id=None):
        payload = {"from": from_, "to": to, "script": script, "connection_id": connection_id}
        if when_script_ends:
            payload["when_script_ends"] = when_script_ends
        return self._request("POST", "/calls", payload)

    def call(self, call_id):
        return self._request("GET", f"/calls/{call_id}")

    def step(self, call_id, step):
        return self._request("POST", f"/calls/{call_id}/steps", step)
