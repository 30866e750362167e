"""The dashboards' figures as tables: the same rows make the HTML table under each chart and
its CSV download, so the two never disagree. Each cell keeps the plain value (for CSV) and its
words (for the page), and links to the calls behind it where there are any."""

import csv
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from django.http import StreamingHttpResponse
from django.urls import reverse

from ..analytics import outcomes
from ..menus.kinds import DTMF_KINDS
from . import figure_text as text
from .links import call_list_url


@dataclass(frozen=True)
class Cell:
    value: object  # what the CSV has: the number, the date, or the same words
    text: str  # what the page shows
    url: str = ""
    numeric: bool = False


@dataclass
class Table:
    name: str  # the CSV's name, unique on its page
    title: str
    columns: list
    rows: list = field(default_factory=list)
    note: str = ""
    csv_columns: list | None = None  # the CSV's header, where units differ from the page's
    csv_url: str = ""  # filled in by the page

    def column_values(self, index):
        return [row[index].value for row in self.rows]


def number(value, url=""):
    return Cell(value, text.count(value), url if value else "", numeric=True)


def share(rate, *, empty=text.NONE):
    return Cell(
        "" if rate is None else round(rate * 100, 1), text.percent(rate, empty=empty), numeric=True
    )


def plain(value, words=None, url=""):
    return Cell(value, value if words is None else words, url)


def duration(value):
    return Cell("" if value is None else round(value, 1), text.seconds(value), numeric=True)


def ms(value):
    return Cell("" if value is None else round(value, 1), text.milliseconds(value), numeric=True)


# --- the dashboard --------------------------------------------------------------------------


def calls_over_time(figures, filters):
    """One row per hour or day: its calls by outcome, each linked to those calls."""
    starts = [datetime.fromisoformat(row["start"]) for row in figures["series"]]
    table = Table(
        "calls-over-time",
        "Calls over time",
        ["Started", *(text.outcome_label(o) for o in outcomes.OUTCOMES), "All calls"],
    )
    for position, row in enumerate(figures["series"]):
        period = bucket_filters(filters, starts, position)
        local = starts[position].astimezone(filters.tz)
        table.rows.append(
            [
                plain(
                    local.strftime("%Y-%m-%d %H:%M"),
                    text.bucket_label(local, filters.bucket, filters.tz),
                ),
                *(
                    number(row[outcome], call_list_url(period, outcome=outcome))
                    for outcome in outcomes.OUTCOMES
                ),
                number(row["total"], call_list_url(period)),
            ]
        )
    return table


def bucket_filters(filters, starts, position):
    """The filters of one bar: its hour or day, cut to the period."""
    since = max(starts[position], filters.since)
    until = starts[position + 1] if position + 1 < len(starts) else filters.until
    return filters.with_changes(since=since, until=min(until, filters.until))


def outcome_breakdown(figures, filters):
    by_outcome = figures["calls"]["by_outcome"]
    ended = sum(by_outcome[o] for o in outcomes.ENDED_OUTCOMES)
    table = Table(
        "outcomes",
        "How calls ended",
        ["Outcome", "Calls", "Share of ended calls", "Meaning"],
        csv_columns=["Outcome", "Calls", "Share of ended calls (%)", "Meaning"],
        note="Containment is the share completed, abandonment the share abandoned, the "
        "transfer rate the share transferred; calls still in progress are not counted in them.",
    )
    for outcome in outcomes.OUTCOMES:
        n = by_outcome[outcome]
        rate = None if outcome == outcomes.IN_PROGRESS or not ended else n / ended
        table.rows.append(
            [
                plain(text.outcome_label(outcome)),
                number(n, call_list_url(filters, outcome=outcome)),
                share(rate, empty=text.NONE if outcome == outcomes.IN_PROGRESS else text.NO_CALLS),
                plain(outcomes.DESCRIPTIONS[outcome]),
            ]
        )
    table.rows.append(
        [
            plain("All calls"),
            number(figures["calls"]["total"], call_list_url(filters)),
            plain("", ""),
            plain(""),
        ]
    )
    return table


def transfers(figures, filters):
    total = sum(row["calls"] for row in figures["transfers"])
    table = Table(
        "transfers",
        "Transfers by destination",
        ["Destination", "Calls", "Share of transfers"],
        csv_columns=["Destination", "Calls", "Share of transfers (%)"],
    )
    for row in figures["transfers"]:
        table.rows.append(
            [
                plain(row["to"]),
                number(row["calls"], call_list_url(filters, transferred_to=row["to"])),
                share(row["calls"] / total if total else None),
            ]
        )
    return table


PERCENTILE_WORDS = {
    "p50": "Median: half the calls were shorter",
    "p90": "9 calls in 10 were shorter",
    "p95": "19 calls in 20 were shorter",
}


def time_in_menu(figures, filters):
    table = Table(
        "time-in-menu",
        "Time in the menu",
        ["Percentile", "Meaning", "Time in the menu"],
        csv_columns=["Percentile", "Meaning", "Time in the menu (seconds)"],
        note="From the answer to the end of the call, or to the transfer.",
    )
    url = call_list_url(filters)
    for key, seconds in figures["time_in_menu_seconds"].items():
        table.rows.append(
            [plain(key), plain(PERCENTILE_WORDS.get(key, key)), _linked(duration(seconds), url)]
        )
    return table


def ai_gathers(figures, filters, menus):
    """``menus``: ``{slug: Menu}`` for the links (a gather's calls are its menu's)."""
    table = Table(
        "ai-gathers",
        "AI questions",
        [
            "Menu",
            "Node",
            "Gathers",
            "Valid",
            "Invalid",
            "Valid rate",
            "Median length",
            "Fields filled",
        ],
        csv_columns=[
            "Menu",
            "Node",
            "Gathers",
            "Valid",
            "Invalid",
            "Valid rate (%)",
            "Median length (seconds)",
            "Fields filled",
        ],
    )
    for row in figures["ai_gathers"]:
        menu = menus.get(row["menu"])
        scoped = filters.with_changes(menu=menu) if menu and menu != filters.menu else filters
        node = row["node"]
        fields = "; ".join(f"{name}: {n}" for name, n in row["fields_filled"].items())
        table.rows.append(
            [
                plain(str(menu) if menu else row["menu"]),
                plain(node),
                number(row["gathers"], call_list_url(scoped, node=node)),
                number(row["valid"], call_list_url(scoped, node=node, exit="valid")),
                number(row["invalid"], call_list_url(scoped, node=node, exit="invalid")),
                share(row["valid_rate"]),
                duration(row["median_seconds"]),
                plain(fields, fields or text.NONE),
            ]
        )
    return table


def pipeline(figures, filters):
    """The pipeline's health; its event figures link to the webhook events they count."""
    p = figures["pipeline"]
    events = p["events"]
    period = {
        "received_at__gte": filters.since.isoformat(),
        "received_at__lt": filters.until.isoformat(),
    }
    event_list = reverse("admin:telnyx_ivr_webhookevent_changelist")

    def events_url(status=None):
        params = {**period, **({"status__exact": status} if status else {})}
        return f"{event_list}?{urlencode(params)}"

    table = Table(
        "pipeline",
        "Pipeline health",
        ["Figure", "Value"],
        csv_columns=["Figure", "Value (times in ms)"],
        note="Site-wide: the menu and number filters do not apply. The event lists also show "
        "test calls' events.",
    )
    table.rows += [
        [plain("Webhook events received"), number(events["received"], events_url())],
        [plain("processed"), number(events["processed"], events_url("processed"))],
        [plain("failed"), number(events["failed"], events_url("failed"))],
        [plain("waiting to be processed"), number(events["pending"], events_url("pending"))],
        [plain("Queue wait, median"), ms(p["queue_wait_ms"]["p50"])],
        [plain("Queue wait, 95th percentile"), ms(p["queue_wait_ms"]["p95"])],
        [plain("Webhook to command, median"), ms(p["latency_ms"]["p50"])],
        [plain("Webhook to command, 95th percentile"), ms(p["latency_ms"]["p95"])],
        [plain("Webhook to command, 99th percentile"), ms(p["latency_ms"]["p99"])],
        [plain("Commands sent"), number(p["commands"])],
        [plain("Commands that failed"), number(p["command_failures"])],
        [plain("Retries (attempts after the first)"), number(p["retries"])],
    ]
    return table


def command_errors(figures):
    table = Table("command-errors", "Command errors", ["Error", "Commands"])
    for row in figures["pipeline"]["command_errors"]:
        table.rows.append([plain(text.command_error(row["error"])), number(row["commands"])])
    return table


def _linked(cell, url):
    return Cell(cell.value, cell.text, url if cell.value not in ("", None) else "", cell.numeric)


# --- the per-menu page ----------------------------------------------------------------------

# Nodes that ask the caller again after an invalid key or silence: tries mean something.
ASKING_KINDS = DTMF_KINDS
# The order keys are listed in: the keypad's, then how else a visit can end.
KEYPAD_ORDER = "1234567890*#"
OTHER_EXITS = (
    outcomes.EXIT_INVALID,
    outcomes.EXIT_NO_INPUT,
    outcomes.EXIT_HANGUP,
    outcomes.EXIT_ERROR,
)


def funnel(figures, filters, definition):
    """Every node of the version, the busiest first: visits, how they left, drop-off."""
    nodes = definition.get("nodes") or {}
    table = Table(
        "funnel",
        "Every node",
        [
            "Node",
            "Kind",
            "Visits",
            "Calls",
            "How visits left",
            "Mean tries",
            "Hung up here",
            "Drop-off",
        ],
        csv_columns=[
            "Node",
            "Kind",
            "Visits",
            "Calls",
            "How visits left",
            "Mean tries",
            "Hung up here",
            "Drop-off (%)",
        ],
        note="Drop-off is the share of a node's visits in which the caller hung up.",
    )
    rows = {row["key"]: row for row in figures["nodes"]}
    order = [row["key"] for row in figures["nodes"]] + sorted(set(nodes) - set(rows))
    for key in order:
        row = rows.get(key, {"visits": 0, "calls": 0, "exits": {}, "mean_tries": None})
        node = nodes.get(key, {})
        kind = node.get("kind") or row.get("kind", "")
        exits = row["exits"]
        left = "; ".join(f"{text.exit_label(e, kind)}: {n:,}" for e, n in exits.items())
        hangups = exits.get(outcomes.EXIT_HANGUP, 0)
        table.rows.append(
            [
                plain(f"{node.get('name') or key} ({key})" if node else f"{key} (removed)"),
                plain(text.kind_label(kind)),
                number(row["visits"], call_list_url(filters, node=key)),
                number(row["calls"], call_list_url(filters, node=key)),
                plain(left, left or text.NONE),
                _tries(row["mean_tries"] if kind in ASKING_KINDS else None),
                number(hangups, call_list_url(filters, node=key, exit=outcomes.EXIT_HANGUP)),
                share(hangups / row["visits"] if row["visits"] else None),
            ]
        )
    return table


def _tries(mean):
    words = text.NONE if mean is None else f"{mean:.2f}"
    return Cell("" if mean is None else mean, words, numeric=True)


def key_presses(node_key, node, row, filters):
    """The key-press distribution of one DTMF node, invalid keys and silence included: every
    key its routes take (pressed or not), every key pressed, then how else visits ended."""
    exits = dict(row.get("exits", {})) if row else {}
    visits = row.get("visits", 0) if row else 0
    keys = {
        str(route.get("digits"))
        for route in node.get("routes") or []
        if route.get("when") == "digits"
    }
    keys |= {e for e in exits if e not in outcomes.EXIT_LABELS}
    order = sorted(keys, key=_key_order) + [e for e in OTHER_EXITS]
    order += [e for e in exits if e not in order]
    table = Table(
        f"keys-{node_key}",
        f"Keys pressed at {node.get('name') or node_key}",
        ["Key", "Visits", "Share of visits"],
        csv_columns=["Key", "Visits", "Share of visits (%)"],
    )
    for exit in order:
        n = exits.get(exit, 0)
        table.rows.append(
            [
                plain(text.exit_label(exit)),
                number(n, call_list_url(filters, node=node_key, exit=exit)),
                share(n / visits if visits else None),
            ]
        )
    return table


def _key_order(key):
    return [KEYPAD_ORDER.index(c) if c in KEYPAD_ORDER else len(KEYPAD_ORDER) for c in key]


# --- CSV ------------------------------------------------------------------------------------


class _Echo:
    def write(self, value):
        return value


def csv_response(table, filename):
    """``table`` as a CSV download: its columns, then one line per row of plain values."""
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(table.csv_columns or table.columns)
        for row in table.rows:
            yield writer.writerow([_safe(cell.value) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _safe(value):
    # A spreadsheet runs a cell starting with = or @ as a formula: node names are typed by
    # staff, but they are not meant as code.
    if isinstance(value, str) and value[:1] in ("=", "@"):
        return "'" + value
    return value
