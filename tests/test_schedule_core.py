"""Office hours in the pure core (telnyx_ivr.engine.schedule): open, closed or holiday at a
moment passed in, by the office's wall clock, across daylight saving changes both ways, at
midnight edges, through intervals that run past midnight and on dated exceptions."""

from datetime import UTC, datetime

import pytest

from telnyx_ivr.engine.schedule import (
    CLOSED,
    HOLIDAY,
    OPEN,
    ScheduleError,
    exception_name,
    parse_schedule,
    status_at,
)

OFFICE = {
    "time_zone": "Europe/Berlin",
    "weekly": {
        day: [["08:00", "17:00"]] for day in ("mon", "tue", "wed", "thu")
    } | {
        "fri": [["08:00", "12:00"], ["22:00", "02:00"]],  # a night line, into Saturday
        "sat": [["10:00", "13:00"]],
        "sun": [["01:00", "03:30"]],  # across both of Berlin's clock changes
    },
    "exceptions": [
        {"date": "2026-12-24", "name": "Christmas Eve", "hours": [["08:00", "12:00"]]},
        {"date": "2026-12-25", "name": "Christmas Day", "hours": []},
        {"date": "2026-12-31", "name": "New Year's Eve", "hours": [["20:00", "01:00"]]},
        {"date": "2027-01-01", "name": "New Year's Day", "hours": []},
    ],
}  # fmt: skip


def utc(*parts):
    return datetime(*parts, tzinfo=UTC)


# (moment in UTC, what Berlin's clock says, expected)
CASES = [
    # A plain week in winter (CET, UTC+1): 08:00 opens, 17:00 closes (end excluded).
    (utc(2026, 11, 16, 6, 59, 59), "Mon 07:59:59", CLOSED),
    (utc(2026, 11, 16, 7, 0), "Mon 08:00", OPEN),
    (utc(2026, 11, 16, 15, 59), "Mon 16:59", OPEN),
    (utc(2026, 11, 16, 16, 0), "Mon 17:00", CLOSED),
    (utc(2026, 11, 19, 22, 59), "Thu 23:59", CLOSED),
    # Friday's night line runs past midnight into Saturday, then Saturday's own hours.
    (utc(2026, 11, 20, 20, 59), "Fri 21:59", CLOSED),
    (utc(2026, 11, 20, 21, 0), "Fri 22:00", OPEN),
    (utc(2026, 11, 20, 22, 59, 59), "Fri 23:59:59", OPEN),
    (utc(2026, 11, 20, 23, 0), "Sat 00:00", OPEN),
    (utc(2026, 11, 21, 0, 59, 59), "Sat 01:59:59", OPEN),
    (utc(2026, 11, 21, 1, 0), "Sat 02:00", CLOSED),
    (utc(2026, 11, 21, 9, 0), "Sat 10:00", OPEN),
    (utc(2026, 11, 21, 12, 0), "Sat 13:00", CLOSED),
    # The same Monday 08:00 in summer (CEST, UTC+2) is an hour earlier in UTC.
    (utc(2026, 6, 15, 5, 59), "Mon 07:59 CEST", CLOSED),
    (utc(2026, 6, 15, 6, 0), "Mon 08:00 CEST", OPEN),
    # Spring forward, Sun 29 Mar 2026: 02:00 CET becomes 03:00 CEST; Sunday 01:00-03:30.
    (utc(2026, 3, 28, 23, 59), "Sun 00:59 CET", CLOSED),
    (utc(2026, 3, 29, 0, 0), "Sun 01:00 CET", OPEN),
    (utc(2026, 3, 29, 0, 59, 59), "Sun 01:59:59 CET", OPEN),
    (utc(2026, 3, 29, 1, 0), "Sun 03:00 CEST (02:00 never happens)", OPEN),
    (utc(2026, 3, 29, 1, 29), "Sun 03:29 CEST", OPEN),
    (utc(2026, 3, 29, 1, 30), "Sun 03:30 CEST", CLOSED),
    (utc(2026, 3, 30, 5, 59), "Mon 07:59 CEST, the day after", CLOSED),
    (utc(2026, 3, 30, 6, 0), "Mon 08:00 CEST, the day after", OPEN),
    # Fall back, Sun 25 Oct 2026: 03:00 CEST becomes 02:00 CET, so 02:xx happens twice.
    (utc(2026, 10, 24, 23, 0), "Sun 01:00 CEST", OPEN),
    (utc(2026, 10, 25, 0, 30), "Sun 02:30 CEST (first time)", OPEN),
    (utc(2026, 10, 25, 1, 30), "Sun 02:30 CET (second time)", OPEN),
    (utc(2026, 10, 25, 2, 29), "Sun 03:29 CET", OPEN),
    (utc(2026, 10, 25, 2, 30), "Sun 03:30 CET", CLOSED),
    (utc(2026, 10, 26, 6, 59), "Mon 07:59 CET, the day after", CLOSED),
    (utc(2026, 10, 26, 7, 0), "Mon 08:00 CET, the day after", OPEN),
    # Exceptions: special hours, then a holiday outside them; a holiday all day.
    (utc(2026, 12, 24, 10, 59), "Thu 24 Dec 11:59", OPEN),
    (utc(2026, 12, 24, 11, 0), "Thu 24 Dec 12:00", HOLIDAY),
    (utc(2026, 12, 24, 6, 0), "Thu 24 Dec 07:00", HOLIDAY),
    (utc(2026, 12, 25, 9, 0), "Fri 25 Dec 10:00 (a Friday)", HOLIDAY),
    (utc(2026, 12, 25, 21, 30), "Fri 25 Dec 22:30, no night line", HOLIDAY),
    (utc(2026, 12, 26, 0, 30), "Sat 26 Dec 01:30: nothing ran past midnight", CLOSED),
    # An exception's hours past midnight count on the next day, though it is a holiday.
    (utc(2026, 12, 31, 19, 0), "Thu 31 Dec 20:00", OPEN),
    (utc(2026, 12, 31, 23, 30), "Fri 1 Jan 00:30", OPEN),
    (utc(2027, 1, 1, 0, 0), "Fri 1 Jan 01:00", HOLIDAY),
    (utc(2027, 1, 1, 8, 0), "Fri 1 Jan 09:00", HOLIDAY),
]


@pytest.mark.parametrize(("moment", "clock", "expected"), CASES, ids=[c[1] for c in CASES])
def test_status_by_the_offices_wall_clock(moment, clock, expected):
    assert status_at(OFFICE, moment) == expected


def test_a_parsed_schedule_answers_the_same_and_names_its_exceptions():
    schedule = parse_schedule(OFFICE)
    assert [status_at(schedule, moment) for moment, _, _ in CASES] == [e for _, _, e in CASES]
    assert exception_name(schedule, utc(2026, 12, 24, 23, 30)) == "Christmas Day"  # local 25th
    assert exception_name(schedule, utc(2026, 11, 16, 9, 0)) is None


def test_any_zone_other_offsets_and_all_day():
    kolkata = {"time_zone": "Asia/Kolkata", "weekly": {"mon": [["00:00", "24:00"]]}}
    assert status_at(kolkata, utc(2026, 11, 15, 18, 29)) == CLOSED  # Sun 23:59 IST
    assert status_at(kolkata, utc(2026, 11, 15, 18, 30)) == OPEN  # Mon 00:00 IST
    assert status_at(kolkata, utc(2026, 11, 16, 18, 29)) == OPEN  # Mon 23:59 IST
    assert status_at(kolkata, utc(2026, 11, 16, 18, 30)) == CLOSED  # Tue 00:00 IST
    assert status_at({"time_zone": "UTC"}, utc(2026, 11, 16, 12, 0)) == CLOSED  # no hours


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone: 'Mars/Olympus' is not a time zone"),
        ({"time_zone": ""}, "time_zone: '' is not a time zone"),
        ({"time_zone": "UTC", "weekly": {"monday": []}}, "weekly: 'monday' is not a day"),
        ({"time_zone": "UTC", "weekly": {"mon": [["8:00", "17:00"]]}}, "weekly.mon[0]: '8:00'"),
        ({"time_zone": "UTC", "weekly": {"mon": [["08:00"]]}}, "an interval is [start, end]"),
        ({"time_zone": "UTC", "weekly": {"mon": [["24:00", "02:00"]]}}, "cannot start at 24"),
        ({"time_zone": "UTC", "weekly": {"mon": [["09:00", "09:00"]]}}, "ends when it starts"),
        ({"time_zone": "UTC", "exceptions": [{"date": "25.12.2026"}]}, "exceptions[0].date"),
        ({"time_zone": "UTC", "exceptions": [{"date": "2026-12-25"}, {"date": "2026-12-25"}]},
         "exceptions[1].date: 2026-12-25 is given twice"),
        ([], "a schedule is an object"),
    ],
)  # fmt: skip
def test_bad_schedule_data_is_named(data, message):
    with pytest.raises(ScheduleError) as raised:
        parse_schedule(data)
    assert message in str(raised.value)


def test_a_moment_without_its_time_zone_is_refused():
    with pytest.raises(ScheduleError, match="aware datetime"):
        status_at(OFFICE, datetime(2026, 11, 16, 9, 0))
