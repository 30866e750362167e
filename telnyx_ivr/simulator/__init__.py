"""A local stand-in for Telnyx's side of a call, to test IVR menus without a phone.

``TelnyxSimulator`` serves the Call Control command API on loopback and sends the webhooks
each command causes, signed, to the app; ``start_call`` places an inbound call whose
``ScriptedCaller`` presses keys, stays silent, answers AI gathers or hangs up, and checks
expectations, or whose ``RandomCaller`` reacts to each prompt by chance. Every command and
webhook is recorded for a transcript. See docs/simulator.md.
"""

from .caller import ScriptedCaller
from .calls import SimulatedCall
from .faults import Faults
from .gathers import GatherRules, TryResult, collect
from .random_caller import RandomCaller
from .script import (
    AIResult,
    EndConversation,
    ExpectCommand,
    ExpectEnd,
    ExpectHeard,
    HangUp,
    Press,
    ScriptError,
    Silence,
    parse_script,
)
from .server import SimulatorTimeout, TelnyxSimulator

__all__ = [
    "AIResult",
    "EndConversation",
    "ExpectCommand",
    "ExpectEnd",
    "ExpectHeard",
    "Faults",
    "GatherRules",
    "HangUp",
    "Press",
    "RandomCaller",
    "ScriptError",
    "ScriptedCaller",
    "Silence",
    "SimulatedCall",
    "SimulatorTimeout",
    "TelnyxSimulator",
    "TryResult",
    "collect",
    "parse_script",
]
