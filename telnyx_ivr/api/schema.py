"""The read API's OpenAPI schema (drf-spectacular) and its documentation page, whose Swagger UI
files come from drf-spectacular-sidecar, served as this site's static files (no CDN)."""

from drf_spectacular.extensions import OpenApiViewExtension
from drf_spectacular.settings import patched_settings
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .. import __version__
from .errors import ErrorsInJSON
from .permissions import ReadAPIPermissions

DESCRIPTION = (
    "The call log of django-telnyx-ivr, read only: calls with their visits, commands and "
    "events, and the dashboard's figures. Staff only unless the site says otherwise. Times "
    "are ISO 8601 in the site's time zone. Definitions: docs/dashboards.md."
)
# The docs page's own settings, whatever a host sets for its own Swagger UI.
DOCS_SETTINGS = {
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Swagger UI would send the schema to validator.swagger.io for a badge.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}


def only_the_read_api(endpoints):
    """A preprocessing hook: this schema describes the read API, not the rest of the site."""
    from .views import ReadAPIView

    return [endpoint for endpoint in endpoints if issubclass(endpoint[3].cls, ReadAPIView)]


class WebhookNotInSchemas(OpenApiViewExtension):
    """The webhook is Telnyx's way in, not an API for clients: no schema (the app's or the
    host's own) lists it, and it gives a host's schema no warnings."""

    target_class = "telnyx_ivr.views.TelnyxWebhookView"

    def view_replacement(self):
        @extend_schema(exclude=True)
        class Excluded(self.target_class):
            pass

        return Excluded


class SchemaView(ReadAPIPermissions, ErrorsInJSON, SpectacularAPIView):
    schema = None  # not an operation of the API it describes
    custom_settings = {
        "TITLE": "Telnyx IVR read API",
        "DESCRIPTION": DESCRIPTION,
        "VERSION": __version__,
        "PREPROCESSING_HOOKS": [f"{__name__}.only_the_read_api"],
    }


class DocsView(ReadAPIPermissions, SpectacularSwaggerSplitView):
    """Swagger UI, its start-up script served by this view too (``?script``): the page has no
    inline script, for sites with a strict Content-Security-Policy."""

    schema = None
    url_name = "telnyx_ivr:api-schema"
    title = "Telnyx IVR read API"

    def get(self, request, *args, **kwargs):
        with patched_settings(DOCS_SETTINGS):
            return super().get(request, *args, **kwargs)
