"""Menus written before office-hours and check nodes existed import, export, validate and
play as they did: the examples of 2 December 2026 (tests/fixtures/menus_2026_12_02)."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from telnyx_ivr.menus.validation import validate_definition
from telnyx_ivr.models import Schedule

from .test_engine_examples import assert_ada_reaches_chicago
from .test_engine_support import CallDriver, cs_of, without_cs
from .test_menu_io import export, import_file

OLD = Path(__file__).resolve().parent / "fixtures" / "menus_2026_12_02"
FILES = {"classic-tree": "classic_tree.json", "ai-intake": "ai_intake.json"}


def old(name):
    return json.loads((OLD / name).read_text(encoding="utf-8"))


@pytest.mark.django_db
@pytest.mark.parametrize(("slug", "filename"), FILES.items())
def test_an_old_menu_round_trips_byte_for_byte_and_is_valid(slug, filename):
    source = (OLD / filename).read_text(encoding="utf-8")
    assert validate_definition(json.loads(source)) == []
    out, _ = import_file(OLD / filename)
    assert f"menu '{slug}'" in out
    exported = export(slug)
    assert exported == source
    assert "schedules" not in json.loads(exported)
    assert not Schedule.objects.exists()


# A Saturday night: no office-hours node decides anything in an old menu.
SATURDAY_NIGHT = datetime(2026, 12, 5, 23, 0, tzinfo=UTC)


def test_the_old_classic_tree_still_sends_0_straight_to_the_operator():
    driver = CallDriver(old("classic_tree.json"), clock=SATURDAY_NIGHT)
    main = driver.only_command(driver.start())
    assert main.params["valid_digits"] == "0129"
    transfer = driver.only_command(driver.gather_ended("valid", "0"))
    assert (transfer.action, without_cs(transfer.params)) == (
        "transfer",
        {"to": "+15550100000", "timeout_secs": 30},
    )
    assert set(cs_of(transfer)) == {"c", "n", "s"}  # no checks passed on the way
    assert [s.node for s in driver.decisions[-1].steps if s.kind == "opened"] == ["operator"]


def test_the_old_ai_intake_still_routes_on_the_city():
    driver = CallDriver(old("ai_intake.json"), clock=SATURDAY_NIGHT)
    assert driver.only_command(driver.start()).action == "gather_using_ai"
    assert_ada_reaches_chicago(driver)
