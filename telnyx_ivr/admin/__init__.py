from .events import WebhookEventAdmin
from .menus import MenuAdmin  # noqa: F401

__all__ = ["WebhookEventAdmin"]
