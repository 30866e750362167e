# ruff: noqa: F811 -- fixtures imported from test_simulator_support are redefined as arguments
"""``manage.py ivr_simulate``: one simulated call against the running app, end to end (live
server, a real Celery worker, the simulator as a service or in-process), its transcript and
its exit status (0 passed, 1 failed or did not end, 2 bad input or configuration)."""

import io
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from telnyx_ivr.management.commands.ivr_simulate import Command
from telnyx_ivr.menus.io import import_definition
from telnyx_ivr.simulator.control import SimulatorClient
from telnyx_ivr.simulator.service import new_signing_seed

from .office_hours import open_around_the_clock
from .stack import free_port
from .test_simulator_support import AnsweringApp, answering_app  # noqa: F401
from .urls_other_mount import OTHER_WEBHOOK_PATH

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "telnyx_ivr" / "examples"
API_KEY = "KEY_ivr_simulate_test"
AI_NUMBER = "+15550100200"


def port_is_free(port):
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class Run:
    code: int
    out: str
    error: str


def simulate(*args):
    """call_command("ivr_simulate", ...) -> Run(exit status, stdout, CommandError message)."""
    out = io.StringIO()
    try:
        call_command("ivr_simulate", *args, stdout=out)
    except CommandError as exc:
        return Run(exc.returncode, out.getvalue(), str(exc))
    return Run(0, out.getvalue(), "")


@dataclass
class Site:
    base_url: str
    port: int
    seed: str
    public_key: str
    webhook_url: str

    @property
    def env(self):
        """The settings the worker and other processes get, as the example project reads them."""
        return {
            "TELNYX_API_BASE_URL": self.base_url,
            "TELNYX_API_KEY": API_KEY,
            "TELNYX_PUBLIC_KEY": self.public_key,
            "IVR_SIMULATOR_SIGNING_KEY": self.seed,
            "IVR_SIMULATOR_WEBHOOK_URL": self.webhook_url,
        }


def configure(ivr_settings_for, webhook_url):
    """This process's settings for a simulator on a free port sending to ``webhook_url``."""
    seed, public = new_signing_seed()
    port = free_port()
    site = Site(f"http://127.0.0.1:{port}/v2", port, seed, public, webhook_url)
    ivr_settings_for(
        API_KEY=API_KEY,
        API_BASE_URL=site.base_url,
        PUBLIC_KEYS=[public],
        SIMULATOR_SIGNING_KEY=seed,
        SIMULATOR_WEBHOOK_URL=webhook_url,
    )
    return site


@pytest.fixture
def site(live_server, start_worker, ivr_settings_for):
    """The example menus published, the live server as the app and a worker sending its
    commands to the simulator's address."""
    for name in ("classic_tree.json", "ai_intake.json"):
        import_definition(json.loads((EXAMPLES / name).read_text()), publish=True)
    open_around_the_clock()  # tests/office_hours.py says why
    site = configure(ivr_settings_for, f"{live_server.url}/telnyx/webhook/")
    start_worker(env=site.env)
    return site


@pytest.fixture
def service(site):
    """``manage.py ivr_simulator`` running in its own process, as a developer runs it."""
    process = subprocess.Popen(
        [sys.executable, "manage.py", "ivr_simulator"],
        cwd=ROOT,
        env={**os.environ, **site.env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    client = SimulatorClient(site.base_url, API_KEY, timeout=1)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.status()
            break
        except Exception:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"the simulator service did not start:\n{process.stdout.read()}")
            time.sleep(0.1)
    yield client
    process.terminate()
    process.wait(10)
    process.stdout.close()


# --- end to end with a real worker ---------------------------------------------------------


@pytest.mark.redis
def test_through_the_running_service_exit_statuses_from_the_shell(site, service):
    command = [sys.executable, "manage.py", "ivr_simulate", "--timeout", "30"]
    env = {**os.environ, **site.env}
    passing = subprocess.run(
        [*command, "--expect-heard", "press 1 for sales", "--press", "1",
         "--expect-end", "by=caller,transferred_to=+15550100001"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert f"through the simulator service at {site.base_url}" in passing.stdout
    assert passing.stdout.rstrip().endswith("PASSED")
    assert len(service.status()["calls"]) == 1

    failing = subprocess.run(
        [*command, "--press", "0", "--expect-end", "transferred_to=+15550100001"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "transferred to was '+15550100000', not '+15550100001'" in failing.stdout
    # The checks on the way send no command; the transcript's route line names them.
    assert (
        "route    main -> office_hours (office open) -> which_operator (no option matched)"
        " -> operator"
    ) in failing.stdout
    assert "FAIL  call ends (transferred_to=+15550100001)" in failing.stdout
    assert "CommandError: 1 problem(s)" in failing.stderr
    assert "Traceback" not in failing.stderr
    assert len(service.status()["calls"]) == 2


@pytest.mark.redis
def test_in_process_when_no_service_runs_prints_the_transcript(site):
    run = simulate("--press", "2", "--expect-heard", "Press 1 for billing", "--press", "1")
    assert run.code == 0, run.out + run.error
    lines = run.out.splitlines()
    assert lines[0] == (
        "Simulated call from +15550001111 to +15550000100 through a simulator in this process"
        f" at {site.base_url} (no ivr_simulator service was running)"
    )
    text = "\n".join(lines)
    # Each prompt as heard, each key, each route and command with its reply time, the end.
    assert 'heard    menu: "Thank you for calling. Press 1 for sales' in text
    assert "caller   pressed 2" in text
    assert "route    enters main" in text
    assert "route    main -> support" in text
    assert "route    support -> billing" in text
    assert "ms after call.gather.ended" in text
    assert "transfer transferred to sip:billing@example.com" in text
    assert "Outcome: hung up by the caller (normal_clearing) after a transfer to " in text
    assert "Expectations: 1 held, 0 failed" in text
    assert lines[-1] == "PASSED"
    # In order: the routes follow the keys.
    assert text.index("pressed 2") < text.index("main -> support") < text.index("pressed 1")
    assert port_is_free(site.port), "the in-process simulator must stop with the command"


@pytest.mark.redis
def test_flags_are_steps_in_command_line_order(site):
    # The same two keys the other way round: 1 transfers to sales at once, so the 2 is never
    # used and the call fails.
    run = simulate("--press", "1", "--press", "2")
    assert run.code == 1
    assert "route    main -> sales" in run.out
    assert 'the call ended with 1 script step(s) unused: press "2"' in run.out
    assert "unused" in run.error


@pytest.mark.redis
def test_a_script_file_drives_the_ai_intake(site, tmp_path):
    script = tmp_path / "intake.json"
    script.write_text(
        json.dumps(
            {
                "from": "+15557654321",
                "to": AI_NUMBER,
                "steps": [
                    {"expect_heard": "your name, your age"},
                    {"ai_result": {"name": "Ada", "age": 36, "city": "Boston"}, "status": "valid"},
                    {"expect_command": "speak"},
                    {"expect_heard": "Thank you, Ada"},
                    {"expect_end": {"by": "app", "cause": "normal_clearing"}},
                ],
            }
        )
    )
    run = simulate("--script", str(script))
    assert run.code == 0, run.out + run.error
    assert f"from +15557654321 to {AI_NUMBER}" in run.out
    assert 'AI greeting: "Hello! Can you tell me your name' in run.out
    assert 'caller   AI result valid: {"age": 36, "city": "Boston", "name": "Ada"}' in run.out
    assert "route    intake -> thanks" in run.out
    assert "Expectations: 4 held, 0 failed" in run.out
    assert "Outcome: hung up by the app (normal_clearing)" in run.out


@pytest.mark.redis
def test_an_invalid_ai_result_and_a_failed_expectation_exit_1(site):
    run = simulate(
        "--to", AI_NUMBER,
        "--ai-result", "{}", "--ai-status", "invalid",
        "--expect-heard", "press 7 for pizza",
        "--silent",
    )  # fmt: skip
    assert run.code == 1
    assert "AI result invalid" in run.out
    assert "route    intake -> fallback" in run.out
    assert 'FAIL  hear "press 7 for pizza"' in run.out
    assert 'expected to hear "press 7 for pizza"' in run.error
    assert run.out.splitlines()[-1].startswith("FAILED: ")


# --- the call does not end in time (a stand-in app, no worker needed) -----------------------


def test_a_call_that_does_not_end_in_time_exits_1_and_says_why(answering_app, ivr_settings_for):
    app = answering_app(200)
    configure(ivr_settings_for, app.url)
    started = time.monotonic()
    run = simulate("--press", "1", "--timeout", "1")
    assert time.monotonic() - started < 10
    assert run.code == 1
    assert "call.initiated -> 200" in run.out
    assert "did not end within 1 s" in run.error
    assert "is a Celery worker running" in run.error
    assert "the caller hung up" in run.out


SIGNATURE_REFUSED = {
    "error": "invalid_signature",
    "detail": "signature does not match the body under any configured public key",
}


@pytest.mark.parametrize(
    ("status", "body", "headers", "transcript", "said"),
    [
        (
            403,
            SIGNATURE_REFUSED,
            {},
            "call.initiated -> 403 (invalid_signature: signature does not match",
            [
                "this site refused the webhook's signature (invalid_signature:",
                """is the simulator's public key (of its TELNYX_IVR["SIMULATOR_SIGNING_KEY"])"""
                """ in TELNYX_IVR["PUBLIC_KEYS"]?""",
            ],
        ),
        (
            403,
            {"error": "not_configured", "detail": "no Telnyx public key is configured"},
            {},
            "call.initiated -> 403 (not_configured",
            ["""add the simulator's public key to TELNYX_IVR["PUBLIC_KEYS"]"""],
        ),
        (
            301,
            None,
            {"Location": "https://127.0.0.1/telnyx/webhook/"},
            "call.initiated -> 301 (redirect to https://127.0.0.1/telnyx/webhook/, not followed)",
            [
                "this site redirected the webhook to https://127.0.0.1/telnyx/webhook/ (HTTP 301)",
                "SECURE_SSL_REDIRECT",
                "SECURE_REDIRECT_EXEMPT",
            ],
        ),
        (
            413,
            {"error": "body_too_large", "detail": "body is larger than 10 bytes"},
            {},
            "call.initiated -> 413 (body_too_large",
            ["this site answered HTTP 413 (body_too_large: body is larger than 10 bytes)"],
        ),
    ],
)
def test_a_refused_first_webhook_stops_the_call_at_once_naming_the_cause(
    answering_app, ivr_settings_for, status, body, headers, transcript, said
):
    app = answering_app(status, body, headers)
    configure(ivr_settings_for, app.url)
    started = time.monotonic()
    run = simulate("--press", "1", "--timeout", "8")
    assert time.monotonic() - started < 5, "a refused call must not wait out its timeout"
    assert run.code == 1
    assert transcript in run.out
    assert "the app refused the call's first webhook" in run.error
    for text in said:
        assert text in run.error
    assert "did not end within" not in run.error
    assert app.requests.count("GET") == 0  # a redirect is never followed


@pytest.mark.urls("tests.urls_other_mount")
def test_a_webhook_url_for_another_mount_is_named_as_the_cause(live_server, ivr_settings_for):
    # The site mounts the app at /phone/ivr/; the simulator was told the usual /telnyx/ path.
    configure(ivr_settings_for, f"{live_server.url}/telnyx/webhook/")
    started = time.monotonic()
    run = simulate("--timeout", "8")
    assert time.monotonic() - started < 5
    assert run.code == 1
    assert "call.initiated -> 404" in run.out
    assert (
        f"nothing is mounted at {live_server.url}/telnyx/webhook/: this site's webhook path is "
        f'{OTHER_WEBHOOK_PATH}, so set TELNYX_IVR["SIMULATOR_WEBHOOK_URL"] to '
        f"{live_server.url}{OTHER_WEBHOOK_PATH}"
    ) in run.error
    assert "public key" not in run.error


def test_a_webhook_refused_with_a_5xx_is_retried_so_the_call_waits(answering_app, ivr_settings_for):
    # 5xx are redelivered (as Telnyx does), so the app may still take the call: no early stop.
    app = answering_app(503, {"detail": "down for maintenance"})
    configure(ivr_settings_for, app.url)
    run = simulate("--timeout", "1.5")
    assert run.code == 1
    assert "did not end within 1.5 s" in run.error
    assert "this site answered HTTP 503 (down for maintenance)" in run.error
    assert app.requests.count("POST") >= 2


# --- bad flags and files: exit 2, a clear message --------------------------------------------


def test_step_flags_keep_their_order():
    parser = Command().create_parser("manage.py", "ivr_simulate")
    options = parser.parse_args(
        ["--press", "2", "--expect-heard", "billing", "--silent", "--ai-result", '{"a": 1}',
         "--ai-status", "invalid", "--hangup", "--end-conversation", "--press", "1#",
         "--expect-command", "hangup", "--expect-end", "by=app, cause=normal_clearing",
         "--hangup", "user_busy"]
    )  # fmt: skip
    assert options.steps == [
        {"press": "2"},
        {"expect_heard": "billing"},
        {"silent": True},
        {"ai_result": {"a": 1}, "status": "invalid"},
        {"hangup": "normal_clearing"},
        {"end_conversation": True},
        {"press": "1#"},
        {"expect_command": "hangup"},
        {"expect_end": {"by": "app", "cause": "normal_clearing"}},
        {"hangup": "user_busy"},
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ai-result", "{not json"], "--ai-result: not JSON"),
        (["--ai-result", "[1, 2]"], "must be a JSON object"),
        (["--ai-status", "invalid"], "after the --ai-result"),
        (["--ai-result", "{}", "--ai-status", "maybe"], "invalid choice: 'maybe'"),
        (["--press", "1x"], "'1x' is not DTMF keys"),
        (["--expect-end", "by=nobody"], "by must be app or caller"),
        (["--expect-end", "colour=red"], "'colour=red': write by=app|caller"),
        (["--expect-heard", " "], "needs some text"),
        (["--timeout", "0"], "between 0 and 3600"),
        (["--timeout", "soon"], "'soon' is not a number of seconds"),
        (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    ],
)
def test_bad_flags_exit_2(args, message):
    run = simulate(*args)
    assert run.code == 2
    assert message in run.error
    assert run.out == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the script"),
        ("[{", "is not JSON: Expecting"),
        ('[{"dance": true}]', "script step 1: unknown step ['dance']"),
        ('[{"press": "1", "loudly": true}]', "script step 1: unexpected key(s) loudly"),
        ('{"to": "+1555", "stepz": []}', "unknown key(s) stepz"),
        ('{"to": 5, "steps": []}', '"to" must be a phone number'),
        ('"press 1"', "must hold a list of steps or an object"),
        ('[{"expect_end": {"by": "app", "how": "x"}}]', "unexpected key(s) how"),
    ],
)
def test_bad_script_files_exit_2(tmp_path, content, message):
    path = tmp_path / "script.json"
    if content is not None:
        path.write_text(content)
    run = simulate("--script", str(path))
    assert run.code == 2
    assert message in run.error
    assert str(path) in run.error


def test_a_script_and_step_flags_together_exit_2(tmp_path):
    path = tmp_path / "script.json"
    path.write_text("[]")
    run = simulate("--script", str(path), "--press", "1")
    assert run.code == 2
    assert "not both" in run.error


def test_the_shell_gets_exit_status_2_and_no_traceback():
    done = subprocess.run(
        [sys.executable, "manage.py", "ivr_simulate", "--press", "x"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "'x' is not DTMF keys" in done.stderr
    assert "Traceback" not in done.stderr


# --- bad configuration: exit 2 -----------------------------------------------------------------


def test_a_remote_api_base_url_exits_2(ivr_settings_for):
    configure(ivr_settings_for, "http://127.0.0.1:9/telnyx/webhook/")
    ivr_settings_for(API_BASE_URL="https://api.telnyx.com/v2")
    run = simulate()
    assert run.code == 2
    assert "loopback address" in run.error


def test_a_missing_signing_key_exits_2(ivr_settings_for, answering_app):
    configure(ivr_settings_for, answering_app().url)
    ivr_settings_for(SIMULATOR_SIGNING_KEY=None)
    run = simulate()
    assert run.code == 2
    assert 'SIMULATOR_SIGNING_KEY"] is not set' in run.error


def test_a_busy_simulator_port_exits_2(ivr_settings_for, answering_app):
    configure(ivr_settings_for, answering_app().url)
    # Something that is not the simulator holds its port (here: another stand-in server).
    squatter = AnsweringApp(404)
    try:
        ivr_settings_for(API_BASE_URL=f"http://127.0.0.1:{squatter.server.server_address[1]}/v2")
        run = simulate()
    finally:
        squatter.close()
    assert run.code == 2
    assert "the simulator's port is busy" in run.error
    assert "not the simulator's JSON" in run.error


def test_an_unreachable_app_exits_2_and_frees_the_port(ivr_settings_for):
    closed = free_port()
    site = configure(ivr_settings_for, f"http://127.0.0.1:{closed}/telnyx/webhook/")
    run = simulate()
    assert run.code == 2
    assert f"the app does not answer at its webhook URL http://127.0.0.1:{closed}/" in run.error
    assert port_is_free(site.port)
