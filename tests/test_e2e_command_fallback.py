"""A command Telnyx refuses for good, played through the real stack: the simulator dials in,
the site's webhook stores each event, the engine decides (tasks run eagerly, as with the pytest
plugin) and its commands go back to the simulator, which fails them on demand.

Before the menu's fallback existed, a gather refused three times left the caller in silence
until they hung up; now they hear an apology and the menu hangs up.
"""

import json

import pytest

from telnyx_ivr import examples
from telnyx_ivr.calls.timeline import call_timeline
from telnyx_ivr.menus.io import import_definition
from telnyx_ivr.models import Call

pytest_plugins = ["telnyx_ivr.pytest_plugin"]

CLASSIC = "+15550000100"
APOLOGY = "Sorry, we are having technical trouble. Please call again later."


@pytest.fixture
def classic(transactional_db):
    return import_definition(json.loads(examples.read("classic_tree")), publish=True).menu


def heard(simulated):
    return [entry["text"] for entry in simulated.transcript if entry["kind"] == "heard"]


def test_three_429s_on_the_menu_end_in_an_apology_and_a_hangup(classic, ivr_simulator):
    # MAX_RETRIES is 2 by default: the first try and both resends are refused.
    ivr_simulator.faults.fail_command("gather_using_speak", 429, times=3)
    simulated = ivr_simulator.start_call(to=CLASSIC)

    outcome = simulated.wait_for_end(20)  # the old engine sent nothing more: this timed out

    assert outcome["ended_by"] == "app"
    assert heard(simulated) == [f'speak: "{APOLOGY}"']
    assert ivr_simulator.faults.pending() == []
    actions = [record.action for record in simulated.commands]
    assert actions == ["answer", *["gather_using_speak"] * 3, "speak", "hangup"]
    call = Call.objects.get(call_control_id=simulated.call_control_id)
    assert (call.status, call.outcome, call.outcome_node, call.ended_by) == (
        "ended",
        "failed",
        "main",
        "app",
    )
    assert call.failure.startswith("gather_using_speak failed:")
    [refused] = [e for e in call_timeline(call) if e.title == "gather_using_speak"]
    assert refused.status == "failed"
    assert (
        "Telnyx refused gather_using_speak after 3 tries: saying sorry, then hanging up"
        in refused.detail
    )
