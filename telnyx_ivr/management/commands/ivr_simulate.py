"""``manage.py ivr_simulate``: one simulated call against the running app, with a transcript.

Exit status: 0 when the call ended and every expectation held; 1 when an expectation failed
or the call did not end in time; 2 for bad flags, files or configuration.
"""

import argparse
import contextlib
import json
import re
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from ...analytics.outcomes import exit_label
from ...simulator.control import ControlError, SimulatorUnavailable, call_state
from ...simulator.refusals import (
    WEBHOOK_URL_SETTING,
    explain,
    refusals,
    refused_start,
    refused_start_problem,
)
from ...simulator.script import ScriptError, parse_script
from ...simulator.service import DEV_SERVER, configured_client, configured_simulator
from ...simulator.transcript import check_lines, entry_line
from ...telnyx import client_state as client_state_codec

DEFAULT_FROM = "+15550001111"
# Claimed by no menu in the examples, so the default menu (the classic tree) answers.
DEFAULT_TO = "+15550000100"
DEFAULT_TIMEOUT = 30.0
DTMF_KEYS = re.compile(r"^[0-9*#A-D]+$")
END_FIELDS = {"by": "by", "cause": "cause", "transferred_to": "transferred_to"}
POLL_SECONDS = 0.1
# After a timeout the caller hangs up; this long is given to the app to see it.
HANG_UP_GRACE_SECONDS = 3.0
BAD_INPUT, FAILED = 2, 1


def _usage_error(message):
    return CommandError(message, returncode=BAD_INPUT)


# --- the steps, in the command line's order --------------------------------------------


class StepFlag(argparse.Action):
    """Appends this flag's step to one list that every step flag shares (``steps``), so the
    script follows the order of the command line."""

    def __init__(self, option_strings, dest, build=None, **kwargs):
        self.build = build
        super().__init__(option_strings, "steps", default=None, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        steps = list(getattr(namespace, "steps", None) or [])
        try:
            self.build(steps, values)
        except ValueError as exc:
            parser.error(f"{option_string}: {exc}")
        namespace.steps = steps


def _press(steps, digits):
    if not DTMF_KEYS.match(digits):
        raise ValueError(f"{digits!r} is not DTMF keys (0-9, *, #, A-D)")
    steps.append({"press": digits})


def _silent(steps, _):
    steps.append({"silent": True})


def _hangup(steps, cause):
    steps.append({"hangup": cause})


def _end_conversation(steps, _):
    steps.append({"end_conversation": True})


def _ai_result(steps, text):
    try:
        result = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(result, dict):
        raise ValueError('must be a JSON object, e.g. \'{"name": "Ada"}\'')
    steps.append({"ai_result": result, "status": "valid"})


def _ai_status(steps, status):
    for step in reversed(steps):
        if "ai_result" in step:
            step["status"] = status
            return
    raise ValueError("give it after the --ai-result it applies to")


def _expect_heard(steps, text):
    if not text.strip():
        raise ValueError("needs some text to listen for")
    steps.append({"expect_heard": text})


def _expect_command(steps, action):
    steps.append({"expect_command": action})


def _expect_end(steps, text):
    spec = {}
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep or name.strip() not in END_FIELDS or not value.strip():
            raise ValueError(
                f"{part!r}: write by=app|caller, cause=<hangup_cause>, transferred_to=<number>,"
                " separated by commas"
            )
        spec[END_FIELDS[name.strip()]] = value.strip()
    if not spec:
        raise ValueError("say how the call ends: by=app, cause=..., transferred_to=...")
    if spec.get("by", "app") not in ("app", "caller"):
        raise ValueError(f"by must be app or caller, not {spec['by']!r}")
    steps.append({"expect_end": spec})


def _timeout(text):
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < seconds <= 3600:
        raise argparse.ArgumentTypeError("give a number of seconds between 0 and 3600")
    return seconds


def load_script(path):
    """(from, to, steps) from a script file: a JSON list of steps, or an object with
    ``from``, ``to`` and ``steps``; from/to are None when the file does not give them."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise _usage_error(f"cannot read the script {path}: {reason}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise _usage_error(f"the script {path} is not JSON: {exc}") from None
    from_ = to = None
    if isinstance(data, dict):
        extra = sorted(set(data) - {"from", "to", "steps"})
        if extra:
            raise _usage_error(
                f"the script {path} has unknown key(s) {', '.join(extra)}; "
                'use "from", "to" and "steps"'
            )
        from_, to, steps = data.get("from"), data.get("to"), data.get("steps", [])
        for name, value in (("from", from_), ("to", to)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise _usage_error(f'the script {path}: "{name}" must be a phone number')
    elif isinstance(data, list):
        steps = data
    else:
        raise _usage_error(
            f"the script {path} must hold a list of steps or an object with "
            f'"from", "to" and "steps", not {type(data).__name__}'
        )
    try:
        parse_script(steps)
    except ScriptError as exc:
        raise _usage_error(f"the script {path}: {exc}") from None
    return from_, to, steps


# --- where the call runs -----------------------------------------------------------------


class ServiceSimulator:
    """The simulator service (``manage.py ivr_simulator``), through its control API."""

    def __init__(self, client, status):
        self.client = client
        self.webhook_url = status.get("webhook_url")
        self.description = f"the simulator service at {status.get('api_base_url')}"

    def start_call(self, from_, to, script):
        return self.client.start_call(from_, to, script=script, when_script_ends="hang_up")

    def call(self, call_id):
        return self.client.call(call_id)

    def hang_up(self, call_id):
        with contextlib.suppress(ControlError):  # it ended meanwhile
            self.client.step(call_id, {"hangup": True})

    def close(self):
        pass


class InProcessSimulator:
    """A simulator started in this process for the one call (no service was running)."""

    def __init__(self, simulator):
        self.simulator = simulator
        self.webhook_url = simulator.webhook_url
        self.description = (
            f"a simulator in this process at {simulator.api_base_url} "
            "(no ivr_simulator service was running)"
        )

    def start_call(self, from_, to, script):
        call = self.simulator.start_call(
            from_=from_, to=to, script=parse_script(script), when_script_ends="hang_up"
        )
        return call_state(call)

    def call(self, call_id):
        return call_state(self.simulator.call(call_id))

    def hang_up(self, call_id):
        self.simulator.hang_up(self.simulator.call(call_id))

    def close(self):
        self.simulator.stop()


def connect():
    """The running simulator service, or else one started here on the same address."""
    try:
        client = configured_client(timeout=3.0)
    except ImproperlyConfigured as exc:
        raise _usage_error(str(exc)) from None
    try:
        return ServiceSimulator(client, client.status())
    except SimulatorUnavailable as exc:
        unavailable = exc
    try:
        simulator = configured_simulator()
    except ImproperlyConfigured as exc:
        raise _usage_error(str(exc)) from None
    try:
        simulator.start()
    except OSError as exc:
        raise _usage_error(
            f"the simulator's port is busy: {unavailable}, and a simulator cannot listen "
            f"there itself ({exc.strerror or exc}). Stop what holds the port, or point "
            'TELNYX_IVR["API_BASE_URL"] at a free one.'
        ) from None
    return InProcessSimulator(simulator)


def check_app(webhook_url):
    """Fail with exit status 2 unless something listens at the app's webhook URL (a bare
    connection, so the app's log gets no stray request)."""
    parts = urlsplit(webhook_url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _usage_error(
            f"the simulator's webhook URL is {webhook_url!r}: set {WEBHOOK_URL_SETTING} to the "
            "app's webhook URL, or leave it unset for this site's webhook on "
            f"{DEV_SERVER}"
        )
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=5).close()
    except OSError as exc:
        raise _usage_error(
            f"the app does not answer at its webhook URL {webhook_url} "
            f"({exc.strerror or type(exc).__name__}): start the web server (and a Celery "
            f"worker), or set {WEBHOOK_URL_SETTING} to where it listens."
        ) from None


# --- the transcript, as it goes ----------------------------------------------------------


class TranscriptPrinter:
    """Prints a call's transcript entries once each is complete, adding the route (the menu
    node each command belongs to, read from the engine's client_state)."""

    def __init__(self, write):
        self.write = write
        self.shown = 0
        self.commands_seen = 0
        self.node = None

    def feed(self, state, final=False):
        entries, commands = state["transcript"], state.get("commands") or []
        while self.shown < len(entries):
            entry = entries[self.shown]
            # A webhook is listed when sent and completed with the app's answer.
            if entry["kind"] == "webhook" and "status" not in entry and not final:
                return
            if entry["kind"] == "command":
                if self.commands_seen < len(commands):
                    self._route(entry["t"], commands[self.commands_seen])
                self.commands_seen += 1
            self.write(entry_line(entry["t"], entry["kind"], entry["text"]))
            self.shown += 1

    def _route(self, t, command):
        if command.get("status") != 200 or command.get("duplicate"):
            return
        try:
            decoded = client_state_codec.decode(command.get("client_state"))
        except client_state_codec.ClientStateError:
            return
        if not isinstance(decoded, dict):
            return
        node = decoded.get("n")
        if node and node != self.node:
            path = [self.node] if self.node else []
            for passed, exit in _passed_checks(decoded):
                path.append(f"{passed} ({exit_label(exit)})")
            path.append(node)
            text = " -> ".join(path) if self.node else "enters " + " -> ".join(path)
            self.write(entry_line(t, "route", text))
            self.node = node


def _passed_checks(decoded):
    """The office-hours and check nodes a command's step went through: ``[(node, exit)]``."""
    passed = decoded.get("p")
    if not isinstance(passed, list):
        return []
    return [tuple(item) for item in passed if isinstance(item, list) and len(item) == 2]


def describe_outcome(outcome):
    by = "the app" if outcome["ended_by"] == "app" else "the caller"
    text = f"hung up by {by} ({outcome['hangup_cause']})"
    if outcome.get("transferred_to"):
        text += f" after a transfer to {outcome['transferred_to']}"
    return text + f", {outcome['duration_seconds']:.2f} s"


def diagnose(state, webhook_url):
    """Why a call that did not end in time may have stalled: the likeliest cause."""
    refused = refusals(state["transcript"])
    if refused and not state.get("commands"):
        return f"the app answered {refused[0]['text']}: {explain(refused[0], webhook_url)}"
    if not state.get("commands"):
        return (
            "the app took the webhooks but sent no command: is a Celery worker running, "
            'with TELNYX_IVR["API_BASE_URL"] pointing at this simulator?'
        )
    return f"the last command was {state['commands'][-1]['action']}"


class Command(BaseCommand):
    help = (
        "Run one simulated call against the running app and print its transcript. Steps "
        "(--press, --silent, --hangup, --ai-result, --end-conversation) and expectations "
        "(--expect-heard, --expect-command, --expect-end) apply in the order given; or use "
        "--script FILE. Exit status 0: the call ended and every expectation held; 1: one "
        "failed or the call did not end in time; 2: bad flags, files or configuration."
    )

    # Exit statuses are a contract with users' CI: a system check error would exit with 1,
    # and what this command needs is checked by connect() with exit status 2.
    requires_system_checks = []

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        command_line_error = parser.error

        def error(message):
            # From the shell argparse exits with 2; from call_command say 2 as well.
            if parser.called_from_command_line:
                command_line_error(message)
            raise _usage_error(f"Error: {message}")

        parser.error = error
        return parser

    def add_arguments(self, parser):
        parser.add_argument("--to", help=f"the number called (default {DEFAULT_TO})")
        parser.add_argument("--from", dest="from_", help=f"the caller (default {DEFAULT_FROM})")
        steps = parser.add_argument_group("the caller's steps and expectations, in order")
        flag = {"action": StepFlag}
        steps.add_argument(
            "--press", metavar="DIGITS", build=_press, help="press keys at the next prompt", **flag
        )
        steps.add_argument(
            "--silent", nargs=0, build=_silent, help="stay silent at the next prompt", **flag
        )
        steps.add_argument(
            "--hangup",
            nargs="?",
            const="normal_clearing",
            metavar="CAUSE",
            build=_hangup,
            help="hang up at the next prompt (cause normal_clearing unless given)",
            **flag,
        )
        steps.add_argument(
            "--ai-result",
            metavar="JSON",
            build=_ai_result,
            help="how the next AI gather ends: its result object",
            **flag,
        )
        steps.add_argument(
            "--ai-status",
            choices=("valid", "invalid"),
            build=_ai_status,
            help="status of the --ai-result before it (default valid)",
            **flag,
        )
        steps.add_argument(
            "--end-conversation",
            nargs=0,
            build=_end_conversation,
            help="the next AI assistant's conversation ends",
            **flag,
        )
        steps.add_argument(
            "--expect-heard",
            metavar="TEXT",
            build=_expect_heard,
            help="a prompt heard before the next step contains TEXT",
            **flag,
        )
        steps.add_argument(
            "--expect-command",
            metavar="ACTION",
            build=_expect_command,
            help="the next command the app sends is ACTION",
            **flag,
        )
        steps.add_argument(
            "--expect-end",
            metavar="by=app,cause=normal_clearing,transferred_to=NUMBER",
            build=_expect_end,
            help="how the call ends (any of the three)",
            **flag,
        )
        parser.add_argument(
            "--script", metavar="FILE", help="a JSON script file instead of step flags"
        )
        parser.add_argument(
            "--timeout",
            type=_timeout,
            default=DEFAULT_TIMEOUT,
            help=f"seconds the call may take (default {DEFAULT_TIMEOUT:g})",
        )

    def handle(self, **options):
        from_, to, script = self._plan(options)
        simulator = connect()
        try:
            check_app(simulator.webhook_url)
            self._say(f"Simulated call from {from_} to {to} through {simulator.description}")
            started = None
            try:
                started = simulator.start_call(from_, to, script)
                state, problem = self._follow(simulator, started["id"], options["timeout"])
            except (SimulatorUnavailable, ControlError) as exc:
                raise _usage_error(f"the simulator service failed: {exc}") from None
            except KeyboardInterrupt:
                if started is not None:
                    with contextlib.suppress(SimulatorUnavailable, ControlError):
                        simulator.hang_up(started["id"])
                raise CommandError("interrupted: the caller hung up", returncode=130) from None
        finally:
            simulator.close()
        self._conclude(state, problem)

    def _plan(self, options):
        steps = options.get("steps") or []
        from_ = to = None
        if options.get("script"):
            if steps:
                raise _usage_error("give the steps either as flags or with --script, not both")
            from_, to, steps = load_script(options["script"])
        from_ = options.get("from_") or from_ or DEFAULT_FROM
        to = options.get("to") or to or DEFAULT_TO
        try:
            parse_script(steps)
        except ScriptError as exc:
            raise _usage_error(str(exc)) from None
        return from_, to, steps

    def _follow(self, simulator, call_id, timeout):
        """Print the transcript as the call goes; return (final state, why it was cut short:
        None when it ended by itself)."""
        printer = TranscriptPrinter(self._say)
        deadline = time.monotonic() + timeout
        while True:
            state = simulator.call(call_id)
            if state["ended"] and state.get("pending_webhooks", 0) == 0:
                printer.feed(state, final=True)
                return state, None
            printer.feed(state)
            refused = refused_start(state["transcript"])
            if refused is not None:
                problem = refused_start_problem(refused, simulator.webhook_url)
                problem += "; the caller hung up"
                break
            if time.monotonic() >= deadline:
                problem = (
                    f"the call did not end within {timeout:g} s "
                    f"({diagnose(state, simulator.webhook_url)}); the caller hung up"
                )
                break
            time.sleep(POLL_SECONDS)
        simulator.hang_up(call_id)
        grace = time.monotonic() + HANG_UP_GRACE_SECONDS
        while time.monotonic() < grace:
            state = simulator.call(call_id)
            if state["ended"] and state.get("pending_webhooks", 0) == 0:
                break
            time.sleep(POLL_SECONDS)
        printer.feed(state, final=True)
        return state, problem

    def _conclude(self, state, problem):
        if state.get("outcome"):
            self._say(f"Outcome: {describe_outcome(state['outcome'])}")
        checks = state.get("checks") or []
        for line in check_lines((c["description"], c["held"], c["message"]) for c in checks):
            self._say(line)
        reasons = [problem] if problem else []
        reasons += [failure for failure in state.get("failures") or [] if failure not in reasons]
        if reasons:
            self._say("FAILED: " + "; ".join(reasons))
            raise CommandError(
                f"{len(reasons)} problem(s): " + "; ".join(reasons), returncode=FAILED
            )
        self._say("PASSED")

    def _say(self, text):
        self.stdout.write(text)
        self.stdout.flush()
