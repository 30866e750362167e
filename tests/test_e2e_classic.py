"""Scripted calls through the classic tree example, end to end: the simulator plays Telnyx and
the caller, webhooks go through the live endpoint, a real Celery worker runs the engine.
One test per branch; each checks what the caller heard and every command body received."""

import pytest

from telnyx_ivr.models import Call, CallStep
from telnyx_ivr.simulator import ExpectCommand, ExpectEnd, ExpectHeard, HangUp, Press, Silence

from .e2e_support import (
    CALLER_NUMBER,
    CLASSIC_NUMBER,
    acted_on,
    assert_command_ids_unique,
    assert_commands_match_rows,
    client_state,
    heard,
    prompt_text,
)

pytestmark = pytest.mark.redis

DIGIT_RULES = {
    "minimum_digits": 1,
    "maximum_digits": 1,
    "terminating_digit": "#",
    "timeout_millis": 10000,
    "inter_digit_timeout_millis": 5000,
    "maximum_tries": 1,  # the engine counts tries itself
}
TTS = {"payload_type": "text", "voice": "female", "language": "en-US", "service_level": "premium"}
MENU_VALID_DIGITS = {"main": "0129", "support": "129*"}


class Tree:
    """The classic tree's prompts, read from the example, and the bodies they make."""

    def __init__(self, document):
        self.doc = document

    def text(self, key):
        return prompt_text(self.doc, key)

    def menu_payload(self, node, retry=None):
        text = self.text(f"{node}_menu")
        return f"{self.text(retry)} {text}" if retry else text

    def transfer_to(self, node):
        return self.doc["nodes"][node]["to"]


@pytest.fixture
def tree(e2e):
    return Tree(e2e.classic)


def check_commands(call, expected):
    """``expected``: (action, node, body subset) per command acted on, in order. Checks
    every command's body (incl. client_state naming this call and the node) and that the app
    stored each as one sent Command row."""
    records = acted_on(call)
    assert [r.action for r in records] == [action for action, _, _ in expected], (
        call.transcript_text()
    )
    steps = []
    for record, (action, node, subset) in zip(records, expected, strict=True):
        body = {k: v for k, v in record.body.items() if k not in ("command_id", "client_state")}
        assert body == subset, f"{action} body"
        if action != "answer":  # answer runs before any node
            state = client_state(record)
            assert (state["c"], state["n"]) == (call.call_control_id, node)
            steps.append(state["s"])
        assert record.command_id
    assert steps == sorted(steps), "step numbers only grow"
    assert_command_ids_unique(call)
    return assert_commands_match_rows(call)


def gather(tree, node, retry=None):
    return (
        "gather_using_speak",
        node,
        {
            "payload": tree.menu_payload(node, retry),
            **TTS,
            "valid_digits": MENU_VALID_DIGITS[node],
            **DIGIT_RULES,
        },
    )


def transfer(tree, node):
    return ("transfer", node, {"to": tree.transfer_to(node), "timeout_secs": 30})


def goodbye(tree):
    return [
        ("speak", "goodbye", {"payload": tree.text("goodbye"), **TTS}),
        ("hangup", "goodbye", {}),
    ]


ANSWER = ("answer", None, {})


def ended_transferred(call, row, node_key, to):
    """The caller was bridged to ``to`` and hung up; the app closed the call and the step."""
    assert call.outcome["transferred_to"] == to
    assert call.outcome["ended_by"] == "caller"
    assert (row.status, row.hangup_source) == (Call.Status.ENDED, "caller")
    last = row.steps.order_by("step").last()
    assert (last.node_key, last.outcome) == (node_key, "transferred")


@pytest.mark.parametrize(
    ("digit", "node"),
    [("1", "sales"), ("0", "operator")],
)
def test_main_menu_digit_transfers(e2e, tree, digit, node):
    call = e2e.run(
        CLASSIC_NUMBER,
        [
            ExpectCommand("answer"),
            ExpectCommand("gather_using_speak"),
            ExpectHeard("Press 1 for sales"),
            Press(digit),
            ExpectCommand("transfer"),
            ExpectEnd(by="caller", transferred_to=tree.transfer_to(node)),
        ],
    )
    call.assert_expectations()
    assert heard(call) == [tree.menu_payload("main")]
    row = check_commands(call, [ANSWER, gather(tree, "main"), transfer(tree, node)])
    ended_transferred(call, row, node, tree.transfer_to(node))
    assert (row.from_number, row.to_number) == (CALLER_NUMBER, CLASSIC_NUMBER)
    assert row.variables["main_choice"] == digit
    main = row.steps.get(node_key="main")
    assert (main.outcome, main.digits, main.tries) == ("valid", digit, 1)


@pytest.mark.parametrize(("digit", "node"), [("1", "billing"), ("2", "technical")])
def test_support_submenu_digits_transfer(e2e, tree, digit, node):
    call = e2e.run(
        CLASSIC_NUMBER,
        [
            Press("2"),
            ExpectHeard("Support. Press 1 for billing"),
            Press(digit),
            ExpectEnd(by="caller", transferred_to=tree.transfer_to(node)),
        ],
    )
    call.assert_expectations()
    assert heard(call) == [tree.menu_payload("main"), tree.menu_payload("support")]
    row = check_commands(
        call, [ANSWER, gather(tree, "main"), gather(tree, "support"), transfer(tree, node)]
    )
    ended_transferred(call, row, node, tree.transfer_to(node))
    assert (row.variables["main_choice"], row.variables["support_choice"]) == ("2", digit)
    assert [s.node_key for s in row.steps.order_by("step")] == ["main", "support", node]


def test_invalid_input_until_tries_run_out_says_goodbye(e2e, tree):
    call = e2e.run(
        CLASSIC_NUMBER,
        [Press("5"), Press("7"), Press("8"), ExpectHeard("goodbye"), ExpectEnd(by="app")],
    )
    call.assert_expectations()
    retry = tree.menu_payload("main", retry="invalid")
    assert heard(call) == [tree.menu_payload("main"), retry, retry, tree.text("goodbye")]
    row = check_commands(
        call,
        [
            ANSWER,
            gather(tree, "main"),
            gather(tree, "main", retry="invalid"),
            gather(tree, "main", retry="invalid"),
            *goodbye(tree),
        ],
    )
    assert call.outcome == {**call.outcome, "ended_by": "app", "hangup_cause": "normal_clearing"}
    assert (row.status, row.hangup_source) == (Call.Status.ENDED, "callee")
    main = row.steps.get(node_key="main")
    assert (main.outcome, main.digits, main.tries) == ("invalid", "8", 3)
    assert "main_choice" not in row.variables


def test_no_input_until_tries_run_out_says_goodbye(e2e, tree):
    call = e2e.run(CLASSIC_NUMBER, [Silence(), Silence(), Silence(), ExpectEnd(by="app")])
    call.assert_expectations()
    retry = tree.menu_payload("main", retry="no_input")
    assert heard(call) == [tree.menu_payload("main"), retry, retry, tree.text("goodbye")]
    row = check_commands(
        call,
        [
            ANSWER,
            gather(tree, "main"),
            gather(tree, "main", retry="no_input"),
            gather(tree, "main", retry="no_input"),
            *goodbye(tree),
        ],
    )
    main = row.steps.get(node_key="main")
    assert (main.outcome, main.tries) == ("timeout", 3)
    goodbye_step = row.steps.get(node_key="goodbye")
    assert goodbye_step.ended_at is not None


def test_invalid_then_no_input_share_the_tries(e2e, tree):
    """The last try's outcome picks the route: invalid, invalid, silent -> no_input."""
    call = e2e.run(CLASSIC_NUMBER, [Press("5"), Press("5"), Silence(), ExpectEnd(by="app")])
    call.assert_expectations()
    assert heard(call)[1:] == [
        tree.menu_payload("main", retry="invalid"),
        tree.menu_payload("main", retry="invalid"),
        tree.text("goodbye"),
    ]
    row = Call.objects.get(call_control_id=call.call_control_id)
    assert row.steps.get(node_key="main").outcome == "timeout"


def test_nine_repeats_the_main_menu(e2e, tree):
    call = e2e.run(CLASSIC_NUMBER, [Press("9"), Press("0"), ExpectEnd(by="caller")])
    call.assert_expectations()
    assert heard(call) == [tree.menu_payload("main")] * 2
    row = check_commands(
        call,
        [ANSWER, gather(tree, "main"), gather(tree, "main"), transfer(tree, "operator")],
    )
    visits = list(row.steps.filter(node_key="main").order_by("step"))
    assert [(v.outcome, v.digits, v.tries) for v in visits] == [
        ("valid", "9", 1),
        ("valid", "0", 1),
    ]
    # A repeat is a new visit with fresh tries, not a retry of the old one.
    first, second = (client_state(r) for r in acted_on(call)[1:3])
    assert second["s"] > first["s"]


def test_nine_repeats_the_support_menu(e2e, tree):
    call = e2e.run(CLASSIC_NUMBER, [Press("2"), Press("9"), Press("1"), ExpectEnd(by="caller")])
    call.assert_expectations()
    assert heard(call) == [tree.menu_payload("main")] + [tree.menu_payload("support")] * 2
    check_commands(
        call,
        [
            ANSWER,
            gather(tree, "main"),
            gather(tree, "support"),
            gather(tree, "support"),
            transfer(tree, "billing"),
        ],
    )


def test_star_goes_back_from_the_support_menu(e2e, tree):
    call = e2e.run(
        CLASSIC_NUMBER,
        [
            Press("2"),
            ExpectHeard("Support."),
            Press("*"),
            ExpectHeard("Thank you for calling. Press 1 for sales"),
            Press("1"),
            ExpectEnd(by="caller", transferred_to=tree.transfer_to("sales")),
        ],
    )
    call.assert_expectations()
    assert heard(call) == [
        tree.menu_payload("main"),
        tree.menu_payload("support"),
        tree.menu_payload("main"),
    ]
    row = check_commands(
        call,
        [
            ANSWER,
            gather(tree, "main"),
            gather(tree, "support"),
            gather(tree, "main"),
            transfer(tree, "sales"),
        ],
    )
    assert [s.node_key for s in row.steps.order_by("step")] == ["main", "support", "main", "sales"]
    assert row.variables["support_choice"] == "*"
    assert row.variables["main_choice"] == "1"


def test_support_menu_no_input_says_goodbye(e2e, tree):
    call = e2e.run(
        CLASSIC_NUMBER, [Press("2"), Silence(), Press("5"), Silence(), ExpectEnd(by="app")]
    )
    call.assert_expectations()
    assert heard(call) == [
        tree.menu_payload("main"),
        tree.menu_payload("support"),
        tree.menu_payload("support", retry="no_input"),
        tree.menu_payload("support", retry="invalid"),
        tree.text("goodbye"),
    ]
    row = check_commands(
        call,
        [
            ANSWER,
            gather(tree, "main"),
            gather(tree, "support"),
            gather(tree, "support", retry="no_input"),
            gather(tree, "support", retry="invalid"),
            *goodbye(tree),
        ],
    )
    support = row.steps.get(node_key="support")
    assert (support.outcome, support.tries) == ("timeout", 3)


def test_caller_hangs_up_in_the_menu(e2e, tree):
    call = e2e.run(CLASSIC_NUMBER, [Press("2"), HangUp("normal_clearing")])
    call.assert_expectations()
    row = check_commands(call, [ANSWER, gather(tree, "main"), gather(tree, "support")])
    assert (row.status, row.hangup_cause, row.hangup_source) == (
        Call.Status.ENDED,
        "normal_clearing",
        "caller",
    )
    support = row.steps.get(node_key="support")
    assert support.outcome == "call_hangup"
    assert support.ended_at is not None
    assert not CallStep.objects.filter(call=row, ended_at=None).exists()
