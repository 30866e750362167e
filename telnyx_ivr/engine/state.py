"""The engine's data: the call's state between events, the facts of one event, and what
``decide`` returns. Plain dataclasses, so the core stays free of the ORM and the network."""

import copy
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

# Call status.
NEW = "new"  # state exists, call.initiated not processed yet
ANSWERING = "answering"  # answer sent, waiting for call.answered
ACTIVE = "active"  # running the menu
TRANSFERRING = "transferring"  # transfer sent; the engine only records from here on
ENDED = "ended"  # call.hangup seen
UNMANAGED = "unmanaged"  # outgoing, or no menu claims it: recorded, never commanded

# What the current step waits for (``CallState.phase``).
IDLE = ""  # nothing: the step ended without a follow-up (cancelled, AMD, hang-up)
ANSWER = "answer"  # call.answered
GATHER = "gather"  # call.gather.ended
RETRY_PROMPT = "retry_prompt"  # speak/playback ended, then the gather is sent again
ANNOUNCE = "announce"  # speak/playback ended of an announcement node
AI_GATHER = "ai_gather"  # call.ai_gather.ended
AI_ASSISTANT = "ai_assistant"  # call.conversation.ended
TRANSFER = "transfer"  # nothing more (call.hangup)
GOODBYE = "goodbye"  # speak/playback ended of a hang-up node's prompt, then hangup
APOLOGY = "apology"  # speak/playback ended of the menu's apology, then transfer or hangup
HANGING_UP = "hanging_up"  # call.hangup

# How the engine itself ended the call (``CallState.ending``); "" while it has not.
ENDING_HANGUP_NODE = "hangup_node"  # a hangup node: the menu's own end
ENDING_TRANSFER = "transfer"  # a transfer node handed the call on
ENDING_MENU_ERROR = "menu_error"  # nowhere sensible to go: a gap or error in the menu

# Bounded so a call looping through its menu cannot grow its state without end.
MAX_BACK_STACK = 32
MAX_SEEN_EVENT_IDS = 64

_DATETIME_FIELDS = ("started_at", "answered_at", "ended_at", "step_opened_at", "transferred_at")


@dataclass
class CallState:
    """Everything the engine needs between two events of one call. JSON-safe via ``to_dict``."""

    status: str = NEW
    call_control_id: str = ""
    call_session_id: str = ""
    call_leg_id: str = ""
    direction: str = ""
    answered: bool = False
    # Current node and step. ``step`` grows on every node visit and every re-ask and is
    # echoed back as ``client_state["s"]``; ``visit_step`` is the step the current node
    # visit opened with (it names the visit's step record).
    node: str | None = None
    phase: str = IDLE
    # The event type the current step waits for ("" when none); other events are recorded.
    awaiting: str = ""
    step_open: bool = False
    step: int = 0
    visit_step: int = 0
    tries: int = 0
    last_try_outcome: str = ""
    back_stack: list[str] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    ai_partial_results: Any = None
    ai_message_history: list[Any] = field(default_factory=list)
    conversation_id: str = ""
    hangup_cause: str = ""
    hangup_source: str = ""
    sip_hangup_cause: str = ""
    started_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    step_opened_at: datetime | None = None
    # How the call ends, for the call log's outcome (telnyx_ivr.analytics.outcomes):
    # ``ending`` and ``end_reason`` when the engine ended it, ``failure`` when an error did
    # (set by the runner: a command refused for good, 90018, an event it could not process).
    ending: str = ""
    end_reason: str = ""
    failure: str = ""
    # The action whose failure for good started the menu's fallback (``core.command_failed``),
    # "" while none has; once set, a failing command hangs up or gives up, never apologises
    # again.
    fallback: str = ""
    transferred_to: str = ""
    transferred_at: datetime | None = None
    last_node: str = ""  # the node visited last (``node`` is cleared by a direct hang-up)
    simulated: bool = False  # placed by the call simulator: a test call
    # Ids of the last events applied, so feeding one again changes nothing.
    seen_event_ids: list[str] = field(default_factory=list)

    def to_dict(self):
        """A JSON-serialisable dict (datetimes as ISO 8601 text)."""
        data = {}
        for f in fields(self):
            value = copy.deepcopy(getattr(self, f.name))
            if f.name in _DATETIME_FIELDS and value is not None:
                value = value.isoformat()
            data[f.name] = value
        return data

    @classmethod
    def from_dict(cls, data):
        """Rebuild a state from ``to_dict()`` output; unknown keys are dropped, missing ones
        take their defaults (so states stored by an older version still load)."""
        known = {f.name for f in fields(cls)}
        kwargs = {}
        for name, value in (data or {}).items():
            if name not in known:
                continue
            if name in _DATETIME_FIELDS and isinstance(value, str):
                value = datetime.fromisoformat(value)
            kwargs[name] = copy.deepcopy(value)
        return cls(**kwargs)

    def copy(self):
        return copy.deepcopy(self)


@dataclass(frozen=True)
class EventFacts:
    """What the runner extracts from one stored webhook."""

    event_id: str
    event_type: str
    occurred_at: datetime | None = None
    payload: dict = field(default_factory=dict)
    client_state: Any = None  # decoded client_state, or None


@dataclass(frozen=True)
class CallContext:
    """What the runner looks up for a menu's checks, so the core reads no database:
    ``schedules`` (key -> schedule data, as telnyx_ivr.engine.schedule reads it) as they are
    now, and when the caller's previous call started (None: no earlier call, or the menu
    has no check that asks)."""

    schedules: dict = field(default_factory=dict)
    previous_call_at: datetime | None = None
    # False: the runner has not looked anything up yet, and a node that needs it raises
    # core.ContextNeeded, so the runner queries only for the steps that reach a check.
    looked_up: bool = True


NOT_LOOKED_UP = CallContext(looked_up=False)


@dataclass(frozen=True)
class CommandSpec:
    """One Call Control command: ``action`` is the URL's last segment, ``params`` the JSON
    body with Telnyx's names (``client_state`` included, ``command_id`` left to the runner)."""

    action: str
    params: dict


@dataclass(frozen=True)
class StepRecord:
    """A change to a call step (one visit to one node).

    ``kind`` is ``opened`` (the visit starts), ``retried`` (the caller is asked again; the
    outcome is the failed try's) or ``closed`` (the visit ends with ``outcome``). ``step``
    names the visit (the step number it opened with); ``seq`` is the step number current
    when the record was made (it differs from ``step`` after re-asks).
    """

    kind: str
    step: int
    seq: int
    node: str
    node_kind: str
    at: datetime
    outcome: str = ""
    digits: str | None = None
    result: Any = None
    tries: int = 0


@dataclass
class Decision:
    """What ``decide`` (or a host helper) wants done: store ``state`` and ``steps``, send
    ``commands`` in order, then send ``signals``. ``ignored`` events are recorded only."""

    state: CallState
    commands: list[CommandSpec] = field(default_factory=list)
    steps: list[StepRecord] = field(default_factory=list)
    ignored: bool = False
    ignored_reason: str = ""
    signals: list[tuple[str, dict]] = field(default_factory=list)
    note: str = ""
