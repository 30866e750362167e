"""The Dashboard and a menu's Analytics page in headless Chromium, on a week of calls played
through the real stack: charts drawn and tables filled, a filter changing the figures, a bar
and a diagram node opening their calls, and a table downloaded as CSV. Screenshots are kept in
test-artifacts/ (dashboard*.png, menu_analytics*.png)."""

import csv
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from .browser_support import WAIT_SECONDS, log_in, screenshot
from .dashboard_calls import BY_OUTCOME, CLASSIC_CALLS, WEEK, load_menus, play_week

pytest_plugins = ["telnyx_ivr.pytest_plugin"]
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def week(settings, simulate_call, django_user_model):
    settings.TIME_ZONE = "Europe/Berlin"
    menus = load_menus()
    calls = play_week(simulate_call)
    django_user_model.objects.create_superuser("staff", "staff@example.com", "pw-12345")
    return menus, calls


@pytest.fixture
def downloads(tmp_path, browser):
    folder = tmp_path / "downloads"
    folder.mkdir()
    browser.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)}
    )
    return folder


def _fits(browser):
    """No sideways scrolling of the page (a wide diagram scrolls inside its own box)."""
    return browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"
    )


def _query(url):
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_dashboard_charts_tables_filter_and_drill_down(week, browser, live_server, downloads):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    wait = WebDriverWait(browser, WAIT_SECONDS)
    log_in(browser, live_server, "staff", "pw-12345")
    browser.get(f"{live_server.url}/admin/")
    browser.find_element(By.CSS_SELECTOR, "a[href='/admin/telnyx_ivr/dashboard/']").click()
    # The last 7 days: the week's calls are earlier.
    assert browser.find_element(By.ID, "ivr-empty").text.startswith("No calls between")
    screenshot(browser, "dashboard_no_calls")

    # The week has only test calls: the page says so and offers the switch.
    browser.get(
        f"{live_server.url}/admin/telnyx_ivr/dashboard/?since={WEEK['since']}&until={WEEK['until']}"
    )
    empty = browser.find_element(By.ID, "ivr-empty").text
    assert "No calls between 2 and 8 November." in empty
    assert "There are 8 test calls" in empty
    screenshot(browser, "dashboard_only_test_calls")
    browser.find_element(By.ID, "ivr-include-test").click()
    wait.until(lambda _: "include_test=1" in browser.current_url)
    charts = browser.find_elements(By.CSS_SELECTOR, ".ivr-chart svg.ivr-chart-svg")
    assert len(charts) == 3  # calls over time, outcomes, transfers
    bars = browser.find_elements(By.CSS_SELECTOR, "#ivr-calls-over-time svg a rect")
    assert any(float(bar.get_attribute("height") or 0) > 0 for bar in bars)
    rows = browser.find_elements(By.CSS_SELECTOR, "#ivr-table-outcomes tbody tr")
    shown = {row.find_elements(By.TAG_NAME, "td")[0].text: row for row in rows}
    for outcome, count in BY_OUTCOME.items():
        label = outcome.replace("_", " ").capitalize()
        assert shown[label].find_elements(By.TAG_NAME, "td")[1].text == str(count)
    tiles = browser.find_element(By.CLASS_NAME, "ivr-tiles").text
    assert tiles.split("\n")[1::3] == ["8", "25 %", "63 %", "13 %"]  # 2, 5 and 1 of 8
    assert _fits(browser), "the page is wider than a 1,400 px window"
    screenshot(browser, "dashboard")
    browser.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    screenshot(browser, "dashboard_lower")

    # A filter changes the figures: only the classic menu.
    Select(browser.find_element(By.ID, "ivr-f-menu")).select_by_visible_text(
        "Classic tree: sales, support, operator"
    )
    browser.find_element(By.ID, "ivr-filters-apply").click()
    wait.until(lambda _: "menu=classic-tree" in browser.current_url)
    total = browser.find_element(By.CSS_SELECTOR, ".ivr-tile .ivr-tile-value").text
    assert total == str(CLASSIC_CALLS)
    screenshot(browser, "dashboard_classic_menu")

    # The CSV of a table downloads.
    browser.find_element(By.CSS_SELECTOR, "a.ivr-csv[data-table='outcomes']").click()
    wait.until(lambda _: [p for p in downloads.glob("*.csv")], "the CSV to download")
    [path] = downloads.glob("*.csv")
    assert path.name == "outcomes-2026-11-02-to-2026-11-08.csv"
    time.sleep(0.2)  # written in full once renamed from .crdownload
    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    assert rows[0][:2] == ["Outcome", "Calls"]
    assert {row[0]: row[1] for row in rows[1:]}["Transferred"] == "3"  # sales twice, operator

    # A bar leads to its calls: the abandoned calls of the day one gave up.
    bar = browser.find_element(By.CSS_SELECTOR, "#ivr-calls-over-time svg .serie-2 a")
    href = bar.get_attribute("href") or bar.get_attribute("xlink:href")
    assert _query(href)["outcome"] == "abandoned"
    browser.execute_script(
        "arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", bar
    )
    wait.until(lambda _: "/admin/telnyx_ivr/call/" in browser.current_url)
    query = _query(browser.current_url)
    assert query["outcome"] == "abandoned"
    assert query["menu"] == "classic-tree"
    assert query["since"].startswith("2026-11-03T00:00")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")) == 1
    screenshot(browser, "dashboard_bar_calls")


def test_menu_analytics_page_diagram_and_drill_down(week, browser, live_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    menus, _ = week
    wait = WebDriverWait(browser, WAIT_SECONDS)
    log_in(browser, live_server, "staff", "pw-12345")
    menu = menus["classic_tree"]
    browser.get(f"{live_server.url}/admin/telnyx_ivr/menu/{menu.pk}/change/")
    browser.find_element(By.CSS_SELECTOR, "a.ivr-analytics-link").click()
    wait.until(lambda _: "/analytics/" in browser.current_url)
    # The last 7 days: the week's calls are earlier.
    assert "No calls to version 1 of this menu" in browser.find_element(By.ID, "ivr-empty").text

    page = f"{live_server.url}/admin/telnyx_ivr/menu/{menu.pk}/analytics/"
    browser.get(f"{page}?since={WEEK['since']}&until={WEEK['until']}")
    assert "5 test calls" in browser.find_element(By.ID, "ivr-empty").text
    browser.find_element(By.ID, "ivr-include-test").click()
    wait.until(lambda _: browser.find_elements(By.ID, "ivr-diagram"))
    assert "include_test=1" in browser.current_url
    query_text = urlsplit(browser.current_url).query
    diagram = browser.find_element(By.CSS_SELECTOR, "#ivr-diagram svg")
    main = diagram.find_element(By.CSS_SELECTOR, "g.ivr-node[data-key='main']")
    assert "5 visits" in main.text
    support = diagram.find_element(By.CSS_SELECTOR, "g.ivr-node[data-key='support']")
    assert support.get_attribute("data-worst") == "true"
    busiest = diagram.find_elements(By.CSS_SELECTOR, "g.ivr-edge[data-busiest='true']")
    assert [e.get_attribute("data-from") for e in busiest] == ["main"]
    assert busiest[0].get_attribute("data-target") == "sales"
    funnel = browser.find_element(By.ID, "ivr-table-funnel").text
    assert "Main menu (main)" in funnel
    keys = browser.find_element(By.ID, "ivr-table-keys-main").text
    assert "invalid key" in keys
    assert "no input" in keys
    assert browser.find_elements(By.CSS_SELECTOR, "#ivr-funnel svg.ivr-chart-svg a rect")
    assert _fits(browser), "the page is wider than a 1,400 px window"
    screenshot(browser, "menu_analytics")
    browser.execute_script("document.getElementById('ivr-funnel').scrollIntoView()")
    screenshot(browser, "menu_analytics_lower")

    # A node leads to the calls that visited it.
    link = support.find_element(By.TAG_NAME, "a")
    browser.execute_script(
        "arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", link
    )
    wait.until(lambda _: "/admin/telnyx_ivr/call/" in browser.current_url)
    query = _query(browser.current_url)
    assert (query["node"], query["menu"], query["version"]) == ("support", "classic-tree", "1")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")) == 1
    screenshot(browser, "menu_analytics_node_calls")

    ai = week[0]["ai_intake"]
    browser.get(f"{live_server.url}/admin/telnyx_ivr/menu/{ai.pk}/analytics/?{query_text}")
    intake = browser.find_element(By.CSS_SELECTOR, "#ivr-diagram g.ivr-node[data-key='intake']")
    assert "3 visits" in intake.text
    screenshot(browser, "menu_analytics_ai")


def test_a_roll_up_behind_is_said_above_the_figures(week, browser, live_server, monkeypatch):
    from selenium.webdriver.common.by import By

    from telnyx_ivr.analytics import figures
    from telnyx_ivr.models import (
        Call,
        CallRollup,
        Command,
        NodeRollup,
        PipelineRollup,
        WebhookEvent,
    )

    for model in (CallRollup, NodeRollup, PipelineRollup):
        model.objects.all().delete()
    for model in (Call, Command, WebhookEvent):
        model.objects.update(rolled_up=False)
    monkeypatch.setattr(figures, "LIVE_LIMIT", 5)  # the live server runs in this process
    log_in(browser, live_server, "staff", "pw-12345")
    browser.get(
        f"{live_server.url}/admin/telnyx_ivr/dashboard/?since={WEEK['since']}"
        f"&until={WEEK['until']}&include_test=1"
    )
    note = browser.find_element(By.ID, "ivr-behind")
    assert note.is_displayed()
    assert note.text.startswith("Not in these figures yet: 3 calls, ")
    period = browser.find_element(By.ID, "ivr-period")
    assert 0 < note.location["y"] - period.location["y"] < 120  # right under the period
    screenshot(browser, "dashboard_roll_up_behind")
