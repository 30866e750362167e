"""The read API's OpenAPI schema (drf-spectacular, no warnings) and its documentation page,
whose every file is this site's own (drf-spectacular-sidecar's static files, no CDN)."""

import re
from html.parser import HTMLParser

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import reverse

from .browser_support import WAIT_SECONDS, log_in, screenshot

SCHEMA = reverse("telnyx_ivr:api-schema")
DOCS = reverse("telnyx_ivr:api-docs")
API = reverse("telnyx_ivr:api-calls").removesuffix("calls/")


def test_the_sites_schema_generates_without_warnings(tmp_path):
    """drf-spectacular over the whole example project, as a host would run it."""
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    assert sorted(schema["paths"]) == [f"{API}calls/", f"{API}calls/{{id}}/", f"{API}stats/"]


@pytest.mark.django_db
def test_the_served_schema_describes_the_read_api(admin_client):
    response = admin_client.get(SCHEMA, {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Telnyx IVR read API"
    assert sorted(schema["paths"]) == [f"{API}calls/", f"{API}calls/{{id}}/", f"{API}stats/"]
    listing = schema["paths"][f"{API}calls/"]["get"]
    parameters = {parameter["name"] for parameter in listing["parameters"]}
    assert parameters == {
        "since", "until", "menu", "version", "outcome", "from_number", "to_number",
        "include_test", "cursor", "page_size", "format",
    }  # fmt: skip
    assert set(listing["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    stats = schema["paths"][f"{API}stats/"]["get"]
    assert {parameter["name"] for parameter in stats["parameters"]} >= {"bucket", "version"}
    call = schema["components"]["schemas"]["Call"]["properties"]
    assert {"menu", "menu_version", "ended_at_node", "duration_seconds", "outcome"} <= set(call)
    detail = schema["components"]["schemas"]["CallDetail"]["properties"]
    assert {"steps", "commands", "events", "legs"} <= set(detail)
    command = schema["components"]["schemas"]["Command"]["properties"]
    assert "params" not in command
    assert "body" in command
    stats_shape = schema["components"]["schemas"]["Stats"]["properties"]
    assert {"calls", "rates", "series", "nodes", "latency_ms", "pipeline"} <= set(stats_shape)


class References(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls, self.inline_scripts = [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.urls += [attrs[name] for name in ("src", "href") if attrs.get(name)]
        if tag == "script" and not attrs.get("src"):
            self.inline_scripts += 1


@pytest.mark.django_db
def test_the_docs_page_uses_only_this_sites_files(admin_client, settings):
    response = admin_client.get(DOCS)
    assert response.status_code == 200
    page = References()
    page.feed(response.content.decode())
    assert page.inline_scripts == 0  # a strict Content-Security-Policy allows the page
    assert len(page.urls) == 5  # favicon, stylesheet, two scripts, the start-up script
    static = settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/static/"
    for url in page.urls:
        assert url.startswith((static, f"{DOCS}?")), url
        if url.startswith(static):
            assert finders.find(url.removeprefix(static)), f"{url} is not a static file here"

    script = admin_client.get(DOCS, {"script": ""})
    assert script.status_code == 200
    assert script["Content-Type"] == "application/javascript"
    text = script.content.decode()
    assert f'url: "{SCHEMA}"' in text
    assert '"validatorUrl": null' in text  # no badge fetched from validator.swagger.io
    assert not re.search(r"https?://", text)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_docs_page_loads_nothing_from_elsewhere(browser, live_server, django_user_model):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    django_user_model.objects.create_superuser("staff", "s@example.com", "pw-12345")
    log_in(browser, live_server, "staff", "pw-12345")
    browser.get(live_server.url + DOCS)
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda _: browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path"),
        "Swagger UI to list the operations",
    )
    paths = {e.text for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    assert paths == {f"{API}calls/", f"{API}calls/{{id}}/", f"{API}stats/"}
    screenshot(browser, "api-docs")
    loaded = browser.execute_script(
        "return performance.getEntriesByType('resource').map(entry => entry.name)"
    )
    assert any(url.endswith("swagger-ui-bundle.js") for url in loaded)
    assert any(SCHEMA in url for url in loaded)
    assert all(url.startswith(live_server.url + "/") for url in loaded), loaded
