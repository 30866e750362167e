"""The Dashboard and a menu's Analytics page, server side, on a week of calls played through the
real stack (tests/dashboard_calls.py): the tables are the figures, every figure links to its
calls, filters change them and bad ones are named at their field, each table downloads as CSV,
empty and test-only periods say so, and only staff with the right permission get in."""

import csv
import html
import io
import re
from datetime import datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from telnyx_ivr.admin.links import call_list_url
from telnyx_ivr.analytics import figures
from telnyx_ivr.analytics.filters import parse_filters
from telnyx_ivr.models import Menu

from .dashboard_calls import AI, BERLIN, BY_OUTCOME, CLASSIC, WEEK, load_menus, play_week

pytest_plugins = ["telnyx_ivr.pytest_plugin"]

DASHBOARD = "/admin/telnyx_ivr/dashboard/"
LABELS = {
    "completed": "Completed",
    "transferred": "Transferred",
    "abandoned": "Abandoned",
    "failed": "Failed",
    "in_progress": "In progress",
}


@pytest.fixture
def berlin(settings):
    settings.TIME_ZONE = "Europe/Berlin"


@pytest.fixture
def week(berlin, simulate_call):
    menus = load_menus()
    return menus, play_week(simulate_call)


def page(client, url, params=None, status=200):
    response = client.get(url, params or {})
    assert response.status_code == status, response.content[:2000]
    return response.content.decode()


def text(fragment):
    """As it reads on screen: tags gone, spaces collapsed, none before punctuation."""
    words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())
    return re.sub(r" ([:.,;)])", r"\1", words)


def table(content, name):
    """``[[(text, href or None), ...], ...]``: the body rows of the page's table ``name``."""
    match = re.search(rf'<table class="ivr-table" id="ivr-table-{name}".*?</table>', content, re.S)
    assert match, f"no table {name}"
    body = match[0].split("<tbody>", 1)[1]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        if 'class="ivr-none"' in row:  # "None in this period."
            continue
        cells = []
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S):
            link = re.search(r'href="([^"]*)"', cell)
            cells.append((text(cell), html.unescape(link[1]) if link else None))
        rows.append(cells)
    return rows


def by_first_column(rows):
    return {row[0][0]: row for row in rows}


def csv_rows(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode("utf-8")
    return response, list(csv.reader(io.StringIO(body)))


def week_filters(**params):
    return parse_filters({**WEEK, **params}, tz=BERLIN)


# --- the dashboard --------------------------------------------------------------------------


def test_the_dashboard_is_in_the_apps_section_of_the_admin(admin_client, berlin):
    index = page(admin_client, "/admin/")
    app = re.search(r'<div class="app-telnyx_ivr module.*?</div>', index, re.S)[0]
    assert f'<a href="{DASHBOARD}"' in app
    assert ">Dashboard<" in app
    content = page(admin_client, DASHBOARD)
    assert "<title>Dashboard |" in content
    # The proxy's rows are the call log's: it has no add, change or delete pages of its own.
    assert admin_client.get(f"{DASHBOARD}add/").status_code == 404


def test_the_tables_are_the_figures_and_link_to_their_calls(week, admin_client):
    content = page(admin_client, DASHBOARD, WEEK)
    filters = week_filters()
    expected = figures.dashboard(filters)
    assert expected["calls"]["by_outcome"] == BY_OUTCOME

    outcomes_table = by_first_column(table(content, "outcomes"))
    for outcome, count in BY_OUTCOME.items():
        number, link = outcomes_table[LABELS[outcome]][1]
        assert number == str(count)
        assert link == (call_list_url(filters, outcome=outcome) if count else None)
    assert outcomes_table["Completed"][2][0] == "25 %"  # 2 of 8 ended calls
    assert outcomes_table["Transferred"][2][0] == "63 %"  # 5 of 8, rounded half up
    assert outcomes_table["In progress"][2][0] == "—"
    assert outcomes_table["All calls"][1] == ("8", call_list_url(filters))

    days = table(content, "calls-over-time")
    assert [row[0][0] for row in days] == [
        "Mon 2 Nov",
        "Tue 3 Nov",
        "Wed 4 Nov",
        "Thu 5 Nov",
        "Fri 6 Nov",
        "Sat 7 Nov",
        "Sun 8 Nov",
    ]
    assert [row[-1][0] for row in days] == [str(r["total"]) for r in expected["series"]]
    assert [row[-1][0] for row in days] == ["2", "2", "2", "2", "0", "0", "0"]
    tuesday = filters.with_changes(
        since=datetime(2026, 11, 3, tzinfo=BERLIN), until=datetime(2026, 11, 4, tzinfo=BERLIN)
    )
    assert days[1][3] == ("1", call_list_url(tuesday, outcome="abandoned"))
    # The chart's bars link to the same calls as the table's cells.
    chart = re.search(r'id="ivr-calls-over-time".*?</svg>', content, re.S)[0]
    bar_links = {html.unescape(href) for href in re.findall(r'xlink:href="([^"]*)"', chart)}
    assert call_list_url(tuesday, outcome="abandoned") in bar_links
    assert "<script" not in chart

    transfers = table(content, "transfers")
    assert [(row[0][0], row[1]) for row in transfers] == [
        (t["to"], (str(t["calls"]), call_list_url(filters, transferred_to=t["to"])))
        for t in expected["transfers"]
    ]

    [intake] = table(content, "ai-gathers")
    ai_menu = Menu.objects.get(slug="ai-intake")
    scoped = filters.with_changes(menu=ai_menu)
    assert intake[0][0] == str(ai_menu)
    assert intake[2] == ("3", call_list_url(scoped, node="intake"))  # chicago, bo, boston
    assert intake[3] == ("2", call_list_url(scoped, node="intake", exit="valid"))
    assert intake[4] == ("1", call_list_url(scoped, node="intake", exit="invalid"))
    assert intake[5][0] == "67 %"
    assert intake[7][0] == "age: 2; city: 2; name: 3"

    times = by_first_column(table(content, "time-in-menu"))
    assert set(times) == {"p50", "p90", "p95"}
    assert all(re.fullmatch(r"\d+ s|\d+ min \d\d s", row[2][0]) for row in times.values())

    pipeline = by_first_column(table(content, "pipeline"))
    events = expected["pipeline"]["events"]
    assert pipeline["Webhook events received"][1][0] == f"{events['received']:,}"
    assert pipeline["Webhook to command, median"][1][0].endswith(" ms")
    calls_csv = re.search(
        r'<a href="([^"]*)" id="ivr-calls-csv">Download these calls as CSV', content
    )
    assert calls_csv, "the call list's export is linked"
    assert html.unescape(calls_csv[1]) == call_list_url(filters).replace("/call/?", "/call/csv/?")
    exported = admin_client.get(html.unescape(calls_csv[1]))
    assert exported.status_code == 200
    assert exported["Content-Type"].startswith("text/csv")
    events_list = admin_client.get(pipeline["Webhook events received"][1][1])
    assert events_list.status_code == 200  # the events list takes the period as it is given
    assert "None" not in text(content)
    assert "null" not in text(content)


def test_a_filter_changes_the_figures(week, admin_client):
    def total(**params):
        content = page(admin_client, DASHBOARD, {**WEEK, **params})
        return by_first_column(table(content, "outcomes"))["All calls"][1][0]

    assert total() == "8"
    assert total(menu="classic-tree") == "5"
    assert total(to_number=AI) == "3"
    assert total(to_number=CLASSIC, since="2026-11-03", until="2026-11-03") == "2"
    assert total(from_number="+15550001234") == "8"  # the simulator's caller
    content = page(admin_client, DASHBOARD, {**WEEK, "from_number": "+15559999999"})
    assert "No calls between 2 and 8 November." in text(content)
    content = page(admin_client, DASHBOARD, {**WEEK, "bucket": "hour", "until": "2026-11-02"})
    assert len(table(content, "calls-over-time")) == 24
    # The menu page of the chosen menu is one click away, with the same period.
    content = page(admin_client, DASHBOARD, {**WEEK, "menu": "classic-tree"})
    menu = Menu.objects.get(slug="classic-tree")
    link = re.search(r'id="ivr-menu-page-link"', content) and re.search(
        r'<a href="([^"]*)" id="ivr-menu-page-link"', content
    )
    assert html.unescape(link[1]) == (
        f"/admin/telnyx_ivr/menu/{menu.pk}/analytics/?"
        + urlencode({"since": "2026-11-02", "until": "2026-11-08", "include_test": "1"})
    )


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"since": "yesterday"}, "since", "'yesterday' is not a date or a date and time"),
        ({"since": "2026-11-08", "until": "2026-11-02"}, "until", "Must be later than since"),
        ({"menu": "no-such-menu"}, "menu", "No menu with the slug 'no-such-menu'"),
        ({"menu": "classic-tree", "version": "v2"}, "version", "'v2' is not a version number"),
        (
            {"menu": "classic-tree", "version": "9"},
            "version",
            "Menu 'classic-tree' has no version 9",
        ),
        ({"include_test": "maybe"}, "include_test", "'maybe' is not yes or no"),
        ({"bucket": "week"}, "bucket", "'week' is not one of: hour, day"),
        ({"from_number": "1" * 300}, "from_number", "Is longer than 255 characters"),
    ],
)
def test_a_bad_filter_is_named_next_to_its_field(admin_client, berlin, params, field, message):
    load_menus()
    content = page(admin_client, DASHBOARD, params, status=400)
    fields = dict(
        re.findall(
            r'<div class="ivr-filter [^"]*" id="ivr-filter-(\w+)">(.*?)\n    </div>', content, re.S
        )
    )
    errors = {name: text(body) for name, body in fields.items() if "errorlist" in body}
    assert list(errors) == [field]
    assert message in errors[field]
    assert "Please correct the filter marked below." in content
    assert 'class="ivr-chart"' not in content
    # The given values stay in the form, to be corrected.
    if field in ("since", "from_number"):
        assert f'value="{params[field]}"' in content
    # A CSV with the same filters is refused the same way, naming the parameter.
    response = admin_client.get(f"{DASHBOARD}csv/outcomes/", params)
    assert response.status_code == 400
    assert f"{field}: " in response.content.decode()


def test_each_table_downloads_as_csv(week, admin_client):
    content = page(admin_client, DASHBOARD, WEEK)
    links = re.findall(r'<a href="([^"]*)" class="ivr-csv" data-table="([\w-]+)"', content)
    names = [name for _, name in links]
    assert names == [
        "calls-over-time",
        "outcomes",
        "transfers",
        "time-in-menu",
        "ai-gathers",
        "pipeline",
        "command-errors",
    ]
    for href, name in links:
        response, rows = csv_rows(admin_client, html.unescape(href))
        assert response["Content-Disposition"] == (
            f'attachment; filename="{name}-2026-11-02-to-2026-11-08.csv"'
        )
        shown = table(content, name)
        header = re.search(rf'id="ivr-table-{name}".*?<thead>(.*?)</thead>', content, re.S)[1]
        assert len(rows[0]) == len(re.findall(r"<th", header))
        assert len(rows) - 1 == len(shown), name
    _, outcomes_csv = csv_rows(admin_client, f"{DASHBOARD}csv/outcomes/?{urlencode(WEEK)}")
    assert outcomes_csv[0] == ["Outcome", "Calls", "Share of ended calls (%)", "Meaning"]
    assert [row[:3] for row in outcomes_csv[1:]] == [
        ["Completed", "2", "25.0"],
        ["Transferred", "5", "62.5"],
        ["Abandoned", "1", "12.5"],
        ["Failed", "0", "0.0"],
        ["In progress", "0", ""],
        ["All calls", "8", ""],
    ]
    _, days = csv_rows(admin_client, f"{DASHBOARD}csv/calls-over-time/?{urlencode(WEEK)}")
    assert days[1] == ["2026-11-02 00:00", "0", "2", "0", "0", "0", "2"]
    assert admin_client.get(f"{DASHBOARD}csv/nothing/").status_code == 404


def test_an_empty_period_says_so(admin_client, berlin):
    content = page(admin_client, DASHBOARD, {"since": "2026-12-01", "until": "2026-12-07"})
    assert "No calls between 1 and 7 December." in text(content)
    assert "test call" not in text(content).replace("Include test calls", "")
    assert 'class="ivr-chart"' not in content
    assert 'id="ivr-calls-link"' not in content  # no list of no calls to open
    one_day = page(admin_client, DASHBOARD, {"since": "2026-12-01", "until": "2026-12-01"})
    assert "No calls on 1 December." in text(one_day)


def test_by_default_the_last_7_days_up_to_today_included(admin_client, berlin):
    content = page(admin_client, DASHBOARD)
    today = timezone.localdate()
    first = today - timedelta(days=6)
    assert re.search(rf'name="since" id="ivr-f-since" value="{first.isoformat()}"', content)
    assert re.search(rf'name="until" id="ivr-f-until" value="{today.isoformat()}"', content)
    assert 'type="date" name="until"' in content  # a date, not the time it is now
    words = text(content)
    assert f"No calls between {first.day}" in words
    assert f"{today.day} {today.strftime('%B')}." in words
    assert ":" not in words[words.index("No calls between") :][:60]  # whole days, no times


def test_a_period_with_only_test_calls_says_so_and_offers_the_switch(week, admin_client):
    content = page(admin_client, DASHBOARD, {"since": "2026-11-02", "until": "2026-11-08"})
    words = text(content)
    assert "No calls between 2 and 8 November." in words
    assert "There are 8 test calls in this period" in words
    link = html.unescape(
        re.search(r'<a href="([^"]*)" class="button ivr-include-test"', content)[1]
    )
    assert link == "?" + urlencode(WEEK)
    switched = page(admin_client, DASHBOARD + link)
    assert by_first_column(table(switched, "outcomes"))["All calls"][1][0] == "8"


def test_only_staff_with_the_permission_see_the_figures(client, django_user_model, berlin):
    menu = load_menus()["classic_tree"]
    urls = [
        DASHBOARD,
        f"{DASHBOARD}csv/outcomes/",
        f"/admin/telnyx_ivr/menu/{menu.pk}/analytics/",
        f"/admin/telnyx_ivr/menu/{menu.pk}/analytics/csv/funnel/",
    ]
    for url in urls:  # anonymous: the login page
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    user = django_user_model.objects.create_user("clerk", password="pw-12345")
    client.force_login(user)
    for url in urls:  # not staff: the login page too
        assert client.get(url).status_code == 302
    user.is_staff = True
    user.save()
    for url in urls:  # staff, no permission
        assert client.get(url).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_dashboard"))
    assert client.get(DASHBOARD).status_code == 200
    assert client.get(f"{DASHBOARD}csv/outcomes/").status_code == 200
    assert client.get(urls[2]).status_code == 403  # the menu's figures need the menu too
    user.user_permissions.add(Permission.objects.get(codename="view_menu"))
    assert client.get(urls[2]).status_code == 200
    assert client.get(urls[3]).status_code == 200


# --- a menu's page --------------------------------------------------------------------------


def test_the_menu_page_funnel_key_presses_and_diagram(week, admin_client):
    menus, _ = week
    menu = menus["classic_tree"]
    change = page(admin_client, f"/admin/telnyx_ivr/menu/{menu.pk}/change/")
    url = f"/admin/telnyx_ivr/menu/{menu.pk}/analytics/"
    assert f'<a href="{url}" class="ivr-analytics-link">Analytics</a>' in change
    content = page(admin_client, url, WEEK)
    filters = parse_filters({**WEEK, "menu": "classic-tree"}, tz=BERLIN, default_version=True)
    assert filters.version.number == 1
    expected = {row["key"]: row for row in figures.menu_figures(filters)["nodes"]}

    funnel = table(content, "funnel")
    rows = {row[0][0]: row for row in funnel}
    assert list(rows)[:2] == ["Main menu (main)", "Transfer to sales (sales)"]  # busiest first
    for key, name in [
        ("main", "Main menu"),
        ("support", "Support menu"),
        ("sales", "Transfer to sales"),
    ]:
        row = rows[f"{name} ({key})"]
        assert row[2] == (str(expected[key]["visits"]), call_list_url(filters, node=key))
        assert row[3][0] == str(expected[key]["calls"])
    assert rows["Support menu (support)"][6] == (
        "1",
        call_list_url(filters, node="support", exit="hangup"),
    )
    assert rows["Support menu (support)"][7][0] == "100 %"
    assert rows["Transfer to billing (billing)"][2] == ("0", None)  # never reached: still listed
    assert rows["Transfer to sales (sales)"][5][0] == "—"  # tries mean nothing at a transfer
    assert rows["Main menu (main)"][5][0] == "1.60"  # 3 tries in silence, 2 with a wrong key

    keys = by_first_column(table(content, "keys-main"))
    assert list(keys) == [
        "pressed 1",
        "pressed 2",
        "pressed 9",
        "pressed 0",
        "invalid key",
        "no input",
        "hung up",
        "error",
    ]
    assert keys["pressed 1"][1] == ("2", call_list_url(filters, node="main", exit="1"))
    assert keys["pressed 1"][2][0] == "40 %"
    assert keys["no input"][1] == ("1", call_list_url(filters, node="main", exit="no_input"))
    assert keys["invalid key"][1] == ("0", None)
    assert "keys-support" in content
    assert "keys-sales" not in content

    diagram = re.search(
        r'<div class="ivr-diagram-wrap ivr-traffic-diagram".*?</svg>', content, re.S
    )[0]
    main = re.search(r'<g class="ivr-node" data-key="main".*?</g>', diagram, re.S)[0]
    assert "5 visits" in main
    assert f'<a href="{html.escape(call_list_url(filters, node="main"))}">' in main
    support = re.search(r'<g class="ivr-node" data-key="support"[^>]*>', diagram)[0]
    assert 'data-worst="true"' in support
    to_sales = re.search(
        r'<g class="ivr-edge" data-from="main" data-route="0"[^>]*>.*?</g>', diagram, re.S
    )[0]
    assert 'data-busiest="true"' in to_sales
    assert "40 %" in to_sales
    assert html.escape(call_list_url(filters, node="main", exit="1")) in to_sales
    words = text(content)
    assert "Busiest path: Main menu → Transfer to sales." in words
    assert "Most callers give up at Support menu: 100 % of its visits hung up there (1)." in words

    for name in ("funnel", "keys-main", "keys-support"):
        _, rows_csv = csv_rows(admin_client, f"{url}csv/{name}/?{urlencode(WEEK)}")
        assert len(rows_csv) - 1 == len(table(content, name))
    _, keys_csv = csv_rows(admin_client, f"{url}csv/keys-main/?{urlencode(WEEK)}")
    assert keys_csv[:2] == [["Key", "Visits", "Share of visits (%)"], ["pressed 1", "2", "40.0"]]


def test_an_ai_gathers_valid_answers_are_split_by_the_route_they_took(week, admin_client):
    menus, _ = week
    menu = menus["ai_intake"]
    content = page(admin_client, f"/admin/telnyx_ivr/menu/{menu.pk}/analytics/", WEEK)
    diagram = re.search(r'class="ivr-diagram".*?</svg>', content, re.S)[0]

    def edge(route):
        pattern = rf'<g class="ivr-edge" data-from="intake" data-route="{route}".*?</g>'
        return re.search(pattern, diagram, re.S)[0]

    # Chicago took the "local office" route, Boston the other valid one, Bo the invalid one.
    for route, target in [(0, "local"), (1, "thanks"), (2, "fallback")]:
        assert f'data-target="{target}"' in edge(route)
        assert "33 %" in edge(route)
    assert "3 visits" in re.search(r'data-key="intake".*?</g>', diagram, re.S)[0]
    intake = by_first_column(table(content, "funnel"))["Ask name, age and city (intake)"]
    assert intake[4][0] == "valid answer: 2; invalid answer: 1"
    assert intake[5][0] == "—"  # an AI question is not asked again


def test_the_menu_page_takes_a_version_and_says_when_there_is_none(week, admin_client):
    menus, _ = week
    menu = menus["classic_tree"]
    url = f"/admin/telnyx_ivr/menu/{menu.pk}/analytics/"
    content = page(admin_client, url, {**WEEK, "version": "1"})
    assert "Version 1 (live) of this menu" in text(content)
    content = page(admin_client, url, {**WEEK, "version": "4"}, status=400)
    version = re.search(r'id="ivr-filter-version">(.*?)\n    </div>', content, re.S)[1]
    assert "Menu 'classic-tree' has no version 4" in text(version)
    assert 'id="ivr-filter-menu"' not in content  # the page's menu is its own
    draft = Menu.objects.create(name="Draft only", slug="draft-only")
    content = page(admin_client, f"/admin/telnyx_ivr/menu/{draft.pk}/analytics/")
    assert "This menu has not been published yet" in text(content)
    assert admin_client.get("/admin/telnyx_ivr/menu/999999/analytics/").status_code == 404


def test_with_the_roll_up_behind_the_figures_say_what_they_leave_out(
    week, admin_client, monkeypatch
):
    """A host without Celery beat: nothing rolled up. The page summed every waiting row in
    its own process (7.7 GB for a million calls); now it sums LIVE_LIMIT of each and says
    how many it left out."""
    from telnyx_ivr.models import (
        Call,
        CallRollup,
        Command,
        NodeRollup,
        PipelineRollup,
        WebhookEvent,
    )

    complete = figures.dashboard(week_filters())
    assert complete["not_summed"] == {"calls": 0, "events": 0, "commands": 0}
    assert "Not in these figures yet" not in page(admin_client, DASHBOARD, WEEK)
    for model in (CallRollup, NodeRollup, PipelineRollup):
        model.objects.all().delete()
    for model in (Call, Command, WebhookEvent):
        model.objects.update(rolled_up=False)
    assert figures.dashboard(week_filters())["calls"] == complete["calls"]  # all of it live

    monkeypatch.setattr(figures, "LIVE_LIMIT", 3)
    capped = figures.dashboard(week_filters())
    calls = complete["calls"]["total"]
    events = capped["not_summed"]["events"]
    assert capped["calls"]["total"] == 3
    assert capped["not_summed"]["calls"] == calls - 3
    assert events == complete["pipeline"]["events"]["received"] - 3
    assert capped["not_summed"]["commands"] > 0
    words = text(page(admin_client, DASHBOARD, WEEK))
    assert (
        f"Not in these figures yet: {calls - 3:,} calls, {events:,} events and "
        f"{capped['not_summed']['commands']:,} commands of this period." in words
    )
    assert "roll_up_call_log task, run every minute by Celery beat) is behind" in words
    stats = admin_client.get(reverse("telnyx_ivr:api-stats"), WEEK).json()
    assert stats["not_summed"] == capped["not_summed"]
