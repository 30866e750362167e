from .events import WebhookEventAdmin

__all__ = ["WebhookEventAdmin"]
