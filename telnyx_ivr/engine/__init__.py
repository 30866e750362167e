"""The call engine's pure decision core. See docs/engine.md.

from telnyx_ivr.engine import decide, CallState, EventFacts
decision = decide(state, menu_definition, facts, resolve_callable=resolver, now=now)
"""

from .core import (
    add_ai_messages,
    apply_command_result,
    command_failed,
    decide,
    stop_ai_assistant,
    stop_gather,
)
from .render import MenuError, render_text
from .state import CallContext, CallState, CommandSpec, Decision, EventFacts, StepRecord

__all__ = [
    "CallContext",
    "CallState",
    "CommandSpec",
    "Decision",
    "EventFacts",
    "MenuError",
    "StepRecord",
    "add_ai_messages",
    "apply_command_result",
    "command_failed",
    "decide",
    "render_text",
    "stop_ai_assistant",
    "stop_gather",
]
