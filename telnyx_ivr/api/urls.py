"""Included by telnyx_ivr.urls under ``api/``: names are ``telnyx_ivr:api-...``."""

from django.urls import path

from . import schema, views

urlpatterns = [
    path("calls/", views.CallList.as_view(), name="api-calls"),
    path("calls/<int:pk>/", views.CallDetail.as_view(), name="api-call"),
    path("stats/", views.Stats.as_view(), name="api-stats"),
    path("schema/", schema.SchemaView.as_view(), name="api-schema"),
    path("docs/", schema.DocsView.as_view(), name="api-docs"),
]
