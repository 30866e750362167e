"""The simulator: Telnyx's Call Control command API on loopback, and the calls on it.

::

    with TelnyxSimulator(webhook_url="http://127.0.0.1:8000/telnyx/webhook/") as sim:
        # the app's TELNYX_IVR: API_BASE_URL=sim.api_base_url, API_KEY=sim.api_key,
        #                      PUBLIC_KEYS=[sim.public_key]
        call = sim.start_call(from_="+15550001111", to="+15550002222", script=[Press("1")])
        call.wait_for_end(timeout=10)
        print(call.transcript_text())
"""

import hmac
import json
import re
import secrets
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ..testing import WebhookSigner
from . import api_errors, control
from .caller import HANG_UP, WAIT, ScriptedCaller
from .calls import SimulatedCall
from .faults import Faults
from .transcript import CommandRecord, Entry, WebhookRecord, describe_command, describe_webhook
from .webhooks import DeliveryWorker

API_PATH = "/v2"
ACTIONS = frozenset(
    {
        "answer",
        "gather",
        "gather_using_audio",
        "gather_using_speak",
        "gather_using_ai",
        "gather_stop",
        "ai_assistant_start",
        "ai_assistant_stop",
        "ai_assistant_add_messages",
        "speak",
        "playback_start",
        "playback_stop",
        "transfer",
        "hangup",
    }
)
COMMAND_PATH = re.compile(r"^/v2/calls/(?P<call_control_id>[^/]+)/actions/(?P<action>[a-z_]+)$")
MAX_COMMAND_BYTES = 1024 * 1024
BAD_LENGTH = "Content-Length is missing, bad or too large"


class SimulatorTimeout(AssertionError):
    """A bounded wait on the simulator ran out (an AssertionError, so tests fail cleanly)."""


class TelnyxSimulator:
    """A local stand-in for Telnyx's side of calls. Thread-safe; a context manager.

    ``webhook_url``: where webhooks go (may be set later, or per call).
    ``api_key``: the key commands must carry (``Authorization: Bearer <key>``); generated
    when not given. ``signing_key``: a nacl SigningKey (generated when not given).
    ``delivery_timeout``: seconds the app has to answer a webhook (Telnyx: 2) before it is
    retried; ``max_attempts`` and ``retry_delays`` shape the retries of 408/429/5xx/timeouts.
    ``command_id_window``: seconds a ``command_id`` is remembered per call (Telnyx: ~60).
    """

    def __init__(
        self,
        webhook_url=None,
        *,
        api_key=None,
        signing_key=None,
        host="127.0.0.1",
        port=0,
        connection_id=None,
        delivery_timeout=2.0,
        max_attempts=3,
        retry_delays=(0.1, 0.3),
        command_id_window=60.0,
    ):
        self.webhook_url = webhook_url
        self.api_key = api_key or "KEYsim_" + secrets.token_urlsafe(24)
        self.connection_id = connection_id or str(secrets.randbelow(9 * 10**18) + 10**18)
        self.command_id_window = command_id_window
        self.lock = threading.RLock()
        self._changed = threading.Condition(self.lock)
        self.faults = Faults()
        self._signer = WebhookSigner(signing_key)
        self._calls = {}
        self._host, self._port = host, port
        self._httpd = None
        self._server_thread = None
        self._delivery = DeliveryWorker(
            signer=self._signer,
            faults=self.faults,
            recorder=self,
            timeout=delivery_timeout,
            max_attempts=max_attempts,
            retry_delays=retry_delays,
        )

    # --- lifecycle -----------------------------------------------------------------------

    def start(self):
        """Start the HTTP server and the webhook sender; returns self."""
        if self._httpd is not None:
            return self
        self._httpd = ThreadingHTTPServer((self._host, self._port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.simulator = self
        self._server_thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="telnyx-sim-http",
            daemon=True,
        )
        self._server_thread.start()
        self._delivery.start()
        return self

    def stop(self, timeout=5.0):
        """Stop serving and sending; webhooks not yet sent are dropped."""
        if self._httpd is None:
            return
        with self.lock:
            for call in self._calls.values():
                call.stop_media()
        self._delivery.stop(timeout)
        self._httpd.shutdown()
        self._httpd.server_close()
        self._server_thread.join(timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    # --- what the app is configured with -------------------------------------------------

    @property
    def port(self):
        return self._httpd.server_address[1]

    @property
    def api_base_url(self):
        """The app's ``TELNYX_IVR["API_BASE_URL"]``: ``http://127.0.0.1:<port>/v2``."""
        if self._httpd is None:
            raise RuntimeError("start the simulator first")
        return f"http://{self._host}:{self.port}{API_PATH}"

    @property
    def public_key(self):
        """Base64 Ed25519 public key for the app's ``PUBLIC_KEYS``."""
        return self._signer.public_key

    # --- calls ---------------------------------------------------------------------------

    def start_call(
        self,
        from_="+15550000001",
        to="+15550000002",
        *,
        connection_id=None,
        script=None,
        caller=None,
        when_script_ends=None,
        webhook_url=None,
    ):
        """Start an inbound call to ``to``: sends ``call.initiated`` (incoming, parked).

        ``script``: the caller's steps and expectations (see telnyx_ivr.simulator.script),
        or pass a ready ``caller`` (ScriptedCaller). Without a script the caller waits for
        steps given by hand (``call.press(...)``); with one it hangs up when it runs out,
        unless ``when_script_ends="wait"``.
        """
        if caller is None:
            ends = when_script_ends or (WAIT if script is None else HANG_UP)
            caller = ScriptedCaller(script or (), when_script_ends=ends)
        with self.lock:
            call = SimulatedCall(
                self,
                from_=from_,
                to=to,
                connection_id=connection_id or self.connection_id,
                caller=caller,
                webhook_url=webhook_url or self.webhook_url,
            )
            self._calls[call.call_control_id] = call
            outgoing = call.initiated()
        self.submit(outgoing)
        return call

    def hang_up(self, call, cause="normal_clearing"):
        """The caller hangs up ``call`` now (``call.hangup``, hangup_source ``caller``)."""
        with self.lock:
            if call.outcome is not None:
                return
            outgoing = call.caller_hangs_up(cause)
        self.submit(outgoing)

    def call(self, call_control_id):
        with self.lock:
            return self._calls[call_control_id]

    @property
    def calls(self):
        with self.lock:
            return list(self._calls.values())

    @property
    def commands(self):
        """Every command received on any call, in arrival order."""
        with self.lock:
            return sorted(
                (record for call in self._calls.values() for record in call.commands),
                key=lambda record: record.received_at,
            )

    @property
    def webhooks(self):
        """Every webhook delivery attempt on any call, in sending order."""
        with self.lock:
            return sorted(
                (record for call in self._calls.values() for record in call.webhooks),
                key=lambda record: record.sent_monotonic,
            )

    # --- waiting -------------------------------------------------------------------------

    def wait_until(self, predicate, timeout=10.0, *, message="condition", call=None):
        """Wait until ``predicate()`` is truthy (checked whenever the simulator changes, and
        at least every 50 ms); return its value, or raise SimulatorTimeout after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    detail = f"\n\n{call.transcript_text()}" if call is not None else ""
                    raise SimulatorTimeout(
                        f"timed out after {timeout} s waiting for {message}{detail}"
                    )
                self._changed.wait(min(left, 0.05))

    def wait_idle(self, timeout=10.0):
        """Wait until every webhook submitted so far has been delivered."""
        self.wait_until(
            lambda: all(call.pending_webhooks == 0 for call in self._calls.values()),
            timeout,
            message="webhooks to be delivered",
        )

    # --- webhook bookkeeping (called by DeliveryWorker and timers) -----------------------

    def submit(self, outgoing, *, counted=False):
        """Queue webhooks for delivery. ``counted``: already counted as pending (a command's
        webhooks are, before its answer goes, so a client's wait sees them)."""
        if not outgoing:
            return
        if not counted:
            self._count_pending(outgoing)
        self._delivery.submit(outgoing)

    def _count_pending(self, outgoing):
        with self.lock:
            for item in outgoing:
                item.call.pending_webhooks += 1

    def webhook_attempt(self, item, attempt, body, fault):
        call = item.call
        with self.lock:
            record = WebhookRecord(
                call_control_id=call.call_control_id,
                event_type=item.event_type,
                event_id=item.event_id,
                attempt=attempt,
                body=body,
                sent_at=datetime.now(UTC),
                t=call.elapsed(),
                fault=fault,
                sent_monotonic=time.monotonic(),
            )
            call.webhooks.append(record)
            if fault:
                call.note("fault", f"{fault} (attempt {attempt})", event_type=item.event_type)
            # Noted when sent, completed with the app's answer, so it reads in sending order.
            record.entry = Entry(
                record.t,
                "webhook",
                f"{item.event_type} -> ...",
                {"event_type": item.event_type, "event_id": item.event_id, "attempt": attempt},
            )
            call.notes_append(record.entry)
            return record

    def webhook_answered(self, record, status, error, *, answer=None, location=None):
        with self._changed:
            record.status, record.error = status, error
            if status is not None:
                record.answer_seconds = time.monotonic() - record.sent_monotonic
            record.answer, record.location = answer, location
            record.entry.text = describe_webhook(record)
            record.entry.data.update(status=status, answer=answer, location=location)
            self._changed.notify_all()

    def webhook_done(self, item):
        with self._changed:
            item.call.pending_webhooks -= 1
            self._changed.notify_all()

    def media_finished(self, call, media):
        with self._changed:
            outgoing = call.media_finished(media)
            self._changed.notify_all()
        self.submit(outgoing)

    # --- commands ------------------------------------------------------------------------

    def handle_command(self, path, headers, raw_body):
        """Answer one HTTP command: returns (status, body, headers, webhooks to send after)."""
        given = headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, f"Bearer {self.api_key}".encode()):
            return _error(api_errors.authentication_failed())
        match = COMMAND_PATH.match(path.split("?", 1)[0])
        if match is None or match["action"] not in ACTIONS:
            return _error(api_errors.not_found(path))
        call_control_id, action = match["call_control_id"], match["action"]
        try:
            body = json.loads(raw_body or b"{}")
        except (UnicodeDecodeError, ValueError) as exc:
            return _error(api_errors.bad_request(f"body is not JSON: {exc}"))
        if not isinstance(body, dict):
            return _error(api_errors.bad_request("body must be a JSON object"))
        with self._changed:
            try:
                answer = self._command(call_control_id, action, body)
                self._count_pending(answer[3])
                return answer
            finally:
                self._changed.notify_all()

    def _command(self, call_control_id, action, body):
        call = self._calls.get(call_control_id)
        if call is None:
            return _error(api_errors.unknown_call(call_control_id))
        command_id = body.get("command_id")
        command_id = command_id if isinstance(command_id, str) and command_id else None
        record = self._command_record(call, action, body, command_id)
        # Noted before the call reacts, so the transcript reads in causal order.
        entry = Entry(record.t, "command", "", {"action": action, "command_id": command_id})
        call.notes_append(entry)
        now = time.monotonic()
        previous = call.command_replies.get(command_id) if command_id else None
        if previous is not None and now - previous[0] <= self.command_id_window:
            record.duplicate = True
            self._describe(entry, record)
            return 200, {"data": previous[1]}, {}, []
        fault = self.faults.take("fail_command", action, call_control_id)
        refusal = None if fault is not None else self.faults.draw_refusal()
        if fault is not None or (refusal is not None and refusal.status is not None):
            status = fault.status if fault is not None else refusal.status
            reset = (fault or refusal).reset_seconds
            error = api_errors.rate_limited(reset) if status == 429 else api_errors.server_error()
            error.status = status
            record.status, record.error_code = status, error.code
            record.fault = (fault or refusal).describe()
            self._describe(entry, record)
            return _error(error)
        call.caller.command_received(action, body)
        try:
            outcome = call.handle(action, body)
        except api_errors.APIError as error:
            record.status, record.error_code = error.status, error.code
            self._describe(entry, record, error.detail)
            return _error(error)
        except Exception as exc:  # a simulator bug must reach the test as a 500, not a hang
            error = api_errors.server_error(f"simulator error: {type(exc).__name__}: {exc}")
            record.status, record.error_code = error.status, error.code
            self._describe(entry, record, error.detail)
            call.caller.failures.append(f"the simulator failed on {action}: {error.detail}")
            return _error(error)
        if command_id:
            call.command_replies[command_id] = (now, outcome.data)
        if refusal is not None:  # acted on, but the answer is lost on the way
            record.fault = refusal.describe()
            self._describe(entry, record)
            return NO_ANSWER, refusal.hold_seconds, {}, outcome.outgoing
        self._describe(entry, record)
        return 200, {"data": outcome.data}, {}, outcome.outgoing

    @staticmethod
    def _describe(entry, record, detail=None):
        entry.text = describe_command(record) + (f": {detail}" if detail else "")
        entry.data.update(status=record.status, duplicate=record.duplicate, fault=record.fault)

    def _command_record(self, call, action, body, command_id):
        record = CommandRecord(
            call_control_id=call.call_control_id,
            action=action,
            body=body,
            command_id=command_id,
            received_at=datetime.now(UTC),
            t=call.elapsed(),
        )
        # The webhook a command answers: the last one sent first-time before it arrived.
        sent = [hook for hook in call.webhooks if hook.attempt == 1]
        if sent:
            last = max(sent, key=lambda hook: hook.sent_monotonic)
            record.in_reply_to = last.event_type
            record.in_reply_to_id = last.event_id
            record.reply_seconds = round(time.monotonic() - last.sent_monotonic, 4)
        call.commands.append(record)
        return record


# handle_command's status for a command acted on whose answer never comes.
NO_ANSWER = "no answer"


def _error(error):
    return error.status, error.body(), dict(error.headers), []


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "TelnyxSimulator/1"
    # Headers and body go out in two writes; without TCP_NODELAY the client's delayed ACK
    # adds ~40 ms to every keep-alive answer (the app keeps its connection alive).
    disable_nagle_algorithm = True

    def do_POST(self):
        simulator = self.server.simulator
        if self.path.startswith(control.PREFIX):
            self._control("POST")
            return
        raw = self._read_body()
        if raw is None:
            self._answer_error(api_errors.bad_request(BAD_LENGTH))
            return
        status, body, headers, outgoing = simulator.handle_command(self.path, self.headers, raw)
        try:
            if status == NO_ANSWER:  # body: how long to hold the line before dropping it
                time.sleep(body)
                self.close_connection = True
                return
            self._answer(status, body, headers)
        finally:
            # The webhooks a command causes follow its answer, as Telnyx's do (and go even
            # when the client has stopped listening: the command was accepted).
            simulator.submit(outgoing, counted=True)

    def do_GET(self):
        if self.path.startswith(control.PREFIX):
            self._control("GET")
            return
        self._answer_error(api_errors.not_found(self.path))

    def _control(self, method):
        simulator = self.server.simulator
        expected = f"Bearer {simulator.api_key}"
        if not hmac.compare_digest(self.headers.get("Authorization", ""), expected):
            self._answer(401, {"error": "Authorization: Bearer <the simulator's key> needed"}, {})
            return
        raw = self._read_body()
        if raw is None:
            self._answer(400, {"error": BAD_LENGTH}, {})
            return
        status, body = control.handle(simulator, method, self.path, raw)
        self._answer(status, body, {})

    def _read_body(self):
        """The request body, or None when Content-Length is missing, bad or too large."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        if not 0 <= length <= MAX_COMMAND_BYTES:
            return None
        return self.rfile.read(length)

    def _answer_error(self, error):
        status, body, headers, _ = _error(error)
        self._answer(status, body, headers)

    do_PUT = do_DELETE = do_PATCH = do_GET

    def _answer(self, status, body, headers):
        raw = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)
        self.wfile.flush()

    def log_message(self, format, *args):
        """Quiet: everything worth knowing is in the transcript."""
