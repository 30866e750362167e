"""Fixtures for tests of calls played through the real stack with the pytest plugin
(``simulate_call``): the shipped example menus, published, and ``play`` returning the Call a
simulated call left behind."""

import json

import pytest

from telnyx_ivr import examples
from telnyx_ivr.menus.io import import_definition
from telnyx_ivr.models import Call

from .office_hours import open_around_the_clock

CLASSIC, AI = "+15550000100", "+15550100200"  # the numbers the examples answer


def load_example_menus():
    """Both example menus, imported and published: ``{name: Menu}``, with the office open
    around the clock (tests/office_hours.py says why)."""
    imported = {
        name: import_definition(json.loads(examples.read(name)), publish=True).menu
        for name in ("classic_tree", "ai_intake")
    }
    open_around_the_clock()
    return imported


@pytest.fixture
def menus(transactional_db):
    return load_example_menus()


@pytest.fixture
def play(simulate_call):
    """``play(to, script, **caller_options)``: play one call, return its Call row."""

    def play(to, script, **options):
        simulated = simulate_call(to=to, script=script, **options)
        return Call.objects.get(call_control_id=simulated.call_control_id)

    return play
