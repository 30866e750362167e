"""The call engine's decision core: one event in, the new state and the commands out.

Pure on purpose: no ORM, no network, no clock (the runner passes ``now``), no settings. The
runner (Celery task) locks the call, calls ``decide``, stores the state, steps and commands
in one transaction, then sends the commands. docs/engine.md explains every rule here.
"""

from ..menus.conditions import node_conditions, reads_earlier_calls
from ..menus.kinds import DTMF_KINDS, ROUTING_KINDS
from ..telnyx import client_state as client_state_codec
from . import render
from .render import MenuError
from .routing import condition_route, find_route, route_or_default, schedule_route
from .schedule import ScheduleError, status_at
from .state import (
    ACTIVE,
    AI_ASSISTANT,
    AI_GATHER,
    ANNOUNCE,
    ANSWER,
    ANSWERING,
    APOLOGY,
    ENDED,
    ENDING_HANGUP_NODE,
    ENDING_MENU_ERROR,
    ENDING_TRANSFER,
    GATHER,
    GOODBYE,
    HANGING_UP,
    IDLE,
    MAX_BACK_STACK,
    MAX_SEEN_EVENT_IDS,
    NEW,
    RETRY_PROMPT,
    TRANSFER,
    TRANSFERRING,
    UNMANAGED,
    CallContext,
    CallState,
    CommandSpec,
    Decision,
    EventFacts,
    StepRecord,
)

# Statuses of an ended gather/speak/playback after which nothing more is sent: the caller
# hung up, or someone (the host, answering-machine detection) stopped it on purpose.
STOP_STATUSES = frozenset({"call_hangup", "cancelled", "cancelled_amd"})
# Playback statuses that take an announcement's ``error`` route.
FAILED_PLAYBACK_STATUSES = frozenset({"file_not_found", "failed"})
# Event types that only ever mean "act now": when they do not fit the step they are
# reported as ignored. Every other unexpected event is simply recorded.
ACTING_EVENT_TYPES = frozenset(
    {"call.answered", "call.gather.ended", "call.ai_gather.ended", "call.conversation.ended"}
)
AI_UPDATE_EVENT_TYPES = frozenset(
    {"call.ai_gather.partial_results", "call.ai_gather.message_history_updated"}
)
_ENDED_EVENT_FOR = {"speak": "call.speak.ended", "playback_start": "call.playback.ended"}
# What the caller hears when a command fails for good and the menu's on_command_failure names
# no prompt or text of its own.
DEFAULT_APOLOGY = "Sorry, we are having technical trouble. Please call again later."
# Commands host code sends beside the menu (telnyx_ivr.calls.actions): when one fails, the
# menu's own gather or assistant is still running, so the caller is not left in silence.
HOST_ACTIONS = frozenset({"gather_stop", "ai_assistant_stop", "ai_assistant_add_messages"})
# Office-hours and check nodes are passed through at once; a menu whose checks lead back to
# each other (validation refuses one, an imported definition could still hold one) hangs up
# after this many in one event rather than looping.
MAX_ROUTING_HOPS = 16


class ContextNeeded(Exception):
    """``decide`` was given ``NOT_LOOKED_UP`` and reached a node that needs the lookup (an
    office-hours node, a check of earlier calls): the runner looks up and decides again,
    which is safe because deciding changes nothing."""


def decide(state, menu, event, *, resolve_callable=None, now, context=None):
    """Decide what one event means for a call.

    ``state`` is the call's ``CallState`` (None for the call's first event), ``menu`` the menu
    definition it runs on (None for calls no menu claims, and for outgoing calls), ``event``
    an ``EventFacts``. ``resolve_callable(dotted_path, variables) -> node_key`` serves routes
    whose target is ``callable``. ``now`` stands in for the event time when it has none.
    ``context`` (a ``CallContext``) holds what the runner looked up for the menu's checks:
    the schedules as they are now, and the caller's previous call; given ``NOT_LOOKED_UP``,
    a decision that needs them raises ContextNeeded.
    The input state is never modified.
    """
    return _Run(state, menu, event, resolve_callable, now, context).run()


def apply_command_result(state, action, data):
    """The state after a command's successful response ``data`` (the body's ``data``
    object): ``gather_using_ai`` and ``ai_assistant_start`` return a ``conversation_id``."""
    new = state.copy()
    if action in ("gather_using_ai", "ai_assistant_start") and isinstance(data, dict):
        conversation_id = data.get("conversation_id")
        if isinstance(conversation_id, str) and conversation_id:
            new.conversation_id = conversation_id
    return new


def command_failed(state, menu, action, *, tries=0, http_status=None, reason="", now):
    """What to do when a command of the call failed for good (docs/engine.md).

    ``action`` failed after ``tries`` requests (0: refused before it was sent, its
    parameters being ones Telnyx would reject), the last answered with ``http_status`` (None:
    no answer). ``reason`` becomes the call's ``failure`` unless it has one. Not for 90018
    ("call has already ended"): nobody is left to hear anything. The caller hears the menu's
    apology, then is transferred or hung up (``menu.on_command_failure``); a call never
    answered, a failed hangup, or a failure during the fallback itself only hangs up, and a
    failed hangup there gives up, so a fallback never loops.
    """
    failed = EventFacts(event_id="", event_type="command.failed")
    run = _Run(state, menu or {}, failed, None, now, None)
    return run.on_command_failed(action, tries, http_status, reason)


def stop_ai_assistant(state):
    """Host-initiated ``ai_assistant_stop`` for the running AI assistant node. The
    ``call.conversation.ended`` that follows continues along the node's default route."""
    return _host_command(state, AI_ASSISTANT, "ai_assistant_stop", {}, "no AI assistant running")


def add_ai_messages(state, messages):
    """Host-initiated ``ai_assistant_add_messages`` (``messages``: a list of
    ``{"role": ..., "content": ...}`` dicts) for the running AI assistant node."""
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise ValueError("messages must be a list of {'role': ..., 'content': ...} dicts")
    return _host_command(
        state,
        AI_ASSISTANT,
        "ai_assistant_add_messages",
        {"messages": messages},
        "no AI assistant running",
    )


def stop_gather(state):
    """Host-initiated ``gather_stop`` for a DTMF gather in progress. Telnyx then ends the
    gather as ``cancelled``: the step closes and the engine sends nothing more."""
    return _host_command(state, GATHER, "gather_stop", {}, "no DTMF gather in progress")


def _host_command(state, phase, action, params, refusal):
    new = state.copy()
    if new.status != ACTIVE or new.phase != phase:
        note = f"{action}: {refusal}"
        return Decision(state=new, ignored=True, ignored_reason=refusal, note=note)
    params = dict(params, client_state=_client_state(new))
    return Decision(
        state=new,
        commands=[CommandSpec(action, params)],
        note=f"{action} for step {new.step} at node {new.node}",
    )


def _client_state(state, passed=()):
    data = {"c": state.call_control_id, "n": state.node, "s": state.step}
    if passed:
        # The checks this step went through to get here, [[node, exit], ...]: they send no
        # command of their own, so this is how a transcript can show them.
        data["p"] = [list(item) for item in passed]
    return client_state_codec.encode(data)


class _Run:
    """One ``decide`` call: a working copy of the state plus what it produces."""

    def __init__(self, state, menu, event, resolve_callable, now, context):
        self.state = state.copy() if state is not None else CallState()
        self.context = context or CallContext()
        self.routing_hops = 0
        self.passed = []
        self.menu = menu
        self.event = event
        self.payload = event.payload if isinstance(event.payload, dict) else {}
        self.resolve_callable = resolve_callable
        self.at = event.occurred_at or now
        self.commands = []
        self.steps = []
        self.signals = []
        self.notes = []
        self.ignored_reason = ""

    # --- result -----------------------------------------------------------------------------

    def decision(self):
        note = "; ".join([self.event.event_type, *self.notes])
        return Decision(
            state=self.state,
            commands=self.commands,
            steps=self.steps,
            ignored=bool(self.ignored_reason),
            ignored_reason=self.ignored_reason,
            signals=self.signals,
            note=note,
        )

    def ignore(self, reason):
        self.ignored_reason = reason
        self.notes.append(f"ignored: {reason}")
        return self.decision()

    def record(self, why="recorded"):
        self.notes.append(why)
        return self.decision()

    # --- dispatch ---------------------------------------------------------------------------

    def run(self):
        st, event = self.state, self.event
        if event.event_id and event.event_id in st.seen_event_ids:
            return self.ignore(f"duplicate of event {event.event_id}, already applied")
        self.remember_call_ids()
        if event.event_id:
            st.seen_event_ids = [*st.seen_event_ids, event.event_id][-MAX_SEEN_EVENT_IDS:]

        if st.status == ENDED:
            return self.ignore("the call has already ended")
        if event.event_type == "call.hangup":
            return self.on_hangup()
        if event.event_type == "call.initiated":
            return self.on_initiated()
        if st.status == UNMANAGED:
            return self.record("recorded (no menu runs this call)")
        if st.status == NEW:
            return self.ignore("call.initiated has not been processed for this call yet")

        mismatch = self.client_state_mismatch()
        if mismatch:
            return self.ignore(mismatch)
        if st.status == TRANSFERRING:
            return self.record("recorded (the call is being transferred)")
        acts = event.event_type in AI_UPDATE_EVENT_TYPES or (
            st.awaiting and event.event_type == st.awaiting
        )
        if not acts:
            if event.event_type in ACTING_EVENT_TYPES:
                return self.ignore(f"step {st.step} is not waiting for {event.event_type}")
            return self.record()
        if event.event_type != "call.answered" and not self.has_client_state():
            return self.ignore("it carries no client_state of this engine, so no step claims it")
        if event.event_type in AI_UPDATE_EVENT_TYPES:
            return self.on_ai_update()
        if self.menu is None:
            return self.ignore("no menu definition was given for this call")
        self.remember_conversation_id()
        handler = {
            ANSWER: self.on_answered,
            GATHER: self.on_gather_ended,
            RETRY_PROMPT: self.on_retry_prompt_ended,
            ANNOUNCE: self.on_announcement_ended,
            AI_GATHER: self.on_ai_gather_ended,
            AI_ASSISTANT: self.on_conversation_ended,
            GOODBYE: self.on_goodbye_ended,
            APOLOGY: self.on_apology_ended,
        }.get(st.phase)
        if handler is None:
            return self.record()
        return handler()

    def remember_call_ids(self):
        st = self.state
        for name in ("call_control_id", "call_session_id", "call_leg_id"):
            value = self.payload.get(name)
            if not getattr(st, name) and isinstance(value, str):
                setattr(st, name, value)

    def remember_conversation_id(self):
        value = self.payload.get("conversation_id")
        if isinstance(value, str) and value:
            self.state.conversation_id = value

    def has_client_state(self):
        cs = self.event.client_state
        return isinstance(cs, dict) and isinstance(cs.get("s"), int)

    def client_state_mismatch(self):
        """Why the event's client_state does not name the current step, or "" when it does
        (or when it carries none of ours: those are judged by event type alone)."""
        if not self.has_client_state():
            return ""
        cs, st = self.event.client_state, self.state
        call = cs.get("c")
        if call and st.call_control_id and call != st.call_control_id:
            return f"its client_state names another call ({call})"
        if cs["s"] < st.step:
            return f"late: it belongs to step {cs['s']}, the call is at step {st.step}"
        if cs["s"] > st.step:
            return f"it names step {cs['s']}, which this call has not reached (at step {st.step})"
        if "n" in cs and cs["n"] != st.node:
            return f"it names node {cs['n']!r} but step {st.step} is at node {st.node!r}"
        return ""

    # --- call lifecycle -----------------------------------------------------------------------

    def on_initiated(self):
        st, payload = self.state, self.payload
        if st.status != NEW:
            return self.ignore("call.initiated was already processed for this call")
        st.direction = payload.get("direction") if isinstance(payload.get("direction"), str) else ""
        st.simulated = payload.get("simulated") is True
        st.variables.setdefault("caller_number", _text(payload.get("from")))
        st.variables.setdefault("called_number", _text(payload.get("to")))
        st.started_at = self.at
        if self.menu is None or st.direction == "outgoing":
            st.status = UNMANAGED
            why = "outgoing call" if st.direction == "outgoing" else "no menu claims this call"
            return self.record(f"recorded, left alone ({why})")
        st.status, st.phase, st.awaiting = ANSWERING, ANSWER, "call.answered"
        self.send("answer", {})
        self.signals.append(
            (
                "call_started",
                {
                    "call_control_id": st.call_control_id,
                    "from": st.variables["caller_number"],
                    "to": st.variables["called_number"],
                    "direction": st.direction,
                },
            )
        )
        return self.record("answering")

    def on_answered(self):
        st = self.state
        st.status, st.answered, st.answered_at = ACTIVE, True, self.at
        entry = (self.menu.get("menu") or {}).get("entry_node")
        self.enter(entry)
        return self.decision()

    def on_hangup(self):
        st, payload = self.state, self.payload
        if st.step_open:
            self.close_visit("transferred" if st.phase == TRANSFER else "hangup")
        st.status, st.phase, st.awaiting, st.ended_at = ENDED, IDLE, "", self.at
        st.hangup_cause = _text(payload.get("hangup_cause"))
        st.hangup_source = _text(payload.get("hangup_source"))
        st.sip_hangup_cause = _text(payload.get("sip_hangup_cause"))
        self.signals.append(
            (
                "call_ended",
                {
                    "hangup_cause": st.hangup_cause,
                    "hangup_source": st.hangup_source,
                    "sip_hangup_cause": st.sip_hangup_cause,
                    "answered": st.answered,
                },
            )
        )
        cause = st.hangup_cause or "no cause"
        # Telnyx's hangup_source says "callee" when this app hangs up an incoming call.
        if st.ending in (ENDING_HANGUP_NODE, ENDING_MENU_ERROR) and st.hangup_source != "caller":
            by = "the menu hung up"
        elif st.hangup_source == "caller":
            by = "the caller hung up"
        else:
            by = f"hangup source {st.hangup_source or 'unknown'}"
        return self.record(f"call ended ({cause}; {by})")

    # --- node results -------------------------------------------------------------------------

    def current_node(self):
        return (self.menu.get("nodes") or {}).get(self.state.node) or {}

    def on_gather_ended(self):
        st, node = self.state, self.current_node()
        status = _text(self.payload.get("status"))
        digits = _text(self.payload.get("digits"))
        if status in STOP_STATUSES:
            self.close_visit(status, digits=digits or None)
            self.notes.append(f"gather ended {status}: nothing more is sent")
            return self.decision()
        if status in ("invalid", "timeout"):
            if st.tries < render.max_tries(node):
                self.reask(status, digits)
                return self.decision()
            when = "invalid" if status == "invalid" else "no_input"
            self.notes.append(f"{status} on try {st.tries}, no tries left")
            self.follow(route_or_default(node, when), outcome=status, digits=digits or None)
            return self.decision()
        if status == "valid" and node.get("save_as"):
            st.variables[node["save_as"]] = digits
        # An unknown status cannot be retried meaningfully; keep the caller moving.
        route = find_route(node, "digits", digits=digits) if status == "valid" else None
        self.notes.append(f"{status or 'no status'} digits {digits!r}")
        self.follow(route or find_route(node, "default"), outcome=status, digits=digits)
        return self.decision()

    def on_retry_prompt_ended(self):
        status = _text(self.payload.get("status"))
        if status in STOP_STATUSES:
            self.close_visit(status)
            self.notes.append(f"retry prompt ended {status}: nothing more is sent")
            return self.decision()
        # A retry prompt that failed to play still leads to the question.
        self.guarded(lambda: self.send_gather(GATHER))
        return self.decision()

    def on_announcement_ended(self):
        status = _text(self.payload.get("status"))
        node = self.current_node()
        if status in STOP_STATUSES:
            self.close_visit(status)
            self.notes.append(f"announcement ended {status}: nothing more is sent")
            return self.decision()
        if status in FAILED_PLAYBACK_STATUSES:
            detail = _text(self.payload.get("status_detail"))
            self.notes.append(f"playback {status}{': ' + detail if detail else ''}")
            self.follow(route_or_default(node, "error"), outcome=status)
        else:
            self.follow(find_route(node, "default"), outcome=status or "completed")
        return self.decision()

    def on_goodbye_ended(self):
        st = self.state
        status = _text(self.payload.get("status"))
        if status == "call_hangup":
            self.close_visit(status)
            return self.record("the caller hung up during the goodbye")
        st.phase, st.awaiting = HANGING_UP, "call.hangup"
        self.send("hangup", {})
        return self.record("goodbye said, hanging up")

    def on_apology_ended(self):
        status = _text(self.payload.get("status"))
        if status == "call_hangup":
            return self.record("the caller hung up during the apology")
        # Whatever else became of the apology, the caller must not be left waiting.
        self.after_apology()
        return self.decision()

    # --- a command failed for good --------------------------------------------------------------

    def on_command_failed(self, action, tries, http_status, reason):
        st = self.state
        refused = _refusal(action, tries, http_status)
        if st.status in (ENDED, UNMANAGED):
            why = "the call has ended" if st.status == ENDED else "no menu runs this call"
            self.ignored_reason = why
            return self.failure_decision(f"{refused}: nothing to do, {why}")
        st.failure = st.failure or reason or refused
        if action in HOST_ACTIONS:
            plan = "the menu carries on (it was not the menu's own command)"
        elif st.fallback and action == "hangup":
            self.close_visit("error")
            st.phase, st.awaiting = IDLE, ""
            plan = "giving up: the hangup of the fallback failed too, nothing more is sent"
        elif st.fallback or action == "hangup" or not st.answered:
            if st.fallback:
                why = "the fallback failed too"
            elif action == "hangup":
                why = "once more"
            else:
                why = "the call was never answered, so nobody would hear an apology"
            self.fallback_hangup(action, refused)
            plan = f"hanging up ({why})"
        else:
            plan = self.apologise(action, refused)
        return self.failure_decision(f"{refused}: {plan}")

    def failure_decision(self, note):
        decision = self.decision()
        decision.note = note
        return decision

    def leave_node(self, action, reason):
        """Close the visit the failed command belonged to and take the call off the menu."""
        st = self.state
        self.close_visit("error")
        st.step += 1
        st.node, st.step_open = None, False
        st.fallback = st.fallback or action
        st.ending, st.end_reason = ENDING_MENU_ERROR, reason
        if st.status == TRANSFERRING:  # the transfer never happened
            st.status, st.transferred_to, st.transferred_at = ACTIVE, "", None

    def fallback_hangup(self, action, reason):
        self.leave_node(action, reason)
        self.wait(HANGING_UP, "call.hangup")
        self.send("hangup", {})

    def apologise(self, action, reason):
        """Say the menu's apology; its ``.ended`` event leads on (``after_apology``)."""
        self.leave_node(action, reason)
        apology, params = self.apology_command()
        self.wait(APOLOGY, _ENDED_EVENT_FOR[apology])
        self.send(apology, params)
        then, to = self.failure_plan()
        return "saying sorry, then " + (
            f"transferring to {to}" if then == "transfer" else "hanging up"
        )

    def failure_plan(self):
        """``(then, to)`` of the menu's ``on_command_failure``: ``("hangup", None)`` when the
        menu has none, or names a transfer without a destination."""
        plan = (self.menu.get("menu") or {}).get("on_command_failure") or {}
        if plan.get("then") == "transfer" and plan.get("to"):
            return "transfer", plan["to"]
        return "hangup", None

    def apology_command(self):
        plan = (self.menu.get("menu") or {}).get("on_command_failure") or {}
        variables = self.state.variables
        if plan.get("prompt"):
            try:
                return render.announce_command(self.menu, plan["prompt"], variables)
            except MenuError as exc:  # a validated menu never gets here
                self.notes.append(f"apology prompt unusable ({exc}): the built-in apology")
        text = plan.get("text") or DEFAULT_APOLOGY
        return "speak", render.tts_params(self.menu, {"text": text}, variables)

    def after_apology(self):
        st = self.state
        then, to = self.failure_plan()
        if then == "transfer":
            st.status, st.ending = TRANSFERRING, ENDING_TRANSFER
            st.transferred_to, st.transferred_at = to, self.at
            self.wait(TRANSFER, "")
            self.send("transfer", {"to": to})
            self.notes.append(f"apology said, transferring to {to}")
        else:
            self.wait(HANGING_UP, "call.hangup")
            self.send("hangup", {})
            self.notes.append("apology said, hanging up")

    def on_ai_update(self):
        st = self.state
        if st.phase != AI_GATHER:
            return self.ignore(f"step {st.step} runs no AI gather")
        if self.event.event_type == "call.ai_gather.partial_results":
            st.ai_partial_results = self.payload.get("partial_results")
        history = self.payload.get("message_history")
        if isinstance(history, list):
            st.ai_message_history = history
        return self.record("stored on the call")

    def on_ai_gather_ended(self):
        st, node = self.state, self.current_node()
        status = _text(self.payload.get("status"))
        result = self.payload.get("result")
        history = self.payload.get("message_history")
        history = history if isinstance(history, list) else st.ai_message_history
        name = node.get("save_as") or st.node
        st.variables[name] = result
        st.variables[f"{name}_messages"] = history
        st.ai_message_history = history
        self.signals.append(
            (
                "ai_gather_completed",
                {"node": st.node, "status": status, "result": result, "message_history": history},
            )
        )
        if status == "valid":
            route = route_or_default(node, "valid", result=result)
        elif status == "invalid":
            route = route_or_default(node, "invalid")
        else:
            route = find_route(node, "default")
        self.notes.append(f"AI gather {status or 'no status'}")
        self.follow(route, outcome=status, result=result)
        return self.decision()

    def on_conversation_ended(self):
        self.follow(find_route(self.current_node(), "default"), outcome="conversation_ended")
        return self.decision()

    # --- steps ----------------------------------------------------------------------------------

    def open_visit(self, key, kind):
        st = self.state
        st.step += 1
        st.visit_step, st.node, st.tries, st.last_try_outcome = st.step, key, 0, ""
        st.last_node = key
        st.step_open, st.step_opened_at = True, self.at
        self.steps.append(StepRecord("opened", st.step, st.step, key, kind, self.at))

    def close_visit(self, outcome, *, digits=None, result=None):
        st = self.state
        if not st.step_open:
            return
        kind = self.node_kind(st.node)
        self.steps.append(
            StepRecord(
                "closed",
                st.visit_step,
                st.step,
                st.node or "",
                kind,
                self.at,
                outcome=outcome,
                digits=digits,
                result=result,
                tries=st.tries,
            )
        )
        self.signals.append(
            (
                "step_completed",
                {
                    "node": st.node,
                    "node_kind": kind,
                    "step": st.visit_step,
                    "outcome": outcome,
                    "digits": digits,
                    "result": result,
                    "tries": st.tries,
                },
            )
        )
        st.step_open, st.phase, st.awaiting = False, IDLE, ""

    def node_kind(self, key):
        nodes = (self.menu or {}).get("nodes") or {}
        node = nodes.get(key)
        return node.get("kind", "") if isinstance(node, dict) else ""

    # --- moving through the menu ------------------------------------------------------------

    def follow(self, route, *, outcome, digits=None, result=None):
        """Leave the current node along ``route`` (None: the node has no route for this)."""
        st = self.state
        current = st.node
        self.close_visit(outcome, digits=digits, result=result)
        target, how = self.target_of(route)
        if target is None:
            self.hang_up(how)
            return
        if how == "node" and target != current and self.node_kind(current) in DTMF_KINDS:
            st.back_stack = [*st.back_stack, current][-MAX_BACK_STACK:]
        self.notes.append(f"{current} -> {target}" + ("" if how == "node" else f" ({how})"))
        self.enter(target)

    def target_of(self, route, *, tried_default=False):
        """``(node_key, how)`` for a route, or ``(None, reason)`` when there is nowhere to go."""
        st = self.state
        if route is None:
            return None, f"node {st.node!r} has no route for this and no default route"
        target = route.get("target")
        if target == "node":
            return route.get("node"), "node"
        if target == "repeat":
            return st.node, "repeat"
        if target == "back":
            if not st.back_stack:
                return st.node, "back at the top: repeat"
            *st.back_stack, previous = st.back_stack
            return previous, "back"
        if target == "callable":
            key, problem = self.call_resolver(route.get("callable"))
            if key is not None:
                return key, "node"
        else:
            problem = f"unknown route target {target!r}"
        default = find_route(self.current_node(), "default")
        if default is None or default is route or tried_default:
            return None, problem
        self.notes.append(f"{problem}; taking the default route")
        return self.target_of(default, tried_default=True)

    def call_resolver(self, path):
        """``(node_key, None)`` from the host's resolver, or ``(None, why not)``."""
        if self.resolve_callable is None:
            return None, f"no resolver was given for callable route {path!r}"
        try:
            key = self.resolve_callable(path, dict(self.state.variables))
        except Exception as exc:  # the host's code: any failure must not strand the caller
            return None, f"callable {path!r} raised {type(exc).__name__}: {exc}"
        if not isinstance(key, str) or key not in (self.menu.get("nodes") or {}):
            return None, f"callable {path!r} returned {key!r}, which is not a node of this menu"
        return key, None

    def enter(self, key):
        """Visit node ``key``: open its step and send its first command."""
        node = (self.menu.get("nodes") or {}).get(key) if key else None
        if not isinstance(node, dict):
            self.hang_up(f"node {key!r} is not in the menu")
            return
        self.open_visit(key, node.get("kind", ""))
        self.guarded(lambda: self.start_node(node))

    def guarded(self, action):
        """Run ``action``; a menu definition that lacks what it needs hangs the call up
        rather than leaving the caller in silence."""
        try:
            action()
        except MenuError as exc:
            self.close_visit("error")
            self.hang_up(f"node {self.state.node!r}: {exc}")

    def start_node(self, node):
        st, kind = self.state, node.get("kind")
        variables = st.variables
        if kind in DTMF_KINDS:
            self.send_gather(GATHER)
        elif kind == "ai_gather":
            params = render.ai_gather_params(self.menu, node, variables)
            st.ai_partial_results, st.ai_message_history = None, []
            self.wait(AI_GATHER, "call.ai_gather.ended")
            self.send("gather_using_ai", params)
        elif kind == "ai_assistant":
            params = render.ai_assistant_params(node, variables)
            self.wait(AI_ASSISTANT, "call.conversation.ended")
            self.send("ai_assistant_start", params)
        elif kind == "announcement":
            action, params = render.announce_command(self.menu, node.get("prompt"), variables)
            self.wait(ANNOUNCE, _ENDED_EVENT_FOR[action])
            self.send(action, params)
        elif kind in ROUTING_KINDS:
            self.pass_through(node)
        elif kind == "transfer":
            if not node.get("to"):
                raise MenuError("transfer node has no 'to'")
            params = {"to": node["to"]}
            for name in ("from", "timeout_secs"):
                if node.get(name) is not None:
                    params[name] = node[name]
            st.status, st.ending = TRANSFERRING, ENDING_TRANSFER
            st.transferred_to, st.transferred_at = node["to"], self.at
            self.wait(TRANSFER, "")
            self.send("transfer", params)
        elif kind == "hangup":
            st.ending = ENDING_HANGUP_NODE
            if node.get("prompt"):
                action, params = render.announce_command(self.menu, node["prompt"], variables)
                self.wait(GOODBYE, _ENDED_EVENT_FOR[action])
                self.send(action, params)
            else:
                self.wait(HANGING_UP, "call.hangup")
                self.send("hangup", {})
        else:
            raise MenuError(f"unknown node kind {kind!r}")

    def pass_through(self, node):
        """An office-hours or check node: choose its route now, at the event's time, and go
        on (the visit opens and closes in the same moment)."""
        self.routing_hops += 1
        if self.routing_hops > MAX_ROUTING_HOPS:
            raise MenuError(f"more than {MAX_ROUTING_HOPS} checks in a row: the checks loop")
        if node.get("kind") == "schedule":
            key = node.get("schedule")
            try:
                status = status_at(self.schedule_data(key), self.at)
            except ScheduleError as exc:
                raise MenuError(f"schedule {key!r}: {exc}") from exc
            self.passed.append((self.state.node, status))
            self.follow(schedule_route(node, status), outcome=status)
            return
        values = dict(self.state.variables)
        started = self.state.started_at or self.at
        previous = None
        if reads_earlier_calls(node_conditions(node)):
            previous = self.looked_up().previous_call_at
        age = started - previous if previous is not None else None
        exit, route = condition_route(node, values, previous_call_age=age)
        self.passed.append((self.state.node, exit))
        self.follow(route, outcome=exit)

    def looked_up(self):
        if not self.context.looked_up:
            raise ContextNeeded(self.state.node)
        return self.context

    def schedule_data(self, key):
        """The schedule ``key`` as the runner found it now, else as the menu was published."""
        data = self.looked_up().schedules.get(key)
        if data is None:
            data = (self.menu.get("schedules") or {}).get(key)
        if data is None:
            raise MenuError(f"schedule {key!r} is not defined")
        return data

    def send_gather(self, phase, retry_prompt_key=None):
        action, params = render.gather_command(
            self.menu, self.current_node(), self.state.variables, retry_prompt_key=retry_prompt_key
        )
        if self.state.tries == 0:
            self.state.tries = 1
        self.wait(phase, "call.gather.ended")
        self.send(action, params)

    def reask(self, outcome, digits):
        """Ask the current DTMF node again after an invalid entry or no input."""
        st, node = self.state, self.current_node()
        st.step += 1
        st.tries += 1
        st.last_try_outcome = outcome
        self.steps.append(
            StepRecord(
                "retried",
                st.visit_step,
                st.step,
                st.node,
                node.get("kind", ""),
                self.at,
                outcome=outcome,
                digits=digits or None,
                tries=st.tries,
            )
        )
        self.notes.append(f"{outcome}, asking again (try {st.tries} of {render.max_tries(node)})")
        prompt_key = node.get("invalid_prompt" if outcome == "invalid" else "no_input_prompt")

        def ask():
            if not prompt_key:
                self.send_gather(GATHER)
                return
            retry = render.get_prompt(self.menu, prompt_key)
            if node.get("kind") == "speak_menu" and retry.get("kind") == "tts":
                self.send_gather(GATHER, retry_prompt_key=prompt_key)
                return
            action, params = render.announce_command(self.menu, prompt_key, st.variables)
            self.wait(RETRY_PROMPT, _ENDED_EVENT_FOR[action])
            self.send(action, params)

        self.guarded(ask)

    def hang_up(self, reason):
        """Hang up directly: there is nowhere sensible left to take the caller."""
        st = self.state
        st.step += 1
        st.node, st.step_open = None, False
        st.ending, st.end_reason = ENDING_MENU_ERROR, reason
        self.wait(HANGING_UP, "call.hangup")
        self.notes.append(f"hanging up: {reason}")
        self.send("hangup", {})

    def wait(self, phase, awaiting):
        self.state.phase, self.state.awaiting = phase, awaiting

    def send(self, action, params):
        params = dict(params, client_state=_client_state(self.state, self.passed))
        self.commands.append(CommandSpec(action, params))


def _refusal(action, tries, http_status):
    """How a failed command reads on the call's timeline."""
    if tries == 0:
        return f"{action} was refused before it was sent"
    verb = "did not answer" if http_status is None else "refused"
    return f"Telnyx {verb} {action}" + (f" after {tries} tries" if tries > 1 else "")


def _text(value):
    return value if isinstance(value, str) else ""
