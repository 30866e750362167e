from django.urls import include, path

from .views import TelnyxWebhookView

app_name = "telnyx_ivr"

urlpatterns = [
    path("webhook/", TelnyxWebhookView.as_view(), name="webhook"),
    path("api/", include("telnyx_ivr.api.urls")),
]
