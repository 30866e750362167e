"""A route's conditions in a real browser (conditions.js): lines of words that write the JSON
box, the box as the advanced view that redraws the lines, and a condition set that way taking
a test call from the admin to the London office."""

import json

import pytest

from telnyx_ivr.models import Route

from .browser_support import WAIT_SECONDS, screenshot
from .office_hours import open_around_the_clock
from .test_admin_test_call_browser import telnyx  # noqa: F401  (fixture: simulator and worker)
from .test_menu_admin_browser import _open_example_menu, _save

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONDON = "+442079460000"


def _conditions_of(browser, route):
    """The conditions box of ``route``'s row on the open menu page, and the editor beside it."""
    from selenium.webdriver.common.by import By

    row_id = next(
        box.get_attribute("name").rsplit("-", 1)[0]
        for box in browser.find_elements(By.CSS_SELECTOR, "input[name^='routes-'][name$='-id']")
        if box.get_attribute("value") == str(route.pk)
    )
    textarea = browser.find_element(By.NAME, f"{row_id}-conditions")
    editor = browser.find_element(By.CSS_SELECTOR, f"#{row_id} .ivr-conditions")
    # At the right of the routes' box, which scrolls sideways: the row's outcome shows too.
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', inline: 'end'})", editor)
    return textarea, editor


def _lines(editor):
    """Each line of the editor as the admin reads it: (what it checks, test, value, unit)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    read = []
    for line in editor.find_elements(By.CSS_SELECTOR, ".ivr-condition"):
        value = line.find_element(By.CSS_SELECTOR, ".ivr-condition-value")
        if not value.is_displayed():
            yes_no = line.find_element(By.CSS_SELECTOR, ".ivr-condition-yes-no")
            value = Select(yes_no).first_selected_option
        read.append(
            (
                Select(
                    line.find_element(By.CSS_SELECTOR, ".ivr-condition-what")
                ).first_selected_option.text,
                Select(
                    line.find_element(By.CSS_SELECTOR, ".ivr-condition-test")
                ).first_selected_option.text,
                value.get_attribute("value") if value.tag_name == "input" else value.text,
                line.find_element(By.CSS_SELECTOR, ".ivr-condition-unit").text,
            )
        )
    return read


def _type_json(textarea, text):
    """Type ``text`` into the (shown) conditions box, as an admin would."""
    from selenium.webdriver.common.keys import Keys

    textarea.send_keys(Keys.CONTROL, "a")
    textarea.send_keys(Keys.DELETE)
    textarea.send_keys(text)


def _operator_route(menu):
    return Route.objects.get(menu=menu, node__key="which_operator", when="match")


def _also_from_ireland(browser, editor):
    """Make the first line of the check read 'caller's number starts with +44, +353'."""
    from selenium.webdriver.common.by import By

    value = editor.find_element(By.CSS_SELECTOR, ".ivr-condition-value")
    value.clear()
    value.send_keys("+44, +353")


def test_conditions_are_lines_of_words_that_write_the_json(browser, live_server, django_user_model):
    """A route's conditions could only be typed as raw JSON."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    menu = _open_example_menu(browser, live_server, django_user_model, "classic_tree")
    route = _operator_route(menu)
    textarea, editor = _conditions_of(browser, route)
    assert not textarea.is_displayed()  # the JSON is the advanced view
    assert _lines(editor) == [("caller's number", "starts with", "+44", "")]
    # Routes that take no conditions show no editor.
    default = Route.objects.get(menu=menu, node__key="main", when="default")
    assert not _conditions_of(browser, default)[1].is_displayed()

    _also_from_ireland(browser, editor)
    editor.find_element(By.CSS_SELECTOR, ".ivr-condition-add").click()
    added = editor.find_elements(By.CSS_SELECTOR, ".ivr-condition")[-1]
    Select(added.find_element(By.CSS_SELECTOR, ".ivr-condition-what")).select_by_visible_text(
        "called before"
    )
    added.find_element(By.CSS_SELECTOR, ".ivr-condition-value").send_keys("30")
    assert _lines(editor) == [
        ("caller's number", "starts with", "+44, +353", ""),
        ("called before", "in the last", "30", "days"),
    ]
    editor.find_element(By.CSS_SELECTOR, ".ivr-conditions-show-json").click()
    assert textarea.is_displayed()
    expected = [
        {"field": "caller_number", "op": "starts_with", "value": ["+44", "+353"]},
        {"op": "called_within_days", "value": 30},
    ]
    assert json.loads(textarea.get_attribute("value")) == expected
    screenshot(browser, "conditions_editor_lines")

    _save(browser)
    route.refresh_from_db()
    assert route.conditions == expected
    textarea, editor = _conditions_of(browser, route)
    assert _lines(editor)[1] == ("called before", "in the last", "30", "days")

    # The JSON typed by hand redraws the lines; keys pressed stay text.
    editor.find_element(By.CSS_SELECTOR, ".ivr-conditions-show-json").click()
    _type_json(
        textarea,
        '[{"field": "main_choice", "op": "one_of", "value": ["0", "8"]}, '
        '{"field": "caller_number", "op": "is_set", "value": false}]',
    )
    assert _lines(editor) == [
        ("main_choice", "is one of", "0, 8", ""),
        ("caller's number", "is set", "no", ""),
    ]
    value = editor.find_element(By.CSS_SELECTOR, ".ivr-condition-value")
    value.send_keys(", 7")
    assert json.loads(textarea.get_attribute("value"))[0]["value"] == ["0", "8", "7"]
    screenshot(browser, "conditions_editor_typed_json")

    # JSON the lines cannot show stays JSON, with a note; showable again, the lines return.
    notice = editor.find_element(By.CSS_SELECTOR, ".ivr-conditions-notice")
    _type_json(textarea, '[{"field": "main_choice", "op": ')
    assert notice.text == "This is not valid JSON (yet): the lines show it once it is."
    _type_json(textarea, '[{"field": "main_choice", "op": "equals", "value": {"a": 1}}]')
    assert notice.text == "These conditions say more than the lines can show: edit them as JSON."
    assert not editor.find_element(By.CSS_SELECTOR, ".ivr-conditions-list").is_displayed()
    # The box is the only way to edit them now: it cannot be hidden.
    assert not editor.find_element(By.CSS_SELECTOR, ".ivr-conditions-show-json").is_displayed()
    screenshot(browser, "conditions_editor_json_only")
    _type_json(textarea, '[{"field": "details.age", "op": "at_least", "value": 18}]')
    assert not notice.is_displayed()
    line = editor.find_element(By.CSS_SELECTOR, ".ivr-condition")
    assert _lines(editor) == [("another field…", "is at least", "18", "")]
    assert line.find_element(By.CSS_SELECTOR, ".ivr-condition-path").get_attribute("value") == (
        "details.age"
    )


def test_a_new_route_gets_the_editor_and_the_tests_follow_the_outcome(
    browser, live_server, django_user_model
):
    """Rows added with 'Add another Route' are Django's copies of a hidden form."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _open_example_menu(browser, live_server, django_user_model, "classic_tree")
    link = browser.find_element(By.CSS_SELECTOR, "#routes-group .add-row a")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
    link.click()
    row = browser.find_elements(By.CSS_SELECTOR, "#routes-group tr.form-row.dynamic-routes")[-1]
    editor = row.find_element(By.CSS_SELECTOR, ".ivr-conditions")
    assert not editor.is_displayed()  # no outcome chosen yet
    Select(row.find_element(By.CSS_SELECTOR, "select[name$='-when']")).select_by_value("match")
    assert editor.is_displayed()
    editor.find_element(By.CSS_SELECTOR, ".ivr-condition-add").click()
    line = editor.find_element(By.CSS_SELECTOR, ".ivr-condition")
    Select(line.find_element(By.CSS_SELECTOR, ".ivr-condition-test")).select_by_visible_text(
        "is set"
    )
    textarea = row.find_element(By.CSS_SELECTOR, "textarea[name$='-conditions']")
    assert json.loads(textarea.get_attribute("value")) == [
        {"field": "caller_number", "op": "is_set", "value": True}
    ]
    what = Select(line.find_element(By.CSS_SELECTOR, ".ivr-condition-what"))
    words = [option.text for option in what.options]
    assert words[:4] == ["caller's number", "number dialled", "main_choice", "support_choice"]
    assert words[-2:] == ["called before", "another field…"]
    # An AI answer's route reads its question's fields: an earlier call is not one of them.
    what.select_by_visible_text("called before")
    Select(row.find_element(By.CSS_SELECTOR, "select[name$='-when']")).select_by_value("valid")
    assert _lines(editor) == [("another field…", "is", "", "")]
    assert line.find_element(By.CSS_SELECTOR, ".ivr-condition-path").get_attribute("value") == ""
    assert line.find_element(By.CSS_SELECTOR, ".ivr-condition-problem").text == (
        "Name the field, e.g. details.age."
    )
    line.find_element(By.CSS_SELECTOR, ".ivr-condition-remove").click()
    assert textarea.get_attribute("value") == ""  # no conditions


def test_an_ai_answers_conditions_read_the_fields_of_its_question(
    browser, live_server, django_user_model
):
    """On a 'valid' route the fields are those of the AI question's schema, not variables."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    menu = _open_example_menu(browser, live_server, django_user_model, "ai_intake")
    route = Route.objects.get(menu=menu, node__key="intake", when="valid", conditions__isnull=False)
    textarea, editor = _conditions_of(browser, route)
    assert _lines(editor) == [("city", "is one of", "Chicago, New York", "")]
    what = Select(editor.find_element(By.CSS_SELECTOR, ".ivr-condition-what"))
    assert [o.text for o in what.options] == ["age", "city", "name", "another field…"]
    # A number field's values are written as numbers.
    what.select_by_visible_text("age")
    value = editor.find_element(By.CSS_SELECTOR, ".ivr-condition-value")
    value.clear()
    value.send_keys("18, 21")
    assert json.loads(textarea.get_attribute("value")) == [
        {"field": "age", "op": "one_of", "value": [18, 21]}
    ]
    Select(editor.find_element(By.CSS_SELECTOR, ".ivr-condition-test")).select_by_visible_text(
        "is at least"
    )
    problem = editor.find_element(By.CSS_SELECTOR, ".ivr-condition-problem")
    assert problem.text == "Give a number."
    screenshot(browser, "conditions_editor_ai_answer")
    value.clear()
    value.send_keys("18")
    assert problem.text == ""
    _save(browser)
    route.refresh_from_db()
    assert route.conditions == [{"field": "age", "op": "at_least", "value": 18}]


@pytest.mark.redis
@pytest.mark.usefixtures("telnyx")
def test_a_condition_set_in_the_editor_takes_a_test_call_to_london(
    browser, live_server, django_user_model
):
    """The whole path: the check's condition is edited and published from the menu page, and
    the Test call page, calling from a +44 number and pressing 0, reaches the London office."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, WAIT_SECONDS)
    menu = _open_example_menu(browser, live_server, django_user_model, "classic_tree")
    open_around_the_clock()  # option 0 passes the office-hours check first
    _, editor = _conditions_of(browser, _operator_route(menu))
    _also_from_ireland(browser, editor)
    active = browser.find_element(By.ID, "id_is_active")
    if not active.is_selected():
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", active)
        active.click()
    browser.find_element(By.CSS_SELECTOR, "button.ivr-publish").click()
    wait.until(lambda _: f"Published '{menu}' as version 1." in browser.page_source, "publish")
    menu.refresh_from_db()
    (check, _) = menu.live_version.definition["nodes"]["which_operator"]["routes"]
    assert check["conditions"] == [
        {"field": "caller_number", "op": "starts_with", "value": ["+44", "+353"]}
    ]

    browser.find_element(By.CSS_SELECTOR, "a.ivr-test-call-link").click()

    def element(element_id):
        return browser.find_element(By.ID, element_id)

    def call_from(number):
        caller = browser.find_element(By.CSS_SELECTOR, "#ivr-tc-start input[name='from']")
        caller.clear()
        caller.send_keys(number)
        element("ivr-tc-call").click()
        wait.until(lambda _: "waits for keys" in element("ivr-tc-state").text, "the menu")
        key = (By.CSS_SELECTOR, "[data-key='0']")
        wait.until(ready.element_to_be_clickable(key))
        browser.find_element(*key).click()
        wait.until(lambda _: element("ivr-tc-state").get_attribute("data-state") == "ended")
        return element("ivr-tc-state").text

    for number, shot in (("+447700900123", "london"), ("+353861234567", "dublin")):
        ended = call_from(number)
        assert f"after a transfer to {LONDON}" in ended, (number, ended)
        assert f"transferred to {LONDON}" in element("ivr-tc-transcript").text
        screenshot(browser, f"conditions_test_call_{shot}")
    # The check was the editor's doing: another caller goes to the main office.
    assert LONDON not in call_from("+15550009999")
