from .events import WebhookEvent
from .menus import AIParameterSchema, Menu, MenuVersion, Node, Prompt, Route  # noqa: F401

__all__ = ["WebhookEvent"]
