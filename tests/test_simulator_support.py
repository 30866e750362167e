"""Shared helpers for the simulator tests: a loopback webhook receiver that verifies every
delivery's Ed25519 signature, and a small client that sends Telnyx-shaped commands.

Holds no tests of its own; named test_simulator_* to sit with the files it serves.
"""

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from telnyx_ivr.simulator import TelnyxSimulator
from telnyx_ivr.telnyx.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, verify

COMMON_FIELDS = (
    "call_control_id",
    "call_leg_id",
    "call_session_id",
    "connection_id",
    "client_state",
    "from",
    "to",
)


class WebhookReceiver:
    """Receives webhooks on 127.0.0.1, verifies each signature with ``public_key``, keeps them.

    ``respond(body) -> int`` picks the HTTP status answered (200 by default);
    ``on_event(body)`` is called in a thread of its own for each verified delivery, like an
    app that reacts asynchronously.
    """

    def __init__(self):
        self.public_key = None
        self.deliveries = []  # dicts: raw, body, headers, verified, error
        self.respond = lambda body: 200
        self.on_event = None
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                receiver._received(raw, dict(self.headers), self)

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self):
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/telnyx/webhook/"

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()

    def _received(self, raw, headers, handler):
        lowered = {name.lower(): value for name, value in headers.items()}
        error = None
        try:
            verify(
                body=raw,
                signature_header=lowered.get(SIGNATURE_HEADER),
                timestamp_header=lowered.get(TIMESTAMP_HEADER),
                public_keys=[self.public_key],
                tolerance=300,
            )
        except SignatureError as exc:
            error = str(exc)
        body = json.loads(raw)
        status = self.respond(body)
        with self._lock:
            self.deliveries.append(
                {
                    "raw": raw,
                    "body": body,
                    "headers": lowered,
                    "verified": error is None,
                    "error": error,
                    "status": status,
                }
            )
        handler.send_response(status)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        if self.on_event is not None and error is None and 200 <= status < 300:
            threading.Thread(target=self.on_event, args=(body,), daemon=True).start()

    def bodies(self, call=None):
        with self._lock:
            bodies = [d["body"] for d in self.deliveries]
        if call is not None:
            bodies = [
                b
                for b in bodies
                if b["data"]["payload"].get("call_session_id") == call.call_session_id
            ]
        return bodies

    def events(self, call=None):
        return [body["data"]["event_type"] for body in self.bodies(call)]


class AnsweringApp:
    """A loopback stand-in for the app answering every request with ``status``, ``headers``
    and ``body`` (JSON, when given): one that takes webhooks but never sends a command, or
    one that refuses or redirects them. ``requests`` lists the methods it was sent."""

    def __init__(self, status=200, body=None, headers=None):
        raw = json.dumps(body).encode() if body is not None else b""
        self.requests = requests = []

        class Handler(BaseHTTPRequestHandler):
            def _reply(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                requests.append(self.command)
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                if raw:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = _reply

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/telnyx/webhook/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def answering_app():
    """``answering_app(status, body=None, headers=None)``: a started AnsweringApp, closed after."""
    started = []

    def start(status=200, body=None, headers=None):
        started.append(AnsweringApp(status, body, headers))
        return started[-1]

    yield start
    for app in started:
        app.close()


class Api:
    """Sends Call Control commands to the simulator with plain ``requests``, as the app would."""

    def __init__(self, sim, api_key=None):
        self.sim = sim
        self.api_key = api_key or sim.api_key
        self.session = requests.Session()

    def post(self, call, action, body=None, *, api_key=None, command_id=True, **fields):
        call_id = call if isinstance(call, str) else call.call_control_id
        payload = dict(body or {}, **fields)
        if command_id is True:
            payload["command_id"] = str(uuid.uuid4())
        elif command_id:
            payload["command_id"] = command_id
        return self.session.post(
            f"{self.sim.api_base_url}/calls/{call_id}/actions/{action}",
            json=payload,
            headers={"Authorization": f"Bearer {api_key or self.api_key}"},
            timeout=5,
        )


@pytest.fixture
def receiver():
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def sim(receiver):
    with TelnyxSimulator(webhook_url=receiver.url, retry_delays=(0.05, 0.1)) as simulator:
        receiver.public_key = simulator.public_key
        yield simulator


@pytest.fixture
def api(sim):
    return Api(sim)


def answered_call(sim, api, receiver, **kwargs):
    """A call that has been answered, its two webhooks (initiated, answered) delivered."""
    call = sim.start_call(**kwargs)
    response = api.post(call, "answer")
    assert response.status_code == 200, response.text
    sim.wait_idle()
    assert receiver.events(call) == ["call.initiated", "call.answered"]
    return call
