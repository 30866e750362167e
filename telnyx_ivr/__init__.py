"""Phone IVR menus for Django on Telnyx Call Control."""

__version__ = "0.1.0"
