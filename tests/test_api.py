"""The read API (telnyx_ivr.api) on calls played through the real stack.

The simulator dials in, the site's webhook stores each event, the engine decides (tasks run
eagerly, as with the pytest plugin) and its commands go back to the simulator, so what each call
did is known by construction and the API must say exactly that. Simulated calls are test calls;
some are then marked as real ones (before any roll-up) to see the default, which leaves test
calls out. tests/test_api_access.py has the refusals, tests/test_api_schema.py the schema.
"""

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from telnyx_ivr.analytics import figures
from telnyx_ivr.analytics.filters import parse_filters
from telnyx_ivr.analytics.rollups import roll_up
from telnyx_ivr.api.serializers import StatsSerializer
from telnyx_ivr.calls.time_shift import shift_call
from telnyx_ivr.models import Call, Command
from telnyx_ivr.simulator import AIResult, HangUp, Press, Silence

pytest_plugins = ["telnyx_ivr.pytest_plugin"]

CLASSIC, AI = "+15550000100", "+15550100200"
SALES, OPERATOR, OFFICE = "+15550100001", "+15550100000", "+15550100201"
REAL_CALLER = "+15550007777"
BERLIN = ZoneInfo("Europe/Berlin")
CALLS = reverse("telnyx_ivr:api-calls")
STATS = reverse("telnyx_ivr:api-stats")
CALL_FIELDS = {
    "id", "call_control_id", "from_number", "to_number", "menu", "menu_version", "started_at",
    "answered_at", "ended_at", "duration_seconds", "outcome", "ended_at_node", "transferred_to",
    "is_test",
}  # fmt: skip


def call_url(pk):
    return reverse("telnyx_ivr:api-call", args=[pk])


@pytest.fixture
def played(menus, play):
    """Five calls whose outcomes are known; the completed and the abandoned one are real
    calls (not test calls), the abandoned one from REAL_CALLER."""
    calls = {
        "sales": play(CLASSIC, [Press("1")]),
        "operator": play(CLASSIC, [Press("0")]),
        "goodbye": play(CLASSIC, [Silence(), Silence(), Silence()]),
        "gave_up": play(CLASSIC, [Press("2"), HangUp()], from_=REAL_CALLER),
        "office": play(AI, [AIResult({"name": "Ada", "age": 36, "city": "Chicago"})]),
    }
    real = [calls["goodbye"].pk, calls["gave_up"].pk]
    Call.objects.filter(pk__in=real).update(is_test=False)
    for call in calls.values():
        call.refresh_from_db()
    return calls


@pytest.fixture
def staff(admin_client):
    return admin_client


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_the_list_says_what_each_call_did(staff, played):
    rows = {row["id"]: row for row in staff.get(CALLS, {"include_test": "1"}).json()["results"]}
    assert set(rows) == {call.pk for call in played.values()}
    assert all(set(row) >= CALL_FIELDS for row in rows.values())

    sales = rows[played["sales"].pk]
    assert sales["call_control_id"] == played["sales"].call_control_id
    assert (sales["to_number"], sales["menu"], sales["menu_version"]) == (
        CLASSIC,
        "classic-tree",
        1,
    )
    assert (sales["outcome"], sales["transferred_to"], sales["ended_at_node"]) == (
        "transferred",
        SALES,
        "sales",
    )
    assert sales["is_test"] is True
    call = played["sales"]
    assert sales["duration_seconds"] == round((call.ended_at - call.started_at).total_seconds(), 3)
    assert sales["started_at"] == call.started_at.isoformat()  # the site's zone, UTC here

    gave_up = rows[played["gave_up"].pk]
    assert (gave_up["outcome"], gave_up["ended_at_node"], gave_up["is_test"]) == (
        "abandoned",
        "support",
        False,
    )
    assert gave_up["from_number"] == REAL_CALLER
    goodbye = rows[played["goodbye"].pk]
    assert (goodbye["outcome"], goodbye["ended_at_node"], goodbye["transferred_to"]) == (
        "completed",
        "goodbye",
        "",
    )
    office = rows[played["office"].pk]
    assert (office["menu"], office["outcome"], office["transferred_to"]) == (
        "ai-intake",
        "transferred",
        OFFICE,
    )
    # Newest first.
    order = sorted(played.values(), key=lambda c: c.started_at, reverse=True)
    assert ids(staff.get(CALLS, {"include_test": "1"})) == [c.pk for c in order]

    # A transfer's leg is not a call of its own.
    [leg] = played["operator"].legs.all()
    assert leg.pk not in rows

    # Test calls are left out unless asked for.
    assert set(ids(staff.get(CALLS))) == {played["goodbye"].pk, played["gave_up"].pk}
    assert len(ids(staff.get(CALLS, {"include_test": "0"}))) == 2


FILTERED = [
    ({"outcome": "transferred"}, {"sales", "operator", "office"}),
    ({"outcome": "abandoned"}, {"gave_up"}),
    ({"outcome": "in_progress"}, set()),
    ({"menu": "ai-intake"}, {"office"}),
    ({"menu": "classic-tree", "version": "1"}, {"sales", "operator", "goodbye", "gave_up"}),
    ({"to_number": AI}, {"office"}),
    ({"from_number": REAL_CALLER}, {"gave_up"}),
    ({"menu": "classic-tree", "outcome": "transferred"}, {"sales", "operator"}),
]


def test_filters_keep_the_calls_they_name(staff, played):
    for params, expected in FILTERED:
        found = ids(staff.get(CALLS, {"include_test": "1", **params}))
        assert sorted(found) == sorted(played[name].pk for name in expected), params


def test_the_period_keeps_calls_that_started_in_it(staff, played, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    # 2026-03-28 23:59:30 Berlin: that day's call in Berlin, though the next day in Tokyo.
    late = shift_call(
        played["sales"], datetime(2026, 3, 28, 22, 59, 30, tzinfo=UTC) - played["sales"].started_at
    )
    on_the_day = {"include_test": "1", "since": "2026-03-28", "until": "2026-03-28"}
    assert ids(staff.get(CALLS, on_the_day)) == [late.pk]
    assert ids(staff.get(CALLS, {**on_the_day, "until": "2026-03-28T23:45"})) == []
    next_day = {"include_test": "1", "since": "2026-03-29", "until": "2026-03-29"}
    assert ids(staff.get(CALLS, next_day)) == []
    # Without a period: the last 7 days, so the moved call is out and the others are in.
    recent = ids(staff.get(CALLS, {"include_test": "1"}))
    assert late.pk not in recent
    assert len(recent) == 4


def test_one_call_with_its_steps_commands_events_and_legs(staff, played, settings):
    call = played["operator"]
    response = staff.get(call_url(call.pk))
    assert response.status_code == 200
    detail = response.json()
    assert set(detail) >= CALL_FIELDS | {"steps", "commands", "events", "legs"}
    assert (detail["outcome"], detail["transferred_to"]) == ("transferred", OPERATOR)

    assert [(s["node_key"], s["kind"], s["exit"]) for s in detail["steps"]] == [
        (step.node_key, step.node_kind, step.exit) for step in call.steps.order_by("step")
    ]
    main = detail["steps"][0]
    assert (main["node_key"], main["digits"], main["tries"], main["exit"]) == ("main", "0", 1, "0")
    assert main["ai_result"] is None
    assert main["started_at"] < main["ended_at"]

    commands = detail["commands"]
    assert [c["action"] for c in commands] == list(
        call.commands.order_by("id").values_list("action", flat=True)
    )
    assert {"answer", "transfer"} <= {c["action"] for c in commands}
    for command, row in zip(commands, call.commands.order_by("id"), strict=True):
        assert command["body"] == row.body  # the stored, redacted body
        assert (command["status"], command["http_status"]) == ("sent", 200)
        assert "params" not in command
    assert settings.TELNYX_IVR["API_KEY"] not in response.content.decode()

    types = [e["type"] for e in detail["events"]]
    assert types[0] == "call.initiated"
    assert "call.hangup" in types
    assert all(e["status"] == "processed" and e["received_at"] for e in detail["events"])

    [leg] = detail["legs"]
    assert (leg["to_number"], leg["call_control_id"]) == (
        OPERATOR,
        call.legs.get().call_control_id,
    )
    assert leg["events"][0]["type"] == "call.initiated"
    assert staff.get(call_url(leg["id"])).status_code == 404  # only inside its call

    detail = staff.get(call_url(played["office"].pk)).json()
    intake = next(step for step in detail["steps"] if step["kind"] == "ai_gather")
    assert intake["exit"] == "valid"
    assert intake["ai_result"] == {"name": "Ada", "age": 36, "city": "Chicago"}


def test_stats_are_the_dashboards_figures_of_the_calls_played(staff, played):
    params = {"since": "2000-01-01", "until": "2100-01-01", "include_test": "1"}
    live = staff.get(STATS, params).json()
    roll_up()
    stats = staff.get(STATS, params).json()
    assert stats == live  # the same whether the calls were summed live or rolled up
    assert stats == json.loads(json.dumps(figures.dashboard(parse_filters(params))))
    assert stats["calls"] == {
        "total": 5,
        "by_outcome": {
            "completed": 1,
            "transferred": 3,
            "abandoned": 1,
            "failed": 0,
            "in_progress": 0,
        },
    }
    assert stats["rates"] == {"containment": 1 / 5, "abandonment": 1 / 5, "transfer": 3 / 5}
    assert sum(row["total"] for row in stats["series"]) == 5
    assert set(stats["latency_ms"]) == {"p50", "p95", "p99"}
    assert stats["latency_ms"]["p50"] is not None
    assert stats["pipeline"]["events"]["failed"] == 0
    assert stats["nodes"] == []  # per node needs a menu
    assert StatsSerializer(stats).data == stats  # the schema's shape is the figures' own

    real = staff.get(STATS, {**params, "include_test": ""}).json()
    assert real["calls"]["by_outcome"] == {**stats["calls"]["by_outcome"], "transferred": 0}

    # The list and the figures, given the same parameters, are about the same calls.
    for same in [{}, {"include_test": "1"}, {"include_test": "1", "menu": "classic-tree"}]:
        total = staff.get(STATS, same).json()["calls"]["total"]
        assert total == len(ids(staff.get(CALLS, same))), same


def test_stats_per_node_of_a_menu(staff, played):
    stats = staff.get(STATS, {"menu": "classic-tree", "version": "1", "include_test": "1"}).json()
    nodes = {node["key"]: node for node in stats["nodes"]}
    main = nodes["main"]
    assert (main["kind"], main["visits"], main["calls"]) == ("speak_menu", 4, 4)
    assert main["exits"] == {"1": 1, "0": 1, "2": 1, "no_input": 1}
    assert (nodes["support"]["exits"], nodes["support"]["drop_off"]) == ({"hangup": 1}, 1.0)
    assert stats["calls"]["total"] == 4
    assert StatsSerializer(stats).data == stats

    hours = staff.get(STATS, {"include_test": "1", "bucket": "hour"}).json()
    days = staff.get(STATS, {"include_test": "1", "bucket": "day"}).json()
    assert (hours["period"]["bucket"], days["period"]["bucket"]) == ("hour", "day")
    assert len(days["series"]) == 7
    assert len(hours["series"]) > 24 * 6
    assert sum(row["total"] for row in hours["series"]) == 5


def test_pages_go_through_every_call_once(staff, played):
    # Three calls that started in the same microsecond: the cursor's offset keeps them apart.
    moment = played["sales"].started_at
    for name in ("operator", "goodbye"):
        shift_call(played[name], moment - played[name].started_at)
    seen, pages = [], 0
    response = staff.get(CALLS, {"include_test": "1", "page_size": "2"})
    while True:
        assert response.status_code == 200
        page = response.json()
        assert len(page["results"]) <= 2
        seen += [row["id"] for row in page["results"]]
        pages += 1
        if not page["next"]:
            break
        response = staff.get(page["next"])
    assert pages == 3
    assert sorted(seen) == sorted(call.pk for call in played.values())
    assert len(seen) == len(set(seen))

    # And back: the previous links give the pages again, in the same order.
    back = []
    while page["previous"]:
        page = staff.get(page["previous"]).json()
        back = [row["id"] for row in page["results"]] + back
    assert back == seen[:-1]  # all but the last page's one row


def read_csv(response):
    assert response.status_code == 200, getattr(response, "content", b"")
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_has_every_call_the_filters_keep(staff, played, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    response = staff.get(CALLS, {"include_test": "1", "format": "csv", "page_size": "2"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = datetime.now(BERLIN).date()
    first = today - timedelta(days=6)
    assert response["Content-Disposition"] == (
        f'attachment; filename="calls-{first.isoformat()}-{today.isoformat()}.csv"'
    )
    rows = read_csv(response)
    assert len(rows) == 5  # every call, not one page
    json_rows = staff.get(CALLS, {"include_test": "1"}).json()["results"]
    assert list(rows[0]) == list(json_rows[0])  # the same columns, in the same order
    by_id = {int(row["id"]): row for row in rows}
    sales = by_id[played["sales"].pk]
    assert (sales["outcome"], sales["transferred_to"], sales["menu"]) == (
        "transferred",
        SALES,
        "classic-tree",
    )
    assert sales["is_test"] == "true"
    assert sales["started_at"] == played["sales"].started_at.astimezone(BERLIN).isoformat()
    assert sales["started_at"].endswith("+01:00")  # December in Berlin
    goodbye = by_id[played["goodbye"].pk]
    assert (goodbye["transferred_to"], goodbye["transferred_at"]) == ("", "")  # never "None"

    filtered = read_csv(
        staff.get(CALLS, {"include_test": "1", "format": "csv", "outcome": "abandoned"})
    )
    assert [int(row["id"]) for row in filtered] == [played["gave_up"].pk]
    named = staff.get(CALLS, {"format": "csv", "menu": "ai-intake", "since": "2026-11-30"})
    assert 'filename="calls-ai-intake-2026-11-30-' in named["Content-Disposition"]
    assert read_csv(named) == []  # the office call is a test call

    by_accept = read_csv(staff.get(CALLS, HTTP_ACCEPT="text/csv"))
    assert sorted(int(row["id"]) for row in by_accept) == sorted(
        [played["goodbye"].pk, played["gave_up"].pk]
    )


def test_a_real_call_posted_by_telnyx(staff, api, classic, caller):
    """A call Telnyx delivered (no simulator): a real call, listed by default."""
    caller.deliver("call.initiated", direction="incoming", state="parked")
    caller.reply_to(api.requests[-1].json, "call.answered")
    caller.reply_to(api.requests[-1].json, "call.gather.ended", digits="1", status="valid")
    caller.deliver("call.hangup", hangup_cause="normal_clearing", hangup_source="caller")
    call = Call.objects.get(call_control_id=caller.ccid)
    assert not call.is_test
    params = {"since": "2026-11-21", "until": "2026-11-21"}  # the Caller's clock
    [row] = staff.get(CALLS, params).json()["results"]
    assert (row["id"], row["outcome"], row["transferred_to"], row["is_test"]) == (
        call.pk,
        "transferred",
        SALES,
        False,
    )
    # A command not final yet keeps the body as it must be sent, secrets and all.
    transfer = call.commands.get(action="transfer")
    Command.objects.filter(pk=transfer.pk).update(
        params={**transfer.body, "sip_auth_password": "hunter2-not-shown"}
    )
    response = staff.get(call_url(call.pk))
    detail = response.json()
    assert [c["action"] for c in detail["commands"]] == ["answer", "gather_using_speak", "transfer"]
    assert all("params" not in c for c in detail["commands"])
    assert "hunter2-not-shown" not in response.content.decode()
    assert "KEY_runner_test" not in response.content.decode()
    stats = staff.get(STATS, params).json()
    assert stats["calls"]["by_outcome"]["transferred"] == 1
