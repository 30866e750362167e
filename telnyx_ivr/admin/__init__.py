from .calls import CallAdmin, CallStepAdmin, CommandAdmin
from .dashboard import DashboardAdmin
from .events import WebhookEventAdmin
from .menus import MenuAdmin
from .schedules import ScheduleAdmin

__all__ = [
    "CallAdmin",
    "CallStepAdmin",
    "CommandAdmin",
    "DashboardAdmin",
    "MenuAdmin",
    "ScheduleAdmin",
    "WebhookEventAdmin",
]
