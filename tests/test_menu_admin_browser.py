"""The menu admin's own JS in a real browser: each node shows only its kind's fields."""

import json
from pathlib import Path

import pytest

from telnyx_ivr.menus.definition import apply_definition

from .browser_support import log_in

EXAMPLES = Path(__file__).resolve().parent.parent / "telnyx_ivr" / "examples"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_node_fields_follow_the_kind(browser, live_server, django_user_model):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    django_user_model.objects.create_superuser("staff", "s@example.com", "pw-12345")
    menu = apply_definition(json.loads((EXAMPLES / "classic_tree.json").read_text()))
    log_in(browser, live_server, "staff", "pw-12345")
    browser.get(f"{live_server.url}/admin/telnyx_ivr/menu/{menu.pk}/change/")

    def index_of(key):
        for element in browser.find_elements(
            By.CSS_SELECTOR, "input[name^='nodes-'][name$='-key']"
        ):
            if element.get_attribute("value") == key:
                return element.get_attribute("name").split("-")[1]
        raise AssertionError(key)

    def shown(index, field):
        return browser.find_element(
            By.CSS_SELECTOR, f"#nodes-{index} .field-{field}"
        ).is_displayed()

    main, sales, goodbye = index_of("main"), index_of("sales"), index_of("goodbye")
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

    Select(browser.find_element(By.NAME, f"nodes-{goodbye}-kind")).select_by_value("transfer")
    assert (shown(goodbye, "to"), shown(goodbye, "prompt")) == (True, False)
    # On submit the JS empties the hidden prompt, so the server accepts the transfer.
    browser.find_element(By.NAME, f"nodes-{goodbye}-to").send_keys("+15550100009")
    browser.find_element(By.NAME, "_continue").click()
    assert "was changed successfully" in browser.page_source
    node = menu.nodes.get(key="goodbye")
    assert (node.kind, node.to, node.prompt) == ("transfer", "+15550100009", None)
