"""The schedules admin in headless Chromium: an office admin sets up weekday hours and a
holiday by hand, as on a real page (the inline rows are added by Django's own JS), and finds
the schedule in the list. Screenshots in test-artifacts/schedule_admin_*.png."""

import pytest

from telnyx_ivr.models import Schedule

from .browser_support import WAIT_SECONDS, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


def _fill_row(browser, prefix, index, **values):
    """Type ``values`` into row ``prefix-index``; a select is chosen by its visible text."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    for field, value in values.items():
        element = browser.find_element(By.NAME, f"{prefix}-{index}-{field}")
        if element.tag_name == "select":
            Select(element).select_by_visible_text(value)
        else:
            element.clear()
            element.send_keys(value)


def _add_row(browser, prefix):
    """Press the inline's "Add another …" link; return the new row's index."""
    from selenium.webdriver.common.by import By

    link = browser.find_element(By.CSS_SELECTOR, f"#{prefix}-group tr.add-row a")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
    link.click()
    total = browser.find_element(By.NAME, f"{prefix}-TOTAL_FORMS").get_attribute("value")
    return int(total) - 1


def test_an_admin_adds_weekday_hours_and_a_holiday_and_sees_the_list(
    browser, live_server, django_user_model
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    django_user_model.objects.create_superuser("office", "o@example.com", "pw-12345")
    log_in(browser, live_server, "office", "pw-12345")
    browser.get(f"{live_server.url}/admin/telnyx_ivr/schedule/add/")

    browser.find_element(By.NAME, "name").send_keys("Main office")
    assert browser.find_element(By.NAME, "key").get_attribute("value") == "main-office"
    Select(browser.find_element(By.NAME, "time_zone")).select_by_value("America/New_York")
    for number, day in enumerate(WEEKDAYS):
        index = 0 if number == 0 else _add_row(browser, "hours")  # the page has one empty row
        _fill_row(browser, "hours", index, weekday=day, opens="09:00", closes="17:30")
    # Thursday's closing time forgotten, and a second Friday row that overlaps the first:
    # refused, each with its words at its row.
    browser.find_element(By.NAME, "hours-3-closes").clear()
    index = _add_row(browser, "exceptions")
    _fill_row(browser, "exceptions", index, date="2026-12-25", name="Christmas Day")
    index = _add_row(browser, "hours")
    _fill_row(browser, "hours", index, weekday="Friday", opens="16:00", closes="18:00")
    heading = browser.find_element(By.ID, "hours-heading")
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", heading)
    screenshot(browser, "schedule_admin_filled_in")
    browser.find_element(By.NAME, "_save").click()
    error = WebDriverWait(browser, WAIT_SECONDS).until(
        lambda _: browser.find_elements(By.CSS_SELECTOR, "#hours-3 .errorlist"),
        "the refused save's page",
    )[0]
    box = browser.find_element(By.NAME, "hours-3-closes")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    screenshot(browser, "schedule_admin_row_errors")
    assert error.text == "Give the closing time too (00:00 for midnight)."
    assert abs(error.location["x"] - box.location["x"]) < 40, (error.location, box.location)
    assert 0 < box.location["y"] - error.location["y"] < 80, (error.location, box.location)
    row = browser.find_element(By.ID, f"hours-{index}")
    above = row.find_element(By.XPATH, "preceding-sibling::tr[1]")
    assert above.get_attribute("class") == "row-form-errors"
    assert above.text == (
        "Overlaps Friday 09:00 to 17:30 in another row. Make one end before the other "
        "starts, or put them in one row."
    )
    assert not Schedule.objects.exists()

    # The rows' boxes stay in their columns, each wide enough for what is typed in it.
    columns = {
        field: {
            browser.find_element(By.NAME, f"hours-{n}-{field}").location["x"]
            for n in range(index + 1)
        }
        for field in ("weekday", "opens", "closes")
    }
    assert all(len(places) == 1 for places in columns.values()), columns
    for n in range(index + 1):
        for field in ("opens", "closes"):
            assert browser.execute_script(
                "return arguments[0].scrollWidth <= arguments[0].clientWidth",
                browser.find_element(By.NAME, f"hours-{n}-{field}"),
            )

    box.send_keys("17:30")
    # The row was not meant: removed, and the rest saved as typed.
    browser.find_element(By.CSS_SELECTOR, f"#hours-{index} .inline-deletelink").click()
    browser.find_element(By.NAME, "_save").click()
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda _: "was added successfully" in browser.page_source, "the save"
    )
    screenshot(browser, "schedule_admin_list")
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert len(rows) == 1
    cells = {
        name: rows[0].find_element(By.CSS_SELECTOR, f".field-{name}").text
        for name in ("name", "key", "time_zone", "status_now", "menu_count")
    }
    assert cells["name"] == "Main office"
    assert cells["key"] == "main-office"
    assert cells["time_zone"] == "America/New_York"
    assert cells["menu_count"] == "0"
    assert cells["status_now"].split(" (")[0] in ("Open", "Closed", "Holiday: Christmas Day")
    assert cells["status_now"].endswith(" in America/New_York)"), cells["status_now"]

    schedule = Schedule.objects.get(key="main-office")
    assert schedule.data()["weekly"] == {
        day: [["09:00", "17:30"]] for day in ("mon", "tue", "wed", "thu", "fri")
    }
    assert schedule.data()["exceptions"] == [
        {"date": "2026-12-25", "name": "Christmas Day", "hours": []}
    ]

    rows[0].find_element(By.CSS_SELECTOR, ".field-name a").click()
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda _: browser.find_elements(By.CSS_SELECTOR, ".field-used_by"), "the change page"
    )
    used_by = browser.find_element(By.CSS_SELECTOR, ".field-used_by")
    assert "No menu uses it yet" in used_by.text
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", used_by)
    screenshot(browser, "schedule_admin_change")
