"""What each call, and each visit to a node, counts as. Pure: no ORM, no clock, no settings.

Every figure (the dashboard, the per-menu page, the API, the CSV export) is built on these
definitions; docs/dashboards.md states them in words.

A *call* is one incoming call that a menu claimed. A transfer's new leg belongs to the call that
made it and is not a call of its own; calls no menu claims are recorded but not counted.
"""

from dataclasses import dataclass

from ..engine.routing import option_index
from ..engine.state import ENDED, ENDING_HANGUP_NODE, ENDING_MENU_ERROR, ENDING_TRANSFER
from ..menus.kinds import DTMF_KINDS, ROUTING_KINDS

COMPLETED = "completed"  # the menu ended the call at a hangup node
TRANSFERRED = "transferred"  # the call was handed to a destination
ABANDONED = "abandoned"  # the caller hung up while in the menu
FAILED = "failed"  # an error ended it: a command refused for good, 90018, an engine error
IN_PROGRESS = "in_progress"  # not ended yet

ENDED_OUTCOMES = (COMPLETED, TRANSFERRED, ABANDONED, FAILED)
OUTCOMES = (*ENDED_OUTCOMES, IN_PROGRESS)
LABELS = {
    COMPLETED: "Completed",
    TRANSFERRED: "Transferred",
    ABANDONED: "Abandoned",
    FAILED: "Failed",
    IN_PROGRESS: "In progress",
}
DESCRIPTIONS = {
    COMPLETED: "the menu ended the call at a hangup node",
    TRANSFERRED: "the call was handed to a person or number",
    ABANDONED: "the caller hung up while in the menu",
    FAILED: "an error ended the call",
    IN_PROGRESS: "the call has not ended yet",
}

# Who ended a call, for people: ``CallOutcome.ended_by``.
BY_APP, BY_CALLER, BY_TRANSFER, BY_NETWORK = "app", "caller", "transfer", "network"
ENDED_BY_LABELS = {
    BY_APP: "the menu",
    BY_CALLER: "the caller",
    BY_TRANSFER: "the transfer",
    BY_NETWORK: "Telnyx or the network",
}

# The exits of a visit to a node (besides each digit string a caller pressed).
EXIT_INVALID = "invalid"
EXIT_NO_INPUT = "no_input"
EXIT_VALID = "valid"  # AI gathers
EXIT_HANGUP = "hangup"  # the caller hung up here
EXIT_ERROR = "error"
EXIT_COMPLETED = "completed"  # an announcement or an assistant finished
EXIT_TRANSFERRED = "transferred"
EXIT_ENDED = "ended"  # a hangup node ended the call
EXIT_LABELS = {
    EXIT_INVALID: "invalid key",
    EXIT_NO_INPUT: "no input",
    EXIT_VALID: "valid",
    EXIT_HANGUP: "hung up",
    EXIT_ERROR: "error",
    EXIT_COMPLETED: "finished",
    EXIT_TRANSFERRED: "transferred",
    EXIT_ENDED: "menu ended the call",
}

_CALLER_HUNG_UP = frozenset({"call_hangup", "hangup"})


@dataclass(frozen=True)
class CallOutcome:
    """``outcome`` and what goes with it. ``node``: where an abandoned or failed call was, or
    the hangup node that completed it; ``menu_seconds``: time in the menu, from the answer to
    the end or to the transfer (None before the answer or before the end)."""

    outcome: str
    node: str = ""
    transferred_to: str = ""
    ended_by: str = ""
    menu_seconds: float | None = None


def classify(state):
    """The ``CallOutcome`` of a call from its engine ``CallState``."""
    if state.status != ENDED:
        return CallOutcome(IN_PROGRESS, node=state.node or "")
    ended_by = _ended_by(state)
    end = state.transferred_at if state.ending == ENDING_TRANSFER else state.ended_at
    seconds = None
    if state.answered_at is not None and end is not None:
        seconds = max(0.0, (end - state.answered_at).total_seconds())
    common = {"ended_by": ended_by, "menu_seconds": seconds}
    if state.failure or state.ending == ENDING_MENU_ERROR:
        return CallOutcome(FAILED, node=state.last_node, **common)
    if state.ending == ENDING_TRANSFER:
        return CallOutcome(
            TRANSFERRED, node=state.last_node, transferred_to=state.transferred_to, **common
        )
    if state.ending == ENDING_HANGUP_NODE:
        return CallOutcome(COMPLETED, node=state.last_node, **common)
    return CallOutcome(ABANDONED, node=state.last_node, **common)


def _ended_by(state):
    if state.ending == ENDING_TRANSFER:
        return BY_TRANSFER
    if state.hangup_source == "caller":
        return BY_CALLER
    if state.ending in (ENDING_HANGUP_NODE, ENDING_MENU_ERROR):
        return BY_APP
    return BY_NETWORK


def exit_of(node_kind, step_outcome, digits, *, call_ended=True):
    """What leaving a node counts as: the digit string pressed, or one of the ``EXIT_*``.
    None for a visit still open (``step_outcome`` empty while the call goes on)."""
    if not step_outcome:
        return EXIT_ERROR if call_ended else None
    if node_kind == "hangup":
        return EXIT_ENDED
    if node_kind == "transfer":
        return EXIT_HANGUP if step_outcome in _CALLER_HUNG_UP else EXIT_TRANSFERRED
    if step_outcome in _CALLER_HUNG_UP:
        return EXIT_HANGUP
    if step_outcome == "error" or step_outcome in ("file_not_found", "failed"):
        return EXIT_ERROR
    if node_kind in ROUTING_KINDS:
        return step_outcome  # open, closed, holiday; option_N or default
    if node_kind in DTMF_KINDS:
        if step_outcome == "valid":
            return digits or EXIT_VALID
        if step_outcome == "timeout":
            return EXIT_NO_INPUT
        if step_outcome == "invalid":
            return EXIT_INVALID
        return EXIT_ERROR  # cancelled, cancelled_amd, an unknown status
    if node_kind == "ai_gather":
        return step_outcome if step_outcome in (EXIT_VALID, EXIT_INVALID) else EXIT_ERROR
    if step_outcome in ("completed", "conversation_ended"):
        return EXIT_COMPLETED
    return EXIT_ERROR


# Exits of office-hours and check nodes.
ROUTING_EXIT_LABELS = {
    "open": "office open",
    "closed": "office closed",
    "holiday": "holiday",
    "default": "no option matched",
}


def exit_label(exit):
    if exit in EXIT_LABELS:
        return EXIT_LABELS[exit]
    if exit in ROUTING_EXIT_LABELS:
        return ROUTING_EXIT_LABELS[exit]
    if option_index(exit) is not None:
        return f"option {option_index(exit) + 1} matched"
    return f"pressed {exit}"


def rates(by_outcome):
    """Containment, abandonment and transfer rate (0..1, or None with no ended call)."""
    ended = sum(by_outcome.get(outcome, 0) for outcome in ENDED_OUTCOMES)

    def share(outcome):
        return by_outcome.get(outcome, 0) / ended if ended else None

    return {
        "containment": share(COMPLETED),
        "abandonment": share(ABANDONED),
        "transfer": share(TRANSFERRED),
    }
