"""Versions: publishing freezes the draft; a call holding an old version keeps it."""

import json
from pathlib import Path

import pytest
from django.db.models import ProtectedError

from telnyx_ivr.menus.definition import apply_definition, build_definition
from telnyx_ivr.menus.matching import find_menu_version
from telnyx_ivr.menus.publishing import (
    activate_menu,
    deactivate_menu,
    duplicate_menu,
    publish_menu,
)
from telnyx_ivr.menus.validation import MenuValidationError
from telnyx_ivr.models import Menu, MenuVersion, Prompt

EXAMPLES = Path(__file__).resolve().parent.parent / "telnyx_ivr" / "examples"

pytestmark = pytest.mark.django_db


def load(name, **menu_fields):
    doc = json.loads((EXAMPLES / f"{name}.json").read_text())
    doc["menu"].update(menu_fields)
    return apply_definition(doc)


def test_publish_freezes_the_draft_as_the_live_version(django_user_model):
    user = django_user_model.objects.create_user("editor")
    menu = load("classic_tree")
    version = publish_menu(menu, user=user, note="first")
    menu.refresh_from_db()
    assert menu.live_version == version
    assert (version.number, version.published_by, version.note) == (1, user, "first")
    assert version.definition == build_definition(menu)


def test_a_call_holding_the_old_version_keeps_it_while_live_version_moves():
    menu = load("classic_tree")
    activate_menu(menu)
    first = publish_menu(menu)
    frozen = json.dumps(first.definition, sort_keys=True)
    # A call starts on version 1 and holds on to it (as the engine's call rows will).
    held_by_call = find_menu_version(to="+15559990000", connection_id="")
    assert held_by_call == first

    prompt = Prompt.objects.get(menu=menu, key="goodbye")
    prompt.text = "A new goodbye."
    prompt.save()
    second = publish_menu(menu, note="new goodbye")

    menu.refresh_from_db()
    assert menu.live_version == second
    assert second.number == 2
    assert second.definition["prompts"]["goodbye"]["text"] == "A new goodbye."
    held_by_call = MenuVersion.objects.get(pk=held_by_call.pk)
    assert json.dumps(held_by_call.definition, sort_keys=True) == frozen
    assert held_by_call.definition["prompts"]["goodbye"]["text"] != "A new goodbye."
    # New calls get the new version.
    assert find_menu_version(to="+15559990000", connection_id="") == second


def test_editing_the_draft_does_not_touch_the_live_version():
    menu = load("classic_tree")
    version = publish_menu(menu)
    menu.nodes.filter(key="goodbye").update(name="Changed")
    version.refresh_from_db()
    assert version.definition["nodes"]["goodbye"]["name"] == "Goodbye"


def test_versions_are_immutable_and_protected():
    menu = load("classic_tree")
    version = publish_menu(menu)
    version.note = "rewritten"
    with pytest.raises(ValueError, match="immutable"):
        version.save()
    with pytest.raises(ProtectedError):
        version.delete()
    with pytest.raises(ProtectedError):
        Menu.objects.get(pk=menu.pk).delete()
    assert MenuVersion.objects.get(pk=version.pk).note == ""


def test_publishing_an_invalid_draft_changes_nothing():
    menu = load("classic_tree")
    publish_menu(menu)
    menu.nodes.get(key="main").routes.filter(when="default").delete()
    with pytest.raises(MenuValidationError) as raised:
        publish_menu(menu)
    assert "node 'main', field 'routes': no default route" in str(raised.value)
    menu.refresh_from_db()
    assert menu.versions.count() == 1
    assert menu.live_version.number == 1


def test_activation_refuses_a_claim_another_active_menu_holds():
    first = load("ai_intake")
    activate_menu(first)
    second = load("classic_tree", slug="other", numbers=["+15550100200"], is_default=False)
    with pytest.raises(MenuValidationError, match=r"\+15550100200 is also claimed"):
        activate_menu(second)
    assert not Menu.objects.get(pk=second.pk).is_active
    deactivate_menu(first)
    activate_menu(second)
    assert Menu.objects.get(pk=second.pk).is_active


def test_duplicate_copies_the_draft_inactive_without_versions():
    menu = load("classic_tree")
    activate_menu(menu)
    publish_menu(menu)
    copy = duplicate_menu(menu)
    again = duplicate_menu(menu)
    assert (copy.slug, again.slug) == ("classic-tree-copy", "classic-tree-copy-2")
    assert not copy.is_active
    assert copy.live_version is None
    original, copied = build_definition(menu), build_definition(copy)
    copied["menu"].update(slug=menu.slug, name=menu.name)
    assert copied == original
    assert copy.nodes.count() == menu.nodes.count() == 12


# --- which version answers a call ----------------------------------------------------------


def test_find_menu_version_by_number_then_connection_then_default():
    default = load("classic_tree")
    by_number = load("ai_intake")
    by_connection = load("ai_intake", slug="by-connection", numbers=[], connection_ids=["c-1"])
    versions = {}
    for menu in (default, by_number, by_connection):
        activate_menu(menu)
        versions[menu.slug] = publish_menu(menu)
    assert find_menu_version(to="+15550100200", connection_id="c-1") == versions["ai-intake"]
    assert find_menu_version(to="+15550000000", connection_id="c-1") == versions["by-connection"]
    assert find_menu_version(to="+15550000000", connection_id="c-2") == versions["classic-tree"]
    deactivate_menu(default)
    assert find_menu_version(to="+15550000000", connection_id="c-2") is None


def test_find_menu_version_needs_an_active_published_menu():
    menu = load("ai_intake")
    assert find_menu_version(to="+15550100200", connection_id="") is None
    activate_menu(menu)
    assert find_menu_version(to="+15550100200", connection_id="") is None  # not published
    version = publish_menu(menu)
    assert find_menu_version(to="+15550100200", connection_id="") == version
    deactivate_menu(menu)
    assert find_menu_version(to="+15550100200", connection_id="") is None


def test_find_menu_version_uses_the_live_claims_not_the_draft():
    menu = load("ai_intake")
    activate_menu(menu)
    version = publish_menu(menu)
    menu.numbers = ["+15550100999"]
    menu.save()
    assert find_menu_version(to="+15550100200", connection_id="") == version
    assert find_menu_version(to="+15550100999", connection_id="") is None
