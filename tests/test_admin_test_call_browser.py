"""The Test call page in headless Chromium through a whole call: the live server answers the
simulator's webhooks, a real Celery worker sends the menu's commands back to it, and the page
plays the caller. Keeps a screenshot in test-artifacts/test_call.png."""

import json
import time
from pathlib import Path

import pytest

from telnyx_ivr.menus.io import import_definition
from telnyx_ivr.models import Call
from telnyx_ivr.simulator import TelnyxSimulator

from .browser_support import ARTIFACTS, WAIT_SECONDS, log_in

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "telnyx_ivr" / "examples"

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def telnyx(live_server, ivr_settings_for, start_worker):
    """A simulator wired to the live server, and a worker configured like the web side."""
    with TelnyxSimulator(webhook_url=f"{live_server.url}/telnyx/webhook/") as simulator:
        ivr_settings_for(
            API_BASE_URL=simulator.api_base_url,
            API_KEY=simulator.api_key,
            PUBLIC_KEYS=[simulator.public_key],
        )
        start_worker(
            env={
                "TELNYX_API_BASE_URL": simulator.api_base_url,
                "TELNYX_API_KEY": simulator.api_key,
                "TELNYX_PUBLIC_KEY": simulator.public_key,
            }
        )
        yield simulator


def test_a_whole_call_from_the_test_call_page(
    browser, telnyx, live_server, django_user_model, capsys, record_property
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    document = json.loads((EXAMPLES / "classic_tree.json").read_text())
    menu = import_definition(document, publish=True).menu
    django_user_model.objects.create_superuser("staff", "staff@example.com", "pw-12345")
    wait = WebDriverWait(browser, WAIT_SECONDS)

    def transcript():
        return browser.find_element(By.ID, "ivr-tc-transcript").text

    def heard(text):
        wait.until(lambda _: text in transcript(), f"the page to show {text!r}")

    def press(key):
        wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, f"[data-key='{key}']")))
        browser.find_element(By.CSS_SELECTOR, f"[data-key='{key}']").click()
        heard(f"pressed {key}")

    log_in(browser, live_server, "staff", "pw-12345")
    browser.get(f"{live_server.url}/admin/telnyx_ivr/menu/{menu.pk}/change/")
    browser.find_element(By.CSS_SELECTOR, "a.ivr-test-call-link").click()
    assert "It is the default menu" in browser.find_element(By.ID, "ivr-tc-which").text
    assert not browser.find_elements(By.ID, "ivr-tc-simulator-problem")

    def screenshot():
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / "test_call.png"
        browser.save_screenshot(str(path))
        record_property("screenshot", str(path))
        with capsys.disabled():
            print(f"\nTest call page screenshot: {path}")
        return path

    taken = None
    try:
        browser.find_element(By.ID, "ivr-tc-call").click()
        heard("Thank you for calling. Press 1 for sales, 2 for support")
        wait.until(lambda _: "waits for keys" in browser.find_element(By.ID, "ivr-tc-state").text)
        # Hang up is there from the start; AI controls are not, for a DTMF menu.
        assert browser.find_element(By.ID, "ivr-tc-hangup").is_enabled()
        assert not browser.find_element(By.ID, "ivr-tc-end-conversation").is_displayed()
        assert not browser.find_element(By.ID, "ivr-tc-ai").is_displayed()
        press("2")
        heard("Support. Press 1 for billing or 2 for technical support.")
        press("1")
        heard("transferred to sip:billing@example.com")
        wait.until(
            lambda _: (
                browser.find_element(By.ID, "ivr-tc-state").get_attribute("data-state") == "ended"
            )
        )
        state = browser.find_element(By.ID, "ivr-tc-state").text
        assert state.startswith("Call ended:")
        assert "after a transfer to sip:billing@example.com" in state
        taken = screenshot()  # the page as users see it: prompts, keys and the ending
        text = transcript()
        order = ["Thank you for calling", "pressed 2", "Support.", "pressed 1", "transferred to"]
        assert [text.index(part) for part in order] == sorted(text.index(p) for p in order)
        for key in "0123456789*#":
            assert not browser.find_element(By.CSS_SELECTOR, f"[data-key='{key}']").is_enabled()
        assert not browser.find_element(By.ID, "ivr-tc-hangup").is_enabled()
        # The call the page played is in the call log, ended by the transfer.
        (simulated,) = telnyx.calls
        call = Call.objects.get(call_control_id=simulated.call_control_id)
        assert call.menu_id == menu.pk
        link = browser.find_element(By.ID, "ivr-tc-call-log").get_attribute("href")
        quoted = simulated.call_control_id.replace(":", "%3A")
        assert link.endswith(f"/admin/telnyx_ivr/call/?q={quoted}")
        browser.find_element(By.ID, "ivr-tc-details").click()
        assert "gather_using_speak -> 200" in transcript()
    finally:
        if taken is None:  # failed on the way: keep the page as it was then
            screenshot()


def test_an_ai_gather_answered_from_the_page(browser, telnyx, live_server, django_user_model):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    document = json.loads((EXAMPLES / "ai_intake.json").read_text())
    menu = import_definition(document, publish=True).menu
    django_user_model.objects.create_superuser("staff", "staff@example.com", "pw-12345")
    wait = WebDriverWait(browser, WAIT_SECONDS)
    browser.get(f"{live_server.url}/admin/login/?next=/admin/telnyx_ivr/menu/{menu.pk}/test-call/")
    browser.find_element(By.NAME, "username").send_keys("staff")
    browser.find_element(By.NAME, "password").send_keys("pw-12345")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()

    def element(element_id):
        return browser.find_element(By.ID, element_id)

    assert "claims +15550100200" in element("ivr-tc-which").text
    element("ivr-tc-call").click()
    wait.until(lambda _: "AI gather waits" in element("ivr-tc-state").text)
    # An AI gather's turn: its result form instead of the keypad.
    assert element("ivr-tc-ai").is_displayed()
    assert not element("ivr-tc-keypad").is_displayed()
    result = browser.find_element(By.CSS_SELECTOR, "#ivr-tc-ai textarea")
    assert json.loads(result.get_attribute("value")) == {
        "age": 1,
        "city": "example",
        "name": "example",
    }
    result.clear()
    result.send_keys('{"name": "Ada", "age": 36')
    browser.find_element(By.CSS_SELECTOR, "#ivr-tc-ai button[type=submit]").click()
    wait.until(lambda _: element("ivr-tc-error").is_displayed())
    assert element("ivr-tc-error").text.startswith("ai_result: not valid JSON")
    # The refusal stays on screen through the polls that follow (every 500 ms).
    time.sleep(1.5)
    assert element("ivr-tc-error").is_displayed()
    assert "AI gather waits" in element("ivr-tc-state").text
    result.clear()
    result.send_keys('{"name": "Ada", "age": 36, "city": "Chicago"}')
    browser.find_element(By.CSS_SELECTOR, "#ivr-tc-ai button[type=submit]").click()
    wait.until(lambda _: element("ivr-tc-state").get_attribute("data-state") == "ended")
    text = element("ivr-tc-transcript").text
    assert 'AI result valid: {"age": 36, "city": "Chicago", "name": "Ada"}' in text
    assert "Connecting you to our Chicago office." in text
    assert "after a transfer to +15550100201" in element("ivr-tc-state").text
    assert not element("ivr-tc-error").is_displayed()
