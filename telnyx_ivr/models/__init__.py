from .calls import Call, CallStep, Command
from .dashboard import Dashboard
from .events import WebhookEvent
from .menus import AIParameterSchema, Menu, MenuVersion, Node, Prompt, Route
from .rollups import CallRollup, NodeRollup, PipelineRollup
from .schedules import OpeningHours, Schedule, ScheduleException

__all__ = [
    "AIParameterSchema",
    "Call",
    "CallRollup",
    "CallStep",
    "Command",
    "Dashboard",
    "Menu",
    "MenuVersion",
    "Node",
    "NodeRollup",
    "OpeningHours",
    "PipelineRollup",
    "Prompt",
    "Route",
    "Schedule",
    "ScheduleException",
    "WebhookEvent",
]
