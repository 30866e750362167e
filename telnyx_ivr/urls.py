from django.urls import path

from .views import TelnyxWebhookView

app_name = "telnyx_ivr"

urlpatterns = [
    path("webhook/", TelnyxWebhookView.as_view(), name="webhook"),
]
