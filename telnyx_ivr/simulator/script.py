"""What the simulated caller does and expects: the steps of a script.

A script is a list, in order, of *steps* (what the caller does at the next prompt that waits
for it) and *expectations* (checked as the call runs). Steps are consumed one per prompt:
a DTMF gather, an AI gather or an AI assistant. Announcements (speak, playback) just play to
the end, unless a ``HangUp(during_announcement=True)`` step is next.

Expectations apply to the stretch of the call before the next step: ``ExpectHeard`` holds when
any prompt heard in that stretch contains the text; ``ExpectCommand`` checks the next command
the app sends (several in a row check several commands in a row). ``ExpectEnd`` is checked when
the call ends, wherever it stands in the script.
"""

import json
from dataclasses import dataclass, field
from typing import Any


class ScriptError(ValueError):
    """A script (list or file data) that cannot be understood; the message says where."""


@dataclass(frozen=True)
class Press:
    """Press ``digits`` one key at a time, ``gap`` seconds apart."""

    digits: str
    gap: float = 0.0

    def describe(self):
        return f'press "{self.digits}"'


@dataclass(frozen=True)
class Silence:
    """Say and press nothing: a DTMF gather times out, an AI gather ends ``invalid``."""

    def describe(self):
        return "stay silent"


@dataclass(frozen=True)
class HangUp:
    """Hang up. By default at the next prompt that waits for the caller; with
    ``during_announcement`` at the next prompt of any kind, announcements included."""

    cause: str = "normal_clearing"
    during_announcement: bool = False

    def describe(self):
        return f"hang up ({self.cause})"


@dataclass(frozen=True)
class AIResult:
    """How an AI gather ends: ``status`` valid/invalid and the ``result`` object.

    ``partial_results`` (a list of objects) are sent only when the command asked for them
    (``send_partial_results``), ``message_history`` updates only when it asked
    (``send_message_history_updates``). Without ``message_history`` the history is the
    command's own history, then the greeting.
    """

    result: dict = field(default_factory=dict)
    status: str = "valid"
    partial_results: tuple = ()
    message_history: tuple | None = None

    def describe(self):
        return f"AI result {self.status} {json.dumps(self.result, sort_keys=True)}"


@dataclass(frozen=True)
class EndConversation:
    """An AI assistant's conversation ends after ``duration_sec`` (reported, not waited)."""

    duration_sec: int = 3

    def describe(self):
        return "end the AI conversation"


@dataclass(frozen=True)
class ExpectHeard:
    """A prompt heard before the next step contains ``text`` (case-insensitive)."""

    text: str

    def describe(self):
        return f'hear "{self.text}"'


@dataclass(frozen=True)
class ExpectCommand:
    """The next command the app sends is ``action`` (e.g. ``gather_using_speak``)."""

    action: str

    def describe(self):
        return f"command {self.action}"


@dataclass(frozen=True)
class ExpectEnd:
    """How the call ends: ``by`` ("app" or "caller"), ``cause`` (hangup_cause) and
    ``transferred_to`` (the transfer's ``to``); None checks nothing."""

    by: str | None = None
    cause: str | None = None
    transferred_to: str | None = None

    def describe(self):
        parts = [f"{k}={v}" for k, v in vars(self).items() if v is not None]
        return f"call ends ({', '.join(parts) or 'any way'})"


ACTIONS = (Press, Silence, HangUp, AIResult, EndConversation)
EXPECTATIONS = (ExpectHeard, ExpectCommand, ExpectEnd)


def parse_script(items):
    """Build a script from plain data (a list of one-key dicts, e.g. from a JSON file).

    ``{"press": "12", "gap": 0.2}``, ``{"silent": true}``, ``{"hangup": "normal_clearing"}``
    (or ``true``; add ``"during_announcement": true``), ``{"ai_result": {...}, "status":
    "valid", "partial_results": [...], "message_history": [...]}``, ``{"end_conversation":
    true}``, ``{"expect_heard": "text"}``, ``{"expect_command": "hangup"}``,
    ``{"expect_end": {"by": "app", "cause": "normal_clearing", "transferred_to": "+1..."}}``.
    Step objects are passed through.
    """
    if not isinstance(items, list | tuple):
        raise ScriptError(f"a script is a list of steps, not {type(items).__name__}")
    return [_parse_item(index, item) for index, item in enumerate(items, 1)]


def _parse_item(index, item):
    if isinstance(item, ACTIONS + EXPECTATIONS):
        return item
    where = f"script step {index}"
    if not isinstance(item, dict):
        raise ScriptError(f"{where}: expected an object, got {item!r}")
    try:
        if "press" in item:
            _only(item, {"press", "gap"}, where)
            digits = str(item["press"])
            if not digits:
                raise ScriptError(f"{where}: press needs at least one key")
            return Press(digits, gap=float(item.get("gap", 0.0)))
        if "silent" in item:
            _only(item, {"silent"}, where)
            return Silence()
        if "hangup" in item:
            _only(item, {"hangup", "during_announcement"}, where)
            cause = item["hangup"] if isinstance(item["hangup"], str) else "normal_clearing"
            return HangUp(cause, during_announcement=bool(item.get("during_announcement")))
        if "ai_result" in item:
            _only(item, {"ai_result", "status", "partial_results", "message_history"}, where)
            status = item.get("status", "valid")
            if status not in ("valid", "invalid"):
                raise ScriptError(f"{where}: status must be valid or invalid, not {status!r}")
            if not isinstance(item["ai_result"], dict):
                raise ScriptError(f"{where}: ai_result must be an object")
            history = item.get("message_history")
            return AIResult(
                result=item["ai_result"],
                status=status,
                partial_results=tuple(item.get("partial_results") or ()),
                message_history=tuple(history) if history is not None else None,
            )
        if "end_conversation" in item:
            _only(item, {"end_conversation", "duration_sec"}, where)
            return EndConversation(duration_sec=int(item.get("duration_sec", 3)))
        if "expect_heard" in item:
            _only(item, {"expect_heard"}, where)
            return ExpectHeard(str(item["expect_heard"]))
        if "expect_command" in item:
            _only(item, {"expect_command"}, where)
            return ExpectCommand(str(item["expect_command"]))
        if "expect_end" in item:
            _only(item, {"expect_end"}, where)
            spec = item["expect_end"]
            if not isinstance(spec, dict):
                raise ScriptError(f"{where}: expect_end must be an object")
            _only(spec, {"by", "cause", "transferred_to"}, where + " expect_end")
            return ExpectEnd(**spec)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ScriptError):
            raise
        raise ScriptError(f"{where}: {exc}") from None
    raise ScriptError(
        f"{where}: unknown step {sorted(item)}; use press, silent, hangup, ai_result, "
        "end_conversation, expect_heard, expect_command or expect_end"
    )


def _only(item, allowed, where):
    extra = sorted(set(item) - allowed)
    if extra:
        raise ScriptError(f"{where}: unexpected key(s) {', '.join(extra)}")


Step = Any  # one of ACTIONS or EXPECTATIONS
