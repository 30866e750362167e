from .calls import CallAdmin, CallStepAdmin, CommandAdmin
from .events import WebhookEventAdmin
from .menus import MenuAdmin

__all__ = ["CallAdmin", "CallStepAdmin", "CommandAdmin", "MenuAdmin", "WebhookEventAdmin"]
