from .calls import Call, CallStep, Command
from .events import WebhookEvent
from .menus import AIParameterSchema, Menu, MenuVersion, Node, Prompt, Route

__all__ = [
    "AIParameterSchema",
    "Call",
    "CallStep",
    "Command",
    "Menu",
    "MenuVersion",
    "Node",
    "Prompt",
    "Route",
    "WebhookEvent",
]
