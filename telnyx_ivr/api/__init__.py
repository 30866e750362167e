"""The read API: the call log and its figures over DRF, mounted by telnyx_ivr.urls at ``api/``.

Staff only by default (``TELNYX_IVR["READ_API_PERMISSION_CLASSES"]``); authentication is the
host's own DRF setting. docs/dashboards.md ("The read API") describes it for its users.
"""
