"""The example project as docker-compose runs it: ``collectstatic``, then gunicorn with DEBUG
off. The admin's CSS and every script of the app must be served (by WhiteNoise, under their
content-hashed names, compressed), and the webhook must take a signed event."""

import gzip
import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from django.urls import reverse

from telnyx_ivr.testing import WebhookSigner, event_body

from .call_fixtures import EXAMPLES
from .stack import PASSWORD, ProductionServer

ROOT = Path(__file__).resolve().parent.parent
APP_STATIC = ROOT / "telnyx_ivr" / "static"


class Assets(HTMLParser):
    """The scripts and stylesheets a page links."""

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("rel") == "stylesheet":
            self.urls.append(attrs["href"])


def linked_assets(html):
    parser = Assets()
    parser.feed(html)
    return parser.urls


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """A var/ folder with the static files collected once for the module, as compose does."""
    var_dir = tmp_path_factory.mktemp("production") / "var"
    ProductionServer(var_dir, None, "").collectstatic()
    return var_dir


@pytest.fixture
def production(collected, tmp_path, transactional_db, django_user_model):
    from telnyx_ivr.menus.io import import_definition

    django_user_model.objects.create_superuser("ops", "ops@example.com", PASSWORD)
    menu = import_definition(
        json.loads((EXAMPLES / "classic_tree.json").read_text()), publish=True
    ).menu
    signer = WebhookSigner()
    server = ProductionServer(collected, tmp_path / "gunicorn.log", signer.public_key)
    server.start()
    server.menu, server.signer = menu, signer
    yield server
    server.stop()


def test_gunicorn_with_debug_off_serves_the_admin_css_and_every_app_script(production):
    session = production.logged_in("ops")
    pages = [
        "/admin/login/",
        reverse("admin:telnyx_ivr_menu_change", args=[production.menu.pk]),
        reverse("admin:telnyx_ivr_menu_test_call", args=[production.menu.pk]),
    ]
    linked = {}
    for page in pages:
        answer = session.get(production.url + page, timeout=10)
        assert answer.status_code == 200, (page, answer.text[:300])
        for url in linked_assets(answer.text):
            linked[urljoin(production.url + page, url)] = page

    manifest = json.loads((production.static_root / "staticfiles.json").read_text())["paths"]
    static = production.url + "/static/"
    by_hashed_name = {hashed: name for name, hashed in manifest.items()}
    linked_files = [url.removeprefix(static) for url in linked if url.startswith(static)]
    # Pages link content-hashed names only, so browsers may cache them for ever.
    assert [name for name in linked_files if name not in by_hashed_name] == []
    linked_names = {by_hashed_name[name] for name in linked_files}
    app_files = sorted(
        str(path.relative_to(APP_STATIC)) for path in APP_STATIC.rglob("*") if path.is_file()
    )
    assert {"admin/css/base.css", "telnyx_ivr/menu_admin.js", "telnyx_ivr/test_call.js"} <= (
        linked_names
    )

    for name in sorted({"admin/css/base.css", *app_files, *linked_names}):
        url = static + manifest[name]
        answer = requests.get(url, headers={"Accept-Encoding": "identity"}, timeout=10)
        assert answer.status_code == 200, (name, answer.status_code)
        assert "immutable" in answer.headers["Cache-Control"], (name, answer.headers)
        if name.endswith(".js"):
            assert "javascript" in answer.headers["Content-Type"]
            if name.startswith("telnyx_ivr/"):
                assert answer.content == (APP_STATIC / name).read_bytes()
        if name.endswith(".css"):
            assert answer.headers["Content-Type"].startswith("text/css")
        if len(answer.content) > 1024:  # WhiteNoise leaves tiny files uncompressed
            compressed = requests.get(
                url, headers={"Accept-Encoding": "gzip"}, stream=True, timeout=10
            )
            assert compressed.headers.get("Content-Encoding") == "gzip", name
            assert gzip.decompress(compressed.raw.read()) == answer.content


def test_gunicorn_with_debug_off_takes_webhooks_and_hides_debug_pages(production):
    body = json.dumps(event_body("call.initiated", {"call_control_id": "v3:prod"})).encode()
    answer = requests.post(
        production.url + reverse("telnyx_ivr:webhook"),
        data=body,
        headers={"Content-Type": "application/json", **production.signer.sign(body)},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "stored"

    missing = requests.get(production.url + "/no-such-page/", timeout=10)
    assert missing.status_code == 404
    assert "URLconf" not in missing.text  # Django's debug 404 page names the URLconf
    assert requests.get(production.url + "/static/no-such-file.js", timeout=10).status_code == 404


def test_what_the_pages_link_besides_static_files_is_served_too(production):
    session = production.logged_in("ops")
    page = reverse("admin:telnyx_ivr_menu_change", args=[production.menu.pk])
    html = session.get(production.url + page, timeout=10).text
    others = [url for url in linked_assets(html) if not url.startswith("/static/")]
    assert others  # the admin's JavaScript catalogue, at least
    assert {url: session.get(production.url + url, timeout=10).status_code for url in others} == {
        url: 200 for url in others
    }
