from .events import WebhookEvent

__all__ = ["WebhookEvent"]
