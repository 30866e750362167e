"""A menu's ``on_command_failure`` (what a caller hears when Telnyx refuses a command for
good) from the outside: the admin's fieldset says what is wrong at the field, the menu file
carries it through export and import unchanged, and a bad one is refused with its path."""

import json
import re

import pytest

from telnyx_ivr.menus.definition import build_definition as export_definition
from telnyx_ivr.menus.io import import_definition
from telnyx_ivr.models import Menu, Prompt

from .call_fixtures import EXAMPLES
from .test_menu_admin import change_url, errors_in, read_form, saved, staff  # noqa: F401
from .test_menu_io import bad_copy, import_failure, loaded, snapshot  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def classic():
    return import_definition(json.loads((EXAMPLES / "classic_tree.json").read_text())).menu


def error_at(response, field):
    """The errors shown at ``field`` (the list its input is described by), as text."""
    page = response.content.decode()
    match = re.search(rf'<ul class="errorlist[^"]*" id="id_{field}_error">(.*?)</ul>', page, re.S)
    if match is None:
        return ""
    assert re.search(rf'aria-describedby="[^"]*id_{field}_error[^"]*" id="id_{field}"', page)
    return " ".join(re.sub(r"<[^>]+>", " ", match[1]).split())


@pytest.mark.parametrize(
    ("change", "field", "said"),
    [
        ({"failure_then": "transfer", "failure_to": ""}, "failure_to", "A transfer needs a number"),
        ({"failure_then": "transfer", "failure_to": "front desk"}, "failure_to", "E.164"),
        ({"failure_then": "hangup", "failure_to": "+15550100001"}, "failure_to", "Only for a"),
        ({"failure_text": "Sorry {% if %}"}, "failure_text", "Not a valid template"),
    ],
)
def test_a_wrong_fallback_is_refused_at_its_field(staff, classic, change, field, said):  # noqa: F811
    data = read_form(staff.get(change_url(classic)))
    data.update(change)
    response = staff.post(change_url(classic), data)
    assert response.status_code == 200, "saved although wrong"
    assert said in error_at(response, field), errors_in(response)
    menu = Menu.objects.get(pk=classic.pk)
    assert (menu.failure_then, menu.failure_to, menu.failure_text) == ("hangup", "", "")


def test_a_prompt_and_a_text_at_once_is_refused_at_the_text(staff, classic):  # noqa: F811
    data = read_form(staff.get(change_url(classic)))
    goodbye = Prompt.objects.get(menu=classic, key="goodbye")
    data.update(failure_prompt=str(goodbye.pk), failure_text="We are sorry.")
    response = staff.post(change_url(classic), data)
    assert "Choose a prompt or write a text, not both." in error_at(response, "failure_text")


def test_a_fallback_saved_in_the_admin_is_in_the_menu_file(staff, classic):  # noqa: F811
    data = read_form(staff.get(change_url(classic)))
    data.update(failure_text="Sorry, our lines are busy.", failure_then="transfer",
                failure_to="+15550100009")  # fmt: skip
    saved(staff.post(change_url(classic), data))
    exported = export_definition(Menu.objects.get(pk=classic.pk))
    assert exported["menu"]["on_command_failure"] == {
        "prompt": None,
        "text": "Sorry, our lines are busy.",
        "then": "transfer",
        "to": "+15550100009",
    }


def test_the_fallback_goes_through_export_and_import_unchanged():
    document = json.loads((EXAMPLES / "classic_tree.json").read_text())
    plan = {"prompt": "goodbye", "text": None, "then": "transfer", "to": "sip:desk@example.com"}
    document["menu"]["on_command_failure"] = plan
    menu = import_definition(document).menu
    assert (menu.failure_prompt.key, menu.failure_then, menu.failure_to) == (
        "goodbye", "transfer", "sip:desk@example.com",
    )  # fmt: skip
    assert export_definition(menu)["menu"]["on_command_failure"] == plan
    assert export_definition(menu) == export_definition(
        import_definition(export_definition(menu)).menu
    )


def test_a_menu_without_a_fallback_exports_without_one(classic):
    assert "on_command_failure" not in export_definition(classic)["menu"]


def test_bad_fallbacks_in_a_menu_file_are_refused_with_their_path(tmp_path, loaded):  # noqa: F811
    cases = [
        ({"prompt": None, "text": None, "then": "transfer", "to": None},
         "menu.on_command_failure.to': then is 'transfer' but no number or SIP address"),
        ({"prompt": None, "text": None, "then": "hangup", "to": "+15550100001"},
         "only a transfer has a destination"),
        ({"prompt": "nope", "text": None, "then": "hangup", "to": None},
         "the apology 'nope' is not a prompt of this menu"),
        ({"prompt": "goodbye", "text": "Sorry.", "then": "hangup", "to": None},
         "the apology is a prompt or a text, not both"),
        ({"prompt": None, "text": None, "then": "explode", "to": None},
         "$.menu.on_command_failure.then: 'explode' is not one of"),
        ({"prompt": None, "text": "", "then": "hangup", "to": None},
         "$.menu.on_command_failure.text"),
    ]  # fmt: skip
    for plan, said in cases:

        def change(doc, plan=plan):
            doc["menu"]["on_command_failure"] = plan

        err, message = import_failure(bad_copy(tmp_path, change))
        assert said in err, (plan, err)
        assert "not imported" in message
    assert snapshot() == loaded
