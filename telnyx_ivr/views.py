"""The webhook endpoint: verify, store, answer. Processing happens in a Celery worker."""

import logging

from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from .conf import ivr_settings
from .ingest import DatabaseUnavailable, UnstorableEvent, store_event
from .telnyx.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, verify
from .telnyx.webhooks import MalformedEvent, parse_event

logger = logging.getLogger("telnyx_ivr.webhooks")


class WebhookRejected(Exception):
    def __init__(self, status, code, detail):
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


class AlwaysJSON(BaseContentNegotiation):
    """Answer JSON whatever the request asks for: Telnyx's Accept header (or a ``?format=``)
    must never turn a delivery into a 406 or 404, which Telnyx would not retry."""

    def select_parser(self, request, parsers):
        return None  # the view reads the raw body itself

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class TelnyxWebhookView(APIView):
    """``POST`` a Telnyx webhook. Answers 200 once the event is stored (or was already).

    Every rejection is a 4xx that Telnyx does not retry (it retries 408, 429 and 5xx), with
    a JSON body ``{"error": code, "detail": text}``.

    Every policy DRF would take from the host's ``REST_FRAMEWORK`` settings is pinned here:
    the signature is the only authentication, and nothing the host configures for its own
    API (renderers, negotiation, versioning, throttles, exception handling) may refuse or
    reshape a delivery.
    """

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = []  # the raw body is read and verified by hand, never parsed by DRF
    throttle_classes = []
    renderer_classes = [JSONRenderer]
    content_negotiation_class = AlwaysJSON
    versioning_class = None
    metadata_class = None

    def get_exception_handler(self):
        return exception_handler  # DRF's own: a 405 for GET stays a JSON 405

    def post(self, request, *args, **kwargs):
        try:
            raw_body = self._read_body(request._request)
            self._verify(request._request, raw_body)
            try:
                parsed = parse_event(raw_body)
            except MalformedEvent as exc:
                raise WebhookRejected(400, "malformed_event", str(exc)) from None
            try:
                result = store_event(parsed)
            except DatabaseUnavailable as exc:
                logger.error("Could not store Telnyx event %s: %s", parsed.event_id, exc)
                raise WebhookRejected(
                    503,
                    "database_unavailable",
                    f"the database could not be reached, so the event was not stored "
                    f"(Telnyx delivers it again): {exc}",
                ) from None
            except UnstorableEvent as exc:
                logger.error("Could not store Telnyx event %s: %s", parsed.event_id, exc)
                raise WebhookRejected(
                    422, "unstorable_event", f"the database refused the event: {exc}"
                ) from None
        except WebhookRejected as exc:
            logger.warning(
                "Rejected Telnyx webhook from %s: %s (%s)",
                _client_address(request._request),
                exc.detail,
                exc.status,
            )
            return Response({"error": exc.code, "detail": exc.detail}, status=exc.status)

        return Response(
            {"status": "stored" if result.created else "duplicate", "event_id": parsed.event_id},
            status=200,
        )

    def _read_body(self, request):
        limit = ivr_settings.MAX_BODY_BYTES
        too_large = WebhookRejected(413, "body_too_large", f"body is larger than {limit} bytes")
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise WebhookRejected(
                400, "bad_content_length", "Content-Length is not a number"
            ) from None
        if declared > limit:
            raise too_large
        body = request.read(limit + 1)
        if len(body) > limit:
            raise too_large
        return body

    def _verify(self, request, raw_body):
        if ivr_settings.INSECURE_SKIP_SIGNATURE_VERIFICATION:
            return
        keys = ivr_settings.PUBLIC_KEYS
        if not keys:
            raise WebhookRejected(
                403, "not_configured", "no Telnyx public key is configured on this server"
            )
        try:
            verify(
                body=raw_body,
                signature_header=request.headers.get(SIGNATURE_HEADER, ""),
                timestamp_header=request.headers.get(TIMESTAMP_HEADER, ""),
                public_keys=keys,
                tolerance=ivr_settings.TIMESTAMP_TOLERANCE_SECONDS,
            )
        except SignatureError as exc:
            code = "malformed_signature" if exc.status == 400 else "invalid_signature"
            raise WebhookRejected(exc.status, code, str(exc)) from None


def _client_address(request):
    return request.META.get("REMOTE_ADDR", "unknown")
