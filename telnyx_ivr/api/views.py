"""The read API's views: the call list (JSON pages or a streamed CSV), one call, the figures."""

from datetime import timedelta

from django.http import Http404, StreamingHttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from ..analytics import figures
from ..analytics.filters import PARAMS, FilterError, parse_filters
from ..models import Call
from .errors import ErrorsInJSON
from .filters import HELP, CallFilterSet, error_lists, filters_from
from .pagination import CallCursorPagination
from .permissions import ReadAPIPermissions
from .renderers import CSVRenderer, calls_csv
from .serializers import CallDetailSerializer, CallSerializer, StatsSerializer


class ReadAPIView(ReadAPIPermissions, ErrorsInJSON, APIView):
    """What every view of the read API shares. Authentication, renderers and throttles are
    the host's; permissions are the app's setting, and the schema is drf-spectacular's
    whatever the host's DEFAULT_SCHEMA_CLASS."""

    schema = AutoSchema()
    versioning_class = None  # its URLs carry no version, whatever scheme a host's API uses

    def perform_content_negotiation(self, request, force=False):
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:  # DRF's answer to an unknown ?format=
            formats = ", ".join(renderer.format for renderer in self.get_renderers())
            wanted = request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
            raise ValidationError({"format": [f"{wanted!r} is not one of: {formats}"]}) from None


# What every view may answer instead, described once for the schema.
REFUSED = {
    401: OpenApiResponse(description="Not logged in (with an authentication that says how)."),
    403: OpenApiResponse(description="Not logged in, or not allowed to read the call log."),
}
BAD_PARAMETERS = OpenApiResponse(
    response=OpenApiTypes.OBJECT,
    description='Bad parameters, each named with what is wrong: {"since": ["..."]}.',
)


class CallList(ReadAPIView, ListAPIView):
    """Calls, newest first: the counted calls (incoming, claimed by a menu, not a transfer's
    leg) that started in the period. ``?format=csv`` downloads every call the filters keep,
    not one page."""

    serializer_class = CallSerializer
    pagination_class = CallCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = CallFilterSet
    # Only what a call of the list shows: the engine's state, and the menu version's whole
    # definition, would be read and decoded for every row of a 100,000-row export.
    queryset = Call.objects.select_related("menu", "menu_version").only(
        "call_control_id", "from_number", "to_number", "started_at", "answered_at",
        "ended_at", "outcome", "outcome_node", "transferred_to", "transferred_at",
        "ended_by", "menu_seconds", "is_test", "menu__slug", "menu_version__number",
    )  # fmt: skip

    def get_renderers(self):
        return [*super().get_renderers(), CSVRenderer()]

    @extend_schema(
        tags=["calls"],
        parameters=[
            OpenApiParameter(
                "format",
                enum=["json", "csv"],
                description="csv: every call the filters keep as one CSV file, not a page.",
            )
        ],
        responses={
            (200, "application/json"): CallSerializer(many=True),
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR,
                description="A header row, then one row per call, with the fields of a call.",
            ),
            (400, "application/json"): BAD_PARAMETERS,
            **REFUSED,
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        if request.accepted_renderer.format == CSVRenderer.format:
            return self.csv(request)
        return super().list(request, *args, **kwargs)

    def csv(self, request):
        calls = self.filter_queryset(self.get_queryset())
        calls = calls.order_by(*CallCursorPagination.ordering)
        response = StreamingHttpResponse(calls_csv(calls), content_type="text/csv; charset=utf-8")
        filename = csv_filename(filters_from(request.query_params))
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


def csv_filename(filters):
    """calls[-menu]-<first day>-<last day>.csv, the days in the period's time zone."""
    first = filters.since.astimezone(filters.tz).date()
    last = (filters.until - timedelta(microseconds=1)).astimezone(filters.tz).date()
    menu = f"-{filters.menu.slug}" if filters.menu else ""
    days = first.isoformat() if first == last else f"{first.isoformat()}-{last.isoformat()}"
    return f"calls{menu}-{days}.csv"


class CallDetail(ReadAPIView, RetrieveAPIView):
    """One call: what the list says, plus its visits to nodes, commands, webhook events and
    the new legs of its transfers. Transfer legs have no page of their own."""

    serializer_class = CallDetailSerializer
    queryset = (
        Call.objects.counted()
        .select_related("menu", "menu_version")
        .prefetch_related("steps", "commands", "legs")
    )

    @extend_schema(
        tags=["calls"],
        responses={
            200: CallDetailSerializer,
            404: OpenApiResponse(description="No such call (a transfer's leg is in its call)."),
            **REFUSED,
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


STATS_PARAMETERS = [
    OpenApiParameter(
        name, description=HELP[name], enum=["hour", "day"] if name == "bucket" else None
    )
    for name in PARAMS
]


class Stats(ReadAPIView):
    """The dashboard's figures for the period (docs/dashboards.md defines each)."""

    @extend_schema(
        tags=["stats"],
        parameters=STATS_PARAMETERS,
        responses={200: StatsSerializer, 400: BAD_PARAMETERS, **REFUSED},
    )
    def get(self, request, *args, **kwargs):
        try:
            filters = parse_filters(request.query_params)
        except FilterError as exc:
            raise ValidationError(error_lists(exc)) from None
        return Response(figures.dashboard(filters))
