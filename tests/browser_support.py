"""Headless Chromium for the admin's browser tests: Debian's chromium through chromedriver, with
the flags this machine needs (nothing is downloaded), an admin login that waits until it has
gone through, and screenshots kept in test-artifacts/ to look at."""

import shutil
from pathlib import Path

import pytest

from .services import missing

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
WAIT_SECONDS = 30
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
)


@pytest.fixture
def browser(tmp_path):
    """A fresh headless Chromium, 1,400 px wide (a laptop's window)."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing("selenium is not installed")
    driver_path = shutil.which("chromedriver")
    chromium_path = shutil.which("chromium")
    if driver_path is None or chromium_path is None:
        missing("needs chromium and chromedriver (Debian: apt-get install chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium_path
    for argument in (
        *FLAGS,
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1400,1400",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    yield driver
    driver.quit()


def log_in(browser, live_server, username, password):
    """Log in to the admin and wait for the login to have gone through, so the next page
    loaded is not the login form again."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda _: browser.find_elements(By.ID, "logout-form"), "the login to go through"
    )


def screenshot(browser, name):
    """Save a PNG of the page as test-artifacts/<name>.png and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    browser.save_screenshot(str(path))
    return path


def top_in_window(browser, element):
    """``(top, window height)``: where ``element`` starts in the window, to tell whether a
    jump brought it on screen."""
    return browser.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return [r.top, window.innerHeight]",
        element,
    )
