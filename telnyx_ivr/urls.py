from django.urls import include, path

from .health_endpoint import health
from .views import TelnyxWebhookView

app_name = "telnyx_ivr"

urlpatterns = [
    path("webhook/", TelnyxWebhookView.as_view(), name="webhook"),
    path("api/", include("telnyx_ivr.api.urls")),
    path("health/", health, name="health"),
]
