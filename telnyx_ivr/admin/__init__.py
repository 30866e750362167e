from .calls import CallAdmin, CallStepAdmin, CommandAdmin
from .dashboard import DashboardAdmin
from .events import WebhookEventAdmin
from .menus import MenuAdmin

__all__ = [
    "CallAdmin",
    "CallStepAdmin",
    "CommandAdmin",
    "DashboardAdmin",
    "MenuAdmin",
    "WebhookEventAdmin",
]
