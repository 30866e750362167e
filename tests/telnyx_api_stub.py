"""A loopback HTTP server standing in for the Telnyx API in tests.

It records every request (method, path, headers, raw body, decoded JSON) and answers with the
responses queued for it, else the default ``200 {"data": {"result": "ok"}}``.

    def test_something(telnyx_api, ivr_settings_for):
        ivr_settings_for(API_KEY="KEY_test", API_BASE_URL=telnyx_api.base_url)
        telnyx_api.enqueue(status=422, body={"errors": [{"code": "90018", "title": "..."}]})
        telnyx_api.enqueue(status=200, action="gather")      # only for .../actions/gather
        telnyx_api.enqueue(status=503, delay=1.0)            # answer after 1 s
        telnyx_api.enqueue(close=True)                       # drop the connection, no answer
        ...
        request = telnyx_api.requests[0]
        request.path, request.headers["authorization"], request.json

A queued response applies to the next request whose action matches (any action when none is
given), first queued first used. ``set_default`` changes what unmatched requests get.
Use it as a context manager, or through the ``telnyx_api`` fixture (tests/conftest.py).
"""

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

OK_BODY = {"data": {"result": "ok"}}
_ACTION_PATH = re.compile(r"/calls/(?P<call_control_id>[^/]+)/actions/(?P<action>[^/?]+)")


@dataclass
class StubResponse:
    """What the stub answers: ``body`` is JSON-encoded unless it is str/bytes (sent as is)."""

    status: int = 200
    body: object = field(default_factory=lambda: dict(OK_BODY))
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    close: bool = False  # close the connection without answering
    action: str | None = None  # only for requests to this action

    def encoded(self):
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode("utf-8"), "text/html; charset=utf-8"
        return json.dumps(self.body).encode("utf-8"), "application/json"


@dataclass(frozen=True)
class RecordedRequest:
    """One request the stub received. ``headers`` keys are lower-case."""

    method: str
    path: str
    headers: dict
    body: bytes
    received_at: float

    @property
    def json(self):
        return json.loads(self.body) if self.body else None

    @property
    def action(self):
        match = _ACTION_PATH.search(self.path)
        return match["action"] if match else None

    @property
    def call_control_id(self):
        match = _ACTION_PATH.search(self.path)
        return match["call_control_id"] if match else None


class TelnyxAPIStub:
    """Threaded HTTP server on 127.0.0.1, port chosen by the OS."""

    def __init__(self, prefix="/v2"):
        self.prefix = prefix
        self._lock = threading.Lock()
        self._queue = []
        self._default = StubResponse()
        self._requests = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; without TCP_NODELAY the client's delayed
            # ACK adds ~40 ms to every keep-alive response.
            disable_nagle_algorithm = True

            def do_POST(self):
                stub._handle(self)

            do_GET = do_PUT = do_PATCH = do_DELETE = do_POST

            def log_message(self, format, *args):  # keep test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = None

    # --- lifecycle ----------------------------------------------------------------------

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    def start(self):
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    # --- programming ----------------------------------------------------------------------

    def enqueue(self, response=None, **fields):
        """Queue one response: a StubResponse, or its fields as keywords."""
        with self._lock:
            self._queue.append(response or StubResponse(**fields))

    def set_default(self, response=None, **fields):
        """What requests with no queued response get from now on."""
        with self._lock:
            self._default = response or StubResponse(**fields)

    @property
    def requests(self):
        with self._lock:
            return list(self._requests)

    def requests_for(self, action):
        return [request for request in self.requests if request.action == action]

    def clear(self):
        with self._lock:
            self._requests.clear()
            self._queue.clear()
            self._default = StubResponse()

    # --- serving --------------------------------------------------------------------------

    def _next_response(self, action):
        with self._lock:
            for index, candidate in enumerate(self._queue):
                if candidate.action is None or candidate.action == action:
                    return self._queue.pop(index)
            return self._default

    def _handle(self, handler):
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        request = RecordedRequest(
            method=handler.command,
            path=handler.path,
            headers={key.lower(): value for key, value in handler.headers.items()},
            body=body,
            received_at=time.monotonic(),
        )
        with self._lock:
            self._requests.append(request)
        response = self._next_response(request.action)
        if response.delay:
            time.sleep(response.delay)
        if response.close:
            handler.close_connection = True
            return
        payload, content_type = response.encoded()
        try:
            handler.send_response(response.status)
            headers = {"Content-Type": content_type, **response.headers}
            for name, value in headers.items():
                handler.send_header(name, str(value))
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (read timeout) before the delayed answer.
            handler.close_connection = True


@pytest.fixture
def telnyx_api():
    """A running TelnyxAPIStub, stopped after the test."""
    with TelnyxAPIStub() as stub:
        yield stub
