"""Nothing the dashboards send refers to a host other than the site itself: no CDN, no web font,
no pygal script, in the rendered Dashboard and Analytics pages (with their charts and diagram)
and in every static file of the app."""

import re
from pathlib import Path

import pytest

from .dashboard_calls import WEEK, load_menus, play_week

pytest_plugins = ["telnyx_ivr.pytest_plugin"]

STATIC = Path(__file__).resolve().parent.parent / "telnyx_ivr" / "static"
# XML namespace names: identifiers that look like URLs, never fetched.
NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
ABSOLUTE = re.compile(r"""https?://[^\s"'<>()]+""", re.I)
# src="//host/..." and href="//host/...": the page's scheme, another host.
PROTOCOL_RELATIVE = re.compile(r"""(?:src|href)\s*=\s*["']?\s*//""", re.I)
CSS_IMPORTS = re.compile(r"""(?:@import|url\()\s*["']?\s*(?:https?:)?//""", re.I)


def foreign_references(content, *, site=""):
    """What in ``content`` points at another host (``site``: this site's own origin)."""
    found = [
        url
        for url in ABSOLUTE.findall(content)
        if url not in NAMESPACES and not url.startswith(site or "\0")
    ]
    found += PROTOCOL_RELATIVE.findall(content)
    found += CSS_IMPORTS.findall(content)
    found += re.findall(r"kozea|pygal\.js|pygal-tooltips", content, re.I)
    return found


def test_the_check_finds_what_it_looks_for():
    assert foreign_references('<script src="https://cdn.example.com/x.js"></script>')
    assert foreign_references('<img src="//cdn.example.com/x.png">')
    assert foreign_references("@import url(//fonts.example.com/css);")
    assert foreign_references('<script href="//kozea.github.io/pygal.js/2.0.x/t.js"/>')
    assert not foreign_references('<svg xmlns="http://www.w3.org/2000/svg"><a href="/admin/"/>')


def test_no_static_file_refers_to_another_host():
    files = [path for path in STATIC.rglob("*") if path.is_file()]
    assert any(path.name == "dashboard.css" for path in files)
    for path in files:
        assert foreign_references(path.read_text(encoding="utf-8")) == [], path


@pytest.fixture
def week(settings, simulate_call):
    settings.TIME_ZONE = "Europe/Berlin"
    menus = load_menus()
    play_week(simulate_call)
    return menus


def test_the_dashboard_pages_refer_to_no_other_host(week, admin_client):
    pages = {
        "dashboard": "/admin/telnyx_ivr/dashboard/",
        "classic tree": f"/admin/telnyx_ivr/menu/{week['classic_tree'].pk}/analytics/",
        "AI intake": f"/admin/telnyx_ivr/menu/{week['ai_intake'].pk}/analytics/",
    }
    for name, url in pages.items():
        response = admin_client.get(url, WEEK)
        assert response.status_code == 200
        content = response.content.decode()
        assert "<svg" in content, name  # the charts and diagram are there to be checked
        assert foreign_references(content, site="http://testserver") == [], name
        # No inline script: only the app's static file and the admin's own.
        scripts = re.findall(r"<script\b[^>]*>", content)
        assert all(" src=" in tag for tag in scripts), (name, scripts)
