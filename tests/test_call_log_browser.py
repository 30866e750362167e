"""The call log in headless Chromium, as an office admin sees it: a transferred call's page and
the call list a figure's link opens. Screenshots: test-artifacts/call_log_*.png."""

import json
import re

import pytest

from telnyx_ivr import examples
from telnyx_ivr.admin.links import call_list_url
from telnyx_ivr.analytics.filters import parse_filters
from telnyx_ivr.menus.io import import_definition
from telnyx_ivr.models import Call
from telnyx_ivr.simulator import HangUp, Press, Silence

from .browser_support import log_in, screenshot

pytest_plugins = ["telnyx_ivr.pytest_plugin"]
pytestmark = [pytest.mark.browser]

CLASSIC = "+15550000100"
# What a screen must never show an office admin.
UNREADABLE = re.compile(r"\bNone\b|\bnull\b|\bTrue\b|\bFalse\b|\d{4}-\d\d-\d\dT|\+00:00|\.\d{6}")


def visible_text(browser):
    """The page's text as shown, with collapsed sections opened (they are read too)."""
    from selenium.webdriver.common.by import By

    for details in browser.find_elements(By.CSS_SELECTOR, "details:not([open])"):
        browser.execute_script("arguments[0].open = true", details)
    return browser.find_element(By.TAG_NAME, "body").text


@pytest.fixture
def played(transactional_db, simulate_call, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    import_definition(json.loads(examples.read("classic_tree")), publish=True)
    calls = {}
    for name, script in [
        ("transferred", [Press("1")]),
        ("completed", [Silence(), Silence(), Silence()]),
        ("abandoned", [Press("2"), HangUp()]),
    ]:
        simulated = simulate_call(to=CLASSIC, script=script)
        calls[name] = Call.objects.get(call_control_id=simulated.call_control_id)
    return calls


def test_a_transferred_call_and_the_calls_behind_a_figure(
    browser, live_server, played, django_user_model
):
    from selenium.webdriver.common.by import By

    django_user_model.objects.create_superuser("office", "office@example.com", "pw-12345")
    log_in(browser, live_server, "office", "pw-12345")
    call = played["transferred"]
    [leg] = call.legs.all()

    browser.get(f"{live_server.url}/admin/telnyx_ivr/call/{call.pk}/change/")
    screenshot(browser, "call_log_transferred_call")
    shown = visible_text(browser)
    section = browser.find_element(By.CSS_SELECTOR, "table.telnyx-ivr-steps")
    browser.execute_script("arguments[0].scrollIntoView()", section)
    screenshot(browser, "call_log_transferred_call_lower")
    assert "Transferred" in shown
    assert "+15550100001" in shown
    assert "Ended by:\nthe transfer: the call went on with +15550100001" in shown
    assert re.search(r"Started:\n\w{3}\.? \d+, 2026, \d+:\d\d:\d\d [ap]\.m\.", shown), shown
    assert not UNREADABLE.findall(shown.split("Events and commands")[0]), UNREADABLE.findall(shown)
    legs = browser.find_element(By.CSS_SELECTOR, "table.telnyx-ivr-legs")
    legs.find_element(By.LINK_TEXT, leg.to_number).click()
    assert browser.current_url.endswith(f"/call/{leg.pk}/change/")
    assert "Part of call" in browser.find_element(By.TAG_NAME, "body").text

    filters = parse_filters({"since": "2000-01-01", "until": "2100-01-01", "include_test": "1"})
    browser.get(f"{live_server.url}{call_list_url(filters, outcome='transferred')}")
    browser.set_window_size(1400, 900)
    screenshot(browser, "call_log_transferred_calls")
    shown = visible_text(browser)
    assert "Transferred calls" in shown
    assert not UNREADABLE.findall(shown), UNREADABLE.findall(shown)
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert len(rows) == 1
    row = rows[0].text
    assert "Transferred" in row
    assert "+15550100001" in row
    link = browser.find_element(By.CSS_SELECTOR, "a.telnyx-ivr-csv")
    assert link.text.lower() == "download these calls as csv"
    # The row's outcome is in view, not scrolled off to the right.
    outcome = rows[0].find_element(By.CSS_SELECTOR, ".field-outcome_shown")
    box = browser.execute_script("return arguments[0].getBoundingClientRect().right", outcome)
    width = browser.execute_script("return document.documentElement.clientWidth")
    assert box <= width

    browser.get(f"{live_server.url}/admin/telnyx_ivr/call/?since=tomorrow")
    screenshot(browser, "call_log_bad_filter")
    assert "since: 'tomorrow' is not a date" in visible_text(browser)
