"""Who may read the API: ``TELNYX_IVR["READ_API_PERMISSION_CLASSES"]``, staff by default.

Read at each request, not at import, so a host's setting (and a test's override) applies."""

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from ..conf import SETTINGS_NAME, ivr_settings


def read_api_permissions():
    configured = ivr_settings.READ_API_PERMISSION_CLASSES
    if isinstance(configured, str) or not configured:
        raise ImproperlyConfigured(
            f'{SETTINGS_NAME}["READ_API_PERMISSION_CLASSES"] must be a non-empty list of DRF '
            "permission classes (dotted paths), e.g. "
            '["rest_framework.permissions.IsAdminUser"].'
        )
    return [import_string(path)() if isinstance(path, str) else path() for path in configured]


class ReadAPIPermissions:
    """A view mixin: the configured permissions instead of the host's default ones."""

    def get_permissions(self):
        return read_api_permissions()
