"""A host's URLconf that mounts the app under another prefix than the example project's."""

from django.contrib import admin
from django.urls import include, path

OTHER_WEBHOOK_PATH = "/phone/ivr/webhook/"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("phone/ivr/", include("telnyx_ivr.urls")),
]
