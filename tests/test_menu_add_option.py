"""Adding an option to a key menu in one step and one save, as an office admin does it: the
keys, a label and what happens, and the route, node, prompt, valid digits and spoken text
follow; each option kind plays as it says; bad input is named at its field."""

import html
import re

import pytest

from telnyx_ivr.menus.publishing import publish_menu
from telnyx_ivr.menus.validation import validate_menu
from telnyx_ivr.models import Menu, Node, Prompt, Route
from telnyx_ivr.simulator import Press

from .played_calls import CLASSIC, menus, play  # noqa: F401
from .test_menu_admin import change_url, read_form

pytest_plugins = ["telnyx_ivr.pytest_plugin"]


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_superuser("staff", "staff@example.com", "pw-12345")
    client.force_login(user)
    return client


@pytest.fixture
def classic(menus):  # noqa: F811
    return menus["classic_tree"]


def option_url(menu, key):
    node = Node.objects.get(menu=menu, key=key)
    return f"/admin/telnyx_ivr/menu/{menu.pk}/nodes/{node.pk}/add-option/"


def add(staff, menu, key="main", **fields):
    url = option_url(menu, key)
    data = read_form(staff.get(url), "add_option_form")
    data.update(fields)
    return staff.post(url, data)


def errors_at(response, field):
    page = response.content.decode()
    match = re.search(
        rf'<div class="form-row errors field-{field}">\s*<ul class="errorlist"[^>]*>(.*?)</ul>',
        page,
        re.S,
    )
    return html.unescape(re.sub(r"<[^>]+>", " ", match[1])).strip() if match else ""


def test_the_menu_page_offers_add_an_option_on_each_key_menu(staff, classic):
    page = html.unescape(staff.get(change_url(classic)).content.decode())
    links = re.findall(r'href="(/admin/telnyx_ivr/menu/\d+/nodes/\d+/add-option/)"', page)
    key_menus = Node.objects.filter(menu=classic, kind__in=["speak_menu", "audio_menu", "gather"])
    assert len(links) == key_menus.count() == 2  # main and support
    assert "press 1 → Transfer to sales" in page
    form = staff.get(option_url(classic, "main")).content.decode()
    assert "Its options now: press 1 for Transfer to sales" in html.unescape(form)
    assert "press 9 for hearing this menu again" in html.unescape(form)


def test_say_and_hang_up_in_one_save_then_a_call_hears_it(staff, classic, play):  # noqa: F811
    main = Node.objects.get(menu=classic, key="main")
    before = main.prompt.text
    response = add(staff, classic, keys="3", label="opening hours", action="say_hangup",
                   message="We are open from nine to five, Monday to Friday.")  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == change_url(classic)

    route = Route.objects.get(node=main, digits="3")
    target = route.target_node
    assert (target.kind, target.name, target.key) == ("hangup", "Opening hours", "opening-hours")
    assert target.prompt.text == "We are open from nine to five, Monday to Friday."
    main.refresh_from_db()
    assert "3" in main.valid_digits
    assert main.prompt.text == before.rstrip() + " Press 3 for opening hours."
    assert route.position > max(r.position for r in main.routes.exclude(pk=route.pk))
    assert validate_menu(Menu.objects.get(pk=classic.pk)) == []

    publish_menu(Menu.objects.get(pk=classic.pk))
    call = play(CLASSIC, [Press("3")])
    assert call.outcome == "completed"
    assert call.outcome_node == "opening-hours"


@pytest.mark.parametrize(
    ("action", "fields", "kind"),
    [
        ("say_back", {"message": "Our address is 1 Main Street."}, "announcement"),
        ("transfer", {"transfer_to": "+15550100042"}, "transfer"),
        ("submenu", {"message": "Press star to go back."}, "speak_menu"),
    ],
)
def test_each_kind_of_option_builds_a_valid_menu(staff, classic, action, fields, kind):
    response = add(staff, classic, keys="4", label="Our office", action=action,
                   update_text="", **fields)  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    target = Route.objects.get(node__key="main", node__menu=classic, digits="4").target_node
    assert target.kind == kind
    assert validate_menu(Menu.objects.get(pk=classic.pk)) == []
    if action == "say_back":
        [back] = target.routes.all()
        assert (back.when, back.target_node.key) == ("default", "main")


def test_going_to_an_existing_step(staff, classic):
    operator = Node.objects.get(menu=classic, key="operator")
    response = add(staff, classic, keys="5", label="reception", action="node",
                   target=str(operator.pk), spoken_text="Press 5 for reception.")  # fmt: skip
    assert response.status_code == 302
    assert (
        Route.objects.get(node__key="main", node__menu=classic, digits="5").target_node == operator
    )
    assert Node.objects.get(menu=classic, key="main").prompt.text == "Press 5 for reception."


@pytest.mark.parametrize(
    ("fields", "field", "said"),
    [
        ({"keys": "1"}, "keys", "1 is already an option of this menu."),
        ({"keys": "3x"}, "keys", "Use only phone keys"),
        ({"keys": "3#"}, "keys", "# ends what the caller types on this menu"),
        ({"keys": ""}, "keys", "This field is required."),
        ({"label": ""}, "label", "This field is required."),
        ({"message": ""}, "message", "Write what the caller hears."),
        ({"action": "transfer", "transfer_to": ""}, "transfer_to", "Give the number"),
        ({"action": "transfer", "transfer_to": "front desk"}, "transfer_to", "E.164"),
        ({"action": "node", "target": ""}, "target", "Choose the step this option goes to."),
    ],
)
def test_bad_input_is_named_at_its_field_and_changes_nothing(staff, classic, fields, field, said):
    routes = Route.objects.count()
    base = {"keys": "3", "label": "hours", "action": "say_hangup", "message": "Open 9 to 5."}
    response = add(staff, classic, **{**base, **fields})
    assert response.status_code == 200
    assert said in errors_at(response, field)
    assert Route.objects.count() == routes


def test_only_key_menus_take_options(staff, classic):
    response = staff.get(option_url(classic, "sales"), follow=True)
    assert "is a transfer node: it has no key options." in html.unescape(response.content.decode())


def words(response):
    """The page as it reads: tags removed, entities decoded, spaces collapsed."""
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())
    return re.sub(r" ([:.,;)])", r"\1", text)


def remove_url(menu, node_key, digits):
    route = Route.objects.get(node__menu=menu, node__key=node_key, digits=digits)
    return f"/admin/telnyx_ivr/menu/{menu.pk}/options/{route.pk}/remove/"


def test_removing_an_option_says_what_goes_then_takes_only_what_it_used(staff, classic):
    main = Node.objects.get(menu=classic, key="main")
    before = main.prompt.text
    add(staff, classic, keys="3", label="opening hours", action="say_hangup",
        message="We are open from nine to five.")  # fmt: skip
    nodes, prompts = Node.objects.count(), Prompt.objects.count()
    page = html.unescape(staff.get(change_url(classic)).content.decode())
    assert remove_url(classic, "main", "3") in page  # each option has its remove link

    confirm = words(staff.get(remove_url(classic, "main", "3")))
    assert "will no longer be able to press 3 for Opening hours" in confirm
    assert "the step Opening hours (opening-hours), which nothing else leads to" in confirm
    assert 'the prompt opening-hours: "We are open from nine to five."' in confirm
    assert f'which becomes: "{" ".join(before.split())}"' in confirm
    assert Node.objects.count() == nodes  # nothing removed by looking

    response = staff.post(remove_url(classic, "main", "3"))
    assert response.status_code == 302
    assert not Route.objects.filter(node=main, digits="3").exists()
    assert (Node.objects.count(), Prompt.objects.count()) == (nodes - 1, prompts - 1)
    main.refresh_from_db()
    assert main.prompt.text == before.strip()
    assert validate_menu(Menu.objects.get(pk=classic.pk)) == []


def test_a_step_something_else_leads_to_stays(staff, classic):
    operator = Node.objects.get(menu=classic, key="operator")
    add(staff, classic, keys="5", label="reception", action="node", target=str(operator.pk),
        update_text="")  # fmt: skip
    confirm = words(staff.get(remove_url(classic, "main", "5")))
    assert "The step Transfer to an operator stays: something else leads to it." in confirm
    staff.post(remove_url(classic, "main", "5"))
    assert Node.objects.filter(pk=operator.pk).exists()
    assert Route.objects.filter(node__key="main", node__menu=classic, digits="0").exists()


def test_removing_a_submenu_takes_its_own_steps(staff, classic):
    support = Route.objects.get(node__menu=classic, node__key="main", digits="2").target_node
    confirm = words(staff.get(remove_url(classic, "main", "2")))
    assert "the step Support menu (support)" in confirm
    assert "The menu's spoken text still mentions 2" in confirm  # "..., 2 for support, ..."
    only_below = {  # what only the support menu leads to: its two transfers
        r.target_node.key
        for r in support.routes.exclude(target_node=None)
        if not Route.objects.filter(target_node=r.target_node).exclude(node=support).exists()
    }
    shared = {r.target_node.key for r in support.routes.exclude(target_node=None)} - only_below
    assert only_below
    for key in only_below:
        assert f"({key}), which nothing else leads to" in confirm
    for key in shared:  # e.g. goodbye, which the main menu leads to as well
        assert f"({key}), which nothing else leads to" not in confirm
    staff.post(remove_url(classic, "main", "2"))
    assert not Node.objects.filter(menu=classic, key__in={"support", *only_below}).exists()
    assert Node.objects.filter(menu=classic, key__in={"main", *shared}).count() == 1 + len(shared)
    assert validate_menu(Menu.objects.get(pk=classic.pk)) == []
