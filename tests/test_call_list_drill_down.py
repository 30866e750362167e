"""The call list is the drill-down target of every figure: a link made by ``call_list_url`` for
a figure lists exactly the calls the figure counted.

The calls are played through the real stack (simulator, webhook, engine), so which call is
behind which figure is known by construction; the figures are computed by
telnyx_ivr.analytics.figures, and the list is read the way an admin reads it.
"""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from telnyx_ivr.admin.links import call_list_url
from telnyx_ivr.analytics import figures
from telnyx_ivr.analytics.filters import parse_filters
from telnyx_ivr.calls.time_shift import shift_call
from telnyx_ivr.models import Call
from telnyx_ivr.simulator import AIResult, HangUp, Press, Silence

from .admin_pages import listed_pks, text
from .played_calls import load_example_menus

pytest_plugins = ["telnyx_ivr.pytest_plugin"]

CLASSIC, AI = "+15550000100", "+15550100200"
SALES, OPERATOR = "+15550100001", "+15550100000"
OTHER_CALLER = "+15550009999"
ZONE = "Europe/Berlin"
CALL_LIST = "admin:telnyx_ivr_call_changelist"


@pytest.fixture
def play(transactional_db, simulate_call, settings):
    settings.TIME_ZONE = ZONE
    load_example_menus()

    def play(to, script, **options):
        simulated = simulate_call(to=to, script=script, **options)
        return Call.objects.get(call_control_id=simulated.call_control_id)

    return play


@pytest.fixture
def calls(play, ivr_simulator):
    """Seven ended calls and one still in the menu, each known by what it did."""
    played = {
        "sales": play(CLASSIC, [Press("1")]),
        "sales_after_invalid": play(CLASSIC, [Press("7"), Press("1")]),
        "operator": play(CLASSIC, [Press("0")]),
        "goodbye": play(CLASSIC, [Silence(), Silence(), Silence()]),
        "gave_up": play(CLASSIC, [Press("2"), HangUp()]),
        "ai": play(AI, [AIResult({"name": "Ada", "age": 36, "city": "Chicago"})]),
        "other_caller": play(CLASSIC, [Press("1")], from_=OTHER_CALLER),
    }
    waiting = ivr_simulator.start_call(to=CLASSIC, when_script_ends="wait")
    ivr_simulator.wait_until(
        lambda: Call.objects.filter(
            call_control_id=waiting.call_control_id, status="active"
        ).exists(),
        10,
        message="the call to reach the menu",
        call=waiting,
    )
    played["waiting"] = Call.objects.get(call_control_id=waiting.call_control_id)
    # One call from a real caller (the simulator marks its calls as test calls).
    Call.objects.filter(pk=played["operator"].pk).update(is_test=False)
    # One call on 3 June 2026, 10:00 in Berlin, and one long ago (neither can be today).
    gave_up = played["gave_up"]
    shift_call(gave_up, datetime(2026, 6, 3, 8, 0, tzinfo=UTC) - gave_up.started_at)
    goodbye = played["goodbye"]
    shift_call(goodbye, datetime(2025, 1, 15, 12, 0, tzinfo=UTC) - goodbye.started_at)
    return {name: Call.objects.get(pk=call.pk) for name, call in played.items()}


def filters(**params):
    return parse_filters(params, tz=ZoneInfo(ZONE))


# All the calls of the fixture (kept short: the figures' series has a slot per 15 minutes).
EVERY_TEST_CALL = {
    "since": "2025-01-01",
    "until": (datetime.now(UTC) + timedelta(days=1)).date().isoformat(),
    "include_test": "1",
}


def listed(client, url):
    """The pks a call list URL lists (the whole list: it is shorter than a page)."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.get("Location"))
    page = response.content.decode()
    assert "errornote" not in page, text(page)
    return sorted(listed_pks(page))


def pks(calls, *names):
    return sorted(calls[name].pk for name in names)


def test_each_outcome_and_destination_of_the_dashboard_lists_its_calls(admin_client, calls):
    every = filters(**EVERY_TEST_CALL)
    counted = figures.dashboard(every)["calls"]["by_outcome"]
    expected = {
        "transferred": pks(calls, "sales", "sales_after_invalid", "operator", "ai", "other_caller"),
        "completed": pks(calls, "goodbye"),
        "abandoned": pks(calls, "gave_up"),
        "failed": [],
        "in_progress": pks(calls, "waiting"),
    }
    for outcome, count in counted.items():
        shown = listed(admin_client, call_list_url(every, outcome=outcome))
        assert shown == expected[outcome], outcome
        assert len(shown) == count, outcome
    assert listed(admin_client, call_list_url(every)) == pks(calls, *calls)

    # Transfers by destination.
    transfers = figures.dashboard(every)["transfers"]
    expected = {
        SALES: pks(calls, "sales", "sales_after_invalid", "other_caller"),
        OPERATOR: pks(calls, "operator"),
        calls["ai"].transferred_to: pks(calls, "ai"),
    }
    assert {row["to"] for row in transfers} == set(expected)
    for row in transfers:
        shown = listed(admin_client, call_list_url(every, transferred_to=row["to"]))
        assert shown == expected[row["to"]], row["to"]
        assert len(shown) == row["calls"]


def test_each_exit_of_a_node_lists_the_calls_that_left_it_so(admin_client, calls):
    classic = filters(**EVERY_TEST_CALL, menu="classic-tree", version="1")
    nodes = {node["key"]: node for node in figures.menu_figures(classic)["nodes"]}
    expected = {
        ("main", "1"): pks(calls, "sales", "sales_after_invalid", "other_caller"),
        ("main", "0"): pks(calls, "operator"),
        ("main", "2"): pks(calls, "gave_up"),
        ("main", "no_input"): pks(calls, "goodbye"),
        ("support", "hangup"): pks(calls, "gave_up"),
    }
    for (node, exit), expected_pks in expected.items():
        assert nodes[node]["exits"][exit] == len(expected_pks), (node, exit)
        shown = listed(admin_client, call_list_url(classic, node=node, exit=exit))
        assert shown == expected_pks, (node, exit)
    # The node's calls: the caller still in the main menu is not counted there yet.
    shown = listed(admin_client, call_list_url(classic, node="main"))
    assert shown == pks(calls, *(name for name in calls if name not in ("ai", "waiting")))
    assert len(shown) == nodes["main"]["calls"]


def test_periods_test_calls_and_numbers(admin_client, calls):
    third = filters(since="2026-06-03", until="2026-06-03", include_test="1")
    assert figures.dashboard(third)["calls"]["total"] == 1
    assert listed(admin_client, call_list_url(third)) == pks(calls, "gave_up")

    # The figures leave test calls out unless asked; so does the link.
    real = filters(since=EVERY_TEST_CALL["since"], until=EVERY_TEST_CALL["until"])
    assert figures.dashboard(real)["calls"]["total"] == 1
    assert listed(admin_client, call_list_url(real)) == pks(calls, "operator")

    caller = filters(**EVERY_TEST_CALL, from_number=OTHER_CALLER)
    assert listed(admin_client, call_list_url(caller)) == pks(calls, "other_caller")
    dialled = filters(**EVERY_TEST_CALL, to_number=AI)
    assert listed(admin_client, call_list_url(dialled)) == pks(calls, "ai")

    # The figures' default period is the last 7 days; the list's is all time, and it shows
    # test calls unless told otherwise: a log hides nothing unasked.
    base = reverse(CALL_LIST)
    assert listed(admin_client, base) == pks(calls, *calls)
    assert calls["goodbye"].pk in listed(admin_client, f"{base}?menu=classic-tree")
    assert listed(admin_client, f"{base}?include_test=0") == pks(calls, "operator")


def test_the_drill_down_is_said_in_words_with_a_way_to_clear_it(admin_client, calls):
    url = call_list_url(
        filters(since="2026-06-01", until="2026-06-07", include_test="1"),
        outcome="abandoned",
        node="support",
        exit="hangup",
    )
    page = admin_client.get(url).content.decode()
    assert listed_pks(page) == [calls["gave_up"].pk]
    assert (
        "Abandoned calls that left node 'support': hung up, 1\u20137 Jun 2026, "
        "test calls included \u2014 clear" in text(page)
    )
    assert f'href="{reverse(CALL_LIST)}">clear</a>' in page
    # Sorting by a column keeps the drill-down.
    sort_links = [
        link for link in page.split('href="')[1:] if link.startswith("?") and "o=" in link[:80]
    ]
    assert sort_links
    assert all("node=support" in link.split('"')[0] for link in sort_links)

    menu = admin_client.get(
        call_list_url(
            filters(**EVERY_TEST_CALL, menu="classic-tree", version="1"), transferred_to=SALES
        )
    )
    assert (
        f"Calls transferred to {SALES} on menu Classic tree: sales, support, operator (version 1)"
        in text(menu.content.decode())
    )


BAD_VALUES = [
    ({"since": "yesterday"}, "since", "is not a date"),
    ({"since": "2026-12-05", "until": "2026-12-01"}, "until", "later than since"),
    ({"menu": "nope"}, "menu", "no menu with the slug 'nope'"),
    ({"menu": "classic-tree", "version": "x"}, "version", "is not a version number"),
    ({"version": "1"}, "version", "needs menu"),
    ({"include_test": "maybe"}, "include_test", "is not yes or no"),
    ({"outcome": "lost"}, "outcome", "'lost' is not an outcome"),
    ({"exit": "pressed"}, "exit", "'pressed' is not a way to leave a node"),
    ({"menu": "classic-tree", "node": "nowhere"}, "node", "has no node 'nowhere'"),
    ({"show": "some"}, "show", "'some' is not one of: legs, unclaimed, all"),
    ({"bucket": "week"}, "bucket", "is not one of: hour, day"),
]


def test_a_bad_value_is_a_message_and_no_calls(admin_client, play):
    play(CLASSIC, [Press("1")])
    for params, name, message in BAD_VALUES:
        response = admin_client.get(reverse(CALL_LIST), params)
        assert response.status_code == 200, params  # not a redirect to ?e=1, not a 500
        page = response.content.decode()
        assert listed_pks(page) == [], params
        error = text(page.split('class="errornote', 1)[1].split("</div>", 1)[0])
        assert f"{name}: " in error, params
        assert message in error, params
        assert "Download these calls as CSV" not in page, params


def test_call_list_url_says_whether_test_calls_are_in(admin_client, db):
    hidden = parse_qs(urlsplit(call_list_url(filters())).query)
    shown = parse_qs(urlsplit(call_list_url(filters(include_test="1"))).query)
    assert (hidden["include_test"], shown["include_test"]) == (["0"], ["1"])
    assert "bucket" not in hidden
    with pytest.raises(TypeError, match="colour"):
        call_list_url(filters(), colour="red")
