"""Errors are JSON, whatever the response was asked for as: a refused CSV export or schema is
read by a person or a script, and ``{"detail": ...}`` says what went wrong to both."""

from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response


class ErrorsInJSON:
    """A view mixin: an error answer is rendered as JSON (or the browsable API's page)."""

    def finalize_response(self, request, response, *args, **kwargs):
        renderer = getattr(request, "accepted_renderer", None)
        is_error = isinstance(response, Response) and response.exception
        if is_error and not isinstance(renderer, JSONRenderer | BrowsableAPIRenderer):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
