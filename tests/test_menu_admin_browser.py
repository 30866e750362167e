"""The menu admin's own JS in a real browser: each node shows only its kind's fields."""

import json
from pathlib import Path

import pytest

from telnyx_ivr.menus.definition import apply_definition

from .browser_support import log_in, top_in_window

EXAMPLES = Path(__file__).resolve().parent.parent / "telnyx_ivr" / "examples"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _row_index(browser, prefix, key):
    """The form index N of the inline row (``<prefix>-N-…``) whose key is ``key``."""
    from selenium.webdriver.common.by import By

    for element in browser.find_elements(
        By.CSS_SELECTOR, f"input[name^='{prefix}-'][name$='-key']"
    ):
        if element.get_attribute("value") == key:
            return element.get_attribute("name").split("-")[1]
    raise AssertionError(f"no {prefix} row with the key {key!r}")


def _open_example_menu(browser, live_server, django_user_model, example):
    """Load the example menu ``example`` (telnyx_ivr/examples/<example>.json), log in as a
    superuser and open the menu's admin page; return the menu."""
    django_user_model.objects.create_superuser("staff", "s@example.com", "pw-12345")
    menu = apply_definition(json.loads((EXAMPLES / f"{example}.json").read_text()))
    log_in(browser, live_server, "staff", "pw-12345")
    browser.get(f"{live_server.url}/admin/telnyx_ivr/menu/{menu.pk}/change/")
    return menu


def _save(browser):
    """Press "Save and continue editing" and wait for the saved page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from .browser_support import WAIT_SECONDS

    browser.find_element(By.NAME, "_continue").click()
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda _: "was changed successfully" in browser.page_source, "the save"
    )


def _delete_sales_pointing_option_1_to(browser, menu, target_key, shot):
    """On the open menu page, tick Delete on the sales step, answer node_delete.js's question
    by pointing the option that goes there (main menu, press 1) to ``target_key``, taking
    the screenshot ``shot`` of the question, and save; check the rows that are saved."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from telnyx_ivr.models import Node, Route

    from .browser_support import WAIT_SECONDS, screenshot

    sales = Node.objects.get(menu=menu, key="sales")
    target = Node.objects.get(menu=menu, key=target_key)
    pressed_1 = Route.objects.get(menu=menu, node__key="main", digits="1")
    assert pressed_1.target_node == sales
    box = browser.find_element(By.NAME, f"nodes-{_row_index(browser, 'nodes', 'sales')}-DELETE")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.click()

    prompt = WebDriverWait(browser, WAIT_SECONDS).until(
        lambda _: browser.find_elements(By.CSS_SELECTOR, ".ivr-delete-prompt"), "the question"
    )[0]
    assert "1 option goes to this step" in prompt.text
    assert "Option of 'Main menu (main)' (press 1)" in prompt.text
    Select(prompt.find_element(By.CSS_SELECTOR, ".ivr-retarget-choice")).select_by_value(
        str(target.pk)
    )
    screenshot(browser, shot)
    prompt.find_element(By.CSS_SELECTOR, ".ivr-retarget-routes").click()
    assert prompt.text == f"Those options will go to {target} when you save."
    _save(browser)
    assert not Node.objects.filter(pk=sales.pk).exists()
    pressed_1.refresh_from_db()
    assert pressed_1.target_node == target
    assert "problem" not in browser.find_element(By.CSS_SELECTOR, "ul.messagelist").text


def _add_ai_field(browser, editor, name, kind, description, allowed, *, required):
    """Add a row to an AI question's fields table (ai_fields.js) and fill it in; ``kind`` is
    the type as the table names it ("Text", "Whole number", …). Return the row."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", editor)
    editor.find_element(By.CSS_SELECTOR, ".ivr-ai-add-field").click()
    row = editor.find_elements(By.CSS_SELECTOR, "tr.ivr-ai-field")[-1]
    row.find_element(By.CSS_SELECTOR, ".ivr-ai-name").send_keys(name)
    Select(row.find_element(By.CSS_SELECTOR, ".ivr-ai-type")).select_by_visible_text(kind)
    row.find_element(By.CSS_SELECTOR, ".ivr-ai-description").send_keys(description)
    row.find_element(By.CSS_SELECTOR, ".ivr-ai-allowed").send_keys(allowed)
    if required:
        row.find_element(By.CSS_SELECTOR, ".ivr-ai-required").click()
    return row


def test_node_fields_follow_the_kind(browser, live_server, django_user_model):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from .browser_support import screenshot

    menu = _open_example_menu(browser, live_server, django_user_model, "classic_tree")

    def shown(index, field):
        return browser.find_element(
            By.CSS_SELECTOR, f"#nodes-{index} .field-{field}"
        ).is_displayed()

    main, sales, goodbye = (
        _row_index(browser, "nodes", key) for key in ("main", "sales", "goodbye")
    )
    assert (shown(main, "maximum_digits"), shown(main, "prompt"), shown(main, "to")) == (
        True,
        True,
        False,
    )
    assert (shown(sales, "to"), shown(sales, "prompt"), shown(sales, "greeting")) == (
        True,
        False,
        False,
    )
    assert (shown(goodbye, "prompt"), shown(goodbye, "valid_digits")) == (True, False)
    hours, check = (_row_index(browser, "nodes", key) for key in ("office_hours", "which_operator"))
    assert (shown(hours, "schedule"), shown(hours, "prompt"), shown(hours, "to")) == (
        True,
        False,
        False,
    )
    assert (shown(check, "schedule"), shown(check, "prompt"), shown(check, "save_as")) == (
        False,
        False,
        True,
    )
    office = browser.find_element(By.ID, f"nodes-{hours}")
    browser.execute_script("arguments[0].scrollIntoView()", office)
    assert "Office hours" in office.text
    assert (
        Select(browser.find_element(By.NAME, f"nodes-{hours}-schedule")).first_selected_option.text
        == "Office hours"
    )
    screenshot(browser, "menu_admin_office_hours_step")

    Select(browser.find_element(By.NAME, f"nodes-{goodbye}-kind")).select_by_value("transfer")
    assert (shown(goodbye, "to"), shown(goodbye, "prompt")) == (True, False)
    # On submit the JS empties the hidden prompt, so the server accepts the transfer.
    browser.find_element(By.NAME, f"nodes-{goodbye}-to").send_keys("+15550100009")
    _save(browser)
    node = menu.nodes.get(key="goodbye")
    assert (node.kind, node.to, node.prompt) == ("transfer", "+15550100009", None)


def test_the_fallback_for_refused_commands_is_set_with_its_errors_at_the_field(
    browser, live_server, django_user_model
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from .browser_support import WAIT_SECONDS, screenshot

    menu = _open_example_menu(browser, live_server, django_user_model, "classic_tree")
    heading = next(
        h for h in browser.find_elements(By.CSS_SELECTOR, "fieldset .fieldset-heading")
        if "refusing a command" in h.text
    )  # fmt: skip
    if not browser.find_element(By.ID, "id_failure_then").is_displayed():
        heading.click()  # a collapsed section opens on its heading
    Select(browser.find_element(By.ID, "id_failure_then")).select_by_value("transfer")
    browser.find_element(By.NAME, "_continue").click()

    error = WebDriverWait(browser, WAIT_SECONDS).until(
        lambda _: browser.find_elements(By.ID, "id_failure_to_error"), "the refused save's page"
    )[0]
    field = browser.find_element(By.ID, "id_failure_to")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", field)
    shot = screenshot(browser, "menu-admin-command-failure-error")
    assert error.is_displayed()
    assert field.is_displayed()
    assert error.text == "A transfer needs a number or SIP URI."
    assert abs(error.location["y"] - field.location["y"]) < 80, (error.location, field.location)
    assert shot.stat().st_size > 10_000

    field.send_keys("+15550100009")
    browser.find_element(By.ID, "id_failure_text").send_keys("Sorry, let me put you through.")
    _save(browser)
    menu.refresh_from_db()
    assert (menu.failure_then, menu.failure_to, menu.failure_text) == (
        "transfer", "+15550100009", "Sorry, let me put you through.",
    )  # fmt: skip


CONTRAST = """
const element = arguments[0];
function rgb(text) { return text.match(/[\\d.]+/g).slice(0, 4).map(Number); }
function luminance([r, g, b]) {
  const channel = (v) => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}
let back = element;
while (back && getComputedStyle(back).backgroundColor === 'rgba(0, 0, 0, 0)') {
  back = back.parentElement;
}
const fg = luminance(rgb(getComputedStyle(element).color));
const bg = luminance(rgb(back ? getComputedStyle(back).backgroundColor : 'rgb(255, 255, 255)'));
return (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
"""


def test_the_validation_status_can_be_read(browser, live_server, django_user_model):
    """'Valid: ready to publish.' was drawn in Django's success background colour on white."""
    from selenium.webdriver.common.by import By

    _open_example_menu(browser, live_server, django_user_model, "classic_tree")
    status = browser.find_element(By.CSS_SELECTOR, ".ivr-valid")
    assert status.text == "Valid: ready to publish."
    assert browser.execute_script(CONTRAST, status) >= 4.5  # WCAG AA for normal text


def test_the_menu_page_fits_a_laptops_window(browser, live_server, django_user_model):
    """It was 2,717 px wide: the prompts' table pushed the page, and its buttons, sideways."""
    from selenium.webdriver.common.by import By

    from .browser_support import screenshot

    _open_example_menu(browser, live_server, django_user_model, "classic_tree")
    width, window = browser.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert width <= window, (width, window)
    table = browser.find_element(By.CSS_SELECTOR, "#prompts-group .tabular")
    assert browser.execute_script(
        "return arguments[0].scrollWidth > arguments[0].clientWidth", table
    )
    screenshot(browser, "menu_admin_fits")


def test_a_refused_save_lists_its_problems_at_the_top_and_each_link_shows_the_row(
    browser, live_server, django_user_model
):
    """A route's error was announced only at the top, the row thousands of pixels below."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from .browser_support import WAIT_SECONDS, screenshot

    _open_example_menu(browser, live_server, django_user_model, "classic_tree")
    keys = next(
        field for field in browser.find_elements(By.CSS_SELECTOR, "input[name$='-digits']")
        if field.get_attribute("value") == "1"
    )  # fmt: skip
    row_id = keys.get_attribute("name").rsplit("-", 1)[0]  # routes-N
    browser.execute_script("arguments[0].value = '1x'", keys)
    browser.find_element(By.NAME, "_continue").click()

    summary = WebDriverWait(browser, WAIT_SECONDS).until(
        lambda _: browser.find_elements(By.CSS_SELECTOR, ".ivr-problem-summary"),
        "the refused save's page",
    )[0]
    assert summary.location["y"] < 400, summary.location  # seen without scrolling
    assert "Nothing was saved" in summary.text
    link = summary.find_element(By.CSS_SELECTOR, "a")
    assert link.text.startswith("Option of 'Main menu' (press 1x), Digits:"), link.text
    screenshot(browser, "menu_admin_problem_summary")

    link.click()
    row = browser.find_element(By.ID, row_id)
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda _: browser.execute_script("return location.hash") == f"#{row_id}", "the jump"
    )
    top, height = top_in_window(browser, row)
    assert 0 <= top < height, (top, height)  # the row is on screen
    outline = browser.execute_script("return getComputedStyle(arguments[0]).outlineWidth", row)
    assert outline == "4px", outline  # highlighted as the one linked to
    assert "Use only the DTMF keys" in row.text
    screenshot(browser, "menu_admin_problem_row")


def test_deleting_a_step_that_options_go_to_asks_and_points_them_elsewhere(
    browser, live_server, django_user_model
):
    """Deleting a node a route went to used to leave the route pointing nowhere."""
    menu = _open_example_menu(browser, live_server, django_user_model, "classic_tree")
    _delete_sales_pointing_option_1_to(browser, menu, "operator", "menu_admin_delete_step_asks")


def test_a_step_of_the_diagram_opens_that_step_on_the_page(browser, live_server, django_user_model):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from .browser_support import WAIT_SECONDS, screenshot

    _open_example_menu(browser, live_server, django_user_model, "classic_tree")
    assert "as last saved" in browser.page_source  # it does not follow unsaved edits
    box = browser.find_element(By.CSS_SELECTOR, ".ivr-diagram g.ivr-node[data-key='support']")
    assert box.get_attribute("role") == "link"
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.click()

    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda _: browser.execute_script("return location.hash").startswith("#nodes-"),
        "the jump to the step",
    )
    row = browser.find_element(By.ID, browser.execute_script("return location.hash")[1:])
    assert row.find_element(By.CSS_SELECTOR, "input[name$='-key']").get_attribute("value") == (
        "support"
    )
    top, height = top_in_window(browser, row)
    assert 0 <= top < height, (top, height)
    assert browser.switch_to.active_element.get_attribute("name").startswith(
        row.get_attribute("id")
    )
    screenshot(browser, "menu_admin_diagram_click")


def test_an_ai_questions_fields_are_a_table_that_writes_the_schema(
    browser, live_server, django_user_model
):
    """The fields could only be edited as a raw JSON Schema textarea."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from telnyx_ivr.models import AIParameterSchema

    from .browser_support import WAIT_SECONDS, screenshot

    menu = _open_example_menu(browser, live_server, django_user_model, "ai_intake")
    editor = browser.find_element(By.CSS_SELECTOR, "#ai_schemas-group .ivr-ai-fields")
    textarea = browser.find_element(By.NAME, "ai_schemas-0-schema")
    assert not textarea.is_displayed()  # the raw schema is the advanced view
    names = [
        i.get_attribute("value") for i in editor.find_elements(By.CSS_SELECTOR, ".ivr-ai-name")
    ]
    assert names == ["age", "city", "name"] or sorted(names) == ["age", "city", "name"], names

    _add_ai_field(
        browser, editor, "contact", "Text", "How to reach them", "phone, email", required=True
    )
    screenshot(browser, "menu_admin_ai_fields_table")

    editor.find_element(By.CSS_SELECTOR, ".ivr-ai-show-json").click()
    assert textarea.is_displayed()
    assert textarea.size["width"] > 300, textarea.size  # not squeezed beside the table
    schema = json.loads(textarea.get_attribute("value"))
    assert schema["properties"]["contact"] == {
        "type": "string",
        "description": "How to reach them",
        "enum": ["phone", "email"],
    }
    assert set(schema["required"]) == {"name", "age", "city", "contact"}

    # An edit of the schema itself redraws the table.
    schema["properties"]["visits"] = {"type": "integer", "description": "Visits this year"}
    browser.execute_script(
        "arguments[0].value = arguments[1];"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}))",
        textarea,
        json.dumps(schema),
    )
    names = [
        i.get_attribute("value") for i in editor.find_elements(By.CSS_SELECTOR, ".ivr-ai-name")
    ]
    assert "visits" in names, names
    # A two-word age: the table says what is wrong, next to the row.
    age = next(
        r for r in editor.find_elements(By.CSS_SELECTOR, "tr.ivr-ai-field")
        if r.find_element(By.CSS_SELECTOR, ".ivr-ai-name").get_attribute("value") == "age"
    )  # fmt: skip
    age.find_element(By.CSS_SELECTOR, ".ivr-ai-allowed").send_keys("18, old")
    assert age.find_element(By.CSS_SELECTOR, ".ivr-ai-problem").text == (
        "Allowed values must be whole numbers."
    )
    age.find_element(By.CSS_SELECTOR, ".ivr-ai-allowed").clear()
    age.find_element(By.CSS_SELECTOR, ".ivr-ai-allowed").send_keys(" ")
    assert age.find_element(By.CSS_SELECTOR, ".ivr-ai-problem").text == ""

    # Publish without saving first: the edits are saved, then published.
    browser.find_element(By.CSS_SELECTOR, "button.ivr-publish").click()
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda _: "ul.messagelist" and "published" in browser.page_source.lower(), "the publish"
    )
    saved = AIParameterSchema.objects.get(menu=menu).schema
    assert saved["properties"]["contact"]["enum"] == ["phone", "email"]
    assert saved["properties"]["visits"]["type"] == "integer"
    menu.refresh_from_db()
    live = menu.live_version.definition["ai_schemas"]["caller_details"]["schema"]
    assert "contact" in live["properties"]


def test_a_schema_the_table_cannot_show_is_edited_as_json(browser, live_server, django_user_model):
    from selenium.webdriver.common.by import By

    from telnyx_ivr.models import AIParameterSchema

    django_user_model.objects.create_superuser("staff", "s@example.com", "pw-12345")
    menu = apply_definition(json.loads((EXAMPLES / "ai_intake.json").read_text()))
    schema = AIParameterSchema.objects.get(menu=menu)
    schema.schema["properties"]["postcode"] = {"type": "string", "pattern": "^[0-9]{5}$"}
    schema.save()
    log_in(browser, live_server, "staff", "pw-12345")
    browser.get(f"{live_server.url}/admin/telnyx_ivr/aiparameterschema/{schema.pk}/change/")
    notice = browser.find_element(By.CSS_SELECTOR, ".ivr-ai-fields-notice")
    assert notice.text == "This schema says more than the table can show: edit it as JSON."
    assert not browser.find_element(By.CSS_SELECTOR, ".ivr-ai-fields-table").is_displayed()
    assert browser.find_element(By.NAME, "schema").is_displayed()


SCROLL_TO_TEXT = """
const [box, text] = arguments;
const lines = box.value.split("\\n");
const before = box.value.slice(0, box.value.indexOf(text)).split("\\n").length - 1;
box.scrollTop = (before - 1) * (box.scrollHeight / lines.length);
"""


def test_second_admin_scenario_delete_retarget_publish_unsaved_and_add_an_ai_field(
    browser, live_server, django_user_model
):
    """Issue 12's second browser test, one admin's session: on the classic menu, delete the
    sales step and point its option to the support menu, save; reword the main menu's
    prompt and press Save and publish without saving first; then, on the AI intake menu's
    question, add a field in the table and see it in the JSON Schema box."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from telnyx_ivr.models import AIParameterSchema, Prompt

    from .browser_support import WAIT_SECONDS, screenshot

    menu = _open_example_menu(browser, live_server, django_user_model, "classic_tree")

    # 1. Sales is gone: its step is deleted, and the option that went to it goes to support.
    _delete_sales_pointing_option_1_to(
        browser, menu, "support", "menu_admin_second_scenario_delete_asks"
    )

    # 2. The main menu's words still offer sales: reworded, then published without a save.
    words = "Thank you for calling. Press 1 or 2 for support, or 0 for an operator."
    index = _row_index(browser, "prompts", "main_menu")
    text = browser.find_element(By.NAME, f"prompts-{index}-text")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", text)
    text.clear()
    text.send_keys(words)
    publish = browser.find_element(By.CSS_SELECTOR, "button.ivr-publish")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", publish)
    publish.click()
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda _: f"Published '{menu}' as version 1." in browser.page_source, "the publish"
    )
    screenshot(browser, "menu_admin_second_scenario_published")
    assert Prompt.objects.get(menu=menu, key="main_menu").text == words  # saved first
    menu.refresh_from_db()
    live = menu.live_version.definition
    assert live["prompts"]["main_menu"]["text"] == words
    assert "sales" not in live["nodes"]
    pressed_1_live = {"digits": "1", "node": "support", "target": "node", "when": "digits"}
    assert pressed_1_live in live["nodes"]["main"]["routes"]

    # 3. The AI intake question also asks how many are coming: a field added in the table.
    intake = apply_definition(json.loads((EXAMPLES / "ai_intake.json").read_text()))
    schema = AIParameterSchema.objects.get(menu=intake, key="caller_details")
    browser.get(f"{live_server.url}/admin/telnyx_ivr/aiparameterschema/{schema.pk}/change/")
    editor = browser.find_element(By.CSS_SELECTOR, ".ivr-ai-fields")
    row = _add_ai_field(
        browser,
        editor,
        "party_size",
        "Whole number",
        "How many are coming",
        "1, 2, 3, 4",
        required=False,
    )
    assert row.find_element(By.CSS_SELECTOR, ".ivr-ai-problem").text == ""
    editor.find_element(By.CSS_SELECTOR, ".ivr-ai-show-json").click()
    textarea = browser.find_element(By.NAME, "schema")
    assert textarea.is_displayed()
    shown = json.loads(textarea.get_attribute("value"))
    field = {"type": "integer", "description": "How many are coming", "enum": [1, 2, 3, 4]}
    assert shown["properties"]["party_size"] == field
    assert "party_size" not in shown["required"]
    # The box shows a dozen lines: scrolled to the new field, for the screenshot to show it.
    browser.execute_script(SCROLL_TO_TEXT, textarea, '"party_size"')
    screenshot(browser, "menu_admin_second_scenario_ai_field")
    _save(browser)
    schema.refresh_from_db()
    assert schema.schema["properties"]["party_size"] == field
    assert set(schema.schema["properties"]) == {"name", "age", "city", "party_size"}
    assert set(schema.schema["required"]) == {"name", "age", "city"}
