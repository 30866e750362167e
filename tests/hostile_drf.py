"""Strict DRF classes a host might configure, for tests/test_webhook_host_drf.py."""

from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import BaseContentNegotiation


class RefuseEverything(BaseContentNegotiation):
    def select_parser(self, request, parsers):
        raise NotAcceptable("this host negotiates nothing")

    def select_renderer(self, request, renderers, format_suffix=None):
        raise NotAcceptable("this host negotiates nothing")


def no_handler(exc, context):
    return None  # a host handler that lets every exception through as a 500
