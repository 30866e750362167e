"""The menu admin, driven like a browser: GET a page, read its form, change fields, POST it."""

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.messages import get_messages

from telnyx_ivr.menus.definition import apply_definition
from telnyx_ivr.menus.kinds import DIGIT_DEFAULTS
from telnyx_ivr.menus.validation import validate_menu
from telnyx_ivr.models import AIParameterSchema, Menu, MenuVersion, Node, Prompt, Route

EXAMPLES = Path(__file__).resolve().parent.parent / "telnyx_ivr" / "examples"

pytestmark = pytest.mark.django_db


class FormReader(HTMLParser):
    """The fields the admin's main form would submit, as a browser would (no JS)."""

    def __init__(self, form_id):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.data = {}
        self.select = None
        self.textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") == "checkbox":
                if "checked" in attrs:
                    self.data[name] = attrs.get("value", "on")
            else:
                self.data[name] = attrs.get("value", "")
        elif tag == "select" and name:
            self.select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self.select and "selected" in attrs:
            self.data[self.select] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self.textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.data[self.textarea] += data.lstrip("\n") if not self.data[self.textarea] else data


def read_form(response, form_id="menu_form"):
    assert response.status_code == 200, response.status_code
    reader = FormReader(form_id)
    reader.feed(response.content.decode())
    # Rows of the empty template ("__prefix__") are never submitted by the admin's JS.
    return {k: v for k, v in reader.data.items() if "__prefix__" not in k}


def add_rows(data, prefix, rows):
    """Append inline rows ``[{field: value}]`` to formset ``prefix`` of the read form."""
    start = int(data[f"{prefix}-TOTAL_FORMS"])
    for offset, row in enumerate(rows):
        for field, value in row.items():
            data[f"{prefix}-{start + offset}-{field}"] = value
    data[f"{prefix}-TOTAL_FORMS"] = str(start + len(rows))
    return data


def row_index(data, prefix, field, value):
    for key, current in data.items():
        match = re.fullmatch(rf"{prefix}-(\d+)-{field}", key)
        if match and current == value:
            return int(match.group(1))
    raise AssertionError(f"no {prefix} row with {field}={value!r}")


def errors_in(response):
    if response.status_code != 200:
        return []
    return re.findall(
        r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode(), re.S
    )


def saved(response):
    assert response.status_code == 302, errors_in(response)
    return response


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_superuser("staff", "staff@example.com", "pw-12345")
    client.force_login(user)
    return client


def change_url(menu):
    return f"/admin/telnyx_ivr/menu/{menu.pk}/change/"


def create_menu(staff):
    data = read_form(staff.get("/admin/telnyx_ivr/menu/add/"))
    data.update(name="Front desk", slug="front-desk", numbers="+15550101000\n+15550101001")
    saved(staff.post("/admin/telnyx_ivr/menu/add/", data))
    return Menu.objects.get(slug="front-desk")


def test_every_node_kind_is_created_through_the_admin(staff):
    menu = create_menu(staff)
    assert menu.numbers == ["+15550101000", "+15550101001"]
    assert not menu.is_active

    # Prompts and an AI parameter schema.
    data = read_form(staff.get(change_url(menu)))
    add_rows(
        data,
        "prompts",
        [
            {
                "key": "welcome",
                "kind": "tts",
                "text": "Hi {{ caller_number }}. Press 1.",
                "payload_type": "text",
            },
            {
                "key": "jingle",
                "kind": "audio",
                "payload_type": "text",
                "audio_url": "https://example.com/jingle.mp3",
            },
            {"key": "sorry", "kind": "tts", "text": "Sorry.", "payload_type": "text"},
            {"key": "bye", "kind": "tts", "text": "Bye {{ who.name }}.", "payload_type": "text"},
        ],
    )
    add_rows(
        data,
        "ai_schemas",
        [
            {
                "key": "who",
                "description": "Name",
                "schema": json.dumps(
                    {"type": "object", "properties": {"name": {"type": "string"}}}
                ),
            },
        ],
    )
    saved(staff.post(change_url(menu), data))
    assert set(menu.prompts.values_list("key", flat=True)) == {"welcome", "jingle", "sorry", "bye"}
    prompts = {p.key: str(p.pk) for p in menu.prompts.all()}
    schema_pk = str(menu.ai_schemas.get(key="who").pk)

    # One node of every kind.
    data = read_form(staff.get(change_url(menu)))
    add_rows(
        data,
        "nodes",
        [
            {
                "key": "start",
                "name": "Start",
                "kind": "speak_menu",
                "position": "0",
                "save_as": "choice",
                "prompt": prompts["welcome"],
                "invalid_prompt": prompts["sorry"],
                "maximum_digits": "1",
                "valid_digits": "123456",
            },
            {
                "key": "tune",
                "name": "Tune menu",
                "kind": "audio_menu",
                "position": "1",
                "prompt": prompts["jingle"],
                "no_input_prompt": prompts["sorry"],
            },
            {
                "key": "code",
                "name": "Code",
                "kind": "gather",
                "position": "2",
                "minimum_digits": "4",
                "maximum_digits": "4",
                "initial_timeout_millis": "3",
            },
            {
                "key": "ask",
                "name": "Ask",
                "kind": "ai_gather",
                "position": "3",
                "save_as": "who",
                "ai_schema": schema_pk,
                "greeting": "Your name?",
                "voice": "Telnyx.KokoroTTS.af",
                "assistant": json.dumps({"instructions": "Be brief."}),
                "interruption_settings": json.dumps({"enable": False}),
                "send_partial_results": "true",
                "user_response_timeout_ms": "8000",
                "message_history": json.dumps([{"role": "assistant", "content": "Hello"}]),
            },
            {
                "key": "chat",
                "name": "Chat",
                "kind": "ai_assistant",
                "position": "4",
                "greeting": "How can I help?",
                "voice_settings": json.dumps({"type": "telnyx", "voice_speed": 1.2}),
            },
            {
                "key": "note",
                "name": "Note",
                "kind": "announcement",
                "position": "5",
                "prompt": prompts["welcome"],
            },
            {
                "key": "desk",
                "name": "Desk",
                "kind": "transfer",
                "position": "6",
                "to": "sip:desk@example.com",
                "from_number": "+15550101000",
                "timeout_secs": "20",
            },
            {
                "key": "bye",
                "name": "Bye",
                "kind": "hangup",
                "position": "7",
                "prompt": prompts["bye"],
            },
        ],
    )
    response = staff.post(change_url(menu), data)
    saved(response)
    nodes = {node.key: node for node in menu.nodes.all()}
    assert {key: node.kind for key, node in nodes.items()} == {
        "start": "speak_menu",
        "tune": "audio_menu",
        "code": "gather",
        "ask": "ai_gather",
        "chat": "ai_assistant",
        "note": "announcement",
        "desk": "transfer",
        "bye": "hangup",
    }
    # Blank digit rules were filled with the API's defaults; given ones were kept.
    assert (nodes["start"].maximum_digits, nodes["start"].valid_digits) == (1, "123456")
    assert nodes["start"].timeout_millis == DIGIT_DEFAULTS["timeout_millis"]
    assert nodes["tune"].maximum_digits == 128
    assert nodes["code"].initial_timeout_millis == 3000
    assert nodes["ask"].assistant == {"instructions": "Be brief."}
    assert nodes["ask"].send_partial_results is True
    assert nodes["ask"].message_history == [{"role": "assistant", "content": "Hello"}]
    assert nodes["chat"].voice_settings == {"type": "telnyx", "voice_speed": 1.2}
    assert (nodes["desk"].to, nodes["desk"].from_number, nodes["desk"].timeout_secs) == (
        "sip:desk@example.com",
        "+15550101000",
        20,
    )
    assert nodes["bye"].prompt.key == "bye"
    # Whole-menu validation ran on save: no entry node and no routes yet.
    warnings = [str(m) for m in get_messages(response.wsgi_request)]
    assert "The menu's entry node: the menu has no entry node" in warnings
    assert any(w.startswith("The options of '") and "no default route" in w for w in warnings)
    assert not [w for w in warnings if "field '" in w]  # no file paths on the page

    # Routes and the entry node.
    pk = {key: str(node.pk) for key, node in nodes.items()}
    data = read_form(staff.get(change_url(menu)))
    data["entry_node"] = pk["start"]

    def route(node, when, target="node", to=None, **extra):
        return {
            "node": pk[node],
            "when": when,
            "target": target,
            "target_node": pk[to] if to else "",
            **extra,
        }

    add_rows(
        data,
        "routes",
        [
            route("start", "digits", to="tune", digits="1", position="0"),
            route("start", "digits", to="code", digits="2", position="1"),
            route("start", "digits", to="ask", digits="3", position="2"),
            route("start", "digits", to="chat", digits="4", position="3"),
            route("start", "digits", target="repeat", digits="5", position="4"),
            route("start", "default", to="bye", position="5"),
            route("tune", "digits", target="back", digits="*", position="0"),
            route("tune", "default", to="note", position="1"),
            route("code", "default", to="desk", position="0"),
            route(
                "ask",
                "valid",
                to="note",
                position="0",
                conditions=json.dumps([{"field": "name", "op": "one_of", "value": ["Ann"]}]),
            ),
            route("ask", "default", to="bye", position="1"),
            route("chat", "default", to="bye", position="0"),
            route("note", "default", to="bye", position="0"),
        ],
    )
    response = saved(staff.post(change_url(menu), data))
    assert "The draft is valid and can be published." in [
        str(m) for m in get_messages(response.wsgi_request)
    ]
    menu.refresh_from_db()
    assert menu.entry_node.key == "start"
    assert Route.objects.filter(menu=menu).count() == 13
    assert validate_menu(menu) == []

    # The change page shows the diagram, and the publish action makes version 1.
    page = staff.get(change_url(menu)).content.decode()
    assert page.count('class="ivr-edge"') == 13
    assert "Valid: ready to publish." in page
    saved(
        staff.post(
            "/admin/telnyx_ivr/menu/",
            {"action": "publish_menus", "_selected_action": [str(menu.pk)]},
        )
    )
    menu.refresh_from_db()
    assert menu.live_version.number == 1
    assert menu.live_version.definition["nodes"]["ask"]["send_partial_results"] is True


@pytest.fixture
def example_menu():
    return apply_definition(json.loads((EXAMPLES / "classic_tree.json").read_text()))


def test_fields_of_another_kind_are_rejected_at_the_field(staff, example_menu):
    data = read_form(staff.get(change_url(example_menu)))
    index = row_index(data, "nodes", "key", "goodbye")
    data[f"nodes-{index}-maximum_digits"] = "4"
    data[f"nodes-{index}-to"] = "+15550100000"
    before = Node.objects.get(menu=example_menu, key="goodbye")
    response = staff.post(change_url(example_menu), data)
    errors = errors_in(response)
    assert sum("Not used by a hang-up node: leave it empty." in e for e in errors) == 2
    after = Node.objects.get(pk=before.pk)
    assert (after.maximum_digits, after.to) == (None, "")


def test_kind_specific_required_fields(staff, example_menu):
    data = read_form(staff.get(change_url(example_menu)))
    index = row_index(data, "nodes", "key", "sales")
    data[f"nodes-{index}-to"] = "not a number"
    main = row_index(data, "nodes", "key", "main")
    data[f"nodes-{main}-prompt"] = ""
    errors = errors_in(staff.post(change_url(example_menu), data))
    assert any("An E.164 number (+15551230000) or a sip: URI." in e for e in errors)
    assert any("needs a prompt" in e for e in errors)
    assert Node.objects.get(menu=example_menu, key="sales").to == "+15550100001"


def test_route_rules_are_checked_at_the_field(staff, example_menu):
    data = read_form(staff.get(change_url(example_menu)))
    goodbye = str(Node.objects.get(menu=example_menu, key="goodbye").pk)
    main = str(Node.objects.get(menu=example_menu, key="main").pk)
    add_rows(
        data,
        "routes",
        [
            {
                "node": goodbye,
                "when": "default",
                "target": "node",
                "target_node": main,
                "position": "0",
            },
            {
                "node": main,
                "when": "digits",
                "target": "node",
                "target_node": "",
                "position": "9",
                "digits": "",
            },
        ],
    )
    errors = errors_in(staff.post(change_url(example_menu), data))
    assert any("A hang-up node has no &#x27;default&#x27; outcome" in e for e in errors)
    assert any("Give the digits this route matches." in e for e in errors)
    assert any("Choose the node this route goes to." in e for e in errors)
    assert Route.objects.filter(menu=example_menu).count() == 21  # as before the post


def test_a_refused_save_lists_each_problem_at_the_top_linked_to_its_row(staff, example_menu):
    data = read_form(staff.get(change_url(example_menu)))
    main = str(Node.objects.get(menu=example_menu, key="main").pk)
    first_new = int(data["routes-TOTAL_FORMS"])
    add_rows(
        data,
        "routes",
        [{"node": main, "when": "digits", "target": "node", "position": "9", "digits": "5x"}],
    )
    data["nodes-0-name"] = ""  # a step must have a name
    response = staff.post(change_url(example_menu), data)
    assert response.status_code == 200
    page = response.content.decode()
    summary = re.search(r'<div class="ivr-problem-summary".*?</div>', page, re.S)
    assert summary, "no summary of the problems at the top"
    links = dict(
        (html.unescape(text), href)
        for href, text in re.findall(r'<a href="#([^"]+)">(.*?)</a>', summary.group())
    )
    # The new option: named by its step and keys, linked to its own row.
    keys = [t for t in links if t.startswith("Option of 'Main menu' (press 5x), Digits:")]
    assert keys, links
    assert links[keys[0]] == f"routes-{first_new}"
    assert f'id="routes-{first_new}"' in page  # the anchor is the row the admin draws
    goes_to = [t for t in links if t.startswith("Option of 'Main menu' (press 5x), ")]
    assert len(goes_to) == 2, links  # the keys, and where it goes
    named = [text for text in links if text.startswith("Step 'Main menu', Name:")]
    assert named, links
    assert links[named[0]] == "nodes-0"
    assert page.index("ivr-problem-summary") < page.index('id="nodes-0"')
    assert "routes[" not in summary.group()


def test_a_saved_page_has_no_problem_summary(staff, example_menu):
    page = staff.get(change_url(example_menu)).content.decode()
    assert "ivr-problem-summary" not in page


def test_route_and_node_choices_are_limited_to_this_menu(staff, example_menu):
    other = apply_definition(json.loads((EXAMPLES / "ai_intake.json").read_text()))
    page = staff.get(change_url(example_menu)).content.decode()
    foreign = Node.objects.get(menu=other, key="intake")
    assert f'<option value="{foreign.pk}"' not in page
    data = read_form(staff.get(change_url(example_menu)))
    index = row_index(data, "routes", "digits", "1")
    data[f"routes-{index}-target_node"] = str(foreign.pk)
    errors = errors_in(staff.post(change_url(example_menu), data))
    assert any("Select a valid choice" in e for e in errors)


def test_validation_problems_are_shown_at_the_node(staff, example_menu):
    Prompt.objects.filter(menu=example_menu, key="goodbye").update(text="Bye {{ stranger }}")
    page = staff.get(change_url(example_menu)).content.decode()
    problem = "&#x27;Goodbye&#x27;, prompt: prompt &#x27;goodbye&#x27; uses unknown variable"
    node_box = re.search(r'<ul class="ivr-issues"><li>(.*?)</li>', page)[1]  # at the node
    assert node_box.startswith(problem)
    assert page.count(problem) == 2  # at the node and in the Validation box
    assert "field &#x27;" not in page


def test_validation_problems_name_options_as_the_page_shows_them(staff, example_menu):
    """The validator's paths ('routes[0].digits') appear nowhere on the page."""
    Route.objects.filter(menu=example_menu, node__key="support", digits="1").update(digits="5")
    Route.objects.filter(menu=example_menu, node__key="main", when="default").delete()
    page = html.unescape(staff.get(change_url(example_menu)).content.decode())
    assert (
        "Option 1 of 'Support menu' (press 5), keys: '5' of '5' is not in valid digits '129*'"
        in page
    )
    assert "The options of 'Main menu': no default route" in page
    assert "routes[" not in page
    response = staff.post(f"/admin/telnyx_ivr/menu/{example_menu.pk}/publish/", follow=True)
    refused = html.unescape(response.content.decode())
    assert "Option 1 of 'Support menu' (press 5), keys:" in refused
    assert "routes[" not in refused


def test_ai_schema_admin_checks_the_meta_schema_at_the_field(staff, example_menu):
    url = "/admin/telnyx_ivr/aiparameterschema/add/"
    data = read_form(staff.get(url), form_id="aiparameterschema_form")
    data.update(
        menu=str(example_menu.pk),
        key="bad",
        description="",
        schema=json.dumps({"type": "object", "properties": {"age": {"type": "int"}}}),
    )
    response = staff.post(url, data)
    errors = errors_in(response)
    assert any(
        "Not a valid JSON Schema: $.properties.age.type: &#x27;int&#x27; is not one of" in e
        for e in errors
    )
    assert not AIParameterSchema.objects.filter(key="bad").exists()
    data["schema"] = json.dumps({"type": "object", "properties": {"age": {"type": "integer"}}})
    saved(staff.post(url, data))
    assert AIParameterSchema.objects.get(key="bad").schema["properties"]["age"]["type"] == "integer"


def test_active_menu_claiming_a_taken_number_is_refused_at_the_field(staff, example_menu):
    other = apply_definition(json.loads((EXAMPLES / "ai_intake.json").read_text()))
    Menu.objects.filter(pk=other.pk).update(is_active=True)
    data = read_form(staff.get(change_url(example_menu)))
    data.update(is_active="on", numbers="+15550100200")
    errors = errors_in(staff.post(change_url(example_menu), data))
    assert any("+15550100200 is also claimed by active menu" in e for e in errors)
    assert not Menu.objects.get(pk=example_menu.pk).is_active


def test_actions_duplicate_activate_deactivate_export(staff, example_menu):
    changelist = "/admin/telnyx_ivr/menu/"
    selected = {"_selected_action": [str(example_menu.pk)]}
    saved(staff.post(changelist, {"action": "duplicate_menus", **selected}))
    assert Menu.objects.filter(slug="classic-tree-copy", is_active=False).exists()
    saved(staff.post(changelist, {"action": "activate_menus", **selected}))
    assert Menu.objects.get(pk=example_menu.pk).is_active
    copy = Menu.objects.get(slug="classic-tree-copy")
    response = staff.post(
        changelist, {"action": "activate_menus", "_selected_action": [str(copy.pk)]}
    )
    assert "is already the default" in " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert not Menu.objects.get(pk=copy.pk).is_active
    saved(staff.post(changelist, {"action": "deactivate_menus", **selected}))
    assert not Menu.objects.get(pk=example_menu.pk).is_active
    response = staff.post(changelist, {"action": "export", **selected})
    assert response["Content-Disposition"] == 'attachment; filename="classic-tree.json"'
    assert response.content.decode() == (EXAMPLES / "classic_tree.json").read_text()
    download = staff.get(f"/admin/telnyx_ivr/menu/{example_menu.pk}/export/")
    assert download.content == response.content


def test_publish_button_and_read_only_versions(staff, example_menu):
    saved(staff.post(f"/admin/telnyx_ivr/menu/{example_menu.pk}/publish/"))
    version = MenuVersion.objects.get(menu=example_menu)
    assert version.published_by.username == "staff"
    page = staff.get(f"/admin/telnyx_ivr/menuversion/{version.pk}/change/")
    content = page.content.decode()
    assert page.status_code == 200
    assert 'class="ivr-edge"' in content
    assert 'name="note"' not in content  # read-only: no editable inputs
    assert staff.post(f"/admin/telnyx_ivr/menuversion/{version.pk}/delete/").status_code == 403
    assert MenuVersion.objects.filter(pk=version.pk).exists()


def test_publishing_an_invalid_menu_from_the_admin_is_refused(staff, example_menu):
    Route.objects.filter(menu=example_menu, node__key="main", when="default").delete()
    response = staff.post(f"/admin/telnyx_ivr/menu/{example_menu.pk}/publish/", follow=True)
    assert "The options of &#x27;Main menu&#x27;: no default route" in (response.content.decode())
    assert not MenuVersion.objects.exists()


def test_node_kinds_are_named_for_what_they_do_with_the_api_name_as_help(staff, example_menu):
    from telnyx_ivr.menus.kinds import KIND_COMMANDS, KIND_LABELS

    page = staff.get(change_url(example_menu)).content.decode()
    select = re.search(r'<select name="nodes-0-kind".*?</select>', page, re.S)[0]
    options = [html.unescape(o) for o in re.findall(r"<option [^>]*>([^<]+)</option>", select)]
    assert options[1:] == list(KIND_LABELS.values())  # after the empty choice
    assert "Menu: caller presses a key (menu read out by text-to-speech)" in options
    assert not [o for o in options if "gather_using" in o or "DTMF" in o or "_start" in o]
    help_text = html.unescape(
        re.search(r'id="id_nodes-0-kind_helptext">\s*<div>(.*?)</div>', page, re.S)[1]
    )
    assert all(command in help_text for command in KIND_COMMANDS.values())
    assert "AI question: gather_using_ai" in help_text


def test_no_null_on_screen_and_an_empty_json_box_saves_nothing(staff, example_menu):
    page = staff.get(change_url(example_menu)).content.decode()
    boxes = re.findall(r"<textarea[^>]*>([^<]*)</textarea>", page)
    assert boxes, "no text boxes found"
    assert [box for box in boxes if box.strip() == "null"] == []
    popup = staff.get("/admin/telnyx_ivr/prompt/add/?_to_field=id&_popup=1").content.decode()
    assert ">null<" not in popup.replace("\n", "")
    assert not re.search(r"<textarea[^>]*>\s*null\s*</textarea>", popup)

    data = read_form(staff.get(change_url(example_menu)))
    conditions = [k for k in data if k.endswith("-conditions")]
    assert conditions
    # Only the check's route to the London office has conditions; every other box is empty.
    assert [json.loads(data[k]) for k in conditions if data[k] != ""] == [
        [{"field": "caller_number", "op": "starts_with", "value": "+44"}]
    ]
    saved(staff.post(change_url(example_menu), data))
    with_conditions = Route.objects.filter(node__menu=example_menu).exclude(conditions=None)
    assert [route.node.key for route in with_conditions] == ["which_operator"]


def test_a_prompt_added_from_a_menus_page_is_made_for_that_menu_without_asking(staff, example_menu):
    page = html.unescape(staff.get(change_url(example_menu)).content.decode())
    adds = re.findall(r'href="(/admin/telnyx_ivr/prompt/add/\?_to_field=[^"]*)"', page)
    assert adds, "no + beside the prompt dropdowns"
    assert all(f"menu={example_menu.pk}" in url for url in adds), adds
    popup = staff.get(adds[0])
    form = read_form(popup, "prompt_form")
    assert form["menu"] == str(example_menu.pk)
    assert '<input type="hidden" name="menu"' in popup.content.decode()
    assert '<select name="menu"' not in popup.content.decode()
    form.update(key="opening-hours", text="We are open from nine to five.")
    response = staff.post(adds[0], form)
    assert response.status_code == 200, errors_in(response)  # the pop-up's closing page
    assert Prompt.objects.get(key="opening-hours").menu == example_menu
    # Opened from the prompt list, the menu is asked for.
    assert '<select name="menu"' in staff.get("/admin/telnyx_ivr/prompt/add/").content.decode()


def test_a_new_route_or_node_left_without_a_position_goes_last(staff, example_menu):
    page = staff.get(change_url(example_menu)).content.decode()
    empty_box = re.search(r'<input type="number" name="routes-__prefix__-position"[^>]*>', page)[0]
    assert 'placeholder="last"' in empty_box
    assert "value=" not in empty_box  # not 0, which put every new route first
    data = read_form(staff.get(change_url(example_menu)))
    main = Node.objects.get(menu=example_menu, key="main")
    last_route = max(main.routes.values_list("position", flat=True))
    goodbye = Node.objects.get(menu=example_menu, key="goodbye")
    add_rows(data, "routes", [{"node": str(main.pk), "when": "digits", "digits": "7",
                               "target": "node", "target_node": str(goodbye.pk),
                               "position": ""}])  # fmt: skip
    add_rows(data, "nodes", [{"key": "hours", "name": "Opening hours", "kind": "hangup",
                              "position": ""}])  # fmt: skip
    saved(staff.post(change_url(example_menu), data))
    added = main.routes.get(digits="7")
    assert added.position == last_route + 1
    assert list(main.routes.order_by("position", "id"))[-1] == added
    nodes = list(Node.objects.filter(menu=example_menu).order_by("position", "id"))
    assert nodes[-1].key == "hours"
    assert nodes[-1].position > nodes[-2].position


def test_save_and_publish_publishes_the_edits_on_the_page(staff, example_menu):
    """Publishing from the page used to publish the saved draft and drop the edits on it."""
    page = staff.get(change_url(example_menu)).content.decode()
    assert 'form="menu_form" name="_publish"' in page  # submits the page's own form
    assert page.count('class="submit-row"') >= 2  # the save buttons at the top too
    data = read_form(staff.get(change_url(example_menu)))
    data.update(name="Front desk line", _publish="1")
    response = staff.post(change_url(example_menu), data)
    assert response.status_code == 302, errors_in(response)
    version = MenuVersion.objects.get(menu=example_menu)
    assert version.definition["menu"]["name"] == "Front desk line"
    assert Menu.objects.get(pk=example_menu.pk).live_version == version

    data = read_form(staff.get(change_url(example_menu)))
    data.update(name="", _publish="1")  # an edit the form refuses: nothing saved or published
    assert staff.post(change_url(example_menu), data).status_code == 200
    assert MenuVersion.objects.filter(menu=example_menu).count() == 1


def test_a_save_over_a_draft_someone_saved_meanwhile_is_refused_and_keeps_the_edits(
    staff, example_menu, client, django_user_model
):
    from django.test import Client

    mine = read_form(staff.get(change_url(example_menu)))
    other = Client()
    other.force_login(django_user_model.objects.create_superuser("ana", "a@example.com", "pw"))
    theirs = read_form(other.get(change_url(example_menu)))
    theirs["name"] = "Their name"
    saved(other.post(change_url(example_menu), theirs))

    mine["name"] = "My name"
    refused = staff.post(change_url(example_menu), mine)
    assert refused.status_code == 200
    page = html.unescape(refused.content.decode())
    assert "Someone else (ana) saved this menu at " in page
    assert "Nothing was saved, and your changes are still on this page." in page
    assert Menu.objects.get(pk=example_menu.pk).name == "Their name"
    again = read_form(refused)
    assert again["name"] == "My name"  # the edit is still in the form
    saved(staff.post(change_url(example_menu), again))  # saving again keeps mine, knowingly
    assert Menu.objects.get(pk=example_menu.pk).name == "My name"


def test_times_are_typed_and_shown_in_seconds_and_kept_in_milliseconds(staff, example_menu):
    main = Node.objects.get(menu=example_menu, key="main")
    Node.objects.filter(pk=main.pk).update(inter_digit_timeout_millis=2500, timeout_millis=None)
    page = staff.get(change_url(example_menu))
    text = page.content.decode()
    assert "Time between keys (seconds)" in text
    assert "Ring for at most (seconds)" in text  # a transfer's timeout_secs
    words = re.sub(r"<script.*?</script>|<[^>]+>", " ", text, flags=re.S)  # what is read
    assert "millis" not in words.lower()
    assert "Timeout ms" not in words
    data = read_form(page)
    index = row_index(data, "nodes", "key", "main")
    assert data[f"nodes-{index}-inter_digit_timeout_millis"] == "2.5"
    placeholder = re.search(rf'<input[^>]*name="nodes-{index}-timeout_millis"[^>]*>', text).group()
    assert 'placeholder="60"' in placeholder  # Telnyx's default, 60,000 ms

    saved(staff.post(change_url(example_menu), data))  # unchanged: still 2,500 ms
    main.refresh_from_db()
    assert (main.inter_digit_timeout_millis, main.timeout_millis) == (2500, None)

    data = read_form(staff.get(change_url(example_menu)))
    data[f"nodes-{index}-timeout_millis"] = "12.75"
    saved(staff.post(change_url(example_menu), data))
    main.refresh_from_db()
    assert main.timeout_millis == 12750

    for typed, said in [
        ("0", "Must be more than 0 seconds."),
        ("1.2345", "At most 3 decimals (milliseconds)."),
        ("soon", "Enter a number."),
    ]:
        data[f"nodes-{index}-timeout_millis"] = typed
        errors = errors_in(staff.post(change_url(example_menu), data))
        assert any(said in error for error in errors), (typed, errors)
    main.refresh_from_db()
    assert main.timeout_millis == 12750
