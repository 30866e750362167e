"""The whole task of issue 12 as an office admin does it in Chromium: add option 3 "opening
hours" (say a message, then hang up) to the classic menu with one save, publish, and place a
test call that presses 3 and hears the message. Screenshots in test-artifacts/."""

import json

import pytest
from django.core.signals import request_started

from telnyx_ivr.menus.io import import_definition
from telnyx_ivr.models import MenuVersion

from .browser_support import WAIT_SECONDS, log_in, screenshot
from .call_fixtures import EXAMPLES
from .test_admin_test_call_browser import telnyx  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.django_db(transaction=True)]
MESSAGE = "We are open from nine to five, Monday to Friday. Goodbye."


@pytest.fixture
def posts():
    """Every POST the live server gets, by path."""
    seen = []

    def record(sender=None, environ=None, **kwargs):
        if environ and environ.get("REQUEST_METHOD") == "POST":
            seen.append(environ.get("PATH_INFO", ""))

    request_started.connect(record, weak=False)
    yield seen
    request_started.disconnect(record)


def test_add_option_3_in_one_save_publish_and_hear_it(
    browser,
    telnyx,  # noqa: F811
    live_server,
    django_user_model,
    posts,
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    menu = import_definition(
        json.loads((EXAMPLES / "classic_tree.json").read_text()), publish=True
    ).menu
    django_user_model.objects.create_superuser("staff", "staff@example.com", "pw-12345")
    wait = WebDriverWait(browser, WAIT_SECONDS)
    log_in(browser, live_server, "staff", "pw-12345")
    posts.clear()  # the login is not a save
    browser.get(f"{live_server.url}/admin/telnyx_ivr/menu/{menu.pk}/change/")

    # "Add an option" on the main menu's node.
    main_box = next(
        box for box in browser.find_elements(By.CSS_SELECTOR, ".field-key_options")
        if "Transfer to sales" in box.text
    )  # fmt: skip
    main_box.find_element(By.CSS_SELECTOR, "a.ivr-add-option").click()
    wait.until(lambda _: browser.find_elements(By.ID, "add_option_form"), "the Add option page")
    browser.find_element(By.NAME, "keys").send_keys("3")
    browser.find_element(By.NAME, "label").send_keys("opening hours")
    browser.find_element(By.CSS_SELECTOR, "input[name='action'][value='say_hangup']").click()
    browser.find_element(By.NAME, "message").send_keys(MESSAGE)
    screenshot(browser, "add_option_form")
    browser.find_element(By.CSS_SELECTOR, "#add_option_form input[type=submit]").click()
    wait.until(lambda _: "Added option 3 (opening hours)" in browser.page_source, "the option")
    assert "press 3 → Opening hours" in browser.find_element(By.TAG_NAME, "body").text
    screenshot(browser, "add_option_added")
    saves = [path for path in posts if "/admin/telnyx_ivr/" in path]
    assert len(saves) == 1, saves  # one save made the route, the node, the prompt and the text

    browser.find_element(By.CSS_SELECTOR, "button.ivr-publish").click()
    wait.until(lambda _: "as version 2" in browser.page_source, "the publish")
    assert MenuVersion.objects.filter(menu=menu).count() == 2

    browser.find_element(By.CSS_SELECTOR, "a.ivr-test-call-link").click()
    browser.find_element(By.ID, "ivr-tc-call").click()

    def transcript():
        return browser.find_element(By.ID, "ivr-tc-transcript").text

    wait.until(lambda _: "Press 3 for opening hours." in transcript(), "the new menu text")
    wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, "[data-key='3']")))
    browser.find_element(By.CSS_SELECTOR, "[data-key='3']").click()
    wait.until(lambda _: MESSAGE in transcript(), "the opening hours message")
    wait.until(
        lambda _: (
            browser.find_element(By.ID, "ivr-tc-state").get_attribute("data-state") == "ended"
        ),
        "the hang-up",
    )
    screenshot(browser, "add_option_test_call")
